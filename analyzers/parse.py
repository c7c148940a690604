"""One module's facts from its source text: the fast path (stdlib ``ast``).

Why ``ast`` and a hand-written walker rather than libcst metadata: the whole analysis
must cost at most twice ``ast.parse`` (issue 3); libcst's parser alone costs ten
times that and its scope/qualified-name providers ninety. So this module parses with
``ast`` and walks only what carries facts (statements, and calls/names inside
expressions), in one pass, with plain dicts for scopes.

What a module alone can know is recorded as *references* (see :class:`~analyzers.
facts.Call`): the first name of each dotted expression is resolved through the
module's imports and scopes, the rest is kept as written (``Order.objects.filter()``
becomes ``shop.orders.models.Order.objects.filter().first``). Cross-module meaning
(re-exports, inheritance, which classes are models) is :mod:`analyzers.link`'s job.

Files the running interpreter cannot parse get a second chance through libcst (see
:mod:`analyzers.modernise`), then become a :class:`~analyzers.facts.Diagnostic`.
:func:`facts_from_source` never raises.
"""

from __future__ import annotations

import ast
import builtins
import io
import sys
import tokenize
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from analyzers._make import maker
from analyzers.facts import (
    ArgKind,
    Argument,
    AtomicRegion,
    BindingKind,
    Call,
    Definition,
    DefKind,
    Diagnostic,
    GlobalState,
    GlobalUse,
    ImportFact,
    Location,
    ManagerFact,
    ModelBinding,
    ModelFact,
    ModuleFacts,
    Param,
    RawSql,
    Relation,
    SettingsRead,
    SignalHandler,
    UrlRoute,
    Variable,
)

# enum members bound once: ``ArgKind.JSON`` goes through the enum's class
# machinery on every use (~15x a global lookup), on the hottest paths
_ARG_CALLABLE = ArgKind.CALLABLE
_ARG_FILE = ArgKind.FILE
_ARG_JSON = ArgKind.JSON
_ARG_LOCK = ArgKind.LOCK
_ARG_ORM_INSTANCE = ArgKind.ORM_INSTANCE
_ARG_REQUEST = ArgKind.REQUEST
_ARG_UNKNOWN = ArgKind.UNKNOWN
_DEF_CLASS = DefKind.CLASS
_DEF_FUNCTION = DefKind.FUNCTION
_DEF_METHOD = DefKind.METHOD

__all__ = [
    "MAX_BYTES",
    "REQUEST_TEXT",
    "STAR_PARAM_TYPES",
    "facts_from_source",
    "is_test_path",
    "kind_of_type",
    "module_name",
    "request_text_owner",
]

MAX_BYTES = 5 * 1024 * 1024
"""Files larger than this are reported, not parsed: generated code, data, minified blobs."""

_BUILTINS = frozenset(dir(builtins))
_MUTATORS = frozenset(
    [
        "append",
        "extend",
        "insert",
        "pop",
        "remove",
        "clear",
        "update",
        "setdefault",
        "popitem",
        "add",
        "discard",
        "appendleft",
        "popleft",
        "extendleft",
        "sort",
        "reverse",
    ]
)
_MUTABLE_CTORS = {
    "dict": "dict",
    "list": "list",
    "set": "set",
    "builtins.dict": "dict",
    "builtins.list": "list",
    "builtins.set": "set",
    "collections.defaultdict": "dict",
    "collections.OrderedDict": "dict",
    "collections.Counter": "dict",
    "collections.deque": "list",
    "weakref.WeakValueDictionary": "dict",
    "weakref.WeakKeyDictionary": "dict",
}
"""Constructors of mutable containers, by what their name is imported from: the
prepass, which runs before imports are bound, maps ``Counter`` or ``c.Counter`` through
the module's own top-level imports first (``prometheus_client.Counter`` is a metric,
not a dict)."""
_ATOMIC = frozenset({"django.db.transaction.atomic", "django.db.transaction.Atomic"})
_GET_OR_404 = frozenset({"django.shortcuts.get_object_or_404"})
_URL_FUNCS = frozenset(
    {"django.urls.path", "django.urls.re_path", "django.conf.urls.url", "django.urls.conf.path"}
)
_URL_NAMES = frozenset({"path", "re_path", "url"})
_SQL_METHODS = frozenset({"execute", "executemany"})
_BIND_META, _BIND_ATTR, _BIND_ADMIN = BindingKind.META, BindingKind.ATTR, BindingKind.ADMIN
_BIND_RETURNS, _BIND_USER = BindingKind.RETURNS, BindingKind.USER
_VIEW_MODEL_ATTRS = frozenset({"model", "queryset", "serializer_class", "form_class"})
_VIEW_MODEL_METHODS = frozenset(
    {"get_queryset", "get_object", "get_serializer_class", "get_form_class"}
)
"""A view's overrides that name its model by what they return (linking reads it)."""
RELATION_KINDS = frozenset({"ForeignKey", "OneToOneField", "ManyToManyField"})
# Decorators that wrap nothing the function runs in: the builtin descriptors (half
# of Django's decorators: no call recorded for them) and a property's own accessors
_DESCRIPTORS = frozenset({"property", "classmethod", "staticmethod"})
_ACCESSORS = (".setter", ".getter", ".deleter")
_CLASS_RECEIVERS = frozenset({"__init_subclass__", "__class_getitem__", "__new__"})
"""Methods whose first parameter is the class, not an instance, without a decorator."""
_FILE_TYPES = frozenset(
    {
        "builtins.open()",
        "io.open()",
        "codecs.open()",
        "tempfile.NamedTemporaryFile()",
        "tempfile.TemporaryFile()",
        "tempfile.SpooledTemporaryFile()",
        "gzip.open()",
        "django.core.files.File()",
        "django.core.files.uploadedfile.UploadedFile()",
        "django.core.files.uploadedfile.InMemoryUploadedFile()",
        "typing.IO()",
        "typing.BinaryIO()",
        "typing.TextIO()",
        "io.BytesIO()",
        "io.StringIO()",
    }
)
_LOCK_TYPES = frozenset(
    {
        "threading.Lock()",
        "threading.RLock()",
        "threading.Semaphore()",
        "threading.BoundedSemaphore()",
        "threading.Condition()",
        "multiprocessing.Lock()",
        "multiprocessing.RLock()",
        "asyncio.Lock()",
        "django.db.connection",
        "django.db.connections",
        "socket.socket()",
        "sqlite3.connect()",
    }
)
_REQUEST_TYPES = frozenset(
    {
        "django.http.HttpRequest()",
        "django.http.request.HttpRequest()",
        "django.core.handlers.wsgi.WSGIRequest()",
        "rest_framework.request.Request()",
    }
)
# what a request's uploads are reached by, after the request's type reference:
# ``request.FILES``, ``request.FILES["f"]``, ``.get("f")``, ``.getlist("f")``
_UPLOADS = (".FILES", ".FILES[]", ".FILES.get()", ".FILES.getlist()")
REQUEST_TEXT = (
    *[
        f".{part}{how}"
        for part in ("GET", "POST", "COOKIES", "headers", "query_params")
        for how in ("[]", ".get()", ".getlist()", ".dict()")
    ],
    *(".method", ".path", ".path_info", ".content_type", ".get_full_path()", ".get_host()"),
)
"""What a request's text is reached by (a str, a list or dict of str): the query string,
the form, cookies, headers, the method and path. (A ``.get()`` with a default is a
join: ``request.GET.get("q", obj)`` is text or ``obj``.)"""
TEMPORAL_RESULTS = frozenset(
    {
        "datetime.datetime()",
        "datetime.datetime.now()",
        "datetime.datetime.utcnow()",
        "datetime.datetime.today()",
        "datetime.datetime.fromisoformat()",
        "datetime.datetime.strptime()",
        "datetime.date()",
        "datetime.date.today()",
        "datetime.date.fromisoformat()",
        "django.utils.timezone.now()",
        "django.utils.timezone.localdate()",
        "django.utils.timezone.localtime()",
        "django.utils.timezone.make_aware()",
    }
)
"""The dates and datetimes of :data:`_JSON_RESULTS`: two of them subtracted make a
``timedelta``, which no event carries."""
_JSON_RESULTS = TEMPORAL_RESULTS | frozenset(
    {
        # builtins whatever their argument: ``str(order.pk)``, ``len(items)``
        # (``round`` and ``sum`` are joins: see ``_Extractor._join_of``)
        "builtins.str()",
        "builtins.int()",
        "builtins.float()",
        "builtins.bool()",
        "builtins.len()",
        "builtins.repr()",
        "builtins.ord()",
        "builtins.chr()",
        "builtins.hex()",
        "builtins.isinstance()",
        "builtins.hasattr()",
        # the value types the shim carries as tagged strings (shims.encoding): Decimal,
        # datetime, date, UUID, made or got the usual ways
        "decimal.Decimal()",
        "decimal.Decimal().quantize()",
        "uuid.UUID()",
        "uuid.uuid1()",
        "uuid.uuid4()",
    }
)
_STR_RESULTS = frozenset(
    {
        # a str's methods that give a str, a list of str, a bool or an int
        "strip", "lstrip", "rstrip", "lower", "upper", "title", "capitalize", "casefold",
        "replace", "format", "join", "zfill", "center", "ljust", "rjust", "removeprefix",
        "removesuffix", "split", "rsplit", "splitlines", "startswith", "endswith",
        "isdigit", "isalpha", "isalnum", "count", "find",
    }
)  # fmt: skip
MUTABLE_LITERALS = frozenset({"builtins.list()", "builtins.dict()", "builtins.set()"})
"""Literal types whose value code can change after the literal: a name bound to one
holds what was put in it since, which is not the literal's."""
JOIN = "{"
"""A value that is one of several, as a reference: ``{op|part|part...}``. ``a or b``,
``x if c else y``, ``min(a, b)``, ``a + b`` (op ""), ``a - b`` (op "-": two dates make a
timedelta). Each part is the reference an argument would have (nested joins
bracketed), completed by ``_finish`` and linking; the value's kind is the join of the
parts' (:func:`join_kinds`). A part ``!round`` guards a builtin's join: it must still
be the builtin once the scopes are complete. Only an argument or a local's type holds
one: a method called on it, or an item of it, is not resolved (as on a value of
unknown type). A join nested deeper than ``_JOIN_DEPTH`` or longer than ``_JOIN_MAX``
is unknown."""
_SUBTRACT = "-"
_GUARD = "!"  # a join's part ``!round``: JSON if ``round`` is the builtin, else unknown
_JOIN_DEPTH = 8  # operands nested deeper than this (not a flat ``a + b + c``): unknown
_JOIN_MAX = 2000  # a join's reference longer than this: unknown (bounds its splitting)
_NUMERIC_BUILTINS = frozenset({"round", "abs", "min", "max"})
_LEAVING = frozenset({ast.Return, ast.Raise, ast.Break, ast.Continue})
_UNBINDING = _LEAVING | {ast.Expr, ast.Pass, ast.Assert}
"""Statements that bind no name (but by a walrus, which marks its name itself)."""
_JOINS = frozenset({ast.BinOp, ast.BoolOp, ast.IfExp, ast.UnaryOp})
_TEXT_MAX = 80
# node types the walker tests with ``is`` on hot paths, bound once: a module global
# is one lookup, ``ast.Name`` two
_AstName = ast.Name
_AstCall = ast.Call
_AstConstant = ast.Constant
_AstAttribute = ast.Attribute
_AstSubscript = ast.Subscript
_AstSlice = ast.Slice
_AstImport = ast.Import
_AstImportFrom = ast.ImportFrom
_AstTuple = ast.Tuple
_AstList = ast.List
_AstLambda = ast.Lambda
_AstNamedExpr = ast.NamedExpr
_AstJoinedStr = ast.JoinedStr
_AstDict = ast.Dict
_AstUnaryOp = ast.UnaryOp
_AstStarred = ast.Starred
_AstAwait = ast.Await
_AstBinOp = ast.BinOp
_AstBoolOp = ast.BoolOp
_AstYield = ast.Yield
_AstYieldFrom = ast.YieldFrom
_AstIfExp = ast.IfExp
_AstClassDef = ast.ClassDef
_AstAssign = ast.Assign
_AstExpr = ast.Expr
_AstAnnAssign = ast.AnnAssign
_AstIf = ast.If
_AstTry = ast.Try
_AstDictComp = ast.DictComp
_AstListComp = ast.ListComp
_AstSetComp = ast.SetComp
_AstSet = ast.Set
_AstGlobal = ast.Global
_AstFunctionDef = ast.FunctionDef
_AstReturn = ast.Return
_AstAsyncFunctionDef = ast.AsyncFunctionDef
# positional constructors, every field passed (see analyzers._make): the facts of a
# module are built by the tens of thousands
_Location = maker(Location)
_Call = maker(Call)
_Argument = maker(Argument)
_Param = maker(Param)
_Definition = maker(Definition)
JSON_OF = "=json:"  # a JSON-able literal's type marker, then its type: ``=json:builtins.list()``
_JSON = "=json"  # what reaches through a literal of no type (``None``): names nothing
_LITERALS = {
    ast.List: "builtins.list()",
    ast.ListComp: "builtins.list()",
    ast.Tuple: "builtins.tuple()",
    ast.Dict: "builtins.dict()",
    ast.DictComp: "builtins.dict()",
    ast.Set: "builtins.set()",
    ast.SetComp: "builtins.set()",
    ast.JoinedStr: "builtins.str()",
}
"""The type of what a display, comprehension or f-string evaluates to."""
_NAMED_SETTINGS = frozenset({"AUTH_USER_MODEL", "app_name"})
"""Module-level names whose literal value is a fact: the user model a settings module
names, the namespace (``app_name``) a URLconf gives its routes' names."""
_OSCAR_LOADERS = frozenset({"oscar.core.loading.get_class", "oscar.core.loading.get_classes"})
_BRIDGES = {
    "asgiref.sync.sync_to_async": "sync_to_async",
    "asgiref.sync.async_to_sync": "async_to_sync",
    "channels.db.database_sync_to_async": "database_sync_to_async",
}
"""Wrappers that call what they are given in another thread or event loop:
``await sync_to_async(f)(x)`` calls ``f(x)``."""
STAR_PARAM_TYPES = {"var_positional": "builtins.tuple()", "var_keyword": "builtins.dict()"}
"""``*args`` is a tuple and ``**kwargs`` a dict, whatever the call passes (linking
uses it where a closure reads them)."""
_CONSTANTS = {
    str: "builtins.str()",
    bytes: "builtins.bytes()",
    bool: "builtins.bool()",
    int: "builtins.int()",
    float: "builtins.float()",
    complex: "builtins.complex()",
}
_FUNC, _CLASS, _MODULE = 0, 1, 2
_AnyFunc = ast.FunctionDef | ast.AsyncFunctionDef


def module_name(relpath: str, prefix: str = "") -> str:
    """``orders/views.py`` -> ``orders.views``; ``pkg/__init__.py`` -> ``pkg``."""
    parts = relpath.replace("\\", "/").removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts.pop()
    if prefix:
        parts.insert(0, prefix)
    return ".".join(p for p in parts if p)


def is_test_path(relpath: str) -> bool:
    """test_*.py, *_tests.py, *_test.py, tests.py, conftest.py, or under a tests/ folder."""
    parts = relpath.replace("\\", "/").split("/")
    name = parts[-1]
    return (
        name.startswith("test_")
        or name.endswith(("_tests.py", "_test.py"))
        or name in ("tests.py", "conftest.py")
        or any(p in ("tests", "test") for p in parts[:-1])
    )


def facts_from_source(source: bytes | str, *, module: str, path: str) -> ModuleFacts | Diagnostic:
    """Facts of one module, or a Diagnostic saying why there are none. Never raises."""
    try:
        tree = _parse(source, path)
        if isinstance(tree, Diagnostic):
            return tree
        lines = (source.count(b"\n") if isinstance(source, bytes) else source.count("\n")) + 1
        # ``global`` statements are rare (7 files of Django's 885): only a module whose
        # text has the word pays for looking for them before the walk
        has_global = b"global " in source if isinstance(source, bytes) else "global " in source
        try:
            return _Extractor(module, path).run(tree, lines, has_global)
        except RecursionError:
            return _walk_deep(tree, module, path, lines, has_global)
    except RecursionError:
        return Diagnostic(path, "nesting too deep to analyse (recursion limit)")
    except MemoryError:
        return Diagnostic(path, "out of memory while analysing")
    except Exception as exc:  # the contract is "never raises": a bug here is a diagnostic
        return Diagnostic(path, f"internal error: {type(exc).__name__}: {exc}")


DEEP_RECURSION_LIMIT = 6000
"""The recursion limit for a second walk of a tree too deep for the default (1000).

``ast.parse`` accepts a left-nested ``a + b + ... `` of thousands of terms or a long
``x.a().a()...`` chain (generated code, long string sums), and the walker recurses
once or twice per level. Python-to-Python calls do not grow the C stack in 3.11+,
so a few thousand frames are safe; deeper than this stays a diagnostic."""


def _walk_deep(
    tree: ast.Module, module: str, path: str, lines: int, has_global: bool
) -> ModuleFacts | Diagnostic:
    """The walk again with :data:`DEEP_RECURSION_LIMIT`, for the rare file that needs it.

    The limit is process-wide: raised only for this walk and put back after (never
    lowered below what the caller had set). Not for concurrent walks in threads of one
    process: ``collect`` walks in one thread per process.
    """
    before = sys.getrecursionlimit()
    if before >= DEEP_RECURSION_LIMIT:
        raise RecursionError
    sys.setrecursionlimit(DEEP_RECURSION_LIMIT)
    try:
        return _Extractor(module, path).run(tree, lines, has_global)
    finally:
        sys.setrecursionlimit(before)


