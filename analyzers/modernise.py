"""Second chance for syntax newer than the running interpreter, through libcst.

``ast`` parses only the running Python's grammar (3.11 here); libcst's parser knows
3.0 through 3.14. A file that ``ast`` rejects is parsed with libcst, the constructs
the running ``ast`` cannot read are rewritten into equivalent older ones, and the
code is emitted again for the one ``ast`` walker (:mod:`analyzers.parse`): a single
extractor, no second visitor to keep in step. Only the failures pay for libcst.

Rewrites keep every statement on its line (facts carry line numbers):

- ``type X[T] = Y``  (3.12)       -> ``X = Y``
- ``def f[T](x: T)`` / ``class C[T]:`` (3.12 type parameters) -> parameters dropped
- ``t"..."`` template strings (3.14) -> f-strings
- ``except A, B:`` without brackets (3.14) -> ``except (A, B):``
- f-strings that only 3.12 reads (PEP 701: the string's own quote, a backslash or a
  comment inside a replacement field, or a field over several lines of a one-quote
  string) -> a marker call, ``f"a{x!r}"`` -> ``__strangler_fstring__("a",
  __strangler_value__("r", None, (x)))``, that :func:`second_chance` turns back into the
  ``ast.JoinedStr`` it stands for once ``ast`` has parsed it. The marker keeps the
  fields' expressions, whitespace and comments as written, so their newlines stay and
  so does every line; no 3.11 spelling exists for ``f"{"\\n".join(x)}"`` (no backslash
  in a field) or for five nested same-quote f-strings, which is why this is not a
  re-quoting. Columns inside such an f-string point into the rewritten text (lines
  are exact, columns are not: tens of characters off), and the ``x=`` text of
  ``f"{x=}"`` is not restored (the field is).
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

import libcst as cst

__all__ = ["modernise", "second_chance"]

_FSTRING = "__strangler_fstring__"
_VALUE = "__strangler_value__"
_CODE = cst.Module(body=[]).code_for_node
_FIELD = cst.FormattedStringExpression


class _Older(cst.CSTTransformer):
    def leave_TypeAlias(
        self, original_node: cst.TypeAlias, updated_node: cst.TypeAlias
    ) -> cst.Assign:
        return cst.Assign(targets=[cst.AssignTarget(updated_node.name)], value=updated_node.value)

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        return updated_node.with_changes(type_parameters=None)

    def leave_ClassDef(
        self, original_node: cst.ClassDef, updated_node: cst.ClassDef
    ) -> cst.ClassDef:
        return updated_node.with_changes(type_parameters=None)

    def leave_TemplatedString(
        self, original_node: cst.TemplatedString, updated_node: cst.TemplatedString
    ) -> cst.FormattedString | cst.Call:
        parts: list[cst.BaseFormattedStringContent] = []
        for part in updated_node.parts:
            if isinstance(part, cst.TemplatedStringText):
                parts.append(cst.FormattedStringText(part.value))
            elif isinstance(part, cst.TemplatedStringExpression):
                parts.append(
                    cst.FormattedStringExpression(
                        expression=part.expression,
                        conversion=part.conversion,
                        equal=part.equal,
                    )
                )
        start = updated_node.start.lower().replace("t", "f")
        return _older_fstring(cst.FormattedString(parts=parts, start=start, end=updated_node.end))

    def leave_FormattedString(
        self, original_node: cst.FormattedString, updated_node: cst.FormattedString
    ) -> cst.FormattedString | cst.Call:
        return _older_fstring(updated_node)

    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> bool:
        # libcst would rebuild the node around a marker call and refuse it (a call is
        # no string to concatenate): its strings are visited in the leave instead
        return False

    def leave_ConcatenatedString(
        self, original_node: cst.ConcatenatedString, updated_node: cst.ConcatenatedString
    ) -> cst.ConcatenatedString | cst.Call:
        """``"a" f"{x["k"]}"``: one marker call for the whole when any string needs one."""
        left, right = updated_node.left.visit(self), updated_node.right.visit(self)
        if not isinstance(left, cst.BaseExpression) or not isinstance(right, cst.BaseExpression):
            return updated_node  # no rewrite here removes a string: for the type checker
        if not (_is_marker(left) or _is_marker(right)):
            return updated_node.with_changes(left=left, right=right)
        head = _pieces(left)
        head[-1] = head[-1].with_changes(
            comma=cst.Comma(whitespace_after=updated_node.whitespace_between)
        )
        return cst.Call(
            func=cst.Name(_FSTRING),
            args=[*head, *_pieces(right)],
            lpar=updated_node.lpar,
            rpar=updated_node.rpar,
        )

    def leave_ExceptHandler(
        self, original_node: cst.ExceptHandler, updated_node: cst.ExceptHandler
    ) -> cst.ExceptHandler:
        kind = updated_node.type
        if isinstance(kind, cst.Tuple) and not kind.lpar:
            return updated_node.with_changes(
                type=kind.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
            )
        return updated_node


def _older_fstring(node: cst.FormattedString) -> cst.FormattedString | cst.Call:
    """The f-string itself when 3.11 reads it, else its marker call."""
    if not _needs_pep701(node.parts, node.end[0], len(node.end) == 3, 0):
        return node
    prefix = node.prefix.replace("f", "").replace("F", "")  # r stays: same text, same value
    return cst.Call(
        func=cst.Name(_FSTRING),
        args=_marker_args(node.parts, prefix, node.end),
        lpar=node.lpar,
        rpar=node.rpar,
    )


def _needs_pep701(
    parts: Sequence[cst.BaseFormattedStringContent], quote: str, triple: bool, depth: int
) -> bool:
    """Whether 3.11 would reject a field: conservative (a quote char anywhere, say)."""
    for part in parts:
        if isinstance(part, _FIELD):
            code = _CODE(part)
            if "\\" in code or "#" in code or quote in code or (not triple and "\n" in code):
                return True
            spec = part.format_spec  # its code is in ``code`` already; depth is not
            if spec and depth > 0 and any(isinstance(p, _FIELD) for p in spec):
                return True  # 3.11: a field in a spec, but none in that field's own spec
            if spec and _needs_pep701(spec, quote, triple, depth + 1):
                return True
    return False


def _marker_args(
    parts: Sequence[cst.BaseFormattedStringContent], prefix: str, quote: str
) -> list[cst.Arg]:
    """Text as string literals in the f-string's own quotes (same newlines), fields as
    ``__strangler_value__(conversion, spec, expression)`` with their whitespace."""
    args: list[cst.Arg] = []
    for part in parts:
        if isinstance(part, cst.FormattedStringText):
            text = _text(part.value.replace("{{", "{").replace("}}", "}"), quote)
            args.append(cst.Arg(cst.SimpleString(f"{prefix}{quote}{text}{quote}")))
        elif isinstance(part, cst.FormattedStringExpression):
            args.append(cst.Arg(_value(part, prefix, quote)))
    for i in range(len(args) - 1):
        args[i] = args[i].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    return args


def _text(text: str, quote: str) -> str:
    """``text`` made safe to close with ``quote`` right after it."""
    backslashes = len(text) - len(text.rstrip("\\"))
    if backslashes % 2:  # it would escape the closing quote
        return text + "\\"
    if len(quote) == 3 and text.endswith(quote[0]):  # it would run into the closing quote
        return text[:-1] + "\\" + quote[0]
    return text


def _value(part: cst.FormattedStringExpression, prefix: str, quote: str) -> cst.Call:
    conversion = part.conversion or ("r" if part.equal and not part.format_spec else "")
    spec: cst.BaseExpression = cst.Name("None")
    if part.format_spec is not None:
        spec = cst.Call(func=cst.Name(_FSTRING), args=_marker_args(part.format_spec, prefix, quote))
    # in brackets: ``f"{a, b}"`` is one tuple and ``f"{yield x}"`` is allowed, not so
    # as arguments; the field's own whitespace (comments, newlines) goes inside them
    inner = part.expression
    expression = inner.with_changes(
        lpar=[cst.LeftParen(whitespace_after=part.whitespace_before_expression), *inner.lpar],
        rpar=[*inner.rpar, cst.RightParen(whitespace_before=part.whitespace_after_expression)],
    )
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    return cst.Call(
        func=cst.Name(_VALUE),
        args=[
            cst.Arg(cst.SimpleString(f'"{conversion}"'), comma=comma),
            cst.Arg(spec, comma=comma),
            cst.Arg(expression),
        ],
    )


def _is_marker(node: cst.BaseExpression) -> bool:
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value == _FSTRING
    )


def _pieces(node: cst.BaseExpression) -> list[cst.Arg]:
    """The arguments ``node`` contributes to a concatenation's marker call."""
    if isinstance(node, cst.Call) and _is_marker(node) and not node.lpar:
        return list(node.args)
    return [cst.Arg(node)]


