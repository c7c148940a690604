"""The Django settings a routed monolith needs: the shim's app and its routing-key middleware.

``strangler extract`` adds them (a libcst codemod, formatting and comments kept) so the
extracted feature is routed per user from the first request: ``"shims.django"`` at the
end of ``INSTALLED_APPS`` and ``RoutingKeyMiddleware`` right after Django's
``AuthenticationMiddleware`` in ``MIDDLEWARE`` (it reads ``request.user``). Only
module-level list or tuple literals are edited; anything else (settings built by code,
split modules) is left alone with a note saying what to add by hand. Idempotent: an
entry already present is not added again. Never removed by ``--revert``: other extracted
features may rely on it, and the lines are harmless with no ``@routed`` left.
"""

from __future__ import annotations

import libcst as cst
from libcst.codemod import Codemod

__all__ = ["APP", "AUTH_MIDDLEWARE", "MIDDLEWARE", "AddShimSettings"]

Sequence_ = cst.List | cst.Tuple

APP = "shims.django"
MIDDLEWARE = "shims.django.middleware.RoutingKeyMiddleware"
AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"


class AddShimSettings(Codemod):
    """Adds the shim's app and middleware to a settings module's list literals
    (``remove=True``: takes them out again, the exact inverse, for ``--revert``)."""

    def __init__(self, *, remove: bool = False) -> None:
        super().__init__(context=cst.codemod.CodemodContext())
        self.remove = remove

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        transformer = _Settings(self.remove)
        updated = tree.visit(transformer)
        for name, entry in (("INSTALLED_APPS", APP), ("MIDDLEWARE", MIDDLEWARE)):
            if name not in transformer.seen and not self.remove:
                self.warn(f"{name} is not a list literal here: add {entry!r} by hand")
        return updated


class _Settings(cst.CSTTransformer):
    def __init__(self, remove: bool) -> None:
        self.seen: set[str] = set()
        self.remove = remove

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # module level only

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.Assign:
        if len(updated_node.targets) != 1:
            return updated_node
        target = updated_node.targets[0].target
        value = updated_node.value
        if not isinstance(target, cst.Name) or not isinstance(value, cst.List | cst.Tuple):
            return updated_node
        entries = {"INSTALLED_APPS": (APP, None), "MIDDLEWARE": (MIDDLEWARE, AUTH_MIDDLEWARE)}
        if target.value not in entries:
            return updated_node
        self.seen.add(target.value)
        entry, after = entries[target.value]
        changed = _remove(value, entry) if self.remove else _insert(value, entry, after=after)
        return updated_node.with_changes(value=changed)


def _strings(node: Sequence_) -> list[str | None]:
    return [
        e.value.evaluated_value
        if isinstance(e.value, cst.SimpleString) and isinstance(e.value.evaluated_value, str)
        else None
        for e in node.elements
    ]


def _insert(node: Sequence_, entry: str, *, after: str | None) -> Sequence_:
    """``entry`` after ``after`` (else at the end), laid out like its neighbours."""
    values = _strings(node)
    if entry in values or not node.elements:
        return node
    index = values.index(after) + 1 if after in values else len(values)
    elements = list(node.elements)
    value = cst.SimpleString(f'"{entry}"')
    if index < len(elements):  # between two elements: copy the comma before it
        elements.insert(index, cst.Element(value, comma=elements[index - 1].comma))
        return node.with_changes(elements=elements)
    last, step, closing = elements[-1], _step(node), _closing(node)
    if isinstance(last.comma, cst.Comma) and step is not None and closing is not None:
        # One entry per line, trailing comma: the comment after the old last entry
        # (held by the closing bracket) stays on its line; the new entry takes the
        # line break before the bracket.
        own_line = step.with_changes(first_line=closing.first_line, empty_lines=())
        elements[-1] = last.with_changes(comma=last.comma.with_changes(whitespace_after=own_line))
        elements.append(cst.Element(value, comma=last.comma))
        closed = closing.with_changes(first_line=cst.TrailingWhitespace())
        return _with_closing(node.with_changes(elements=elements), closed)
    inner = elements[-2].comma if len(elements) > 1 else cst.Comma(whitespace_after=_SPACE)
    elements[-1] = last.with_changes(comma=inner)
    elements.append(cst.Element(value, comma=last.comma))
    return node.with_changes(elements=elements)


def _remove(node: Sequence_, entry: str) -> Sequence_:
    """The inverse of :func:`_insert`: the same bytes as before it ran."""
    values = _strings(node)
    if entry not in values:
        return node
    index = values.index(entry)
    elements = list(node.elements)
    gone = elements.pop(index)
    if index < len(elements) or not elements:
        return node.with_changes(elements=elements)
    previous = elements[-1]
    own = previous.comma.whitespace_after if isinstance(previous.comma, cst.Comma) else None
    closing = _closing(node)
    elements[-1] = previous.with_changes(comma=gone.comma)
    changed = node.with_changes(elements=elements)
    if isinstance(own, cst.ParenthesizedWhitespace) and closing is not None:
        return _with_closing(changed, closing.with_changes(first_line=own.first_line))
    return changed


def _step(node: Sequence_) -> cst.ParenthesizedWhitespace | None:
    """The line break + indentation between entries: after an inner comma, else after
    the opening bracket; ``None`` when the entries are not one per line."""
    if len(node.elements) > 1:
        comma = node.elements[-2].comma
        ws = comma.whitespace_after if isinstance(comma, cst.Comma) else None
    elif isinstance(node, cst.List):
        ws = node.lbracket.whitespace_after
    else:
        ws = node.lpar[0].whitespace_after if node.lpar else None
    return ws if isinstance(ws, cst.ParenthesizedWhitespace) else None


def _closing(node: Sequence_) -> cst.ParenthesizedWhitespace | None:
    ws: cst.BaseParenthesizableWhitespace | None = None
    if isinstance(node, cst.List):
        ws = node.rbracket.whitespace_before
    elif node.rpar:
        ws = node.rpar[-1].whitespace_before
    return ws if isinstance(ws, cst.ParenthesizedWhitespace) else None


def _with_closing(node: Sequence_, ws: cst.ParenthesizedWhitespace) -> Sequence_:
    if isinstance(node, cst.List):
        return node.with_changes(rbracket=node.rbracket.with_changes(whitespace_before=ws))
    rpar = [*node.rpar[:-1], node.rpar[-1].with_changes(whitespace_before=ws)]
    return node.with_changes(rpar=rpar)


_SPACE = cst.SimpleWhitespace(" ")