def _parse(source: bytes | str, path: str) -> ast.Module | Diagnostic:
    """ast.parse with the reasons for failure spelled out, and the libcst second chance."""
    if len(source) > MAX_BYTES:
        return Diagnostic(path, f"file larger than {MAX_BYTES // (1024 * 1024)} MB: skipped")
    if (b"\0" in source) if isinstance(source, bytes) else ("\0" in source):
        return Diagnostic(path, "binary file (NUL bytes)")
    try:
        return ast.parse(source)
    except SyntaxError as exc:  # keep text, not the exception: its traceback is a cycle
        message, line = str(exc.msg), exc.lineno
    except (ValueError, OverflowError) as exc:
        return Diagnostic(path, f"cannot parse: {exc}")
    except MemoryError as exc:
        if not _parser_stack(exc, source):
            raise  # a real one: facts_from_source says so
        return Diagnostic(path, f"{_TOO_DEEP} (its stack overflowed)")
    if "codec can't decode" in message and "unicodeescape' codec" not in message:
        return _undecodable(source, path, line)
    if "unicodeescape' codec" in message:  # ``"\N{NOSUCHNAME}"``: bad in every Python
        return Diagnostic(path, f"syntax error: {message}", line)
    if message in _NESTING_LIMITS:  # the tokenizer's, the same in every Python to 3.14
        return Diagnostic(path, f"{_TOO_DEEP}: {message}", line)
    from analyzers.modernise import refusal, second_chance  # lazily: only failures pay

    tree = second_chance(source)
    if tree is not None:
        return tree
    too_deep = refusal(source)  # scanned again, only for files that stay unreadable
    if too_deep is not None:
        return Diagnostic(path, too_deep)
    hint = " (Python 2 syntax?)" if "print" in message or "exec" in message else ""
    return Diagnostic(path, f"syntax error: {message}{hint}", line)


_TOO_DEEP = "nesting too deep for the parser"
_PARSER_STACK_DEPTH = 1000
"""Nesting past which a bare MemoryError of ``ast.parse`` is its depth limit."""


def _parser_stack(exc: MemoryError, source: bytes | str) -> bool:
    """Whether ``ast.parse`` hit its own depth limit (a 100,000-long ``-`` chain), not the
    end of memory: both are a MemoryError, 3.12+ says "Parser stack overflowed", 3.11
    nothing; then the text's nesting tells (a scan, on this rare failure only)."""
    if "Parser stack overflowed" in str(exc):
        return True
    from analyzers.modernise import nesting

    return not str(exc) and nesting(source) > _PARSER_STACK_DEPTH


_NESTING_LIMITS = frozenset({"too many nested parentheses", "too many levels of indentation"})
"""Tokenizer limits (200 brackets, 100 indents) that hold in every CPython through
3.14: the file is invalid everywhere, and libcst, given it, could overflow its stack."""


def _undecodable(source: bytes | str, path: str, line: int | None) -> Diagnostic:
    """The decoding failure, at the line of the first byte that does not decode (the
    error's own line is the end of the string holding it, or 0 past a cookie)."""
    encoding = "utf-8"
    if isinstance(source, bytes):
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
            source.decode(encoding)
        except UnicodeDecodeError as exc:
            line = source.count(b"\n", 0, exc.start) + 1
        except (SyntaxError, LookupError):
            pass
    reason = "not valid UTF-8 (and no PEP 263 coding cookie)"
    if encoding not in ("utf-8", "utf-8-sig"):
        reason = f"not valid {encoding} (as its PEP 263 coding cookie says)"
    return Diagnostic(path, reason, line or None)


class _Scope:
    """A name space: module, class, or function (lambdas and comprehensions too)."""

    __slots__ = (
        "bindings",
        "caller",
        "cls",
        "globals",
        "kind",
        "mutated",
        "params",
        "parent",
        "qual",
        "reassigned",
        "returns",
        "self_name",
        "self_ref",
        "shared",
        "types",
        "values",
        "written",
    )

    def __init__(self, kind: int, qual: str, parent: _Scope | None, caller: str) -> None:
        self.kind = kind
        self.qual = qual  # prefix for definitions nested here
        self.parent = parent
        self.caller = caller  # who a call made here is attributed to
        self.bindings: dict[str, str | None] = {}  # name -> reference, None: plain variable
        self.types: dict[str, str] = {}  # local name -> reference of its value (flow order)
        # a name's value as an argument where it is not ``types``' (the last one written):
        # the join of the ways through branches that reach here; None: unknown (see
        # _Extractor._merge_ways). Empty in most scopes
        self.values: dict[str, str | None] = {}
        # names bound while the ways of a branch are walked (see _Extractor._way)
        self.written: set[str] | None = None
        self.shared: set[str] | None = None  # names a nested function binds (nonlocal)
        self.params: frozenset[str] = frozenset()
        self.reassigned: set[str] = set()  # parameters bound again in the body
        self.mutated: set[str] | None = None  # parameters changed in place
        self.returns: list[str | None] = []  # type references of ``return`` values
        self.globals: set[str] = set()
        self.self_name: str | None = None  # first parameter of a method
        self.self_ref: str | None = None  # ``C()`` (an instance) for self, ``C`` for cls
        self.cls: str | None = None  # qualname of the enclosing class, for self/cls/super


def _loc_text(node: ast.expr) -> str:
    """Short source-like text of a simple expression, without ast.unparse (slow)."""
    t = type(node)
    if t is _AstName:
        return node.id  # type: ignore[attr-defined, no-any-return]
    if t is _AstAttribute:
        return f"{_loc_text(node.value)}.{node.attr}"  # type: ignore[attr-defined]
    if t is _AstConstant:
        return repr(node.value)[:_TEXT_MAX]  # type: ignore[attr-defined]
    if t is _AstCall:
        return f"{_loc_text(node.func)}()"  # type: ignore[attr-defined]
    if t is _AstSubscript:
        return f"{_loc_text(node.value)}[]"  # type: ignore[attr-defined]
    return f"<{t.__name__.lower()}>"


def _immutable_json(node: ast.expr) -> bool:
    """None, a str, a number, a bool, or a tuple of those: a value no code can fill
    (a parameter's default is one object, shared by every call that leaves it out)."""
    t = type(node)
    if t is _AstTuple:
        return all(_immutable_json(e) for e in node.elts)  # type: ignore[attr-defined]
    if t is _AstUnaryOp and type(node.op) is ast.USub:  # type: ignore[attr-defined]
        node = node.operand  # type: ignore[attr-defined]
        t = type(node)
    return t is _AstConstant and isinstance(
        node.value,  # type: ignore[attr-defined]
        str | int | float | bool | type(None),
    )


def _is_json_literal(node: ast.expr) -> bool:
    t = type(node)
    if t is _AstConstant:
        return not isinstance(node.value, bytes | type(...))  # type: ignore[attr-defined]
    if t is _AstJoinedStr:
        return True
    if t is _AstList or t is _AstTuple:
        return all(_is_json_literal(e) for e in node.elts)  # type: ignore[attr-defined]
    if t is _AstDict:
        return all(
            k is not None and _is_json_literal(k) and _is_json_literal(v)
            for k, v in zip(node.keys, node.values, strict=True)  # type: ignore[attr-defined]
        )
    if t is _AstUnaryOp:
        return _is_json_literal(node.operand)  # type: ignore[attr-defined]
    return False


def _literal_type(node: ast.expr) -> str | None:
    """``[...]`` -> ``builtins.list()``, ``-1`` -> ``builtins.int()``...; "" for a
    literal of no type worth naming (``None``, ``...``); None for anything else."""
    t = type(node)
    found = _LITERALS.get(t)
    if found is not None:
        return found
    if t is _AstUnaryOp:
        node = node.operand  # type: ignore[attr-defined]
        t = type(node)
    if t is _AstConstant:
        return _CONSTANTS.get(type(node.value), "")  # type: ignore[attr-defined]
    return None


def _is_json(type_ref: str | None) -> bool:
    """Is ``type_ref`` a JSON-able literal's (``=json:builtins.list()``)?"""
    return type_ref is not None and type_ref.startswith(JSON_OF)


def _through(type_ref: str) -> str:
    """The type whose methods a value of ``type_ref`` has: a JSON-able literal's own
    (``=json:builtins.list()`` -> ``builtins.list()``; "" for ``None``), else
    ``type_ref`` itself."""
    return type_ref[len(JSON_OF) :] if type_ref.startswith(JSON_OF) else type_ref


def _chain_part(chain: tuple[str, str] | None, kind: ArgKind) -> str | None:
    """A join's operand from an argument's ``(text, kind, keyword, chain)``: the
    reference (a ``?name`` placeholder for a bare name), else ``=json:`` for JSON."""
    if chain is None:
        return JSON_OF if kind is _ARG_JSON else None
    head, tail = chain
    return f"?{head}{tail}" if head else tail


def _get_default(call: ast.Call) -> ast.expr | None:
    """``mapping.get(key, default)`` / ``.get(key, default=d)`` -> the default; None
    for any other call (a ``.get()`` without one, or of another shape)."""
    func, args, keywords = call.func, call.args, call.keywords
    if type(func) is not _AstAttribute or func.attr != "get":
        return None
    if len(args) == 2 and _is_q(args[1]):  # ``Order.objects.get(Q(...), Q(...))``
        return None
    if len(args) == 2 and not keywords:
        return args[1]
    if len(args) == 1 and len(keywords) == 1 and keywords[0].arg == "default":
        return keywords[0].value
    return None


def _is_q(node: ast.expr) -> bool:
    """``Q(...)``, ``models.Q(...)``, ``~Q(...)``, ``Q(...) | Q(...)``: a lookup, not a
    mapping's default."""
    t = type(node)
    if t is _AstCall:
        func = node.func  # type: ignore[attr-defined]
        return (type(func) is _AstName and func.id == "Q") or (
            type(func) is _AstAttribute and func.attr == "Q"
        )
    if t is _AstBinOp:
        return _is_q(node.left) or _is_q(node.right)  # type: ignore[attr-defined]
    if t is _AstUnaryOp:
        return _is_q(node.operand)  # type: ignore[attr-defined]
    return False


def _has_default(call: ast.Call) -> bool:
    """Is ``call`` a ``.get()`` with a default other than a JSON literal (or with a
    list, dict or set one, which code can fill once it is bound to a name)?"""
    default = _get_default(call)
    return default is not None and (
        not _is_json_literal(default) or _LITERALS.get(type(default)) in MUTABLE_LITERALS
    )


def holds_mutable(type_ref: str) -> bool:
    """Is ``type_ref`` a list, dict or set literal's, or a join with one among its
    parts (``tags = request.GET.get("t", [])``)? What a name bound to it holds by a
    later call need not be the literal."""
    if type_ref[:1] == JOIN:
        return any(holds_mutable(p) for p in split_join(type_ref)[1])
    return type_ref.startswith(JSON_OF) and type_ref[len(JSON_OF) :] in MUTABLE_LITERALS


def _may_join(call: ast.Call) -> bool:
    """Could ``call`` be a join (``min(a, b)``, ``.get(k, default)``)? A cheap test."""
    func = call.func
    if type(func) is _AstName:
        return func.id in _NUMERIC_BUILTINS
    return _get_default(call) is not None


def _value_of(scope: _Scope, name: str) -> str | None:
    """``name``'s value as an argument: where the ways through branches left it one of
    several, their join (``values``), else its type."""
    values = scope.values
    return values[name] if name in values else scope.types.get(name)


def _value_in(
    state: tuple[dict[str, str] | dict[str, str | None], dict[str, str | None]], name: str
) -> str | None:
    types, values = state
    return values[name] if name in values else types.get(name)


def _assigned_in(body: list[ast.stmt]) -> tuple[set[str], bool]:
    """The names a loop's body binds by statement (not in nested functions or classes),
    and whether a ``break`` or ``continue`` of this loop may leave it part-way."""
    names: set[str] = set()
    jumps = False
    stack: list[tuple[list[ast.stmt], bool]] = [(body, True)]
    while stack:
        stmts, own = stack.pop()
        for stmt in stmts:
            t = type(stmt)
            if t is ast.Break or t is ast.Continue:
                jumps = jumps or own
            elif t is _AstAssign:
                for target in stmt.targets:  # type: ignore[attr-defined]
                    names.update(_target_names(target))
            elif t is ast.AugAssign or t is _AstAnnAssign:
                names.update(_target_names(stmt.target))  # type: ignore[attr-defined]
            elif t is _AstFunctionDef or t is _AstAsyncFunctionDef or t is _AstClassDef:
                names.add(stmt.name)  # type: ignore[attr-defined]
            elif t is _AstImport or t is _AstImportFrom:
                names.update((a.asname or a.name).partition(".")[0] for a in stmt.names)  # type: ignore[attr-defined]
            else:
                loop = t is ast.For or t is ast.AsyncFor or t is ast.While
                if loop and t is not ast.While:
                    names.update(_target_names(stmt.target))  # type: ignore[attr-defined]
                for field in ("body", "orelse", "finalbody", "handlers", "items", "cases"):
                    inner = getattr(stmt, field, None)
                    if not inner:
                        continue
                    if field == "handlers" or field == "cases":
                        for part in inner:
                            stack.append((part.body, own))
                            if field == "handlers" and part.name:
                                names.add(part.name)
                            elif field == "cases":
                                names.update(_captures(part.pattern))
                    elif field == "items":
                        for item in inner:
                            if item.optional_vars is not None:
                                names.update(_target_names(item.optional_vars))
                    else:  # a nested loop's own jumps are its own, not its ``else``'s
                        stack.append((inner, own and not (loop and field == "body")))
    return names, jumps


def _leaves(body: list[ast.stmt]) -> bool:
    """Does ``body`` end by leaving (``return``, ``raise``, ``break``, ``continue``), so
    that the code after the statement holding it does not follow it?"""
    return bool(body) and type(body[-1]) in _LEAVING


def _captures(pattern: ast.pattern) -> list[str]:
    """The names a ``case`` pattern binds (``case [x, *rest]``, ``{**kw}``, ``as y``)."""
    found = []
    for node in ast.walk(pattern):
        name = getattr(node, "rest" if type(node) is ast.MatchMapping else "name", None)
        if isinstance(name, str):
            found.append(name)
    return found


def _target_names(target: ast.expr) -> list[str]:
    t = type(target)
    if t is _AstName:
        return [target.id]  # type: ignore[attr-defined]
    if t is _AstTuple or t is _AstList:
        return [n for e in target.elts for n in _target_names(e)]  # type: ignore[attr-defined]
    if t is _AstStarred:
        return _target_names(target.value)  # type: ignore[attr-defined]
    return []


def _join(op: str, parts: list[str | None]) -> str | None:
    """The reference of a value that is one of ``parts`` (see :data:`JOIN`); ``=json:``
    when every part is a JSON literal; None when a part is unknown."""
    if not parts or None in parts:
        return None
    if len(parts) > 1 and JSON_OF in parts:  # a plain JSON part adds nothing to a join
        parts = [p for p in parts if p != JSON_OF] or [JSON_OF]
    if all(p.startswith(JSON_OF) for p in parts):  # type: ignore[union-attr]
        # a literal's value; a list, dict or set one keeps its type: code can fill it
        mutable = [p for p in parts if p[len(JSON_OF) :] in MUTABLE_LITERALS]  # type: ignore[index]
        return mutable[0] if mutable else JSON_OF
    joined = f"{JOIN}{op}|{'|'.join(parts)}}}"  # type: ignore[arg-type]
    if len(joined) > _JOIN_MAX or joined.count(JOIN) > _JOIN_DEPTH:
        return None  # (``x = x or a.y`` line after line) not worth splitting again
    return joined


def split_join(ref: str) -> tuple[str, list[str]]:
    """``{-|a|{|b|c}}`` -> ("-", ["a", "{|b|c}"]): a join's operator and its parts."""
    op, _, rest = ref[1:-1].partition("|")
    if JOIN not in rest:
        return op, rest.split("|")
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(rest):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "|" and not depth:
            parts.append(rest[start:i])
            start = i + 1
    parts.append(rest[start:])
    return op, parts


def join_kinds(kinds: Iterable[ArgKind]) -> ArgKind:
    """The kind of a value that is one of several: JSON when every one is; else the one
    kind of those that are not JSON (``order or None`` is a row), unknown when they
    differ or one is unknown."""
    found = _ARG_JSON
    for kind in kinds:
        if kind is _ARG_UNKNOWN:
            return _ARG_UNKNOWN
        if kind is not _ARG_JSON:
            if found is not _ARG_JSON and kind is not found:
                return _ARG_UNKNOWN
            found = kind
    return found


def maybe_temporal(ref: str) -> bool:
    """Could ``ref`` be a date or datetime, as far as its reference alone tells?"""
    if ref[:1] == JOIN:
        return any(maybe_temporal(p) for p in split_join(ref)[1])
    receiver = _str_receiver(ref)  # ``now().replace(hour=0)`` is a datetime too
    return ref in TEMPORAL_RESULTS or (receiver is not None and maybe_temporal(receiver))