class _Restore(ast.NodeTransformer):
    """Marker calls back into the ``ast.JoinedStr``/``FormattedValue`` they stand for."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        if type(func) is not ast.Name or func.id != _FSTRING:
            return node
        values: list[ast.expr] = []
        for arg in node.args:
            if type(arg) is ast.JoinedStr:  # an f-string concatenated with a marker
                values.extend(arg.values)
            elif type(arg) is ast.Call and type(arg.func) is ast.Name and arg.func.id == _VALUE:
                conversion, spec, expression = arg.args
                kind = conversion.value if isinstance(conversion, ast.Constant) else ""
                values.append(
                    ast.copy_location(
                        ast.FormattedValue(
                            value=expression,
                            conversion=ord(kind) if isinstance(kind, str) and kind else -1,
                            format_spec=spec if type(spec) is ast.JoinedStr else None,
                        ),
                        arg,
                    )
                )
            elif type(arg) is not ast.Constant or arg.value != "":
                values.append(arg)
        return ast.copy_location(ast.JoinedStr(values=values), node)


def second_chance(source: bytes | str) -> ast.Module | None:
    """The ``ast`` of a module the running ``ast`` rejected, or None when it stays unreadable."""
    modern = modernise(source)
    if modern is None:
        return None
    try:
        tree = ast.parse(modern)
    except (SyntaxError, ValueError, OverflowError):
        return None
    if _FSTRING in modern:
        tree = _Restore().visit(tree)
    return tree


def modernise(source: bytes | str) -> str | None:
    """Source the running ``ast`` can parse, or None when libcst cannot parse it either."""
    try:
        module = cst.parse_module(source)
        return module.visit(_Older()).code
    except Exception:  # libcst's parser errors and anything else: no second chance
        return None
