"""Facts about a legacy code base, gathered statically: frozen values, no behaviour.

This module is the contract between fact extraction (``analyzers.parse`` and friends:
source text in, :class:`ModuleFacts` out) and everything downstream (graph,
capabilities, scoring, reports). Facts are plain frozen dataclasses of strings, ints
and tuples so that they are hashable, cheap to cache (JSON) and safe to send between
worker processes.

Names are *qualified names* (``shop.orders.views.checkout``,
``shop.orders.models.Order.save``), relative to the analysed root. A call whose
target cannot be determined keeps ``callee=None``: it is counted and shown as
unresolved, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from analyzers._make import maker

__all__ = [
    "POSITIONAL_KINDS",
    "ArgKind",
    "Argument",
    "AtomicRegion",
    "BindingKind",
    "Call",
    "CeleryTask",
    "DefKind",
    "Definition",
    "Diagnostic",
    "EffectKind",
    "GlobalState",
    "GlobalUse",
    "ImportFact",
    "Location",
    "ManagerFact",
    "ModelBinding",
    "ModelFact",
    "ModuleFacts",
    "OrmAccess",
    "OrmOp",
    "Param",
    "RawSql",
    "Relation",
    "SettingsRead",
    "SideEffect",
    "SignalHandler",
    "UrlRoute",
    "Variable",
]


@dataclass(frozen=True, slots=True)
class Location:
    """Where a fact was found: path relative to the analysed root, 1-based line."""

    path: str
    line: int
    col: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


class DefKind(StrEnum):
    FUNCTION = "function"
    METHOD = "method"
    CLASS = "class"


# the ``Param.kind``s a call can pass by position
POSITIONAL_KINDS = frozenset({"positional_only", "positional"})


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    annotation: str | None = None  # source text of the annotation, if any
    # positional_only | positional | keyword_only | var_positional | var_keyword
    kind: str = "positional"
    has_default: bool = False
    # the default is None, a str, a number or a bool (a tuple of those): a call that
    # leaves the parameter out passes a JSON-able value
    default_json: bool = False
    # the body changes it in place (``p.append(x)``, ``p[k] = v``, ``p.x = v``, also
    # from a nested function): what a caller passed is not what it holds afterwards
    mutated: bool = False


@dataclass(frozen=True, slots=True)
class Definition:
    """A function, method or class defined in a module."""

    qualname: str
    kind: DefKind
    loc: Location
    end_line: int
    parent: str | None = None  # enclosing class or function, by qualname
    params: tuple[Param, ...] = ()
    decorators: tuple[str, ...] = ()  # resolved qualnames where possible, else source text
    # classes only: resolved base qualnames where possible; "?Name" when bound nowhere
    # visible, "<expr>" when not a name at all
    bases: tuple[str, ...] = ()
    is_async: bool = False
    docstring: str | None = None
    # functions: what a call returns, when known (the return annotation, else the one
    # type every ``return`` agrees on); a reference before linking, after linking the
    # qualname of the class whose instance it returns, else None
    returns: str | None = None

    @property
    def size(self) -> int:
        return self.end_line - self.loc.line + 1

    def with_resolved(
        self, decorators: tuple[str, ...], bases: tuple[str, ...], returns: str | None
    ) -> Definition:
        """This definition with its late fields replaced: what parsing resolves after its
        first pass and linking resolves across modules. ``dataclasses.replace`` without
        its generic (slow) path: both run once per definition of the project."""
        return _new_definition(
            self.qualname,
            self.kind,
            self.loc,
            self.end_line,
            self.parent,
            self.params,
            decorators,
            bases,
            self.is_async,
            self.docstring,
            returns,
        )


_new_definition = maker(Definition)


@dataclass(frozen=True, slots=True)
class ImportFact:
    """``bound_as`` in this module refers to ``target`` (absolute dotted name)."""

    target: str
    bound_as: str
    loc: Location
    conditional: bool = False  # under if/try/function body rather than module top level


class ArgKind(StrEnum):
    """Can this argument travel in a JSON event?"""

    # literal, str/int/float/bool/None, list/dict of those, or a name of such; text by
    # construction (a request's form and query string, ``str()``, a str's methods); the
    # types the shim carries tagged (Decimal, datetime, date, UUID: shims.encoding)
    JSON = "json"
    ORM_INSTANCE = "orm_instance"  # a model instance: could travel as its pk
    QUERYSET = "queryset"  # a QuerySet or manager: a lazy query, could travel as its pks
    REQUEST = "request"  # an HttpRequest: never serialisable
    FILE = "file"  # open file, uploaded file
    CALLABLE = "callable"  # lambda, function reference
    LOCK = "lock"  # threading / db locks, connections
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Argument:
    """One argument at a call site and whether it could travel in a JSON event.

    ``ref`` is the *reference* the argument expression denotes (see :class:`Call`):
    before linking a dotted path such as ``shop.orders.models.Order()`` (an instance of
    ``Order``); after linking the qualname of a function/class/variable argument, or
    ``shop.orders.cart.Cart()`` for an instance of a project class that is not a model
    (models give ``kind=ORM_INSTANCE`` and ``model`` instead), else None. It is what
    lets linking decide ``ORM_INSTANCE`` or ``CALLABLE`` across modules.
    """

    text: str  # source text, truncated
    kind: ArgKind
    keyword: str | None = None  # "**" for a ``**mapping`` spread
    model: str | None = None  # for ORM_INSTANCE, QUERYSET: the model's qualname when known
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Call:
    """One call site. ``caller`` is the enclosing function/method (or the module).

    Straight out of :func:`analyzers.parse.facts_from_source`, ``callee`` is a
    *reference*: the callee as written with its first name resolved through this
    module's imports and scopes (``shop.orders.models.Order.objects.filter().first``,
    ``shop.orders.views.View().render`` for ``self.render``, ``^shop.a.B^.save`` for
    ``super().save`` in class ``shop.a.B``). :func:`analyzers.link.link` (run by
    :func:`analyzers.collect.collect`) turns it into a qualname of a definition in the
    project, a qualname outside it (``django.core.mail.send_mail``), or ``None``.

    Linked callees by construct: ``Order(...)`` -> the ``__init__`` found in the
    project's base chain, else the class itself; ``self.m()``/``cls.m()``/``super().m()``
    -> the method found along the bases (``django.db.models.Model.save`` when an
    external base is the only place left); ``Order.objects.filter()`` and chained
    queryset calls -> ``django.db.models.QuerySet.filter`` (the ORM access itself is an
    :class:`OrmAccess`), a method of a custom manager or QuerySet declared on the model
    -> the project's method, any other name -> ``None``; ``task.delay()``/
    ``.apply_async()`` -> the task function; ``EmailMessage(...).send()`` ->
    ``django.core.mail.EmailMessage.send``. A decorated function calls its decorator
    (``text`` ``@audited``, at the decorator's line, no arguments).
    """

    caller: str
    callee: str | None  # resolved qualname; None when unresolved
    text: str  # the callee expression as written, e.g. ``self.render``
    loc: Location
    args: tuple[Argument, ...] = ()
    result_used: bool = True  # False for a bare expression statement
    in_atomic: bool = False  # lexically inside transaction.atomic (decorator or with)


@dataclass(frozen=True, slots=True)
class Relation:
    """A relation field on a model: ``name = models.ForeignKey(target, related_name=...)``."""

    name: str
    target: str  # model qualname after linking; before: a reference or "app.Model"/"self"
    kind: str  # ForeignKey | OneToOneField | ManyToManyField
    related_name: str | None = None


@dataclass(frozen=True, slots=True)
class ManagerFact:
    """A manager declared in a model's body: ``objects = OrderManager()``.

    ``manager`` is the manager class, ``queryset`` the QuerySet class whose methods the
    manager also offers (``Mgr.from_queryset(QS)()``: both; ``QS.as_manager()``: only
    ``queryset``). References before linking, qualnames (or external names) after.
    Linking uses them to resolve ``Order.objects.recent()`` to the project's method
    instead of inventing a QuerySet method of that name.
    """

    name: str
    manager: str | None = None
    queryset: str | None = None


@dataclass(frozen=True, slots=True)
class ModelFact:
    """A Django model class and the table it maps to.

    Per module, every class with bases is a *candidate* (``ModuleFacts.model_candidates``):
    only linking can follow a base chain into other modules to see whether it reaches
    ``django.db.models.Model``. Linked facts list real models in ``ModuleFacts.models``.
    """

    qualname: str
    app_label: str
    table: str  # Meta.db_table or the default ``<app_label>_<lowercased name>``
    loc: Location
    abstract: bool = False
    relations: tuple[str, ...] = ()  # FK/M2M/O2O targets: qualnames or "app.Model" strings
    relation_fields: tuple[Relation, ...] = ()
    proxy: bool = False
    managers: tuple[ManagerFact, ...] = ()  # declared in the class body, in order
    # the other fields: (name, field class as written, last part: ``CharField``), and
    # the names bound to anything else but a manager: (name, "")
    value_fields: tuple[tuple[str, str], ...] = ()


class OrmOp(StrEnum):
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True, slots=True)
class OrmAccess:
    """A read or write of a model's table: through the ORM, or raw SQL naming it.

    Raw SQL (``cursor.execute("UPDATE orders_order ...")``, method ``execute``) sets
    ``table`` to the table as written, and ``model`` to the model mapped to it, or ""
    when no analysed model is.
    """

    function: str
    model: str  # model qualname (or "app.Model" string when only that is known)
    op: OrmOp
    method: str  # filter, get, create, save, update, bulk_create, execute, ...
    loc: Location
    select_for_update: bool = False  # also ``SELECT ... FOR UPDATE`` in raw SQL
    # the table as raw SQL names it, or of a Django model known without its source
    # (``auth_user``)
    table: str | None = None


@dataclass(frozen=True, slots=True)
class RawSql:
    """A string literal passed to ``<x>.execute()``/``executemany()``, before linking.

    ``callee`` is the call's reference. Linking reads the tables ``sql`` names (see
    :mod:`analyzers.sql`) into :class:`OrmAccess` entries when the callee is a Django
    database cursor's method, and drops it otherwise: a string passed to any other
    ``execute`` is not SQL we know of, and is never tokenized.
    """

    function: str
    callee: str
    method: str  # execute / executemany
    loc: Location
    sql: str


class BindingKind(StrEnum):
    """How a class or call names a model that Django then reads or writes for it."""

    META = "meta"  # ``class Meta: model = X``: a ModelForm's or ModelSerializer's save()
    ATTR = "attr"  # ``model = X`` in a class body: generic views, admin inlines
    ADMIN = "admin"  # ``@admin.register(X)`` / ``admin.site.register(X, OwnerAdmin)``
    # one of the values a ``get_queryset()``/``get_serializer_class()``... override
    # returns: a model the view may serve, never the one its hooks are passed
    RETURNS = "returns"
    # ``AUTH_USER_MODEL = "app.Model"`` (settings module or class): the user model
    USER = "user"


@dataclass(frozen=True, slots=True)
class ModelBinding:
    """A model the framework reads or writes on a class's behalf, before linking.

    The writes an ORM-only view misses: ``form.save()`` of a ModelForm writes its
    ``Meta.model``; an ``UpdateView`` with ``model = Order`` writes ``Order``; the
    admin writes every model registered with it. ``owner`` and ``model`` are
    references (``owner`` a class, or the module/function making a registration
    without an admin class); ``callee`` the registering call's (``ADMIN`` only);
    ``attr`` the class attribute or method that names it (``model``, ``queryset``,
    ``get_serializer_class``; ``ATTR`` and ``RETURNS``), as Python looks each one up
    along the class's bases on its own. Linking keeps what holds up (the owner's
    bases decide) as :class:`OrmAccess` entries, or, for ``META``, as what ``save()``
    on an instance writes.
    """

    owner: str
    kind: BindingKind
    model: str
    loc: Location
    callee: str | None = None
    attr: str = ""


@dataclass(frozen=True, slots=True)
class UrlRoute:
    """A route to a view: ``path()``/``re_path()``/``url()``, or a Django REST framework
    router's ``register(prefix, ViewSet, basename=...)`` (``pattern`` the prefix,
    ``name`` the basename). Before linking, ``router`` is a ``register`` call's
    reference: linking keeps the route only if that is a DRF router's method, and
    marks it ``"router"``. A route's ``name`` carries its URLconf's ``app_name``
    (``shop:detail``), as ``reverse()`` is given it."""

    pattern: str
    view: str | None  # resolved view qualname
    name: str | None
    loc: Location
    include: str | None = None  # included urlconf module, for include()
    router: str | None = None  # a register call's reference; after linking "router"


@dataclass(frozen=True, slots=True)
class SignalHandler:
    receiver: str  # handler function qualname
    signal: str  # e.g. django.db.models.signals.post_save
    sender: str | None
    loc: Location


@dataclass(frozen=True, slots=True)
class CeleryTask:
    qualname: str
    loc: Location
    name: str | None = None


@dataclass(frozen=True, slots=True)
class AtomicRegion:
    function: str
    loc: Location
    end_line: int
    kind: str  # "decorator" | "with"


class EffectKind(StrEnum):
    MAIL = "mail"
    HTTP = "http"
    FILE = "file"
    SUBPROCESS = "subprocess"
    IMAGE = "image"
    CACHE = "cache"


@dataclass(frozen=True, slots=True)
class SideEffect:
    function: str
    kind: EffectKind
    callee: str
    loc: Location


@dataclass(frozen=True, slots=True)
class GlobalState:
    """A module-level mutable value (dict/list/set literal or constructor), or a name
    some function rebinds under ``global`` (kind ``other``: a counter, a lazy singleton)."""

    qualname: str
    loc: Location
    kind: str  # dict | list | set | other


@dataclass(frozen=True, slots=True)
class Variable:
    """A module-level name bound by assignment, with the reference of its value's type;
    or an instance attribute, ``pkg.mod.Class.name``, assigned through ``self`` in the
    class's methods or annotated in its body (None: of no one known type).

    ``type_ref`` is e.g. ``celery.Celery()`` for ``app = Celery("shop")``: linking uses
    it to see that ``@app.task`` is a Celery task and what ``app.send_task`` calls, and
    that ``self.mailer.send()`` after ``self.mailer = Mailer()`` calls ``Mailer.send``.
    """

    qualname: str
    loc: Location
    type_ref: str | None = None


@dataclass(frozen=True, slots=True)
class GlobalUse:
    function: str
    # GlobalState qualname; before linking a reference (``m._S`` for ``m._S.append()``
    # through an imported module), kept by linking only if it names a GlobalState
    name: str
    loc: Location
    writes: bool


@dataclass(frozen=True, slots=True)
class SettingsRead:
    function: str
    name: str
    loc: Location


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A file that could not be analysed, and why. Never an exception."""

    path: str
    reason: str
    line: int | None = None

    @property
    def where(self) -> str:
        """``path:line``, or the path alone when the failure has no line (binary, size)."""
        return self.path if self.line is None else f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class ModuleFacts:
    """Everything gathered from one module.

    Two stages (see :mod:`analyzers.link`). Straight from
    :func:`analyzers.parse.facts_from_source`, names are *references* resolved through
    this module only; ``models``, ``orm``, ``tasks`` and ``effects`` are empty (they
    need other modules: is this base chain a model? is that name a re-export?);
    ``urls``/``signals``/``global_uses``/``model_candidates`` hold candidates. After
    linking (what :func:`analyzers.collect.collect` returns) references are qualnames
    or None, those fields are filled, candidates that did not hold up are dropped and
    ``model_candidates`` is empty (the models are in ``models``).
    """

    module: str
    path: str
    lines: int
    is_test: bool = False
    definitions: tuple[Definition, ...] = ()
    imports: tuple[ImportFact, ...] = ()
    calls: tuple[Call, ...] = ()
    models: tuple[ModelFact, ...] = ()
    orm: tuple[OrmAccess, ...] = ()
    urls: tuple[UrlRoute, ...] = ()
    signals: tuple[SignalHandler, ...] = ()
    tasks: tuple[CeleryTask, ...] = ()
    atomics: tuple[AtomicRegion, ...] = ()
    effects: tuple[SideEffect, ...] = ()
    globals: tuple[GlobalState, ...] = field(default=())
    global_uses: tuple[GlobalUse, ...] = ()
    settings_reads: tuple[SettingsRead, ...] = ()
    variables: tuple[Variable, ...] = ()
    model_candidates: tuple[ModelFact, ...] = ()
    raw_sql: tuple[RawSql, ...] = ()  # before linking only (then in ``orm``)
    model_bindings: tuple[ModelBinding, ...] = ()  # before linking only (then in ``orm``)
    is_package: bool = False  # an ``__init__.py``: relative imports start from itself
    # before linking only: every name read as a value rather than called, where a
    # function or method of that name may be called with no call site showing it:
    # ``~f`` as written in the module (``register(f)``, ``HOOKS = [f]``, ``return f``;
    # ``~views.refund`` through an imported module), ``.publish`` an object's
    # attribute (``self.publish``, ``getattr(obj, "publish")``), a reference (a name a
    # function imports), ``*Class`` a class whose ``getattr(self, name)`` reads a
    # computed name. Linking resolves them (``link._values_read``)
    value_names: frozenset[str] = frozenset()