def _chain(node: ast.expr, literal: bool = False) -> tuple[str, str] | None:
    """``a.b().c`` -> ("a", ".b().c"), ``a[i].c`` -> ("a", "[].c"), ``a[0]`` -> ("a",
    "[0]") (the first item: the row of a ``(row, created)`` pair); None for shapes
    that name nothing (``(a or b).c``, ``(lambda: x)()``). With ``literal``, what
    starts at a literal of a known type too: ``", ".join(x).split`` -> ("",
    "builtins.str().join().split")."""
    parts: list[str] = []
    while True:
        t = type(node)
        if t is _AstAttribute:
            parts.append("." + node.attr)  # type: ignore[attr-defined]
            node = node.value  # type: ignore[attr-defined]
        elif t is _AstName:
            parts.reverse()
            return node.id, "".join(parts)  # type: ignore[attr-defined]
        elif t is _AstCall:
            func = node.func  # type: ignore[attr-defined]
            if type(func) is _AstName and func.id == "super":
                parts.reverse()
                return "super()", "".join(parts)
            parts.append("()")
            node = func
        elif t is _AstSubscript:
            # ``caches["default"].get``: linking types the item; a slice (``qs[:5]``)
            # is the same kind of sequence as what it slices, so it adds nothing
            index = node.slice  # type: ignore[attr-defined]
            if type(index) is _AstConstant and index.value == 0 and type(index.value) is int:
                parts.append("[0]")
            elif type(index) is not _AstSlice:
                parts.append("[]")
            node = node.value  # type: ignore[attr-defined]
        else:
            found = _literal_type(node) if literal else None
            if not found:
                return None
            parts.reverse()
            return "", found + "".join(parts)


