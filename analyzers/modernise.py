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
"""

from __future__ import annotations

import libcst as cst

__all__ = ["modernise"]


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
    ) -> cst.FormattedString:
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
        return cst.FormattedString(parts=parts, start=start, end=updated_node.end)

    def leave_ExceptHandler(
        self, original_node: cst.ExceptHandler, updated_node: cst.ExceptHandler
    ) -> cst.ExceptHandler:
        kind = updated_node.type
        if isinstance(kind, cst.Tuple) and not kind.lpar:
            return updated_node.with_changes(
                type=kind.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
            )
        return updated_node


def modernise(source: bytes | str) -> str | None:
    """Source the running ``ast`` can parse, or None when libcst cannot parse it either."""
    try:
        module = cst.parse_module(source)
        return module.visit(_Older()).code
    except Exception:  # libcst's parser errors and anything else: no second chance
        return None
