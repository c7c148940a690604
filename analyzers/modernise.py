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

Before libcst, the text itself is changed in place, same length: a t-string's
``t``/``T`` prefix letter becomes ``f``/``F`` (``tr"..."`` -> ``fr"..."``). libcst 1.9
reads neither a ``tr``/``Tr``/``TR``/``tR`` prefix nor two t-strings concatenated
(``t"{n}" t"!"``), and a t-string is rewritten into that f-string anyway.

libcst's parser is native code that recurses once or more per nesting level, with
memory growing as the square of the depth: on the main thread's 8 MB stack it dies
by SIGSEGV (no exception to catch) at ~1,270 nested brackets, ~3,400 chained
``lambda:``, ~8,100 chained ``-``; 1,000 nested calls take 2.2 GB. So :func:`_scan`
first bounds the nesting cheaply (a tokenizer that knows strings and f-string
fields, nothing parsed), :func:`refusal` refuses more than :data:`MAX_BRACKETS`
nested brackets or an estimated :data:`MAX_DEPTH` levels, and libcst runs in a
thread whose stack is :data:`STACK_BYTES`.
"""

from __future__ import annotations

import ast
import contextlib
import re
import threading
import tokenize
from collections.abc import Sequence
from io import BytesIO
from typing import TypeVar

import libcst as cst

__all__ = [
    "MAX_BRACKETS",
    "MAX_DEPTH",
    "STACK_BYTES",
    "modernise",
    "nesting",
    "refusal",
    "second_chance",
]

MAX_BRACKETS = 200
"""Brackets nested deeper than this are a syntax error in every CPython through 3.14
(the tokenizer's ``MAXLEVEL``): no second chance can read them."""
MAX_DEPTH = 3000
"""An estimated nesting deeper than this is not given to libcst: CPython 3.11's
parser reads none deeper than ~2,990 (chains of ``-``, ``not``, ``lambda``,
``if-else``, ``**``, ``.a``, ``+``, ``elif``), so the rewrite could not be read
anyway, and libcst's time and memory grow with the square of the depth."""
STACK_BYTES = 256 * 1024 * 1024
"""The stack of the thread libcst parses in: address space, touched only as deep as
the parse goes. 64 MB already holds 10,000 nested brackets (8 MB: 1,270)."""

_Handler = TypeVar("_Handler", cst.ExceptHandler, cst.ExceptStarHandler)
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
        return _bracketed(updated_node)

    def leave_ExceptStarHandler(
        self, original_node: cst.ExceptStarHandler, updated_node: cst.ExceptStarHandler
    ) -> cst.ExceptStarHandler:
        return _bracketed(updated_node)


def _bracketed(handler: _Handler) -> _Handler:
    """``except A, B:`` / ``except* A, B:`` (3.14, PEP 758) -> ``except (A, B):``."""
    kind = handler.type
    if isinstance(kind, cst.Tuple) and not kind.lpar:
        return handler.with_changes(
            type=kind.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        )
    return handler


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
    except (SyntaxError, ValueError, OverflowError, MemoryError, RecursionError):
        return None  # MemoryError: "Parser stack overflowed", too deep for 3.11 after all
    if _FSTRING in modern:
        tree = _Restore().visit(tree)
    return tree


def modernise(source: bytes | str) -> str | None:
    """Source the running ``ast`` can parse, or None when libcst cannot parse it either
    (or is not given it: :func:`refusal`)."""
    text = _decoded(source)
    if text is None:
        return None
    scan = _scan(text)
    if _refusal(scan) is not None:
        return None
    module = _parse_on_big_stack(_as_fstrings(text, scan.tstrings))
    if module is None:
        return None
    try:
        return module.visit(_Older()).code
    except Exception:  # RecursionError in libcst's visitors, anything else: no second chance
        return None


def refusal(source: bytes | str) -> str | None:
    """Why libcst is not given ``source`` (nested too deep for libcst to survive or for
    any Python to read), as a diagnostic's reason; None when it is given it."""
    text = _decoded(source)
    return None if text is None else _refusal(_scan(text))


def nesting(source: bytes | str) -> int:
    """An upper bound of how deep ``source`` nests (0 when it does not decode)."""
    text = _decoded(source)
    return 0 if text is None else _scan(text).depth


def _refusal(scan: _Scan) -> str | None:
    if scan.brackets > MAX_BRACKETS:
        return f"nesting too deep for the parser: over {MAX_BRACKETS} nested brackets"
    if scan.depth > MAX_DEPTH:
        return f"nesting too deep for the parser: an expression over {MAX_DEPTH} levels deep"
    return None


def _decoded(source: bytes | str) -> str | None:
    """The text of ``source`` as Python decodes it (PEP 263 cookie, BOM, else UTF-8)."""
    if isinstance(source, str):
        return source
    try:
        encoding, _ = tokenize.detect_encoding(BytesIO(source).readline)
        return source.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return None


def _parse_on_big_stack(text: str) -> cst.Module | None:
    """``cst.parse_module`` in a thread with a :data:`STACK_BYTES` stack, or None.

    ``threading.stack_size`` is process-wide: set for this thread's start only and put
    back (a thread another one starts meanwhile gets the big stack too: harmless).
    """
    result: list[cst.Module] = []

    def parse() -> None:
        with contextlib.suppress(Exception):  # libcst's parser errors: no second chance
            result.append(cst.parse_module(text))

    try:
        before = threading.stack_size(STACK_BYTES)
    except (ValueError, RuntimeError):  # a platform that cannot size threads' stacks
        return None
    try:
        thread = threading.Thread(target=parse, name="strangler-libcst", daemon=True)
        thread.start()
    except RuntimeError:  # no thread to be had (no memory for its stack, say)
        return None
    finally:
        threading.stack_size(before)
    thread.join()
    return result[0] if result else None


def _as_fstrings(text: str, tstrings: list[int]) -> str:
    """``text`` with the ``t``/``T`` of each t-string prefix at ``tstrings`` made ``f``/``F``:
    same length, so every line and column stays."""
    if not tstrings:
        return text
    chars = list(text)
    for at in tstrings:
        chars[at] = "F" if chars[at] == "T" else "f"
    return "".join(chars)


class _Scan:
    """What :func:`_scan` found: the deepest brackets, an upper bound of the nesting,
    where the ``t`` of each t-string prefix is."""

    __slots__ = ("brackets", "depth", "tstrings")

    def __init__(self, brackets: int, depth: int, tstrings: list[int]) -> None:
        self.brackets, self.depth, self.tstrings = brackets, depth, tstrings


class _Level:
    """A bracket, f-string field or the module being scanned: the tokens of its current
    element (each may be one nesting level), the deepest bracket closed in that element,
    the deepest element so far. After a comma an element starts from the count of the
    first one (``x = a, -b``: both under ``x =``), except in a ``lambda``'s parameters
    or a ``for``'s targets, whose chain goes on past it (``suspended``)."""

    __slots__ = ("best", "child", "closer", "head", "suspended", "tokens")

    def __init__(self, closer: str) -> None:
        self.closer = closer  # "" the module, "}" a field, else the opening bracket
        self.tokens = self.child = self.best = self.suspended = 0
        self.head = -1

    def separate(self) -> None:
        self.best = max(self.best, self.tokens + self.child)
        if self.head < 0:
            self.head = self.tokens
        self.tokens, self.child = self.head, 0

    def depth(self) -> int:
        return max(self.best, self.tokens + self.child) + 1


_TOKEN = re.compile(
    r"""(?P<s>[rRbBuUfFtT]{0,2}(?:'''|\"\"\"|'|"))
    |(?P<space>[ \t\f\r]+|\\\r?\n|\#[^\n]*)
    |(?P<open>[(\[{])
    |(?P<close>[)\]}])
    |(?P<sep>[,;])
    |(?P<nl>\n)
    |(?P<word>\w+)
    |(?P<colon>:(?!=))
    |(?P<op>.)""",
    re.VERBOSE | re.DOTALL,
)
_STRING_END = {
    "'": re.compile(r"(?:[^'\\\n]|\\.)*(?:'|(?=\n)|\Z)", re.DOTALL),
    '"': re.compile(r'(?:[^"\\\n]|\\.)*(?:"|(?=\n)|\Z)', re.DOTALL),
    "'''": re.compile(r"(?:[^'\\]|\\.|'(?!''))*(?:'''|\Z)", re.DOTALL),
    '"""': re.compile(r'(?:[^"\\]|\\.|"(?!""))*(?:"""|\Z)', re.DOTALL),
}


def _fstring_part(quote: str, raw: bool) -> re.Pattern[str]:
    """What matters in an f-string's text: its end, a field's ``{``, the end of the
    line (a one-quote string left open), escapes and doubled braces (stepped over)."""
    escapes = r"\\." if raw else r"\\N\{[^}\n]*\}|\\."
    line = r"|\n" if len(quote) == 1 else ""
    return re.compile(rf"{escapes}|\{{\{{|\}}\}}|\{{|{re.escape(quote)}{line}", re.DOTALL)


_FSTRING_PART = {(q, raw): _fstring_part(q, raw) for q in _STRING_END for raw in (False, True)}
_SPEC_PART = re.compile(r"\{|\}")
"""A field's format spec ends at the field's ``}`` and may hold fields (``{x:>{w}}``)."""
_STRING_PREFIX = "rRbBuUfFtT"


def _scan(text: str) -> _Scan:
    """A cheap upper bound of how deep libcst recurses on ``text``: one pass over its
    tokens, nothing parsed. An element of a bracket counts one level per token (a
    chain ``- - 1`` or ``a.b.c`` nests as deep as it is long) plus the deepest bracket
    closed in it, plus the longest ``elif`` chain (libcst nests each ``elif`` in the
    one before). Strings are stepped over, f- and t-strings' fields scanned as code."""
    levels = [_Level("")]
    frames: list[_Level | re.Pattern[str]] = [levels[0]]  # a pattern: inside a string
    quotes: list[str] = []  # what ends each string frame
    brackets = deepest = elifs = 0
    chains: dict[int, int] = {}  # indentation -> ``elif``s of the chain open there
    tstrings: list[int] = []
    pos, end = 0, len(text)
    while pos < end:
        top = frames[-1]
        if isinstance(top, re.Pattern):
            found = top.search(text, pos)
            if found is None:
                break  # a string left open: the rest is its text
            pos, piece = found.end(), found.group()
            if piece == "{":
                levels.append(_Level("}"))
                frames.append(levels[-1])
                brackets = max(brackets, len(levels) - 1)
            elif piece == quotes[-1] or piece == "\n":
                frames.pop()
                if quotes.pop() == "}":  # a format spec's end is its field's
                    _close(levels, frames, quotes)
            continue
        token = _TOKEN.match(text, pos)
        assert token is not None  # ``(?P<op>.)`` matches any character
        pos, kind = token.end(), token.lastgroup
        if kind == "space":
            continue
        if kind == "nl" or (kind == "sep" and top is levels[0] and token.group() == ";"):
            if top is levels[0]:  # a statement's end (inside brackets a newline is space)
                deepest = max(deepest, top.depth())
                levels[0] = frames[0] = _Level("")
        elif kind == "sep":
            if top.suspended:
                top.tokens += 1
            else:
                top.separate()
        elif kind == "close":
            if len(levels) > 1:
                _close(levels, frames, quotes)
        else:
            if top is levels[0] and not top.tokens:  # a statement's first token
                elifs = max(elifs, _chain(chains, text, token))
            top.tokens += 1
            if kind == "s":
                pos = _string(text, token, pos, frames, quotes, tstrings)
            elif kind == "open":
                levels.append(_Level(token.group()))
                frames.append(levels[-1])
                brackets = max(brackets, len(levels) - 1)
            elif kind == "word":
                _word(token.group(), top)
            elif kind == "colon":
                if top.closer == "}" and not top.suspended:  # a field's format spec
                    frames.append(_SPEC_PART)
                    quotes.append("}")
                elif top.suspended:
                    top.suspended -= 1
    while len(levels) > 1:
        _close(levels, frames, quotes)
    deepest = max(deepest, levels[0].depth())
    return _Scan(brackets, deepest + elifs, tstrings)


def _string(
    text: str,
    token: re.Match[str],
    pos: int,
    frames: list[_Level | re.Pattern[str]],
    quotes: list[str],
    tstrings: list[int],
) -> int:
    """Past a string's start: an f- or t-string's text becomes a frame (its fields are
    code), any other string is stepped over. Where the scan goes on."""
    quote = token.group().lstrip(_STRING_PREFIX)
    prefix = token.group()[: -len(quote)].lower()
    tstrings.extend(token.start() + i for i, c in enumerate(prefix) if c == "t")
    if "f" in prefix or "t" in prefix:
        frames.append(_FSTRING_PART[quote, "r" in prefix])
        quotes.append(quote)
        return pos
    string_end = _STRING_END[quote].match(text, pos)
    return string_end.end() if string_end else len(text)


def _word(word: str, level: _Level) -> None:
    """``lambda`` and ``for`` suspend the separators' reset until their ``:``/``in``."""
    if word in ("lambda", "for"):
        level.suspended += 1
    elif word == "in" and level.suspended:
        level.suspended -= 1


def _chain(chains: dict[int, int], text: str, token: re.Match[str]) -> int:
    """The length of the ``if``/``elif`` chain a statement starting with ``token`` is
    in (libcst nests each ``elif`` in the one before: one chain's ``elif``s add up, two
    chains' do not). A statement at some indentation ends the chains at it and deeper,
    but an ``elif`` or ``else`` goes on with the one at its own."""
    start = token.start()
    indent = start - (text.rfind("\n", 0, start) + 1)
    word = token.group()
    for level in [k for k in chains if k > indent or (k == indent and word not in _GO_ON)]:
        del chains[level]
    if word == "elif":
        chains[indent] = chains.get(indent, 0) + 1
    return chains.get(indent, 0)


_GO_ON = frozenset({"elif", "else"})


def _close(levels: list[_Level], frames: list[_Level | re.Pattern[str]], quotes: list[str]) -> None:
    """The innermost bracket or field ends: its depth goes to the level it is in."""
    closed = levels.pop()
    while frames[-1] is not closed:  # a string left open inside it (malformed code)
        frames.pop()
        quotes.pop()
    frames.pop()
    levels[-1].child = max(levels[-1].child, closed.depth())