def _utf8(text: str) -> bool:
    """A lone surrogate (``"\\udcff"``) is valid in a literal, not in UTF-8."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _from_queryset(node: ast.Call) -> tuple[ast.expr, ast.expr] | None:
    """``Manager.from_queryset(QuerySet)`` -> (its manager, its queryset) expressions."""
    func = node.func
    if type(func) is _AstAttribute and func.attr == "from_queryset" and node.args:
        return func.value, node.args[0]
    return None


def _base_chains(base: ast.expr) -> list[tuple[str, str] | None]:
    """A class statement's base as the chains the class inherits from.

    ``Manager.from_queryset(QS)`` is a class Django builds at import: ``Manager`` with
    the QuerySet's methods copied in. As the two bases ``(QS, Manager)`` it has the
    same method lookup (the copies come first), so linking needs no special case to
    find ``Order.objects.paid()`` in ``QS``.
    """
    if type(base) is _AstCall:
        made = _from_queryset(base)
        if made is not None:
            return [_chain(made[1]), _chain(made[0])]
    return [_chain(base)]


class _Extractor:
    """Walks one module once; collects raw facts; resolves names when scopes are complete.

    Names are resolved at the end of the module (``_finish``) because a function body
    may call a function defined further down: only then are all bindings known.
    Locals' *types* are flow-sensitive and captured at the call site instead.
    """

    def __init__(self, module: str, path: str) -> None:
        self.module = module
        self.path = path
        self.is_package = path.endswith("__init__.py")
        self.defs: list[Definition] = []
        self.imports: list[ImportFact] = []
        # raw calls: scope, head, tail, text, line, col, args, used, atomic
        self.calls: list[tuple[Any, ...]] = []
        self.atomics: list[AtomicRegion] = []
        self.variables: list[tuple[str, int, str | None]] = []
        # (class, attribute) -> (first line, scope, type reference or None): what
        # ``self.x = ...`` in its methods (and ``x: T`` in its body) give its instances;
        # None once two assignments disagree or one is of an unknown type
        self.attributes: dict[tuple[str, str], tuple[int, list[tuple[_Scope, str | None]]]] = {}
        self.uses: list[tuple[_Scope, str, int, int, bool]] = []
        self.settings: list[SettingsRead] = []
        self.urls: list[tuple[_Scope, Any, int]] = []
        self.raw_sql: list[tuple[int, str, str]] = []  # (call index, method, SQL literal)
        # ``x.register(Model, ...)`` calls: (scope, call index, node, owner class if a
        # class decorator) -- admin registrations, if linking agrees
        self.registers: list[tuple[_Scope, int, ast.Call, str | None]] = []
        self.signals: list[
            tuple[_Scope, tuple[str, str], tuple[str, str] | None, tuple[str, str] | None, int]
        ] = []
        self.candidates: list[tuple[ast.ClassDef, str]] = []
        self.class_scopes: dict[str, _Scope] = {}
        # ``get_queryset``/``get_serializer_class``... overrides: their own scopes, in
        # which what they return is resolved (a local import, a local variable)
        self.view_methods: dict[ast.AST, _Scope] = {}
        self.user_settings: list[ModelBinding] = []  # ``AUTH_USER_MODEL = "app.Model"``
        self.app_name: str | None = None  # a URLconf's ``app_name = "shop"``
        self.mutable: dict[str, str] = {}
        self._early_imports: dict[str, str] = {}  # the prepass's view of top-level imports
        self.watch: dict[str, str] = self.mutable  # names whose uses become GlobalUse
        self.imported: set[str] = set()  # from-imported names: cross-module state candidates
        self.module_names: set[str] = set()  # bound by ``import m``: ``m.STATE.append()``
        # names a function rebinds under ``global``, with the line of the first write:
        # module state even when the value is an int or None
        self.rebound: dict[str, int] = {}
        self.settings_names: set[str] = set()
        # ``import django.conf`` binds ``django``: ``django.conf.settings.X`` reads X
        self.settings_paths: dict[str, str] = {}  # bound module name -> "conf.settings"
        self._late_decorators: list[tuple[int, int, _Scope, tuple[str, str]]] = []
        self._late_bases: list[tuple[int, _Scope, list[tuple[str, str] | None]]] = []
        self._late_returns: list[tuple[int, _Scope, str]] = []
        # names read as values, not called (see ModuleFacts.value_names)
        self.value_names: set[str] = set()
        self.value_heads: set[str] = set()  # plain names read: ``~name`` at the end
        self.value_attrs: set[str] = set()  # an object's attributes read: ``.name``
        self._decorated: dict[int, str] = {}  # index in calls -> the decorated function
        self.atomic_depth = 0
        self.cond_depth = 0
        self.join_depth = 0  # operands of a join being typed (see _part)
        self.scope = _Scope(_MODULE, module, None, module)

    # ------------------------------------------------------------------ driver
    def run(self, tree: ast.Module, lines: int, has_global: bool = True) -> ModuleFacts:
        self._prepass(tree.body)
        if has_global:
            declared = _declared_global(tree.body, set())
            if declared:
                # read before the function that rebinds them is walked: watch them all
                # (``_global_uses`` keeps only those some function really rebinds)
                self.watch = {**dict.fromkeys(declared, "other"), **self.mutable}
        self._body(tree.body)
        return self._finish(lines)

    def _prepass(self, body: list[ast.stmt]) -> None:
        """Module-level names and mutable globals, before any function body is read."""
        for stmt in body:
            t = type(stmt)
            if t is _AstAssign:
                value = stmt.value  # type: ignore[attr-defined]
                for target in stmt.targets:  # type: ignore[attr-defined]
                    if type(target) is _AstName:
                        kind = self._mutable_kind(value)
                        if kind and not target.id.startswith("__"):
                            self.mutable[target.id] = kind
            elif t is _AstAnnAssign and stmt.value is not None:  # type: ignore[attr-defined]
                target = stmt.target  # type: ignore[attr-defined]
                kind = self._mutable_kind(stmt.value)  # type: ignore[attr-defined]
                if type(target) is _AstName and kind and not target.id.startswith("__"):
                    self.mutable[target.id] = kind
            elif t is _AstImportFrom:
                if not stmt.level and stmt.module:  # type: ignore[attr-defined]
                    for alias in stmt.names:  # type: ignore[attr-defined]
                        self._early_imports[alias.asname or alias.name] = (
                            f"{stmt.module}.{alias.name}"  # type: ignore[attr-defined]
                        )
            elif t is _AstImport:
                for alias in stmt.names:  # type: ignore[attr-defined]
                    if alias.asname:
                        self._early_imports[alias.asname] = alias.name
            elif t is _AstIf or t is _AstTry:
                self._prepass(stmt.body)  # type: ignore[attr-defined]
                self._prepass(stmt.orelse)  # type: ignore[attr-defined]

    def _mutable_kind(self, value: ast.expr) -> str | None:
        t = type(value)
        if t is _AstDict or t is _AstDictComp:
            return "dict"
        if t is _AstList or t is _AstListComp:
            return "list"
        if t is _AstSet or t is _AstSetComp:
            return "set"
        if t is _AstCall:
            chain = _chain(value.func)  # type: ignore[attr-defined]
            if chain is not None:
                head = self._early_imports.get(chain[0], chain[0])
                return _MUTABLE_CTORS.get(head + chain[1])
        return None

    def _body(self, body: list[ast.stmt]) -> None:
        handlers = _STATEMENTS  # unbound, at class level: no self-cycle for the GC to find
        for stmt in body:
            handler = handlers.get(type(stmt))
            if handler is None:
                self._generic(stmt)
            else:
                handler(self, stmt)

    def _generic(self, node: ast.AST) -> None:
        """Anything without a dedicated handler: expressions and nested bodies in order."""
        for field in node._fields:
            value = getattr(node, field, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.stmt):
                        self._body([item])
                    elif isinstance(item, ast.expr):
                        self._expr(item)
                    elif isinstance(item, ast.AST):
                        self._generic(item)
            elif isinstance(value, ast.expr):
                self._expr(value)
            elif isinstance(value, ast.AST):
                self._generic(value)

    # ------------------------------------------------------------------ bindings
    def _bind(self, name: str, ref: str | None) -> None:
        scope = self.scope
        if scope.kind == _MODULE or name in scope.globals:
            qual = f"{self.module}.{name}"
            self.scope_root().bindings[name] = ref if ref is not None else qual
        else:
            scope.bindings[name] = ref
            scope.types.pop(name, None)  # ``import os as x``: no longer the local's value
            self._settled(scope, name, None)

    def scope_root(self) -> _Scope:
        scope = self.scope
        while scope.parent is not None:
            scope = scope.parent
        return scope

    def _bind_target(
        self,
        target: ast.expr,
        type_ref: str | None,
        line: int,
        value: ast.expr | None = None,
        deleted: bool = False,
    ) -> None:
        """Bind ``target`` to a value of type ``type_ref`` (``value``: the expression,
        when a plain assignment gives it), or unbind it (``deleted``: ``del``, which
        gives an attribute no value, so no type)."""
        t = type(target)
        if t is _AstName:
            name = target.id  # type: ignore[attr-defined]
            scope = self.scope
            if scope.kind == _MODULE:
                self.variables.append((name, line, type_ref))
                if name not in scope.bindings:
                    scope.bindings[name] = f"{self.module}.{name}"
                if type_ref is not None:
                    scope.types[name] = type_ref
                else:
                    scope.types.pop(name, None)
            elif name in scope.globals:
                self._rebind_global(name, line, 0)
            else:
                if name in scope.params:
                    scope.reassigned.add(name)
                if name not in scope.bindings:
                    scope.bindings[name] = None
                if type_ref is not None:
                    scope.types[name] = type_ref
                else:
                    scope.types.pop(name, None)
                self._settled(scope, name, value)
        elif t is _AstTuple or t is _AstList:
            elts = target.elts  # type: ignore[attr-defined]
            # the first item, as ``[0]`` (a ``(row, created)`` pair's row, a
            # queryset's first row); a JSON literal's items are not worth a type
            first = None if type_ref is None or _is_json(type_ref) else type_ref + "[0]"
            for i, elt in enumerate(elts):
                self._bind_target(elt, first if i == 0 else None, line)
        elif t is _AstStarred:
            self._bind_target(target.value, None, line)  # type: ignore[attr-defined]
        elif t is _AstSubscript or t is _AstAttribute:
            if self.scope.kind != _MODULE:
                self._param_changed(target.value)  # type: ignore[attr-defined]
            if t is _AstAttribute and not deleted:  # ``self.x = ...``, ``for self.x in``
                self._attribute(target, value, type_ref, line)  # type: ignore[arg-type]
            base = target.value  # type: ignore[attr-defined]
            if type(base) is _AstName:
                self._mutation(base.id, line, target.col_offset)
            elif t is _AstAttribute or not self._mutated_container(base, line, target.col_offset):
                self._expr(base)
            if t is _AstSubscript:
                self._expr(target.slice)  # type: ignore[attr-defined]

    def _getattr(self, node: ast.Call) -> None:
        """``getattr(obj, "_on_paid")`` reads ``obj._on_paid`` (``._on_paid``);
        ``getattr(self, name)`` may read any method of the class and those it is
        mixed with (``*`` and the class); another object's computed name is not
        followed."""
        name = node.args[1]
        if type(name) is _AstConstant and isinstance(name.value, str):
            self.value_names.add("." + name.value)
            return
        receiver, scope = node.args[0], self.scope
        if type(receiver) is _AstName and receiver.id == scope.self_name and scope.cls:
            self.value_names.add("*" + scope.cls)

    def _value_attribute(self, node: ast.Attribute) -> None:
        """``a.b.c`` read as a value, ``a.b`` not a plain name: ``shop.util.helper``
        through ``import shop.util`` is a function, resolved at the end; anything else
        (``self.items[0].publish``) an object's attribute, ``.publish``."""
        root = node.value
        while type(root) is _AstAttribute:
            root = root.value
        if type(root) is _AstName and self._may_be_module(root.id):
            chain = _chain(node)
            if chain is not None:
                self.value_names.add("~" + chain[0] + chain[1])
                return
        self.value_attrs.add(node.attr)

    def _param_aliased(self, value: ast.expr) -> None:
        """``q = p`` (``a, b = p, x``): what changes ``q`` in place changes ``p``; not
        followed, so ``p`` counts as changed (see ``Param.mutated``)."""
        for node in value.elts if type(value) is _AstTuple else (value,):
            if type(node) is _AstName:
                self._param_changed(node)

    def _param_changed(self, node: ast.expr) -> None:
        """``node`` (``p``, ``p[k]``, ``p.items``) is changed in place: when it is part of
        a parameter, of this function or one enclosing it, the parameter is."""
        while type(node) is _AstSubscript or type(node) is _AstAttribute:
            node = node.value
        if type(node) is not _AstName:
            return
        name = node.id
        scope: _Scope | None = self.scope
        if name == scope.self_name:  # type: ignore[union-attr]
            return  # ``self.x = v``: the instance, never a value an argument carries
        while scope is not None and scope.kind == _FUNC:
            if name in scope.params:
                if scope.mutated is None:
                    scope.mutated = set()
                scope.mutated.add(name)
                return
            if name in scope.bindings:
                return  # a local of its own
            scope = scope.parent

    def _mutation(self, name: str, line: int, col: int) -> None:
        if self.scope.kind != _MODULE:
            self.uses.append((self.scope, name, line, col, True))

    def _rebind_global(self, name: str, line: int, col: int) -> None:
        """``global NAME`` then ``NAME = ...`` / ``NAME += ...``: a write to module state."""
        self.uses.append((self.scope, name, line, col, True))
        if name not in self.rebound:
            self.rebound[name] = line
            # bound at module level by this function alone: others resolve it too
            self.scope_root().bindings.setdefault(name, f"{self.module}.{name}")

    def _mutated_container(self, node: ast.expr, line: int, col: int) -> bool:
        """Record a write when ``node`` reaches module-level state, and walk its keys.

        ``node`` is what is changed in place: ``_SEEN[k]`` in ``_SEEN[k].append(v)`` or
        ``_SEEN[k][j] = v`` (state of this module, or from-imported), ``m._E`` in
        ``m._E.append(v)`` with ``m`` an imported module (recorded as ``m._E``; the
        reference is resolved through ``m`` and kept by linking only if it names
        mutable state there). False, with nothing walked, for any other shape.
        """
        keys = []
        while type(node) is _AstSubscript:
            keys.append(node.slice)
            node = node.value
        attrs = []
        while type(node) is _AstAttribute:
            attrs.append(node.attr)
            node = node.value
        if type(node) is not _AstName or self.scope.kind == _MODULE:
            return False
        name = node.id
        if attrs:
            if name not in self.module_names and name not in self.imported:
                return False
            attrs.reverse()
            name = f"{name}.{'.'.join(attrs)}"
        elif name not in self.watch and name not in self.imported:
            return False
        self.uses.append((self.scope, name, line, col, True))
        for key in keys:
            self._expr(key)
        return True

    def _may_be_module(self, name: str) -> bool:
        """``import m`` binds a module; ``from pkg import m`` may (lowercase, by
        convention). A capitalised from-import (``Order.objects``: a class, on every
        ORM call) is not worth a use record that linking would drop."""
        return name in self.module_names or (name in self.imported and name[:1].islower())

    def _module_path(self, node: ast.Attribute) -> bool:
        """``pkg.state._SEEN`` read through ``import pkg.state``: recorded as a use
        (linking keeps it only if it names mutable state). Nothing else to walk."""
        head = node.value
        while type(head) is _AstAttribute:
            head = head.value
        if type(head) is not _AstName or not self._may_be_module(head.id):
            return False
        chain = _chain(node)
        if chain is None:
            return False
        self.uses.append((self.scope, chain[0] + chain[1], node.lineno, node.col_offset, False))
        return True

    def _is_settings(self, node: ast.expr) -> bool:
        """``django.conf.settings`` spelled through ``import django.conf`` (or ``as``)."""
        chain = _chain(node)
        if chain is None:
            return False
        head, tail = chain
        path = self.settings_paths.get(head)
        if path is None or (self.scope.kind != _MODULE and head in self.scope.bindings):
            return False
        return tail == "." + path

    # ------------------------------------------------------------------ statements
    def _import(self, stmt: ast.Import) -> None:
        cond = self.cond_depth > 0 or self.scope.kind != _MODULE
        for alias in stmt.names:
            if alias.asname:
                bound, target = alias.asname, alias.name
            else:
                bound = target = alias.name.partition(".")[0]
            self.imports.append(
                ImportFact(
                    alias.name if alias.asname else target,
                    bound,
                    _Location(self.path, stmt.lineno, stmt.col_offset),
                    cond,
                )
            )
            self._bind(bound, target)
            self.module_names.add(bound)
            if "django.conf.settings".startswith(target + "."):
                self.settings_paths[bound] = "django.conf.settings"[len(target) + 1 :]

    def _import_from(self, stmt: ast.ImportFrom) -> None:
        base = self._absolute(stmt.module, stmt.level)
        cond = self.cond_depth > 0 or self.scope.kind != _MODULE
        loc = _Location(self.path, stmt.lineno, stmt.col_offset)
        for alias in stmt.names:
            if alias.name == "*":
                self.imports.append(ImportFact(base, "*", loc, cond))
                continue
            bound = alias.asname or alias.name
            target = f"{base}.{alias.name}" if base else alias.name
            self.imports.append(ImportFact(target, bound, loc, cond))
            self._bind(bound, target)
            if target == "django.conf.settings":
                self.settings_names.add(bound)
            elif self.scope.kind == _MODULE:
                self.imported.add(bound)

    def _absolute(self, module: str | None, level: int) -> str:
        if not level:
            return module or ""
        parts = self.module.split(".")
        if not self.is_package:
            parts.pop()
        if level > 1:
            parts = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
        if module:
            parts.append(module)
        return ".".join(parts)

    def _assign(self, stmt: ast.Assign) -> None:
        value = stmt.value
        self._expr(value)
        if self.scope.kind == _FUNC and (type(value) is _AstName or type(value) is _AstTuple):
            self._param_aliased(value)
        if (
            type(value) is _AstCall
            and self.scope.kind == _MODULE
            and len(stmt.targets) == 1
            and type(stmt.targets[0]) is _AstName
            and _from_queryset(value) is not None
        ):
            self._manager_class(stmt.targets[0].id, stmt)
            return
        # ``country = a or b``, ``q = request.GET.get("q", obj)``: a local's join types
        # its arguments (see JOIN); elsewhere only a join of literals types a name
        local = (
            self.scope.kind == _FUNC
            and len(stmt.targets) == 1
            and type(stmt.targets[0]) is _AstName
        )
        if type(value) in _JOINS:
            type_ref = self._join_of(value)
            if not local and type_ref is not None and not type_ref.startswith(JSON_OF):
                type_ref = None
        else:
            type_ref = self._type_of(value)
            if local and type(value) is _AstCall and _has_default(value):
                type_ref = self._join_of(value)
        if (
            type(stmt.targets[0]) is _AstTuple  # the common shapes skip the call
            and type(value) is _AstCall
            and self._unpack_loaded(stmt)
        ):
            return
        for target in stmt.targets:
            if type(target) is _AstName and target.id in _NAMED_SETTINGS:
                if target.id == "AUTH_USER_MODEL":
                    self._user_setting(target, value, stmt)
                elif self.scope.kind == _MODULE:
                    self._app_name(value)
            if (
                self.scope.kind == _CLASS
                and type(target) is _AstName
                and (type(value) is _AstName or type(value) is _AstAttribute)
            ):
                # ``model = Order``, ``form_class = OrderForm`` in a class body: what
                # ``self.model.objects...`` reaches. Not a call's result: a model's or
                # form's fields (``name = models.CharField()``) are values on instances
                self._attribute_type(self.scope.qual, target.id, type_ref, stmt.lineno)
            self._bind_target(target, type_ref, stmt.lineno, value)

    def _attribute(
        self, target: ast.Attribute, value: ast.expr | None, type_ref: str | None, line: int
    ) -> None:
        """``self.x = value`` in a method: what ``x`` is on the class's instances. An
        assignment of ``None`` (a lazy ``self._client = None``) does not count, a
        literal gives its type (``self.items = []``: a list); one of an unknown type (an
        unpacked tuple, ``+=``) or a type another assignment contradicts makes ``x``
        unknown."""
        base = target.value
        scope = self.scope
        owner = scope.self_ref
        if type(base) is not _AstName or base.id != scope.self_name or owner is None:
            return
        if base.id in scope.types:  # ``self`` rebound in this method: not the instance
            return
        if owner[-2:] != "()":  # ``cls.x = ...`` in a classmethod: a class attribute
            return
        if type(value) is _AstConstant and value.value is None:
            return
        if type_ref is not None:  # ``self.items = []``: a list, whatever it holds
            type_ref = _through(type_ref) or None
        self._attribute_type(owner[:-2], target.attr, type_ref, line)

    def _setattr(self, node: ast.Call) -> None:
        """``setattr(self, "x", value)``: an assignment of ``self.x`` of no known type."""
        target, name = node.args[0], node.args[1]
        if type(target) is _AstName and type(name) is _AstConstant and isinstance(name.value, str):
            attribute = ast.Attribute(target, name.value, ast.Store())
            self._attribute(attribute, None, None, node.lineno)

    def _attribute_type(self, cls: str, name: str, type_ref: str | None, line: int) -> None:
        """One more assignment of ``cls``'s attribute ``name``: its reference is
        resolved in the scope it was written in (each method has its own imports), so
        ``_finish`` compares them."""
        known = self.attributes.get((cls, name))
        if known is None:
            self.attributes[(cls, name)] = (line, [(self.scope, type_ref)])
        elif known[1][-1] != (self.scope, type_ref):
            known[1].append((self.scope, type_ref))

    def _attribute_ref(self, assigned: list[tuple[_Scope, str | None]]) -> str | None:
        """What every assignment of an attribute agrees on, None if one is unknown;
        prefixed with ``~`` when all are in the class body (a function there is a
        method of the instances: ``on_save = audit``)."""
        found = None
        for scope, type_ref in assigned:
            ref = None if type_ref is None else self._expand(scope, type_ref)
            if ref is None or (found is not None and ref != found):
                return None
            found = ref
        if found is not None and all(scope.kind == _CLASS for scope, _ in assigned):
            return "~" + found
        return found

    def _user_setting(self, target: ast.expr, value: ast.expr | None, stmt: ast.stmt) -> None:
        """``AUTH_USER_MODEL = "accounts.User"`` in a settings module or class
        (django-configurations), annotated or not: the user model linking uses."""
        if (
            type(target) is _AstName
            and target.id == "AUTH_USER_MODEL"
            and self.scope.kind != _FUNC
            and type(value) is _AstConstant
            and isinstance(value.value, str)
        ):
            where = _Location(self.path, stmt.lineno, stmt.col_offset)
            self.user_settings.append(
                ModelBinding(self.scope.qual, _BIND_USER, "@" + value.value, where, attr=target.id)
            )

    def _unpack_loaded(self, stmt: ast.Assign) -> bool:
        """``A, B = get_classes("x.views", ["A", "B"])``: each name what Oscar loads
        for it. False for any other assignment (the caller binds it)."""
        target, value = stmt.targets[0], stmt.value
        if len(stmt.targets) != 1 or not isinstance(target, ast.Tuple):
            return False
        chain = _chain(value.func)  # type: ignore[attr-defined]
        if chain is None or not (chain[1].endswith("get_classes") or chain[0] == "get_classes"):
            return False
        loaded = self._oscar_loaded(chain, value.args)  # type: ignore[attr-defined]
        if len(loaded) != len(target.elts):
            return False
        for elt, ref in zip(target.elts, loaded, strict=True):
            self._bind_target(elt, ref, stmt.lineno)
        return True

    def _app_name(self, value: ast.expr | None) -> None:
        """``app_name = "shop"`` at module level: the namespace of this URLconf's route
        names; anything but a string literal leaves none."""
        text = value.value if isinstance(value, ast.Constant) else None
        self.app_name = text if isinstance(text, str) else None

    def _ann_assign(self, stmt: ast.AnnAssign) -> None:
        self._user_setting(stmt.target, stmt.value, stmt)
        target = stmt.target
        if type(target) is _AstName and target.id == "app_name" and self.scope.kind == _MODULE:
            self._app_name(stmt.value)
        if stmt.value is not None:
            self._expr(stmt.value)
            type_ref = self._type_of(stmt.value)
        else:
            type_ref = None
        target = stmt.target
        if self.scope.kind == _CLASS and type(target) is _AstName:
            # ``client: Client`` in a class body (dataclasses, typed attributes)
            hint = self._annotation_type(stmt.annotation)
            if hint is not None:
                self._attribute_type(self.scope.qual, target.id, hint, stmt.lineno)
        if type_ref is None and self.scope.kind != _CLASS:
            type_ref = self._annotation_type(stmt.annotation)
        if type(target) is _AstAttribute:  # ``self.x: T = ...``: T is what is declared
            type_ref = self._annotation_type(stmt.annotation) or type_ref
        if stmt.value is not None or self.scope.kind != _MODULE:
            self._bind_target(stmt.target, type_ref, stmt.lineno, stmt.value)

    def _aug_assign(self, stmt: ast.AugAssign) -> None:
        self._expr(stmt.value)
        target = stmt.target
        if self.scope.kind == _FUNC:  # ``ids += [row]`` extends the list in place
            self._param_changed(target)
        if type(target) is _AstName:
            if self.scope.kind != _MODULE:
                if target.id in self.scope.globals:
                    self._rebind_global(target.id, stmt.lineno, target.col_offset)
                else:
                    self.uses.append((self.scope, target.id, stmt.lineno, target.col_offset, False))
                    self._aug_value(target.id, stmt)
        else:
            self._bind_target(target, None, stmt.lineno)

    def _aug_value(self, name: str, stmt: ast.AugAssign) -> None:
        """``total += line.price``: as an argument from now on, ``total + line.price``
        (unknown where ``line.price`` is: a Money's ``__radd__`` makes a Money). The
        type that resolves calls stays (``n += 1; n.bit_length()``)."""
        scope = self.scope
        joined = self._join_of(ast.BinOp(ast.Name(name), stmt.op, stmt.value))
        self._settled(scope, name, None)
        if joined != scope.types.get(name):
            scope.values[name] = joined

    def _settled(self, scope: _Scope, name: str, value: ast.expr | None) -> None:
        """``name`` was bound anew (to ``value``, when a plain assignment gives it): its
        argument value is its type again, or a copied name's (``y = x``)."""
        values = scope.values
        copied = value.id if value is not None and type(value) is _AstName else None
        if copied is not None and copied in values:
            values[name] = values[copied]  # ``y = x``: what ``x`` may be, ``y`` may be
        elif copied is not None and scope.shared is not None and copied in scope.shared:
            values[name] = None  # a nested function rebinds ``x``
        elif values:
            values.pop(name, None)
        if scope.written is not None:
            scope.written.add(name)

    def _expr_stmt(self, stmt: ast.Expr) -> None:
        value = stmt.value
        t = type(value)
        if t is _AstCall:
            self._call(value, False)  # type: ignore[arg-type]
        elif t is _AstAwait and type(value.value) is _AstCall:  # type: ignore[attr-defined]
            self._call(value.value, False)  # type: ignore[attr-defined]
        elif t is not _AstConstant:
            self._expr(value)

    def _value_stmt(self, stmt: ast.Return) -> None:
        value = stmt.value
        if value is not None:
            self._expr(value)
            if type(value) is not _AstConstant or value.value is not None:
                returned = self._type_of(value)
                if returned is not None and returned[:1] == "=":
                    # a list's, dict's or set's is its type (its methods), not a
                    # literal's value: code can fill it (``return {}`` and ``return
                    # result`` agree on ``builtins.dict()``); a name's literal that a
                    # way disputes is none (another type stays: it resolves calls)
                    literal = _through(returned)
                    if literal in MUTABLE_LITERALS:
                        returned = literal
                    elif type(value) is _AstName and value.id in self.scope.values:
                        returned = None
                self.scope.returns.append(returned)

    def _for(self, stmt: ast.For | ast.AsyncFor) -> None:
        self._expr(stmt.iter)
        elem = self._type_of(stmt.iter)
        if elem is not None and (holds_mutable(elem) or elem[:1] == JOIN):
            elem = None  # an item of a list code can fill, or of one of several values
        self._bind_target(stmt.target, None if elem is None else elem + "[]", stmt.lineno)
        self._loop(stmt.body)
        self._body(stmt.orelse)

    def _with(self, stmt: ast.With | ast.AsyncWith) -> None:
        atomic = 0
        for item in stmt.items:
            expr = item.context_expr
            self._expr(expr)
            if self._is_atomic(expr):
                atomic += 1
                self.atomics.append(
                    AtomicRegion(
                        self.scope.caller,
                        _Location(self.path, stmt.lineno, stmt.col_offset),
                        stmt.end_lineno or stmt.lineno,
                        "with",
                    )
                )
            if item.optional_vars is not None:
                self._bind_target(item.optional_vars, self._type_of(expr), stmt.lineno)
        self.atomic_depth += atomic
        self._body(stmt.body)
        self.atomic_depth -= atomic

    def _if(self, stmt: ast.If | ast.While) -> None:
        self._expr(stmt.test)
        self.cond_depth += 1
        if type(stmt) is _AstIf:  # an ``elif`` chain as one choice of ways (no recursion)
            tests: list[ast.expr | ast.match_case | None] = [None]
            bodies: list[list[ast.stmt]] = [stmt.body]
            orelse = stmt.orelse
            while len(orelse) == 1 and type(orelse[0]) is _AstIf:
                tests.append(orelse[0].test)
                bodies.append(orelse[0].body)
                orelse = orelse[0].orelse
            tests.append(None)
            bodies.append(orelse)
            self._alternatives(bodies, tests)
        else:  # a ``while``: its body runs any number of times; its ``else`` follows
            self._loop(stmt.body)
            self._body(stmt.orelse)
        self.cond_depth -= 1

    def _try(self, stmt: ast.Try) -> None:
        self.cond_depth += 1
        scope = self.scope
        if scope.kind == _MODULE or not stmt.handlers:
            self._body(stmt.body)
            for handler in stmt.handlers:
                self._handler(handler)
            self._body(stmt.orelse)
        else:  # a handler may run after any part of the body, and then no ``else``
            start, outer = self._snapshot(), scope.written
            body = self._way(stmt.body)[0]
            ends = [body]
            for handler in stmt.handlers:
                if len(ends) > 1:  # the previous handler's names
                    self._put_back(ends[-1:], start)
                self._put_back([body], None)  # after which part of the body?
                end = self._way(handler)[0]
                for name in body:
                    end.setdefault(name, None)
                ends.append(end)
            self._put_back(ends[1:], start)
            self._put_back([body], (body, {}))  # the ``else`` follows the body
            body.update(self._way(stmt.orelse)[0])
            ways = [stmt.orelse or stmt.body, *[h.body for h in stmt.handlers]]
            reach = [end for end, way in zip(ends, ways, strict=True) if not _leaves(way)]
            self._merge_ways(start, ends, outer, reach or ends)
        self._body(stmt.finalbody)
        self.cond_depth -= 1

    def _handler(self, handler: ast.ExceptHandler) -> None:
        if handler.type is not None:
            self._expr(handler.type)
        if handler.name:
            self._bind_target(ast.Name(handler.name), None, handler.lineno)
        self._body(handler.body)

    def _alternatives(
        self,
        bodies: list[list[ast.stmt]],
        tests: list[ast.expr | ast.match_case | None] | None = None,
    ) -> None:
        """Walk the ways one of which runs (an ``if``'s, its ``elif``'s, each after its
        test, and its ``else``'s) in source order, as ever: ``types`` is the last value
        written, which resolves calls. Each way after the first reads, as arguments, the
        values from before the choice (``_put_back``), and after it a name the ways bind
        differently has the join of their values (``_merge_ways``). In functions only: a
        module's names are variables, typed as assigned."""
        scope = self.scope
        if scope.kind == _MODULE or all(
            type(stmt) in _UNBINDING for body in bodies for stmt in body
        ):  # ``if not x: raise ...``: no way binds a name (a walrus marks its own: _expr)
            for i, body in enumerate(bodies):
                self._test(tests[i] if tests else None)
                self._body(body)
            return
        start, outer = self._snapshot(), scope.written
        ends: list[dict[str, str | None]] = []
        bound = False  # (whether a way so far bound a name: the usual answer is no)
        tested: set[str] = set()  # names a test or a case binds: on every later way too
        for i, body in enumerate(bodies):
            test = tests[i] if tests else None
            if ends and ends[-1]:  # (names of earlier ways were put back already)
                self._put_back(ends[-1:], start)
            for name in tested:
                scope.values[name] = None
            end, by_test = self._way(body, test) if body or test else ({}, set())
            tested |= by_test
            ends.append(end)
            bound = bound or bool(end)
        for later in ends[1:]:
            for name in tested:
                later.setdefault(name, None)
        # a way that returns or raises does not reach the code after the choice
        reach = [end for end, body in zip(ends, bodies, strict=True) if not _leaves(body)]
        if bound:
            self._merge_ways(start, ends, outer, reach or ends)
        else:
            scope.written = outer

    def _loop(self, body: list[ast.stmt]) -> None:
        """A loop's body runs no, one or many times: a name it binds reads, at its top,
        what the previous round left (unknown, as an argument), and after the loop the
        join of that and the value before it; unknown where a ``break`` or ``continue``
        may leave the body part-way."""
        scope = self.scope
        if scope.kind == _MODULE:
            self._body(body)
            return
        start, outer = self._snapshot(), scope.written
        names, jumps = _assigned_in(body)
        types, values = scope.types, scope.values
        for name in names:
            if name in types or name in values:
                values[name] = None  # (the previous round's)
        end = self._way(body)[0]
        for name in names:  # (one the walk saw no binding of stays as marked)
            end.setdefault(name, None)
        if jumps:
            end = dict.fromkeys(end)
        self._merge_ways(start, [end, {}], outer, [end, {}])

    def _snapshot(self) -> tuple[dict[str, str], dict[str, str | None]]:
        return dict(self.scope.types), dict(self.scope.values)

    def _match(self, stmt: ast.Match) -> None:
        """``match``: one case's way runs, or none."""
        self._expr(stmt.subject)
        self.cond_depth += 1
        cases: list[ast.expr | ast.match_case | None] = [*stmt.cases, None]
        self._alternatives([*[case.body for case in stmt.cases], []], cases)
        self.cond_depth -= 1

    def _test(self, test: ast.expr | ast.match_case | None) -> None:
        """What decides a way: an ``elif``'s test, a ``case``'s pattern and guard."""
        if type(test) is ast.match_case:
            self._case(test)
        elif test is not None:
            self._expr(test)  # type: ignore[arg-type]

    def _case(self, case: ast.match_case) -> None:
        """A case's pattern (the names it captures: unknown values) and guard."""
        for node in ast.walk(case.pattern):
            t = type(node)
            if t is ast.MatchValue:
                self._expr(node.value)  # type: ignore[attr-defined]
            elif t is ast.MatchClass:
                self._expr(node.cls)  # type: ignore[attr-defined]
            elif t is ast.MatchMapping:
                for key in node.keys:  # type: ignore[attr-defined]
                    self._expr(key)
        for name in _captures(case.pattern):
            self._bind_target(ast.Name(name), None, case.pattern.lineno)
        if case.guard is not None:
            self._expr(case.guard)

    def _way(
        self,
        body: list[ast.stmt] | ast.ExceptHandler,
        test: ast.expr | ast.match_case | None = None,
    ) -> tuple[dict[str, str | None], set[str]]:
        """Walk one way (its test or case first): the values it left to the names it
        bound, and the names its test or case bound (a walrus, a capture), which stay
        bound on the later ways, whose test ran too."""
        scope = self.scope
        scope.written = set()
        self._test(test)
        by_test = set(scope.written)
        if type(body) is list:
            self._body(body)
        else:
            self._handler(body)  # type: ignore[arg-type]
        return {name: _value_of(scope, name) for name in scope.written}, by_test

    def _put_back(
        self,
        ends: list[dict[str, str | None]],
        before: tuple[dict[str, str] | dict[str, str | None], dict[str, str | None]] | None,
    ) -> None:
        """Before the next way: a name an earlier way (``ends``) bound reads, as an
        argument, what it held before this way (``before``; None: unknown)."""
        values = self.scope.values
        for end in ends:
            for name in end:
                values[name] = None if before is None else _value_in(before, name)

    def _merge_ways(
        self,
        start: tuple[dict[str, str], dict[str, str | None]],
        ends: list[dict[str, str | None]],
        outer: set[str] | None,
        reach: list[dict[str, str | None]],
    ) -> None:
        """After ways from ``start`` that left ``ends``: a name they bound has, as an
        argument, the join of its values on every way that reaches the code after them
        (``reach``: not one that returns or raises); one way's type if they agree.
        ``outer``, the enclosing ways' record of bound names, learns them."""
        scope = self.scope
        written = set().union(*ends)
        if not written:  # (the usual case: the ways bind nothing)
            scope.written = outer
            return
        scope.written = outer if outer is None else outer | written
        types, values = scope.types, scope.values
        for name in written:
            ways = [end[name] if name in end else _value_in(start, name) for end in reach]
            first = ways[0]
            joined = first if all(w == first for w in ways) else _join("", ways)
            last = types.get(name)
            if joined == last:
                values.pop(name, None)
                continue
            values[name] = joined
            if last is not None and last[:1] == "=" and not holds_mutable(last):
                # a str's, number's or bool's type where a way binds another: not the
                # name's (``d.replace()``, ``e = d``, ``for ch in d`` would read it)
                del types[name]

    def _global(self, stmt: ast.Global | ast.Nonlocal) -> None:
        if type(stmt) is _AstGlobal:
            self.scope.globals.update(stmt.names)
            return
        for name in stmt.names:  # ``nonlocal x``: the enclosing function binding ``x``
            outer = self.scope.parent  # sees it change whenever this one runs
            while outer is not None and (outer.kind != _FUNC or name not in outer.bindings):
                outer = outer.parent if outer.kind != _MODULE else None
            if outer is not None:
                if outer.shared is None:
                    outer.shared = set()
                outer.shared.add(name)

    def _delete(self, stmt: ast.Delete) -> None:
        for target in stmt.targets:
            if type(target) is not _AstName:
                self._bind_target(target, None, stmt.lineno, deleted=True)

    # ------------------------------------------------------------------ definitions
    def _decorators(self, node: _AnyFunc | ast.ClassDef) -> list[tuple[str, str] | None]:
        out = []
        for dec in node.decorator_list:
            self._expr(dec)
            out.append(_chain(dec.func if isinstance(dec, ast.Call) else dec))
        return out

    def _function(self, node: _AnyFunc) -> None:
        outer = self.scope
        chains = self._decorators(node)
        args = node.args
        for default in args.defaults:
            self._expr(default)
        for kw_default in args.kw_defaults:
            if kw_default is not None:
                self._expr(kw_default)
        qual = f"{outer.qual}.{node.name}"
        if outer.kind == _MODULE or node.name not in outer.globals:
            self._bind_definition(outer, node.name, qual)
        scope = _Scope(_FUNC, qual, outer, qual)
        if outer.kind == _CLASS and node.name in _VIEW_MODEL_METHODS:
            self.view_methods[node] = scope
        params = self._params(args, scope)
        scope.params = frozenset(p.name for p in params)
        static = False
        decorator_texts = []
        atomic = 0
        for dec, chain in zip(node.decorator_list, chains, strict=True):
            text = chain[0] + chain[1] if chain else _loc_text(dec)
            decorator_texts.append(text)
            static = static or text == "staticmethod"
            if self._is_atomic(dec):
                atomic = 1
                self.atomics.append(
                    AtomicRegion(
                        qual,
                        # The decorator's line: it is what a reader must change.
                        _Location(self.path, dec.lineno, dec.col_offset),
                        node.end_lineno or node.lineno,
                        "decorator",
                    )
                )
            elif chain is not None and text not in _DESCRIPTORS and not text.endswith(_ACCESSORS):
                self._decorator_call(outer, chain, dec, text, qual)
            if text == "receiver" or text.endswith(".receiver"):
                self._receiver(dec, qual, dec.lineno)
        if outer.kind == _CLASS and params and not static:
            scope.self_name = params[0].name
            scope.cls = outer.qual
            # ``__init_subclass__``/``__class_getitem__`` are classmethods without the
            # decorator, and ``__new__``'s first parameter is the class too
            implicit = node.name in _CLASS_RECEIVERS
            classy = implicit or "classmethod" in decorator_texts
            scope.self_ref = outer.qual if classy else outer.qual + "()"
            scope.types.pop(scope.self_name, None)
        elif outer.kind == _FUNC:
            scope.cls = outer.cls
            if outer.self_name not in {p.name for p in params}:  # a closure over self
                scope.self_name, scope.self_ref = outer.self_name, outer.self_ref
        self.defs.append(
            _Definition(
                qual,
                _DEF_METHOD if outer.kind == _CLASS else _DEF_FUNCTION,
                _Location(self.path, node.lineno, node.col_offset),
                node.end_lineno or node.lineno,
                None if outer.kind == _MODULE else outer.qual,
                tuple(params),
                tuple(self._pending_decorators(chains, decorator_texts, outer)),
                (),
                type(node) is _AstAsyncFunctionDef,
                _docline(node),
                None,
            )
        )
        index = len(self.defs) - 1
        self.scope = scope
        self.atomic_depth += atomic
        saved_cond = self.cond_depth
        self.cond_depth = 0
        self._body(node.body)
        self.cond_depth = saved_cond
        self.atomic_depth -= atomic
        self.scope = outer
        if scope.mutated:
            changed = scope.mutated
            d = self.defs[index]
            self.defs[index] = replace(
                d,
                params=tuple(replace(p, mutated=True) if p.name in changed else p for p in params),
            )
        returns = self._annotation_type(node.returns) if node.returns is not None else None
        if returns is None and scope.returns and len(set(scope.returns)) == 1:
            returns = scope.returns[0]  # every ``return`` agrees (None: one is unknown)
        if returns is not None:
            self._late_returns.append((index, scope, returns))

    @staticmethod
    def _bind_definition(outer: _Scope, name: str, qual: str) -> None:
        """``def name``/``class name`` binds ``name`` anew: a type an earlier assignment
        gave it (``wrapper = fn`` before ``def wrapper``) no longer holds."""
        outer.bindings[name] = qual
        outer.types.pop(name, None)
        outer.values.pop(name, None)
        if outer.written is not None:
            outer.written.add(name)
        if name in outer.params:
            outer.reassigned.add(name)

    def _decorator_call(
        self, outer: _Scope, chain: tuple[str, str], dec: ast.expr, text: str, qual: str
    ) -> None:
        """A decorated function runs its decorator's wrapper: a call from the function
        to the decorator (to the factory for ``@retry(3)``, whose call the module makes
        too). The name is looked up where the decorator is written, in ``outer``;
        ``_finish`` attributes the call to the function."""
        self._decorated[len(self.calls)] = qual
        self.calls.append((outer, chain, dec.lineno, dec.col_offset, (), True, False, "@" + text))

    def _pending_decorators(
        self, chains: list[tuple[str, str] | None], texts: list[str], scope: _Scope
    ) -> list[str]:
        """Decorator texts now; ``_finish`` swaps in references (scopes are complete then)."""
        for i, chain in enumerate(chains):
            if chain is not None:
                self._late_decorators.append((len(self.defs), i, scope, chain))
        return texts

    def _params(self, args: ast.arguments, scope: _Scope) -> list[Param]:
        params: list[Param] = []
        positional = args.posonlyargs + args.args
        first_default = len(positional) - len(args.defaults)
        only = len(args.posonlyargs)
        for i, arg in enumerate(positional):
            default = args.defaults[i - first_default] if i >= first_default else None
            kind = "positional_only" if i < only else "positional"
            params.append(self._param(arg, kind, default, scope))
        if args.vararg:
            params.append(self._param(args.vararg, "var_positional", None, scope))
        for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
            params.append(self._param(arg, "keyword_only", default, scope))
        if args.kwarg:
            params.append(self._param(args.kwarg, "var_keyword", None, scope))
        return params

    def _param(self, arg: ast.arg, kind: str, default: ast.expr | None, scope: _Scope) -> Param:
        name = arg.arg
        scope.bindings[name] = None
        annotation = arg.annotation
        text = None
        if annotation is not None:
            text = _loc_text(annotation) if type(annotation) in _SIMPLE else "<annotation>"
        star = STAR_PARAM_TYPES.get(kind)
        if star is not None:  # ``**kwargs: Order`` annotates the values: not the dict
            scope.types[name] = star
        elif annotation is not None:
            type_ref = self._annotation_type(annotation)
            if type_ref is not None:
                scope.types[name] = type_ref
        if name in ("request", "req") and name not in scope.types:
            scope.types[name] = "django.http.HttpRequest()"
        if default is None:
            return _Param(name, text, kind, False, False, False)
        return _Param(name, text, kind, True, _immutable_json(default), False)

    def _annotation_type(self, annotation: ast.expr) -> str | None:
        """``order: Order`` / ``order: "Order"`` / ``Optional[Order]``: an instance of it."""
        t = type(annotation)
        if t is _AstConstant and isinstance(annotation.value, str):  # type: ignore[attr-defined]
            text = annotation.value.strip()  # type: ignore[attr-defined]
            if text.replace(".", "").replace("_", "").isalnum():
                head, _, rest = text.partition(".")
                return f"?{head}{'.' + rest if rest else ''}()"
            return None
        if t is _AstSubscript:
            chain = _chain(annotation.value)  # type: ignore[attr-defined]
            if chain and chain[0] + chain[1] in ("Optional", "typing.Optional"):
                return self._annotation_type(annotation.slice)  # type: ignore[attr-defined]
            return None
        if t is _AstBinOp and type(annotation.right) is _AstConstant:  # type: ignore[attr-defined]
            return self._annotation_type(annotation.left)  # type: ignore[attr-defined]
        if t is _AstName or t is _AstAttribute:
            chain = _chain(annotation)
            if chain is not None:
                return f"?{chain[0]}{chain[1]}()"
        return None

    def _class(self, node: ast.ClassDef) -> None:
        outer = self.scope
        registers = len(self.registers)
        chains = self._decorators(node)
        base_chains = []
        for base in node.bases:
            self._expr(base)
            base_chains.extend(_base_chains(base))
        for kw in node.keywords:
            self._expr(kw.value)
        qual = f"{outer.qual}.{node.name}"
        if outer.kind == _MODULE or node.name not in outer.globals:
            self._bind_definition(outer, node.name, qual)
        for k in range(registers, len(self.registers)):  # ``@admin.register(X)``
            scope_, i, call, _ = self.registers[k]
            if any(call is dec for dec in node.decorator_list):
                self.registers[k] = (scope_, i, call, qual)
        texts = [
            c[0] + c[1] if c else _loc_text(d)
            for d, c in zip(node.decorator_list, chains, strict=True)
        ]
        for dec, chain, text in zip(node.decorator_list, chains, texts, strict=True):
            if chain is not None and type(dec) is not _AstCall:
                # a class decorator runs once, when the class is defined, as its body
                # does: a call from the class (linking moves a registration's to the
                # scope defining the class, as a function's); a factory's own call
                # (``@register(X)``) is the enclosing scope's already
                self._decorator_call(outer, chain, dec, text, qual)
        index = self._class_definition(
            qual,
            node,
            None if outer.kind == _MODULE else outer.qual,
            tuple(self._pending_decorators(chains, texts, outer)),
            tuple(c[0] + c[1] if c else "<expr>" for c in base_chains),
            _docline(node),
        )
        self._late_bases.append((index, outer, base_chains))
        scope = _Scope(_CLASS, qual, outer, qual)
        scope.cls = qual
        self.class_scopes[qual] = scope
        self.scope = scope
        self._body(node.body)
        self.scope = outer
        if node.bases:
            self.candidates.append((node, qual))

    def _manager_class(self, name: str, stmt: ast.Assign) -> None:
        """``OrderManager = models.Manager.from_queryset(OrderQuerySet)`` at module
        level builds a class at import: recorded as one, ``class OrderManager(
        OrderQuerySet, models.Manager)`` (see ``_base_chains``), so that a model's
        ``objects = OrderManager()`` offers the QuerySet's methods."""
        scope = self.scope
        qual = f"{scope.qual}.{name}"
        scope.bindings[name] = qual
        scope.types.pop(name, None)
        index = self._class_definition(qual, stmt, None, (), (), None)
        self._late_bases.append((index, scope, _base_chains(stmt.value)))

    def _class_definition(
        self,
        qual: str,
        node: ast.stmt,
        parent: str | None,
        decorators: tuple[str, ...],
        bases: tuple[str, ...],
        docstring: str | None,
    ) -> int:
        """Record a class's definition (its bases are resolved late); its index."""
        loc = _Location(self.path, node.lineno, node.col_offset)
        end = node.end_lineno or node.lineno
        self.defs.append(
            _Definition(
                qual, _DEF_CLASS, loc, end, parent, (), decorators, bases, False, docstring, None
            )
        )
        return len(self.defs) - 1

    def _receiver(self, dec: ast.expr, qual: str, line: int) -> None:
        if type(dec) is not _AstCall or not dec.args:
            return
        signals = dec.args[0]
        items = signals.elts if type(signals) in (ast.List, ast.Tuple) else [signals]  # type: ignore[attr-defined]
        sender = None
        for kw in dec.keywords:
            if kw.arg == "sender":
                sender = _sender(kw.value)
        for item in items:
            chain = _chain(item)
            if chain is not None:
                self.signals.append((self.scope, chain, ("", qual), sender, line))

    # ------------------------------------------------------------------ expressions
    def _expr(self, node: ast.expr) -> None:
        t = type(node)
        if t is _AstName:
            name = node.id  # type: ignore[attr-defined]
            scope = self.scope  # read as a value (ModuleFacts.value_names): every name
            if scope.kind != _FUNC or name not in scope.bindings:
                self.value_heads.add(name)
            else:
                ref = scope.bindings[name]
                if ref is not None:  # ``from x import f`` in the function; else a local
                    self.value_names.add(ref)
            if name in self.watch and scope.kind != _MODULE:
                self.uses.append((self.scope, node.id, node.lineno, node.col_offset, False))  # type: ignore[attr-defined]
            return
        if t is _AstConstant:
            return
        if t is _AstAttribute:
            value = node.value  # type: ignore[attr-defined]
            if type(value) is _AstName:
                module = self._may_be_module(value.id)
                if module:  # ``views.refund``: linking resolves it in the module
                    self.value_names.add(f"~{value.id}.{node.attr}")  # type: ignore[attr-defined]
                else:  # an object's attribute: a method, if anything
                    self.value_attrs.add(node.attr)  # type: ignore[attr-defined]
                if value.id in self.settings_names and (
                    self.scope.kind == _MODULE or value.id not in self.scope.bindings
                ):
                    self.settings.append(
                        SettingsRead(
                            self.scope.caller,
                            node.attr,  # type: ignore[attr-defined]
                            _Location(self.path, node.lineno, node.col_offset),
                        )
                    )
                elif self.scope.kind != _MODULE:
                    if value.id in self.watch:
                        self.uses.append(
                            (self.scope, value.id, node.lineno, node.col_offset, False)
                        )
                    elif module:  # ``m._S.get(k)``: linking decides
                        name = f"{value.id}.{node.attr}"  # type: ignore[attr-defined]
                        self.uses.append((self.scope, name, node.lineno, node.col_offset, False))
                return
            self._value_attribute(node)  # type: ignore[arg-type]
            if self.settings_paths and self._is_settings(value):
                self.settings.append(
                    SettingsRead(
                        self.scope.caller,
                        node.attr,  # type: ignore[attr-defined]
                        _Location(self.path, node.lineno, node.col_offset),
                    )
                )
                return
            if self.scope.kind != _MODULE and self._module_path(node):  # type: ignore[arg-type]
                return
            self._expr(value)
            return
        if t is _AstCall:
            self._call(node, True)  # type: ignore[arg-type]
            return
        if t is _AstSubscript:
            value = node.value  # type: ignore[attr-defined]
            if type(value) is _AstName and value.id in self.imported and self.scope.kind != _MODULE:
                self.uses.append((self.scope, value.id, node.lineno, node.col_offset, False))
            self._expr(value)
            self._expr(node.slice)  # type: ignore[attr-defined]
            return
        if t is _AstLambda or t in _COMPREHENSIONS:
            self._nested_scope(node)
            return
        if t is _AstNamedExpr:
            self._expr(node.value)  # type: ignore[attr-defined]
            if self.scope.kind == _FUNC:
                self._param_aliased(node.value)  # type: ignore[attr-defined]
            self._bind_target(node.target, self._type_of(node.value), node.lineno)  # type: ignore[attr-defined]
            scope = self.scope  # often a condition's operand, which may not run; in a
            while scope.kind != _MODULE:  # comprehension it binds the enclosing function's
                scope.values[node.target.id] = None  # type: ignore[attr-defined]
                parent = scope.parent
                if parent is None or parent.qual != scope.qual:
                    break
                scope = parent
            return
        if t is _AstYield or t is _AstYieldFrom:
            self.scope.returns.append(None)  # its call gives a generator, not a return
        for field in _EXPR_FIELDS.get(t) or _expr_fields(t):
            value = getattr(node, field)
            if type(value) is list:
                for item in value:
                    if item is not None and type(item) is not _AstConstant:
                        if isinstance(item, ast.expr):
                            self._expr(item)
                        else:
                            self._generic(item)
            elif value is not None and type(value) is not _AstConstant:
                if isinstance(value, ast.expr):
                    self._expr(value)
                else:
                    self._generic(value)

    def _nested_scope(self, node: ast.expr) -> None:
        """Lambdas and comprehensions: their own names, calls attributed to the enclosing."""
        outer = self.scope
        scope = _Scope(_FUNC, outer.qual, outer, outer.caller)
        scope.cls = outer.cls
        scope.self_name = outer.self_name
        scope.self_ref = outer.self_ref
        if type(node) is _AstLambda:
            for default in node.args.defaults:
                self._expr(default)
            for arg in node.args.posonlyargs + node.args.args + node.args.kwonlyargs:
                scope.bindings[arg.arg] = None
            if node.args.vararg:
                scope.bindings[node.args.vararg.arg] = None
            if node.args.kwarg:
                scope.bindings[node.args.kwarg.arg] = None
            self.scope = scope
            self._expr(node.body)
            self.scope = outer
            return
        generators = node.generators  # type: ignore[attr-defined]
        self._expr(generators[0].iter)
        self.scope = scope
        for i, gen in enumerate(generators):
            if i:
                self._expr(gen.iter)
            self._bind_target(gen.target, None, node.lineno)
            for cond in gen.ifs:
                self._expr(cond)
        if type(node) is _AstDictComp:
            self._expr(node.key)
            self._expr(node.value)
        else:
            self._expr(node.elt)  # type: ignore[attr-defined]
        self.scope = outer

    def _call(self, node: ast.Call, used: bool) -> None:
        func = node.func
        ft = type(func)
        if ft is _AstAttribute:
            base = func.value  # type: ignore[attr-defined]
            mutates = func.attr in _MUTATORS  # type: ignore[attr-defined]
            if mutates and self.scope.kind != _MODULE:
                self._param_changed(base)
            if type(base) is _AstName:
                if self.scope.kind != _MODULE and (
                    base.id in self.watch or (base.id in self.imported and mutates)
                ):
                    self.uses.append((self.scope, base.id, node.lineno, node.col_offset, mutates))
            elif not mutates or not self._mutated_container(base, node.lineno, node.col_offset):
                self._expr(base)
        elif ft is not _AstName:
            self._expr(func)
        elif func.id == "getattr" and len(node.args) > 1:  # type: ignore[attr-defined]
            self._getattr(node)
        # the name called, read once: ``on_commit``, ``register`` and ``execute`` (with
        # arguments) are the rare shapes looked for below
        if not node.args:
            name = ""
        elif ft is _AstAttribute:
            name = func.attr  # type: ignore[attr-defined]
        else:
            name = func.id if ft is _AstName else ""  # type: ignore[attr-defined]
        # ``transaction.on_commit(lambda: send(pk))``: what it is given runs after the
        # commit, outside the transaction the registration is made in
        deferred = name == "on_commit"
        if deferred:
            atomic_depth, self.atomic_depth = self.atomic_depth, 0
            walked = len(self.calls)
        args = []
        expr, argument = self._expr, self._argument
        for arg in node.args:
            if type(arg) is not _AstConstant:  # a literal has nothing to walk: no call
                expr(arg)
            args.append(argument(arg, None))
        for kw in node.keywords:
            value = kw.value
            if type(value) is not _AstConstant:
                expr(value)
            args.append(argument(value, kw.arg if kw.arg is not None else "**"))
        if deferred:
            self.atomic_depth = atomic_depth
            self._lambda_result_dropped(node.args[0], walked)
        chain = _chain(func)
        scope = self.scope
        bridged = self._bridged(func) if ft is _AstCall else None  # type: ignore[arg-type]
        if bridged is not None:
            written, bridge = bridged
            text = f"{written[0]}{written[1]} ({bridge})"
            chain = self._scoped(written)
        elif chain is None:
            text = _loc_text(func)
            if ft is _AstAttribute:  # ``", ".join(names)``: a method of the literal's type
                chain = _chain(func, literal=True)
        else:
            text = chain[0] + chain[1]
            chain = self._scoped(chain)
            if len(node.args) >= 2:  # the rare shapes first: most calls stop here
                last = text.rpartition(".")[2]
                if last in _URL_NAMES or (last == "register" and "." in text):
                    self.urls.append((scope, node, len(self.calls)))
                elif text == "getattr":
                    self._getattr_setting(node)
                elif text == "setattr":
                    self._setattr(node)
            if chain is not None and node.args and chain[1].endswith(".connect"):
                self._connect(chain, node)
        if name == "register":
            self.registers.append((scope, len(self.calls), node, None))
        elif name in _SQL_METHODS and ft is _AstAttribute:
            sql = node.args[0]
            if type(sql) is _AstConstant and type(sql.value) is str and _utf8(sql.value):
                self.raw_sql.append((len(self.calls), name, sql.value))
        self.calls.append(
            (
                scope,
                chain,
                node.lineno,
                node.col_offset,
                args,
                used,
                self.atomic_depth > 0,
                text,
            )
        )
        if deferred:  # after its registration: linking checks that it is Django's
            self._committed_call(node.args[0])

    def _bridged(self, inner: ast.Call) -> tuple[tuple[str, str], str] | None:
        """``sync_to_async(order.save)`` called: what asgiref's bridge (or channels'
        ``database_sync_to_async``) wraps is what the outer call calls, with its
        arguments. The wrapped callable as written and the bridge's name; None for any
        other shape. The bridge's name is looked up now, as ``_is_atomic`` does."""
        if not inner.args:
            return None
        bridge = _chain(inner.func)
        if bridge is None:
            return None
        found = self._lookup(self.scope, bridge[0])
        if found is None or found + bridge[1] not in _BRIDGES:
            return None
        target = inner.args[0]
        if type(target) is not _AstName and type(target) is not _AstAttribute:
            return None
        written = _chain(target)
        return None if written is None else (written, _BRIDGES[found + bridge[1]])

    def _lambda_result_dropped(self, callback: ast.expr, walked: int) -> None:
        """``on_commit(lambda: send(pk))``: the lambda's calls (recorded from ``walked``
        on) were walked outside the transaction; Django drops the result of the one
        it returns, so that is unused (fire-and-forget)."""
        if type(callback) is not _AstLambda:
            return
        body = callback.body
        if type(body) is _AstCall:
            where = (body.lineno, body.col_offset)
            for i in range(walked, len(self.calls)):
                raw = self.calls[i]
                if (raw[2], raw[3]) == where:
                    self.calls[i] = (*raw[:5], False, *raw[6:])

    def _committed_call(self, callback: ast.expr) -> None:
        """``on_commit(send_receipt)`` / ``on_commit(partial(send_receipt, pk))``:
        Django calls the function after the commit. Recorded, right after the
        registration, as a call from here (its result unused, outside any
        transaction), so the function is seen to be called: the ideal fire-and-forget
        candidate. Linking drops it unless the registration is Django's ``on_commit``."""
        args: tuple[Any, ...] = ()
        if type(callback) is _AstCall and callback.args:
            partial = _chain(callback.func)
            if partial is None or not (partial[0] + partial[1]).endswith("partial"):
                return
            args = tuple(self._argument(a, None) for a in callback.args[1:])
            callback = callback.args[0]
        if type(callback) is not _AstName and type(callback) is not _AstAttribute:
            return
        written = _chain(callback)
        chain = None if written is None else self._scoped(written)
        if written is None or chain is None:
            return
        text = f"{written[0]}{written[1]} (on commit)"
        line, col = callback.lineno, callback.col_offset
        self.calls.append((self.scope, chain, line, col, args, False, False, text))

    def _scoped(self, chain: tuple[str, str]) -> tuple[str, str] | None:
        """A callee chain as this scope sees it: through a local's type (a literal's
        own: ``items = []`` makes ``items.append`` ``builtins.list.append``; None for
        ``None``), ``self``, or ``super()``."""
        scope, head = self.scope, chain[0]
        local_type = scope.types.get(head) if scope.kind != _MODULE else None
        if local_type is not None and local_type[:1] != JOIN:  # a join's methods: unknown
            local_type = _through(local_type)
            return ("", local_type + chain[1]) if local_type else None
        if head == scope.self_name and scope.self_ref is not None:
            return ("", scope.self_ref + chain[1])
        if head == "super()":
            return ("", f"^{scope.cls}^{chain[1]}") if scope.cls else None
        return chain

    def _getattr_setting(self, node: ast.Call) -> None:
        """``getattr(settings, "NAME", default)``: a settings read like ``settings.NAME``."""
        target, name = node.args[0], node.args[1]
        if (
            type(target) is _AstName
            and target.id in self.settings_names
            and type(name) is _AstConstant
            and isinstance(name.value, str)
        ):
            loc = _Location(self.path, node.lineno, node.col_offset)
            self.settings.append(SettingsRead(self.scope.caller, name.value, loc))

    def _connect(self, chain: tuple[str, str], node: ast.Call) -> None:
        receiver = _chain(node.args[0])
        if receiver is None:
            return
        sender = None
        for kw in node.keywords:
            if kw.arg == "sender":
                sender = _sender(kw.value)
        signal = (chain[0], chain[1][: -len(".connect")])
        self.signals.append((self.scope, signal, receiver, sender, node.lineno))

    def _join_of(self, node: ast.expr) -> str | None:
        """A value that is one of its operands' (see :data:`JOIN`): ``a or b``, ``x if
        c else y``, ``a - b``, ``-x``, ``min(a, b)``, ``abs(x)``, ``round(x)``, a
        ``.get()`` with a default; ``=json:`` for what is a str or bool however made
        (``"%s" % x``, ``not x``). None for any other expression, or when an operand is
        unknown (no part of a value is guessed)."""
        t = type(node)
        if t is _AstBoolOp:
            return _join("", [self._part(v) for v in node.values])  # type: ignore[attr-defined]
        if t is _AstIfExp:
            return _join("", [self._part(node.body), self._part(node.orelse)])  # type: ignore[attr-defined]
        if t is _AstUnaryOp:  # ``not x``: a bool; ``-x``: what ``x`` is
            if type(node.op) is ast.Not:  # type: ignore[attr-defined]
                return JSON_OF
            return _join("", [self._part(node.operand)])  # type: ignore[attr-defined]
        if t is _AstBinOp:
            return self._arithmetic(node)  # type: ignore[arg-type]
        if t is _AstCall:
            return self._joined_call(node)  # type: ignore[arg-type]
        return None

    def _arithmetic(self, node: ast.BinOp) -> str | None:
        """``a + b - c * d``: down the left spine in a loop (a long chain too), one flat
        join; any ``-`` marks it, as two dates or datetimes subtracted make a timedelta."""
        parts: list[str | None] = []
        op_mark = ""
        operand: ast.expr = node
        while type(operand) is _AstBinOp:
            op, left = type(operand.op), operand.left
            if op is ast.MatMult:
                return None
            if op is ast.Mod and type(left) is _AstConstant and isinstance(left.value, str):
                parts.append(JSON_OF)  # ``"%s items" % n``: printf-style gives a str
                break
            if op is ast.Sub:
                op_mark = _SUBTRACT
            right = self._part(operand.right)
            if right is None:
                return None
            parts.append(right)
            operand = left
        else:
            parts.append(self._part(operand))
        return _join(op_mark, parts)

    def _joined_call(self, node: ast.Call) -> str | None:
        """``mapping.get(key, default)``: what it gets or the default; ``min(a, b)``,
        ``max(...)``: one of them; ``abs(x)``, ``round(x)``, ``round(x, 2)``: what
        ``x`` is (a number stays one: ``round(Decimal)`` an int, ``round(price, 2)`` a
        Decimal; a ``Money`` a Money). Not ``sum(xs)``: its items are unknown, and
        ``Money``'s ``__radd__`` makes ``sum`` of them a Money."""
        func, args = node.func, node.args
        default = _get_default(node)
        if default is not None:
            _, kind, _, chain = self._argument(node, None, False)
            return _join("", [_chain_part(chain, kind), self._part(default)])
        if type(func) is not _AstName or func.id not in _NUMERIC_BUILTINS or node.keywords:
            return None
        name = func.id
        if any(type(a) is _AstStarred for a in args) or self._lookup(self.scope, name) != (
            "builtins." + name
        ):
            return None
        # the name must still be the builtin once the scopes are complete (a ``def
        # round`` further down shadows it): a guard part that ``_expand`` checks
        guard = f"{_GUARD}{name}"
        if name == "abs" or name == "round":
            if not 1 <= len(args) <= (2 if name == "round" else 1):
                return None
            return _join("", [guard, self._part(args[0])])
        # ``min(a, b)``, ``max(a, b, c)``: one of them (of one iterable: an item of it)
        return _join("", [guard, *[self._part(a) for a in args]]) if len(args) >= 2 else None

    def _literal_join(self, value: ast.expr) -> str | None:
        """The type of a join of literals (``"%s" % x``, ``"a" if c else "b"``, ``[] if
        c else [1]``: a list); None for any other value. A join of other values types
        an argument or a local only (see :data:`JOIN`)."""
        joined = self._join_of(value)
        return joined if joined is not None and joined.startswith(JSON_OF) else None

    def _part(self, node: ast.expr) -> str | None:
        """One operand of a join: its reference, which ``_finish`` and linking complete
        as an argument's; ``=json:`` when it has none and is JSON by itself (a literal,
        ``order.pk``); None when nothing tells."""
        if self.join_depth >= _JOIN_DEPTH:
            return None
        literal = _LITERALS.get(type(node))
        if literal in MUTABLE_LITERALS and _is_json_literal(node):
            return JSON_OF + literal  # ``[] + []``: still a list
        self.join_depth += 1
        try:
            _, kind, _, chain = self._argument(node, None)
        finally:
            self.join_depth -= 1
        return _chain_part(chain, kind)

    def _argument(self, node: ast.expr, keyword: str | None, join: bool = True) -> tuple[Any, ...]:
        """Kind decided now when the expression alone tells; else a reference for linking
        (with ``join``, of a value that is one of several: see :data:`JOIN`)."""
        t = type(node)
        if t is _AstName:  # the common case first
            name = text = node.id  # type: ignore[attr-defined]
            if name == self.scope.self_name and self.scope.self_ref is not None:
                return (text, _ARG_UNKNOWN, keyword, ("", self.scope.self_ref))
            scope = self.scope
            if scope.kind == _MODULE:
                local_type = None
            elif scope.values and name in scope.values:  # one of several values
                local_type = scope.values[name]
                if local_type is None:
                    return (text, _ARG_UNKNOWN, keyword, None)
            else:
                local_type = scope.types.get(name)
            if scope.shared is not None and name in scope.shared:
                return (text, _ARG_UNKNOWN, keyword, None)  # a nested function rebinds it
            if local_type is not None:
                if holds_mutable(local_type):
                    # ``errors = []`` then ``errors.append(Error())``: what it holds by
                    # now is unknown (a module-level one's is too, see linking)
                    return (text, _ARG_UNKNOWN, keyword, None)
                return (text, kind_of_type(local_type), keyword, ("", local_type))
            return (text, _ARG_UNKNOWN, keyword, (name, ""))
        if join and (t in _JOINS or (t is _AstCall and _may_join(node))):  # type: ignore[arg-type]
            joined = self._join_of(node)
            if joined is not None:
                text = _loc_text(node)
                if joined == JSON_OF:
                    return (text, _ARG_JSON, keyword, None)
                # its kind once ``_make_arg`` has completed the parts
                return (text, _ARG_UNKNOWN, keyword, ("", joined))
            if t is not _AstCall and t is not _AstUnaryOp:  # ``-1``: a literal
                return (_loc_text(node), _ARG_UNKNOWN, keyword, None)
        text = _loc_text(node)
        if t is _AstConstant or t is _AstJoinedStr:
            return (
                text,
                _ARG_JSON if _is_json_literal(node) else _ARG_UNKNOWN,
                keyword,
                None,
            )
        if t is _AstLambda:
            return (text, _ARG_CALLABLE, keyword, None)
        if t is _AstAttribute:
            attr = node.attr  # type: ignore[attr-defined]
            if attr in ("pk", "id") or attr.endswith("_id"):
                return (text, _ARG_JSON, keyword, None)
            return self._typed_argument(text, keyword, _chain(node), "")
        cleaned = _cleaned_value(node) if t is _AstCall or t is _AstSubscript else None
        if cleaned is not None:  # ``form.cleaned_data["email"]``: linking types it
            ref = self._resolve_now(cleaned[0]) + ".cleaned_data." + cleaned[1]
            return (text, _ARG_UNKNOWN, keyword, ("", ref))
        if t is _AstCall:
            chain = _chain(node.func)  # type: ignore[attr-defined]
            if chain is not None:
                return self._typed_argument(text, keyword, chain, "()")
            chain = _chain(node.func, literal=True)  # type: ignore[attr-defined]
            if chain is not None and not chain[0]:  # ``", ".join(names)``
                return (text, kind_of_type(chain[1] + "()"), keyword, None)
        if t is _AstSubscript:
            chain = _chain(node)
            if chain is not None and not self._local_json(chain[0]):
                ref = self._resolve_now(chain)
                return (text, kind_of_type(ref), keyword, ("", ref))
        if _is_json_literal(node):
            return (text, _ARG_JSON, keyword, None)
        return (text, _ARG_UNKNOWN, keyword, None)

    def _typed_argument(
        self, text: str, keyword: str | None, chain: tuple[str, str] | None, suffix: str
    ) -> tuple[Any, ...]:
        """An argument reached through a name (``request.FILES["f"]``, ``order.customer``,
        ``qs.filter(...)``, ``rows[0]``): its reference from the name's flow-sensitive
        type now, as for a bare name, so ``kind_of_type`` (``request.user``, an upload)
        or linking (a row, a queryset) can tell."""
        if chain is None:
            return (text, _ARG_UNKNOWN, keyword, None)
        ref = self._resolve_now(chain) + suffix
        return (text, kind_of_type(ref), keyword, ("", ref))

    def _type_of(self, value: ast.expr) -> str | None:
        """The reference of what ``value`` evaluates to, for a local's flow-sensitive type."""
        t = type(value)
        if t is _AstSubscript or t is _AstCall:
            cleaned = _cleaned_value(value)
            if cleaned is not None:  # ``email = form.cleaned_data["email"]``
                return self._resolve_now(cleaned[0]) + ".cleaned_data." + cleaned[1]
        if t is _AstCall:
            func = value.func  # type: ignore[attr-defined]
            if type(func) is _AstAttribute and _has_default(value):  # type: ignore[arg-type]
                return None  # what it gets, or the default: a join, for a local only
            if type(func) is _AstName and func.id in _NUMERIC_BUILTINS:
                literal = self._literal_join(value)  # ``max(1, 2)``; a project ``max()``
                if literal is not None:  # is typed below, as any call
                    return literal
            if type(func) is _AstCall:  # ``await sync_to_async(Order.objects.get)(pk=1)``
                bridged = self._bridged(func)
                if bridged is not None:
                    return self._resolve_now(bridged[0]) + "()"
            chain = _chain(func)
            if chain is None:
                return None
            if chain[1].endswith("get_class") or chain[0] == "get_class":
                loaded = self._oscar_loaded(chain, value.args)  # type: ignore[attr-defined]
                if loaded:
                    return loaded[0]
            if chain[1].endswith("get_model") or chain[0] == "get_model":
                label = _model_label(value)  # type: ignore[arg-type]
                if label:
                    return "@" + label
            if (chain[0] + chain[1]).endswith("get_object_or_404") and value.args:  # type: ignore[attr-defined]
                found = self._lookup(self.scope, chain[0])
                if found is not None and (found + chain[1]) in _GET_OR_404:
                    return self._instance_of(value.args[0])  # type: ignore[attr-defined]
            return self._resolve_now(chain) + "()"
        if t is _AstName or t is _AstAttribute:
            chain = _chain(value)
            return None if chain is None else self._resolve_now(chain)
        literal = _literal_type(value)
        if literal is not None:
            if _is_json_literal(value):
                return JSON_OF + literal
            return literal or None
        if t is _AstAwait:
            return self._type_of(value.value)  # type: ignore[attr-defined]
        if t in _JOINS:
            return self._literal_join(value)
        if t is _AstSubscript:  # ``up = request.FILES["f"]``: an upload, for kind_of_type
            files = value.value  # type: ignore[attr-defined]
            if type(files) is _AstAttribute and files.attr == "FILES":
                owner = self._type_of(files)
                return None if owner is None else owner + "[]"
            # ``store = caches["x"]``, ``row = qs[0]``: linking types the items it
            # knows (a queryset's, Django's handlers'); any other stays unresolved
            chain = _chain(value)
            if chain is None or self._local_json(chain[0]):
                return None
            return self._resolve_now(chain)
        return None

    def _global_type(self, root: _Scope, name: str, type_ref: str | None) -> str | None:
        """A module-level assignment's type: a literal's own (``_PRICES = {}``: a dict);
        None for ``None``, an unknown value, or a name a function rebinds under
        ``global`` (to anything)."""
        if type_ref is None or name in self.rebound:
            return None
        value = _through(type_ref)
        return self._expand(root, value) if value else None

    def _oscar_loaded(self, chain: tuple[str, str], args: list[ast.expr]) -> list[str]:
        """django-oscar's ``get_class("checkout.views", "X")`` (``get_classes(label,
        ["X", "Y"])``): references to what it loads, ``&checkout.views&X``, which
        linking finds in the project's forked app or in Oscar (``Linker._loaded``).
        Empty for any other call, or names that are not literals."""
        found = self._lookup(self.scope, chain[0])
        if found is None or found + chain[1] not in _OSCAR_LOADERS or len(args) < 2:
            return []
        label, names = args[0], args[1]
        if type(label) is not _AstConstant or not isinstance(label.value, str):
            return []
        items = names.elts if type(names) is _AstList or type(names) is _AstTuple else [names]
        if not all(type(n) is _AstConstant and isinstance(n.value, str) for n in items):
            return []
        return [f"&{label.value}&{n.value}" for n in items]  # type: ignore[attr-defined]

    def _local_json(self, name: str) -> bool:
        scope = self.scope
        return scope.kind != _MODULE and _is_json(scope.types.get(name))

    def _instance_of(self, model_or_queryset: ast.expr) -> str | None:
        """``get_object_or_404(Order, ...)`` / ``(Order.objects.filter(...), ...)``."""
        if type(model_or_queryset) is _AstCall:
            queryset = self._type_of(model_or_queryset)
            return None if queryset is None else queryset + "[]"
        chain = _chain(model_or_queryset)
        return None if chain is None else self._resolve_now(chain) + "()"

    def _resolve_now(self, chain: tuple[str, str]) -> str:
        head, tail = chain
        scope = self.scope
        if head and scope.kind != _MODULE and head in scope.types:
            local_type = scope.types[head]
            if local_type[:1] == JOIN:  # a join's value or attributes: see JOIN
                return f"?{head}{tail}"
            if tail:  # through a literal's own type
                local_type = _through(local_type) or _JSON
            return local_type + tail
        if head == scope.self_name and scope.self_ref is not None:
            return scope.self_ref + tail
        if head == "super()" and scope.cls:  # as ``_scoped`` reads a call through it
            return f"^{scope.cls}^{tail}"
        return f"?{head}{tail}"  # resolved in _finish through the scope chain

    def _is_atomic(self, expr: ast.expr) -> bool:
        chain = _chain(expr.func if isinstance(expr, ast.Call) else expr)
        if chain is None:
            return False
        ref = self._lookup(self.scope, chain[0])
        return ref is not None and (ref + chain[1]) in _ATOMIC

    # ------------------------------------------------------------------ resolution
    def _lookup(self, scope: _Scope | None, name: str) -> str | None:
        """Python's LEGB lookup over complete scopes; class bodies hide from methods."""
        start = scope
        while scope is not None:
            if scope.kind == _CLASS and scope is not start:
                scope = scope.parent
                continue
            bindings = scope.bindings
            if name in bindings:
                return bindings[name]
            scope = scope.parent
        if name in _BUILTINS:
            return f"builtins.{name}"
        return None

    def _lookup_ref(self, scope: _Scope | None, name: str) -> str | None:
        """Like ``_lookup``, but an untyped parameter becomes ``%function%name``.

        Linking can type it from the function's call sites (every known caller passes
        the same model instance); a parameter assigned again in the body cannot.
        """
        start = scope
        while scope is not None:
            if scope.kind == _CLASS and scope is not start:
                scope = scope.parent
                continue
            bindings = scope.bindings
            if name in bindings:
                ref = bindings[name]
                if ref is None and name in scope.params and name not in scope.reassigned:
                    return f"%{scope.qual}%{name}"
                return ref
            scope = scope.parent
        if name in _BUILTINS:
            return f"builtins.{name}"
        return None

    def _ref(self, scope: _Scope, chain: tuple[str, str] | None) -> str | None:
        if chain is None:
            return None
        head, tail = chain
        if not head:
            return self._expand(scope, tail)
        base = self._lookup_ref(scope, head)
        return None if base is None else base + tail

    def _expand(self, scope: _Scope, ref: str) -> str | None:
        """Resolve a ``?head.tail`` placeholder captured before scopes were complete
        (each of a join's; None when one of them cannot be)."""
        if ref[:1] == JOIN:
            if ref[-1:] != "}":
                return None  # a join with a suffix: no reference (see JOIN)
            op, parts = split_join(ref)
            return _join(op, [self._expand(scope, p) for p in parts])
        if ref[:1] == _GUARD:  # ``round`` still the builtin: neutral, else no join
            name = ref[1:]
            if any(i.bound_as == "*" for i in self.imports):
                return None  # ``from util import *`` may bring a ``round``
            return JSON_OF if self._lookup_ref(scope, name) == f"builtins.{name}" else None
        if ref.startswith("?"):
            head, dot, rest = ref[1:].partition(".")
            paren = head.find("(")
            bracket = head.find("[")  # ``f()`` or ``x[]``: whichever comes first
            if bracket >= 0 and (paren < 0 or bracket < paren):
                paren = bracket
            if paren >= 0:
                head, rest, dot = head[:paren], head[paren:] + dot + rest, ""
            base = self._lookup_ref(scope, head)
            if base is None:
                return None
            return base + (dot + rest if dot else rest)
        return ref

    def _finish(self, lines: int) -> ModuleFacts:
        module, path = self.module, self.path
        defs = self.defs
        for index, i, scope, chain in self._late_decorators:
            ref = self._ref(scope, chain)
            if ref is not None:
                d = defs[index]
                decs = list(d.decorators)
                decs[i] = ref
                defs[index] = d.with_resolved(tuple(decs), d.bases, d.returns)
        for index, scope, chains in self._late_bases:
            d = defs[index]
            # "?Name": written so, but bound nowhere we can see (a star import, a typo)
            bases = tuple(
                self._ref(scope, c) or (f"?{c[0]}{c[1]}" if c else "<expr>") for c in chains
            )
            defs[index] = d.with_resolved(d.decorators, bases, d.returns)
        for index, scope, ref in self._late_returns:
            d = defs[index]
            returns = self._expand(scope, ref)
            if returns is not None:
                defs[index] = d.with_resolved(d.decorators, d.bases, returns)
        calls = [self._make_call(raw) for raw in self.calls]
        for i, function in self._decorated.items():
            c = calls[i]
            calls[i] = _Call(function, c.callee, c.text, c.loc, (), True, False)
        urls = [r for r in (self._url(scope, node, calls[i]) for scope, node, i in self.urls) if r]
        root = self.scope_root()
        variables = tuple(
            Variable(f"{module}.{name}", _Location(path, line, 0), self._global_type(root, name, t))
            for name, line, t in self.variables
        ) + tuple(
            Variable(f"{cls}.{name}", _Location(path, line, 0), self._attribute_ref(assigned))
            for (cls, name), (line, assigned) in self.attributes.items()
        )
        return ModuleFacts(
            module=module,
            path=path,
            lines=lines,
            is_test=is_test_path(path),
            definitions=tuple(defs),
            imports=tuple(self.imports),
            calls=tuple(calls),
            urls=tuple(urls),
            signals=tuple(self._signals()),
            atomics=tuple(self.atomics),
            globals=tuple(self._global_states()),
            global_uses=tuple(self._global_uses()),
            settings_reads=tuple(self.settings),
            variables=variables,
            model_candidates=tuple(self._model(node, qual) for node, qual in self.candidates),
            raw_sql=tuple(self._raw_sql(calls)),
            model_bindings=(
                *self._registrations(calls),
                *(b for node, qual in self.candidates for b in self._class_bindings(node, qual)),
                *self.user_settings,
            ),
            is_package=self.is_package,
            value_names=frozenset(
                self.value_names.union(
                    ["~" + n for n in self.value_heads], ["." + n for n in self.value_attrs]
                )
            ),
        )

    def _registrations(self, calls: list[Call]) -> Iterable[ModelBinding]:
        """``admin.site.register(Order, OrderAdmin)``, ``site.register([A, B])``,
        ``@admin.register(Order)``: whether ``register`` is the admin's is linking's
        to decide. The owner is the admin class, else who registers."""
        for scope, i, node, owner in self.registers:
            call = calls[i]
            if call.callee is None:
                continue
            first = node.args[0]
            if owner is None:
                if len(node.args) > 1:
                    owner = self._ref(scope, _chain(node.args[1]))
                owner = owner or scope.caller
            items = first.elts if type(first) in (ast.List, ast.Tuple) else [first]  # type: ignore[attr-defined]
            for item in items:
                model = self._ref(scope, _chain(item))
                if model is not None:
                    yield ModelBinding(owner, _BIND_ADMIN, model, call.loc, call.callee)

    def _class_bindings(self, node: ast.ClassDef, qual: str) -> Iterable[ModelBinding]:
        """``model = X`` in the class body and in its ``Meta``; a view's ``queryset =
        X.objects...`` and ``serializer_class = S`` in the body. The last assignment
        of each name is the one that holds. A ``Meta.model`` that names nothing we
        can resolve is kept with model "": it still overrides the parent's.

        A view that computes its model instead (``def get_queryset(self): return
        Order.objects.filter(owner=...)``, ``get_object``, ``get_serializer_class``,
        ``get_form_class``) names it by that method's result, ``Cls.get_queryset()``,
        which linking follows to what every ``return`` agrees on (one that returns
        ``super()...`` or disagreeing values names nothing)."""
        scope = self.class_scopes[qual]
        found: dict[tuple[BindingKind, str], ModelBinding] = {}
        for stmt in node.body:
            if type(stmt) is _AstClassDef and stmt.name == "Meta":
                for item in stmt.body:
                    self._model_assign(item, scope, qual, _BIND_META, found)
            elif (
                type(stmt) is _AstFunctionDef or type(stmt) is _AstAsyncFunctionDef
            ) and stmt.name in _VIEW_MODEL_METHODS:
                where = _Location(self.path, stmt.lineno, stmt.col_offset)
                result = f"{qual}.{stmt.name}()"
                name = stmt.name
                found[(_BIND_ATTR, name)] = ModelBinding(qual, _BIND_ATTR, result, where, attr=name)
                # each ``return``, resolved in the method: a serializer per action
                # names every model it serialises, though the returns differ; one of
                # no known value is kept as "" (a view's hooks then know nothing)
                method = self.view_methods.get(stmt, scope)
                for i, returned in enumerate(method.returns):
                    ref = (
                        None
                        if returned is None or _is_json(returned)
                        else self._expand(method, returned)
                    )
                    found[(_BIND_RETURNS, f"{name}#{i}")] = ModelBinding(
                        qual,
                        _BIND_RETURNS,
                        "" if ref is None or ref == result else ref,
                        where,
                        attr=name,
                    )
            else:
                self._model_assign(stmt, scope, qual, _BIND_ATTR, found)
        return found.values()

    def _model_assign(
        self,
        stmt: ast.stmt,
        scope: _Scope,
        qual: str,
        kind: BindingKind,
        found: dict[tuple[BindingKind, str], ModelBinding],
    ) -> None:
        if type(stmt) is not _AstAssign or len(stmt.targets) != 1:
            return
        target = stmt.targets[0]
        if type(target) is not _AstName:
            return
        if target.id != "model" and (kind is _BIND_META or target.id not in _VIEW_MODEL_ATTRS):
            return
        model = self._ref(scope, _chain(stmt.value))
        if model is None and kind is not _BIND_META:
            found.pop((kind, target.id), None)
            return
        where = _Location(self.path, stmt.lineno, stmt.col_offset)
        found[(kind, target.id)] = ModelBinding(qual, kind, model or "", where, attr=target.id)

    def _raw_sql(self, calls: list[Call]) -> Iterable[RawSql]:
        """String literals passed to ``execute``: whether the receiver is a database
        cursor, and so the string SQL, is linking's to decide."""
        for i, method, sql in self.raw_sql:
            call = calls[i]
            if call.callee is not None:
                yield RawSql(call.caller, call.callee, method, call.loc, sql)

    def _make_call(self, raw: tuple[Any, ...]) -> Call:
        scope, chain, line, col, args, used, atomic, text = raw
        callee = self._ref(scope, chain)
        if callee is not None and callee.startswith("?"):
            callee = self._expand(scope, callee)
        return _Call(
            scope.caller,
            callee,
            text[:_TEXT_MAX],
            _Location(self.path, line, col),
            tuple([self._make_arg(scope, a) for a in args]) if args else (),
            used,
            atomic,
        )

    def _make_arg(self, scope: _Scope, raw: tuple[Any, ...]) -> Argument:
        text, kind, keyword, chain = raw
        ref = self._ref(scope, chain) if chain is not None else None
        if ref is not None and ref.startswith("?"):
            ref = self._expand(scope, ref)
        if ref is not None and kind is _ARG_UNKNOWN:
            kind = kind_of_type(ref)
            if ref[:1] == JOIN and kind is not _ARG_UNKNOWN and kind is not _ARG_ORM_INSTANCE:
                ref = None  # decided: linking has nothing left to look up
        return _Argument(text[:_TEXT_MAX], kind, keyword, None, ref)

    def _url(self, scope: _Scope, node: ast.Call, call: Call) -> UrlRoute | None:
        if call.callee not in _URL_FUNCS:
            if call.callee is not None and call.text.endswith(".register"):
                return self._registered(scope, node, call)
            return None
        pattern_node, view_node = node.args[0], node.args[1]
        pattern = (
            pattern_node.value if type(pattern_node) is _AstConstant else _loc_text(pattern_node)
        )
        name = None
        for kw in node.keywords:
            if kw.arg == "name" and type(kw.value) is _AstConstant:
                name = str(kw.value.value)
                if self.app_name:  # what ``reverse()`` is given: ``shop:detail``
                    name = f"{self.app_name}:{name}"
        loc = _Location(self.path, node.lineno, node.col_offset)
        if type(view_node) is _AstCall:
            inner = _chain(view_node.func)
            ref = self._ref(scope, inner)
            if ref is not None and ref.endswith("include") and view_node.args:
                target = view_node.args[0]
                if type(target) is _AstTuple and target.elts:
                    target = target.elts[0]
                if type(target) is _AstConstant:
                    include = str(target.value)
                else:
                    include = self._ref(scope, _chain(target)) or _loc_text(target)
                return UrlRoute(str(pattern), None, name, loc, include)
            if ref is not None and ref.endswith(".as_view"):
                return UrlRoute(str(pattern), ref[: -len(".as_view")], name, loc)
            return UrlRoute(str(pattern), None, name, loc)
        return UrlRoute(str(pattern), self._ref(scope, _chain(view_node)), name, loc)

    def _registered(self, scope: _Scope, node: ast.Call, call: Call) -> UrlRoute | None:
        """``router.register(r"orders", OrderViewSet, basename="order")``: a route
        candidate; whether ``router`` is a DRF router is linking's to decide."""
        prefix, viewset = node.args[0], node.args[1]
        if type(prefix) is not _AstConstant or not isinstance(prefix.value, str):
            return None
        basename = None
        for kw in node.keywords:
            if kw.arg == "basename" and type(kw.value) is _AstConstant:
                basename = kw.value.value if isinstance(kw.value.value, str) else None
        view = self._ref(scope, _chain(viewset))
        if basename and self.app_name:
            basename = f"{self.app_name}:{basename}"
        return UrlRoute(prefix.value, view, basename, call.loc, None, call.callee)

    def _signals(self) -> Iterable[SignalHandler]:
        for scope, signal, receiver, sender, line in self.signals:
            signal_ref = self._ref(scope, signal)
            receiver_ref = (
                self._ref(scope, receiver)
                if receiver and receiver[0]
                else (receiver[1] if receiver else None)
            )
            if signal_ref is None or receiver_ref is None:
                continue
            sender_ref = self._ref(scope, sender) if sender is not None else None
            yield SignalHandler(receiver_ref, signal_ref, sender_ref, _Location(self.path, line, 0))

    def _global_states(self) -> Iterable[GlobalState]:
        seen = set()
        mutable, rebound = self.mutable, self.rebound
        for name, line, _ in self.variables:
            kind = mutable.get(name) or ("other" if name in rebound else None)
            if kind and name not in seen:
                seen.add(name)
                yield GlobalState(f"{self.module}.{name}", _Location(self.path, line, 0), kind)
        for name, line in rebound.items():  # bound by ``global`` in a function only
            if name not in seen:
                yield GlobalState(f"{self.module}.{name}", _Location(self.path, line, 0), "other")

    def _global_uses(self) -> Iterable[GlobalUse]:
        target_prefix = self.module + "."
        for scope, name, line, col, writes in self.uses:
            head, dot, attrs = name.partition(".")
            if dot:  # ``m._E.append()``: linking keeps it if it is mutable state in m
                base = self._lookup(scope, head)
                if base is not None:
                    yield GlobalUse(
                        scope.caller, f"{base}.{attrs}", _Location(self.path, line, col), writes
                    )
                continue
            ref = self._lookup(scope, name)
            if name in scope.globals or ref == target_prefix + name:
                if name in self.mutable or writes or name in self.rebound:
                    yield GlobalUse(
                        scope.caller, target_prefix + name, _Location(self.path, line, col), writes
                    )
            elif ref is not None and name in self.imported:
                # another module's name: linking keeps it only if it is mutable state there
                yield GlobalUse(scope.caller, ref, _Location(self.path, line, col), writes)

    def _model(self, node: ast.ClassDef, qual: str) -> ModelFact:
        meta: dict[str, object] = {}
        relations: list[Relation] = []
        managers: list[ManagerFact] = []
        values: list[tuple[str, str]] = []
        scope = self.class_scopes[qual]
        for stmt in node.body:
            if type(stmt) is _AstClassDef and stmt.name == "Meta":
                for item in stmt.body:
                    if type(item) is _AstAssign and type(item.value) is _AstConstant:
                        for target in item.targets:
                            if type(target) is _AstName:
                                meta[target.id] = item.value.value
            elif type(stmt) is _AstAssign and type(stmt.value) is _AstCall:
                relation = self._relation(stmt, scope)
                if relation is not None:
                    relations.append(relation)
                elif type(stmt.targets[0]) is _AstName:
                    field = _field_class(stmt.value)
                    if field is not None:
                        values.append((stmt.targets[0].id, field))
                        continue
                    manager = self._manager(stmt.targets[0].id, stmt.value, scope)
                    if manager is not None:
                        managers.append(manager)
                    else:  # bound to no field (a form's ``email = Chooser()``)
                        values.append((stmt.targets[0].id, ""))
            elif type(stmt) is _AstAssign and type(stmt.targets[0]) is _AstName:
                values.append((stmt.targets[0].id, ""))  # ``email = None`` drops a field
        parts = self.module.split(".")
        if "models" in parts and parts.index("models") > 0:
            default_label = parts[parts.index("models") - 1]
        else:
            default_label = parts[-2] if len(parts) > 1 else parts[0]
        label = str(meta.get("app_label") or default_label)
        table = str(meta.get("db_table") or f"{label}_{node.name.lower()}")
        return ModelFact(
            qual,
            label,
            table,
            _Location(self.path, node.lineno, node.col_offset),
            bool(meta.get("abstract")),
            tuple(r.target for r in relations),
            tuple(relations),
            bool(meta.get("proxy")),
            tuple(managers),
            tuple(values),
        )

    def _manager(self, name: str, call: ast.Call, scope: _Scope) -> ManagerFact | None:
        """``name = Mgr()``, ``Mgr.from_queryset(QS)()`` or ``QS.as_manager()`` in a class
        body. Any other ``X()`` but a field is kept too: only linking can tell whether
        ``X`` is a manager class (it drops what is not)."""
        func = call.func
        if type(func) is _AstAttribute and func.attr == "as_manager":
            queryset = self._ref(scope, _chain(func.value))
            return None if queryset is None else ManagerFact(name, None, queryset)
        if type(func) is _AstCall:
            inner = func.func
            if type(inner) is _AstAttribute and inner.attr == "from_queryset" and func.args:
                manager = self._ref(scope, _chain(inner.value))
                queryset = self._ref(scope, _chain(func.args[0]))
                return None if manager is None else ManagerFact(name, manager, queryset)
            return None
        chain = _chain(func)
        if chain is None or chain[1].endswith("Field") or chain[0].endswith("Field"):
            return None
        manager = self._ref(scope, chain)
        return None if manager is None or "(" in manager else ManagerFact(name, manager, None)

    def _relation(self, stmt: ast.Assign, scope: _Scope) -> Relation | None:
        call = stmt.value
        assert isinstance(call, ast.Call)
        chain = _chain(call.func)
        if chain is None:
            return None
        kind = (chain[0] + chain[1]).rpartition(".")[2]
        if kind not in RELATION_KINDS or type(stmt.targets[0]) is not _AstName:
            return None
        target_node = call.args[0] if call.args else None
        related_name = None
        for kw in call.keywords:
            if kw.arg == "to":
                target_node = kw.value
            elif kw.arg == "related_name" and type(kw.value) is _AstConstant:
                related_name = str(kw.value.value)
        if target_node is None:
            return None
        if type(target_node) is _AstConstant:
            target = str(target_node.value)
        else:
            target = self._ref(scope, _chain(target_node)) or _loc_text(target_node)
        return Relation(stmt.targets[0].id, target, kind, related_name)


def _cleaned_value(node: ast.expr) -> tuple[tuple[str, str], str] | None:
    """``form.cleaned_data["email"]`` / ``.get("email")`` -> (the form's chain, the
    field's name), for linking to type by the form's declared field; None otherwise."""
    if type(node) is _AstSubscript:
        owner, key = node.value, node.slice
    else:
        func = node.func  # type: ignore[attr-defined]
        if type(func) is not _AstAttribute or func.attr != "get" or not node.args:  # type: ignore[attr-defined]
            return None
        owner, key = func.value, node.args[0]  # type: ignore[attr-defined]
    if type(owner) is not _AstAttribute or owner.attr != "cleaned_data":
        return None
    if type(key) is not _AstConstant or type(key.value) is not str or not key.value.isidentifier():
        return None
    chain = _chain(owner.value)
    return None if chain is None else (chain, key.value)


def _field_class(call: ast.Call) -> str | None:
    """``models.CharField(...)`` -> ``CharField``: a model field's class, by its name
    (Django's, or a project's or library's ``...Field``); None for any other call."""
    chain = _chain(call.func)
    if chain is None:
        return None
    name = (chain[0] + chain[1]).rpartition(".")[2]
    return name if name.endswith("Field") and "(" not in name else None


def _declared_global(body: list[ast.stmt], names: set[str]) -> set[str]:
    """Names any ``global`` statement declares, statements only (no expression walk)."""
    for stmt in body:
        t = type(stmt)
        if t is _AstGlobal:
            names.update(stmt.names)  # type: ignore[attr-defined]
            continue
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if inner:
                _declared_global(inner, names)
        for handler in getattr(stmt, "handlers", ()):
            _declared_global(handler.body, names)
        for case in getattr(stmt, "cases", ()):
            _declared_global(case.body, names)
    return names


def _sender(node: ast.expr) -> tuple[str, str] | None:
    """A signal's sender: a class reference, or a lazy ``"app.Model"`` string."""
    if type(node) is _AstConstant and isinstance(node.value, str) and "." in node.value:
        return ("", "@" + node.value)
    return _chain(node)


def _docline(node: _AnyFunc | ast.ClassDef) -> str | None:
    """First line of the docstring: enough for a report, cheap to cache."""
    body = node.body
    if body and type(body[0]) is _AstExpr:
        value = body[0].value
        if type(value) is _AstConstant and isinstance(value.value, str):
            return value.value.strip().split("\n", 1)[0][:200] or None
    return None


def _model_label(call: ast.Call) -> str | None:
    values = [a.value for a in call.args if type(a) is _AstConstant and isinstance(a.value, str)]
    if len(values) == 2:
        return f"{values[0]}.{values[1]}"
    if len(values) == 1 and "." in values[0]:
        return values[0]
    return None


def kind_of_type(type_ref: str) -> ArgKind:
    """The kind of an argument whose value has the type reference ``type_ref``."""
    if type_ref.startswith(JSON_OF) or type_ref in _JSON_RESULTS:
        return _ARG_JSON
    if type_ref[:1] == JOIN and type_ref[-1:] == "}":
        op, parts = split_join(type_ref)
        if op == _SUBTRACT and any(maybe_temporal(p) for p in parts):
            return _ARG_UNKNOWN  # a timedelta, or a TypeError
        return join_kinds(kind_of_type(p) for p in parts)
    if type_ref.endswith("()") and type_ref[type_ref.rfind(".") + 1 : -2] in _STR_RESULTS:
        base = _str_receiver(type_ref)  # ``q.strip().lower()`` of a str is a str
        if base is not None and kind_of_type(base) is _ARG_JSON:
            return _ARG_JSON
    if type_ref in _FILE_TYPES or type_ref.endswith(".open()"):
        return _ARG_FILE
    if type_ref in _LOCK_TYPES:
        return _ARG_LOCK
    if type_ref in _REQUEST_TYPES:
        return _ARG_REQUEST
    if type_ref.endswith(_UPLOADS):
        owner = type_ref[: type_ref.rfind(".FILES")]
        # a request, or a class-based view's ``self.request`` (set by Django's View)
        if owner in _REQUEST_TYPES or owner.endswith(".request"):
            return _ARG_FILE
    if type_ref.endswith(".user"):
        owner = type_ref[:-5]  # ``request.user``: the user model's row (or AnonymousUser)
        if owner in _REQUEST_TYPES or owner.endswith(".request"):
            return _ARG_ORM_INSTANCE
    if "Request()." in type_ref and request_text_owner(type_ref) in _REQUEST_TYPES:
        # ``request.POST["email"]``: text (``self.request``'s is linking's to tell: a
        # view's is a request, a Celery task's is not)
        return _ARG_JSON
    return _ARG_UNKNOWN


def request_text_owner(ref: str) -> str | None:
    """``X.POST[]`` -> ``X``: what a request's text (:data:`REQUEST_TEXT`) is read from,
    if ``ref`` reads one; the caller decides whether ``X`` is a request."""
    if ref.endswith(REQUEST_TEXT):
        for suffix in REQUEST_TEXT:
            if ref.endswith(suffix):
                return ref[: -len(suffix)]
    return None


def _str_receiver(type_ref: str) -> str | None:
    """``X.strip().lower()`` -> ``X``: the value a chain of a str's methods giving JSON
    (:data:`_STR_RESULTS`) was called on; None when the last call is no such method."""
    base = type_ref
    while base.endswith("()"):
        head, _, method = base[:-2].rpartition(".")
        if not head or method not in _STR_RESULTS:
            break
        base = head
    return None if base is type_ref else base


_STATEMENTS: dict[type, Callable[[_Extractor, Any], None]] = {
    ast.FunctionDef: _Extractor._function,
    ast.AsyncFunctionDef: _Extractor._function,
    ast.ClassDef: _Extractor._class,
    ast.Import: _Extractor._import,
    ast.ImportFrom: _Extractor._import_from,
    ast.Assign: _Extractor._assign,
    ast.AnnAssign: _Extractor._ann_assign,
    ast.AugAssign: _Extractor._aug_assign,
    ast.Expr: _Extractor._expr_stmt,
    ast.Return: _Extractor._value_stmt,
    ast.For: _Extractor._for,
    ast.AsyncFor: _Extractor._for,
    ast.With: _Extractor._with,
    ast.AsyncWith: _Extractor._with,
    ast.If: _Extractor._if,
    ast.While: _Extractor._if,
    ast.Try: _Extractor._try,
    ast.Global: _Extractor._global,
    ast.Nonlocal: _Extractor._global,
    ast.Delete: _Extractor._delete,
    ast.Pass: lambda self, stmt: None,
    ast.Break: lambda self, stmt: None,
    ast.Continue: lambda self, stmt: None,
}
if hasattr(ast, "TryStar"):
    _STATEMENTS[ast.TryStar] = _Extractor._try
_STATEMENTS[ast.Match] = _Extractor._match
_SIMPLE = (ast.Name, ast.Attribute, ast.Constant)
_COMPREHENSIONS = frozenset({ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp})
_EXPR_FIELDS: dict[type, tuple[str, ...]] = {}


def _expr_fields(t: type) -> tuple[str, ...]:
    """Child fields worth walking for an expression type (not ``ctx``, not plain values)."""
    fields = tuple(f for f in t._fields if f not in ("ctx", "op", "ops", "conversion", "kind"))  # type: ignore[attr-defined]
    _EXPR_FIELDS[t] = fields
    return fields
