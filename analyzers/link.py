"""Cross-module resolution ("linking"): references in, qualnames and Django facts out.

A module alone records *references* (see :class:`~analyzers.facts.Call`). Only with
every module at hand can we follow ``from .models import Order`` re-exports, find an
inherited method, see that a base chain defined three modules away reaches
``django.db.models.Model``, or know that ``order.items`` is a reverse relation.

A reference is interpreted left to right as a small abstract value (:data:`_State`):
a module, a function, a class, an instance of a class, a model manager or queryset,
an external dotted name. Anything the rules below cannot justify becomes ``None``
(unresolved): a method that happens to share a name with an imported function is not
that function, an unknown attribute stays unknown. Results are memoised per
reference string: modules repeat the same few thousand references.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import NamedTuple

from analyzers._make import maker
from analyzers.facts import (
    POSITIONAL_KINDS,
    ArgKind,
    Argument,
    BindingKind,
    Call,
    CeleryTask,
    Definition,
    DefKind,
    EffectKind,
    GlobalUse,
    Location,
    ManagerFact,
    ModelBinding,
    ModelFact,
    ModuleFacts,
    OrmAccess,
    OrmOp,
    RawSql,
    SideEffect,
    SignalHandler,
    UrlRoute,
)
from analyzers.parse import (
    JOIN,
    JSON_OF,
    MUTABLE_LITERALS,
    RELATION_KINDS,
    STAR_PARAM_TYPES,
    holds_mutable,
    join_kinds,
    kind_of_type,
    maybe_temporal,
    request_text_owner,
    split_join,
)
from analyzers.sql import tables_of

# enum members bound once: ``ArgKind.JSON`` goes through the enum's class
# machinery on every use (~15x a global lookup), on the hottest paths
_ARG_CALLABLE = ArgKind.CALLABLE
_ARG_ORM_INSTANCE = ArgKind.ORM_INSTANCE
_ARG_QUERYSET = ArgKind.QUERYSET
_ARG_UNKNOWN = ArgKind.UNKNOWN
_ARG_JSON = ArgKind.JSON
_ARG_FILE = ArgKind.FILE
_DEF_CLASS = DefKind.CLASS
_DEF_FUNCTION = DefKind.FUNCTION
_DEF_METHOD = DefKind.METHOD
_EFFECT_CACHE = EffectKind.CACHE
_EFFECT_FILE = EffectKind.FILE
_EFFECT_HTTP = EffectKind.HTTP
_EFFECT_IMAGE = EffectKind.IMAGE
_EFFECT_MAIL = EffectKind.MAIL
_EFFECT_SUBPROCESS = EffectKind.SUBPROCESS
_ORM_READ = OrmOp.READ
_ORM_WRITE = OrmOp.WRITE

__all__ = ["link"]

# (kind, value[, extra...]). kinds: mod def cls inst ext extinst extattr var task, and
# the ORM's: ("mgr", model, method classes, queryset class) a manager; ("qs", model,
# queryset class) a queryset; ("qm", model, name, queryset class, override) a method of
# Django's QuerySet/Manager API (override: the project's method of that name, or "");
# ("cm", method, *receiver) a method of a project manager/queryset class reached
# through a manager or queryset; ("pair", model) what ``get_or_create`` and
# ``update_or_create`` return, ``(row, created)``; ("vqs", model, queryset class) a
# queryset of ``values()``/``values_list()`` rows (dicts, tuples: no instances), whose
# API methods are ("qm", ..., "values"); ("vm", method, name, model) a generic view's
# own ``get_queryset``/``get_object`` (``method``: the framework's), of the model it
# serves. Method classes: space-separated
# project classes whose methods the manager offers; "" where only Django's API is known.
_State = tuple[str, ...]
# a call site of a function or method: its arguments, and the callee as written (a
# method's: is an instance passed ahead of them, as its first parameter? see
# _Linker._receiver)
_Site = tuple[tuple[Argument, ...], str]

_MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})
_CONTRIB_MODELS = {
    "django.contrib.auth.models.User": ("auth", "auth_user"),
    "django.contrib.auth.models.Group": ("auth", "auth_group"),
    "django.contrib.auth.models.Permission": ("auth", "auth_permission"),
    "django.contrib.contenttypes.models.ContentType": ("contenttypes", "django_content_type"),
    "django.contrib.sessions.models.Session": ("sessions", "django_session"),
    "django.contrib.sites.models.Site": ("sites", "django_site"),
    "django.contrib.admin.models.LogEntry": ("admin", "django_admin_log"),
    "django.contrib.flatpages.models.FlatPage": ("flatpages", "django_flatpage"),
    "django.contrib.redirects.models.Redirect": ("redirects", "django_redirect"),
}
"""Django's own models (app label, table), known without analysing Django: a
monolith's ``User.objects.create_user(...)`` writes ``auth_user``, a table the admin
and every login also write. Analysed, Django's source decides instead."""
_DEFAULT_USER = "django.contrib.auth.models.User"
_USER_MANAGER = {"create_user": OrmOp.WRITE, "create_superuser": OrmOp.WRITE}
_USER_MANAGER |= {"get_by_natural_key": OrmOp.READ, "with_perm": OrmOp.READ}
"""Django's ``UserManager`` methods, offered by the user model's manager (Django's
``User``, or a project model on ``AbstractUser`` without its own): each gives a row
but ``with_perm``, a queryset."""
_CUSTOM_USER_BASES = frozenset(
    {
        "!django.contrib.auth.models.AbstractUser",
        "!django.contrib.auth.models.AbstractBaseUser",
        "!django.contrib.auth.base_user.AbstractBaseUser",
    }
)
_NOWHERE = Location("", 0, 0)
_MODEL_ROOTS = frozenset({"django.db.models.Model", "django.db.models.base.Model"})
_EXTERNAL_MODEL_BASES = frozenset(
    {
        "django.contrib.auth.models.AbstractUser",
        "django.contrib.auth.models.AbstractBaseUser",
        "django.contrib.auth.base_user.AbstractBaseUser",
        "django.contrib.auth.models.PermissionsMixin",
        "django.contrib.auth.models.User",
        "django.contrib.auth.models.Group",
        "django.contrib.gis.db.models.Model",
    }
)
_QS_READ = frozenset(
    [
        "filter",
        "exclude",
        "all",
        "order_by",
        "select_related",
        "prefetch_related",
        "distinct",
        "only",
        "defer",
        "using",
        "annotate",
        "alias",
        "none",
        "reverse",
        "select_for_update",
        "get_queryset",
        "union",
        "intersection",
        "difference",
        "extra",
        "raw",
    ]
)
"""Queryset methods whose result is a queryset of the same model's rows (iterating or
indexing it gives instances). ``dates``/``datetimes``/``values``/``values_list`` are
reads too (``_READ``), but their rows are not instances: their result stays unknown."""
_INSTANCE = frozenset(["get", "first", "last", "earliest", "latest", "create"])
_INSTANCE |= frozenset("a" + name for name in _INSTANCE)
"""Methods whose result is one row: ``aget`` and the other async forms too, since
``await`` is transparent to a local's type (``o = await Order.objects.aget(pk=1)``)."""
_VALUES = frozenset(["values", "values_list", "dates", "datetimes"])
"""Queryset methods whose result is still a queryset of the model, of rows that are
not instances: ``.values().annotate(n=Count("id")).order_by("-n")`` reads on."""
_ROWS = frozenset(["iterator", "aiterator"])
"""Not a queryset, but iterating it (``for``/``async for``) gives the model's rows."""
_PAIRS = frozenset(["get_or_create", "update_or_create", "aget_or_create", "aupdate_or_create"])
"""Methods whose result is ``(row, created)``: its item (``obj, created = ...``,
``...[0]``; parse types only the first) is a row."""
_QS_API = frozenset(
    [
        # QuerySet (Django 5.2's public names, async ones included)
        "aaggregate", "abulk_create", "abulk_update", "acontains", "acount", "acreate",
        "adelete", "aearliest", "aexists", "aexplain", "afirst", "aget", "aget_or_create",
        "aggregate", "ain_bulk", "aiterator", "alast", "alatest", "alias", "all",
        "annotate", "as_manager", "aupdate", "aupdate_or_create", "bulk_create",
        "bulk_update", "complex_filter", "contains", "count", "create", "dates",
        "datetimes", "db", "defer", "delete", "difference", "distinct", "earliest",
        "exclude", "exists", "explain", "extra", "filter", "first", "get",
        "get_or_create", "in_bulk", "intersection", "iterator", "last", "latest", "none",
        "only", "order_by", "ordered", "prefetch_related", "query", "raw",
        "resolve_expression", "reverse", "select_for_update", "select_related", "union",
        "update", "update_or_create", "using", "values", "values_list",
        # Manager
        "check", "contribute_to_class", "db_manager", "deconstruct", "from_queryset",
        "get_queryset",
        # related managers
        "add", "remove", "clear", "set", "aadd", "aremove", "aclear", "aset",
    ]
)  # fmt: skip
"""What a manager or queryset of any model has. Any other name is the project's
(a custom manager's or queryset's method) or unknown: never a made-up QuerySet method."""
_READ = _QS_READ | frozenset(
    [
        "get",
        "first",
        "last",
        "earliest",
        "latest",
        "count",
        "exists",
        "values",
        "values_list",
        "dates",
        "datetimes",
        "aggregate",
        "in_bulk",
        "iterator",
        "contains",
        "explain",
    ]
)
_READ |= frozenset("a" + name for name in _READ if "a" + name in _QS_API)
"""The async forms (Django 4.1+: ``acount``, ``aget``, ``aexists``...): the same
queries, awaited."""
_WRITE = frozenset(
    [
        "create",
        "update",
        "delete",
        "bulk_create",
        "bulk_update",
        "get_or_create",
        "update_or_create",
        "add",
        "remove",
        "clear",
        "set",
    ]
)
_WRITE |= frozenset("a" + name for name in _WRITE)
_INSTANCE_ORM = {"save": _ORM_WRITE, "delete": _ORM_WRITE, "refresh_from_db": _ORM_READ}
_INSTANCE_ORM |= {"a" + name: op for name, op in _INSTANCE_ORM.items()}
_QS_CALLEE = "django.db.models.QuerySet."
_DIRECT_CALLEES = frozenset({"def", "ext", "extattr", "bound", "vm"})
"""State kinds whose callee is the state's own name (see ``_Linker.callee``)."""
_TASK_DECORATORS = frozenset(
    {
        "celery.shared_task",
        "celery.task",
        "celery.app.shared_task",
        "celery.Celery.task",
        "celery.app.base.Celery.task",
    }
)
_TASK_ATTRS = frozenset({"delay", "apply_async", "s", "si", "signature", "run"})
_EXTERNAL_ITEMS = {
    "django.core.cache.caches": "django.core.cache.backends.base.BaseCache",
    "django.db.connections": "django.db.backends.base.base.BaseDatabaseWrapper",
}
"""What indexing these external handlers gives (``caches["default"]`` is a cache, as
``django.core.cache.cache`` is): the class Django documents for the item. Any other
subscript of an external name stays unresolved."""
_ADMIN_REGISTER = frozenset(
    {
        "django.contrib.admin.register",
        "django.contrib.admin.decorators.register",
        "django.contrib.admin.site.register",
        "django.contrib.admin.sites.site.register",
        "django.contrib.admin.AdminSite.register",  # a project AdminSite subclass's
        "django.contrib.admin.sites.AdminSite.register",
    }
)
_GENERIC_VIEWS = {
    "CreateView": (OrmOp.WRITE,),
    "UpdateView": (OrmOp.READ, OrmOp.WRITE),
    "DeleteView": (OrmOp.READ, OrmOp.WRITE),
    "DetailView": (OrmOp.READ,),
    "ListView": (OrmOp.READ,),
}
"""Django's generic views with ``model = X``: what their own ``get``/``post`` do to
X's table (``Base*`` forms too)."""
_R, _W, _RW = (OrmOp.READ,), (OrmOp.WRITE,), (OrmOp.READ, OrmOp.WRITE)
_DRF_VIEWS = {
    "ModelViewSet": _RW,
    "ReadOnlyModelViewSet": _R,
    "CreateModelMixin": _W,
    "ListModelMixin": _R,
    "RetrieveModelMixin": _R,
    "UpdateModelMixin": _RW,
    "DestroyModelMixin": _RW,
    "CreateAPIView": _W,
    "ListAPIView": _R,
    "RetrieveAPIView": _R,
    "UpdateAPIView": _RW,
    "DestroyAPIView": _RW,
    "ListCreateAPIView": _RW,
    "RetrieveUpdateAPIView": _RW,
    "RetrieveDestroyAPIView": _RW,
    "RetrieveUpdateDestroyAPIView": _RW,
}
"""Django REST framework's generic views, viewsets and mixins: what they do to the
model of their ``queryset`` or ``serializer_class``."""
_INLINES = frozenset({"StackedInline", "TabularInline", "InlineModelAdmin"})
_SAVING_FORMS = frozenset(
    {"ModelForm", "BaseModelForm", "ModelSerializer", "HyperlinkedModelSerializer"}
)
"""Classes whose ``save()`` writes their ``Meta.model`` (Django, Django REST framework)."""
_OBJECT_NAMES = frozenset(dir(object))
"""What ``object`` defines: any other name looked up past an explicit ``(object)``
base is the subclass's or a sibling mixin's, unknown here, never ``object``'s."""
_PROPERTIES = frozenset(
    {
        "builtins.property",
        "functools.cached_property",
        "django.utils.functional.cached_property",
    }
)
"""Decorators whose method is read as an attribute of the instance: its value is what
the getter returns (``@cached_property def client(self): return Session()``)."""


class _Hook(NamedTuple):
    """A method a generic view calls with its form or serializer (``form``) or with the
    row it serves as the first argument after ``self``: which framework bases call it,
    and the methods and class attribute that name what it is passed, in the order the
    framework's own methods defer (``get_object()`` reads ``get_queryset()``, which
    reads ``queryset``)."""

    prefix: str
    bases: frozenset[str]
    names: tuple[str, ...]
    form: bool


_FORM_VIEWS = frozenset(
    {
        "FormMixin",
        "ModelFormMixin",
        "ProcessFormView",
        "BaseFormView",
        "FormView",
        "BaseCreateView",
        "CreateView",
        "BaseUpdateView",
        "UpdateView",
        "BaseDeleteView",
        "DeleteView",
    }
)
_VIEW_SERVES = {
    "get_object": ("get_object", "get_queryset", "queryset", "model"),
    "get_queryset": ("get_queryset", "queryset", "model"),
}
"""A generic view's methods that return the model it serves, and what each defers to."""
_SERVING_VIEWS = (
    _FORM_VIEWS
    | frozenset(_GENERIC_VIEWS)
    | {
        "SingleObjectMixin",
        "MultipleObjectMixin",
        "BaseDetailView",
        "BaseListView",
    }
)
_SERVING_DRF = frozenset(_DRF_VIEWS) | {"GenericAPIView", "GenericViewSet"}
_DJANGO_FORM = _Hook("!django.views.generic", _FORM_VIEWS, ("get_form_class", "form_class"), True)
_DRF_SERIALIZER = _Hook(
    "!rest_framework.", frozenset(_DRF_VIEWS), ("get_serializer_class", "serializer_class"), True
)
_VIEW_HOOKS = {
    "form_valid": _DJANGO_FORM,
    "form_invalid": _DJANGO_FORM,
    "perform_create": _DRF_SERIALIZER,
    "perform_update": _DRF_SERIALIZER,
    "perform_destroy": _DRF_SERIALIZER._replace(
        names=("get_object", "get_queryset", "queryset"), form=False
    ),
}
_DRF_ROUTERS = ("rest_framework.routers.", "rest_framework_nested.routers.")
_ON_COMMIT = "django.db.transaction.on_commit"
_ON_COMMIT_TEXT = " (on commit)"  # parse's text of the call on_commit makes later
_CURSOR = "django.db.backends.utils.CursorWrapper"
_SAME_TEXT = "strip lstrip rstrip lower upper title capitalize casefold replace zfill"
_SAME_TEXT += " center ljust rjust removeprefix removesuffix expandtabs swapcase translate"
_DATETIMES = ("now", "utcnow", "today", "strptime", "combine", "fromisoformat", "fromtimestamp")
_EXTERNAL_RESULTS = {
    "logging.getLogger": "logging.Logger",
    "django.db.connection.cursor": _CURSOR,
    "django.db.backends.base.base.BaseDatabaseWrapper.cursor": _CURSOR,  # connections[...]
    "django.utils.timezone.now": "datetime.datetime",
    "django.utils.timezone.localtime": "datetime.datetime",
    "django.utils.timezone.localdate": "datetime.date",
    **{f"datetime.datetime.{name}": "datetime.datetime" for name in _DATETIMES},
    "datetime.date.today": "datetime.date",
    "datetime.datetime.date": "datetime.date",
    **{f"builtins.str.{name}": "builtins.str" for name in _SAME_TEXT.split()},
    **{f"builtins.bytes.{name}": "builtins.bytes" for name in _SAME_TEXT.split()},
    "builtins.str.format": "builtins.str",
    "builtins.str.join": "builtins.str",
    "builtins.str.encode": "builtins.bytes",
    "builtins.bytes.decode": "builtins.str",
    "builtins.str.split": "builtins.list",
    "builtins.str.rsplit": "builtins.list",
    "builtins.str.splitlines": "builtins.list",
}
"""What calling these external functions or methods gives: a logger
(``logger.info(...)`` is ``logging.Logger.info``), a datetime, a string (so
``name.strip().lower()`` is ``builtins.str.lower``), a database cursor, whose
``execute``/``executemany`` then run the raw SQL of :class:`RawSql` facts."""
_EXTERNAL_ATTRS = {
    **{f"django.http.HttpRequest.{name}": "django.http.QueryDict" for name in ("GET", "POST")},
    "django.http.HttpRequest.META": "builtins.dict",
    "django.http.HttpRequest.COOKIES": "builtins.dict",
    "django.http.HttpRequest.session": "django.contrib.sessions.backends.base.SessionBase",
    "django.http.HttpRequest.headers": "django.http.request.HttpHeaders",
    "rest_framework.request.Request.query_params": "django.http.QueryDict",
}
"""The documented type of these external attributes: ``request.GET.get(...)`` is
``django.http.QueryDict.get``. See also :func:`_framework_attr`."""
_DRF_REQUEST_HOLDERS = tuple(
    f"rest_framework.{name}." for name in ("views", "generics", "viewsets", "mixins")
)
"""Django REST framework modules whose classes hold ``self.request`` (a serializer's is
in ``self.context``)."""
_ROUTER = "router"  # ``UrlRoute.router`` after linking: a DRF router registered it
_CATALOGS = frozenset({"JavaScriptCatalog", "JSONCatalog"})  # django.views.i18n's views
_VIEW_CALL_ATTRS = {"args": "builtins.tuple", "kwargs": "builtins.dict"}
# what a model field's value is, by the field's class: text, numbers, booleans, JSON
# and the types the shim carries tagged (Decimal, date, datetime, UUID) travel in an
# event; a file field's value is a FieldFile; a TimeField, DurationField or BinaryField
# value (time, timedelta, bytes) and a custom field's stay unknown
_MODEL_KINDS = frozenset({_ARG_ORM_INSTANCE, _ARG_QUERYSET})
# an argument's text for a list, dict or set display or comprehension (``_loc_text``)
_MUTABLE_DISPLAYS = frozenset(
    {"<list>", "<dict>", "<set>", "<listcomp>", "<dictcomp>", "<setcomp>"}
)
_TEMPORAL_FIELDS = frozenset({"DateField", "DateTimeField"})
_FIELD_KINDS = {
    **dict.fromkeys(
        [
            "CharField",
            "TextField",
            "SlugField",
            "EmailField",
            "URLField",
            "GenericIPAddressField",
            "IPAddressField",
            "FilePathField",
            "CommaSeparatedIntegerField",
            "IntegerField",
            "BigIntegerField",
            "SmallIntegerField",
            "PositiveIntegerField",
            "PositiveBigIntegerField",
            "PositiveSmallIntegerField",
            "AutoField",
            "BigAutoField",
            "SmallAutoField",
            "BooleanField",
            "NullBooleanField",
            "FloatField",
            "DecimalField",
            "DateField",
            "DateTimeField",
            "UUIDField",
            "JSONField",
        ],
        _ARG_JSON,
    ),
    "FileField": _ARG_FILE,
    "ImageField": _ARG_FILE,
}
# decorators under which a call returns what the function returns
_KEEPS_RESULT = frozenset(
    {
        "builtins.staticmethod",
        "builtins.classmethod",
        "builtins.property",
        "functools.lru_cache",
        "functools.cache",
        "functools.cached_property",
        "django.utils.functional.cached_property",
    }
)
# a form field's cleaned value, where it differs from the model field of the same name
# (else as :data:`_FIELD_KINDS`): a choice is text, a model choice a row or a queryset,
# a typed choice whatever its ``coerce`` makes
_FORM_FIELD_KINDS = {
    "ChoiceField": _ARG_JSON,
    "MultipleChoiceField": _ARG_JSON,
    "RegexField": _ARG_JSON,
    "SplitDateTimeField": _ARG_JSON,
    "ModelChoiceField": _ARG_ORM_INSTANCE,
    "ModelMultipleChoiceField": _ARG_QUERYSET,
    "TypedChoiceField": _ARG_UNKNOWN,
    "TypedMultipleChoiceField": _ARG_UNKNOWN,
}
# Django's own user models' fields, for ``request.user.email`` (their source is not
# the project's: the fields are not in its facts)
_USER_FIELDS = {
    **dict.fromkeys(("password", "username", "first_name", "last_name", "email"), "CharField"),
    **dict.fromkeys(("is_staff", "is_active", "is_superuser"), "BooleanField"),
    **dict.fromkeys(("last_login", "date_joined"), "DateTimeField"),
}
_BASE_USER_FIELDS = {"password": "CharField", "last_login": "DateTimeField"}
_CONTRIB_FIELDS = {
    "django.contrib.auth.models.User": _USER_FIELDS,
    "django.contrib.auth.models.AbstractUser": _USER_FIELDS,
    "django.contrib.auth.base_user.AbstractBaseUser": _BASE_USER_FIELDS,
    "django.contrib.auth.models.AbstractBaseUser": _BASE_USER_FIELDS,
}
_REQUESTS = frozenset({"django.http.HttpRequest", "rest_framework.request.Request"})
_SETTINGS = "django.conf.settings."
# Django's settings whose default is a str or bool, for a project that does not set them,
# and that projects set to a str or bool too (not ``LOGIN_URL``: often ``reverse_lazy()``)
_JSON_SETTINGS = frozenset(
    {
        "DEFAULT_FROM_EMAIL",
        "SERVER_EMAIL",
        "EMAIL_SUBJECT_PREFIX",
        "LANGUAGE_CODE",
        "TIME_ZONE",
        "DEBUG",
        "USE_TZ",
        "DEFAULT_CHARSET",
    }
)
_REQUEST_USERS = frozenset({"django.http.HttpRequest.user", "rest_framework.request.Request.user"})
_COMMANDS = frozenset({"BaseCommand", "AppCommand", "LabelCommand"})
_FRAMEWORK_PARAMS = {
    "add_arguments": (
        "!django.core.management",
        _COMMANDS,
        "django.core.management.base.CommandParser()",
    ),
}
"""Methods a framework base calls with an argument of a documented type, first after
``self`` (a management command's ``add_arguments(self, parser)``)."""
_EXTERNAL_CLASSES = frozenset(
    {
        *(
            f"builtins.{name}"
            for name in ("list", "dict", "set", "frozenset", "tuple", "str", "bytes")
        ),
        *(f"builtins.{name}" for name in ("bytearray", "int", "float", "complex", "bool")),
        "collections.defaultdict",
        "collections.deque",
    }
)
"""External classes named in lower case: calling one builds an instance (``set()``,
``defaultdict(list)``), as calling a capitalised external name does."""
_BUILTIN_ATTRS = {
    f"{kind.__module__}.{kind.__qualname__}": frozenset(dir(kind))
    for kind in (
        *(list, dict, set, frozenset, tuple, str, bytes, bytearray, int, float, complex, bool),
        collections.defaultdict,
        collections.deque,
        collections.Counter,
        collections.OrderedDict,
    )
}
"""What the builtin types have: ``names.save()`` on a list names nothing. The types
are the running interpreter's own (no analysed code is read), so a method a later
Python adds counts only under that Python."""
_SQL_CALLEES = frozenset({_CURSOR + ".execute", _CURSOR + ".executemany"})
_EFFECT_PREFIXES: tuple[tuple[str, EffectKind], ...] = (
    ("django.core.mail.", _EFFECT_MAIL),
    ("smtplib.", _EFFECT_MAIL),
    ("requests.", _EFFECT_HTTP),
    ("httpx.", _EFFECT_HTTP),
    ("urllib.request.", _EFFECT_HTTP),
    ("urllib3.", _EFFECT_HTTP),
    ("http.client.", _EFFECT_HTTP),
    ("aiohttp.", _EFFECT_HTTP),
    ("subprocess.", _EFFECT_SUBPROCESS),
    ("os.system", _EFFECT_SUBPROCESS),
    ("os.popen", _EFFECT_SUBPROCESS),
    ("os.spawn", _EFFECT_SUBPROCESS),
    ("os.exec", _EFFECT_SUBPROCESS),
    ("PIL.", _EFFECT_IMAGE),
    ("cv2.", _EFFECT_IMAGE),
    ("imageio.", _EFFECT_IMAGE),
    ("django.core.cache.cache.", _EFFECT_CACHE),
    ("django.core.cache.caches", _EFFECT_CACHE),
    ("django.core.cache.cache", _EFFECT_CACHE),
    ("django.core.cache.backends.", _EFFECT_CACHE),
    ("builtins.open", _EFFECT_FILE),
    ("io.open", _EFFECT_FILE),
    ("shutil.", _EFFECT_FILE),
    ("tempfile.", _EFFECT_FILE),
    ("os.remove", _EFFECT_FILE),
    ("os.unlink", _EFFECT_FILE),
    ("os.rename", _EFFECT_FILE),
    ("os.replace", _EFFECT_FILE),
    ("os.makedirs", _EFFECT_FILE),
    ("os.mkdir", _EFFECT_FILE),
    ("os.rmdir", _EFFECT_FILE),
    ("pathlib.Path.write_", _EFFECT_FILE),
    ("pathlib.Path.read_", _EFFECT_FILE),
    ("pathlib.Path.open", _EFFECT_FILE),
    ("pathlib.Path.unlink", _EFFECT_FILE),
    ("pathlib.Path.mkdir", _EFFECT_FILE),
    ("django.core.files.storage.default_storage.", _EFFECT_FILE),
)
_MAX_DEPTH = 24  # re-export chains longer than this are treated as cycles
# positional constructors, every field passed (see analyzers._make)
_Call = maker(Call)
_Argument = maker(Argument)


_ALL_EFFECT_PREFIXES = tuple(prefix for prefix, _ in _EFFECT_PREFIXES)


def effect_of(callee: str) -> EffectKind | None:
    """The side effect a call to ``callee`` (a resolved qualname) has, if any."""
    if not callee.startswith(_ALL_EFFECT_PREFIXES):  # one C-level test for the common case
        return None
    for prefix, kind in _EFFECT_PREFIXES:
        if callee.startswith(prefix):
            return kind
    return None


def link(modules: Sequence[ModuleFacts]) -> tuple[ModuleFacts, ...]:
    """Resolve every module's references against all the others. Pure; never raises."""
    linker = _Linker(modules)
    return tuple(linker.module(m) for m in modules)


class _Linker:
    def __init__(self, modules: Sequence[ModuleFacts]) -> None:
        self.modules = {m.module: m for m in modules}
        # modules and the packages above them, __init__.py or not (namespace packages)
        self.packages = {m.module.rpartition(".")[0] for m in modules} | set(self.modules)
        for name in list(self.packages):
            while "." in name:
                name = name.rpartition(".")[0]
                self.packages.add(name)
        self.packages.discard("")
        self.defs: dict[str, Definition] = {}
        self.imports: dict[str, dict[str, str]] = {}
        self.stars: dict[str, list[str]] = {}
        self.variables: dict[str, str | None] = {}
        # setting -> the types its settings modules' assignments give (None: unknown)
        self.setting_types: dict[str, list[str | None]] | None = None
        self.candidates: dict[str, ModelFact] = {}
        self.mutable: set[str] = set()
        self.redefined: set[str] = set()  # qualnames defined more than once
        for m in modules:
            for d in m.definitions:
                if d.qualname in self.defs:
                    self.redefined.add(d.qualname)
                self.defs[d.qualname] = d
            bound: dict[str, str] = {}
            for imp in m.imports:
                if imp.bound_as == "*":
                    self.stars.setdefault(m.module, []).append(imp.target)
                else:
                    bound.setdefault(imp.bound_as, imp.target)
            self.imports[m.module] = bound
            variables = self.variables
            for v in m.variables:  # assignments that disagree: no one type
                qual = v.qualname
                if qual not in variables:
                    variables[qual] = v.type_ref
                elif variables[qual] != v.type_ref:
                    variables[qual] = None
            for c in m.model_candidates:
                self.candidates[c.qualname] = c
            self.mutable.update(g.qualname for g in m.globals)
        self.contrib: dict[str, tuple[str, str]] = {}  # Django's models, not analysed
        self.user_settings: set[str] = set()  # what ``AUTH_USER_MODEL`` assignments name
        self.user_model: str | None = None  # AUTH_USER_MODEL's qualname, once known
        self.memo: dict[str, _State | None] = {}
        self.symbol_memo: dict[str, _State | None] = {}
        self.mro_memo: dict[str, tuple[str, ...]] = {}
        self.models: dict[str, ModelFact] = {}
        self.reverse: dict[tuple[str, str], _State] = {}
        # model -> its declared managers: (name, method classes, queryset class)
        self.declared: dict[str, tuple[tuple[str, str, str], ...]] = {}
        self.served: dict[str, _State] = {}  # manager/queryset class -> its one receiver
        self.by_label: dict[tuple[str, str], str] = {}
        self.param_memo: dict[tuple[str, str], str | None] = {}
        # (function, parameter) -> what every call site passes it (see _param_value)
        self.value_memo: dict[tuple[str, str], Argument | None] = {}
        # what any module reads as a value (see ModuleFacts.value_names): the project
        # functions it names, and the names it could not tie to one
        self.escaped: set[str] = set()
        self.value_names: set[str] = set()
        self.value_attrs: set[str] = set()  # an object's attributes read: methods
        self.dynamic: set[str] = set()  # classes a ``getattr(self, name)`` reads from
        self.values_known = False  # the four above are filled (``_values_read``)
        self.open_classes: set[str] | None = None
        # function -> each call site's arguments and callee (see _Site); None: one
        # that types nothing (a function bound to a class: the instance comes first)
        self.sites: dict[str, list[_Site | None]] | None = None
        # the names production code calls where linking names no project definition:
        # ``f()`` (a star import's) could be any project function or method ``f``;
        # ``x.f()`` (an unresolved receiver, one typed by a parameter) any method
        self.unseen: set[str] = set()
        self.unseen_methods: set[str] = set()
        self.building = False  # the call sites are being found: not all known yet
        self.def_names: collections.Counter[str] | None = None
        self.by_table: dict[str, str] | None = None  # table (lowercase) -> model
        self.enclosing: set[str] | None = None  # definitions that define others
        # class -> the model its ``save()`` writes (ModelForm, ModelSerializer); None
        # when its ``Meta.model`` names none we know (an external or computed model)
        self.saves: dict[str, str | None] = {}
        # class -> {attribute or method: reference}, and (class, method) -> what each
        # of its ``return``s names ("": unknown)
        self.serves: dict[str, dict[str, str]] = {}
        self.returns_of: dict[tuple[str, str], list[str]] = {}
        for m in modules:
            for b in m.model_bindings:
                if b.kind is BindingKind.ATTR:
                    self.serves.setdefault(b.owner, {})[b.attr] = b.model
                elif b.kind is BindingKind.RETURNS:
                    self.returns_of.setdefault((b.owner, b.attr), []).append(b.model)
                elif b.kind is BindingKind.USER:
                    self.user_settings.add(b.model)
        self.models = self._models()
        # Django's own models where neither Django's source nor a project model of the
        # same label and name (an app labelled ``sites`` with a ``Site``) stands in
        taken = {(m.app_label, q.rpartition(".")[2]) for q, m in self.models.items()}
        self.contrib = {
            q: (label, table)
            for q, (label, table) in _CONTRIB_MODELS.items()
            if q not in self.defs and (label, q.rpartition(".")[2]) not in taken
        }
        self.memo.clear()  # what the bases' interpretation saw had no Django model yet
        self.symbol_memo.clear()
        self.mro_memo.clear()
        for q, (label, table) in self.contrib.items():
            self.models[q] = ModelFact(q, label, table, _NOWHERE)
        self.models = {q: self._proxy_table(m) for q, m in self.models.items()}
        self.by_label = {
            (m.app_label, m.qualname.rpartition(".")[2]): q for q, m in self.models.items()
        }
        self.by_label.update(
            {
                (m.app_label.lower(), m.qualname.rpartition(".")[2].lower()): q
                for q, m in self.models.items()
            }
        )
        self.user_model = self._user_model()
        self.models = {q: self._relations(m) for q, m in self.models.items()}
        self.reverse = self._reverse()
        self._declare_managers()
        self.memo.clear()
        for m in modules:
            for b in m.model_bindings:
                if b.kind is BindingKind.META and _framework_base(self.mro(b.owner), _SAVING_FORMS):
                    self.saves[b.owner] = self._model_named(b.model) if b.model else None
        # what was interpreted so far saw no form's model: a view hook's parameter
        # (``_hook_argument``) may have been typed without it
        self.memo.clear()
        self.param_memo.clear()
        self.value_memo.clear()
        # what was found while the models were not all known yet is found again
        self.sites = None
        self.unseen.clear()
        self.unseen_methods.clear()
        for found in (self.escaped, self.value_names, self.value_attrs, self.dynamic):
            found.clear()
        self.values_known = False
        self.def_names = None
        self.open_classes = None

    # ------------------------------------------------------------------ symbols
    def _symbol(self, dotted: str, depth: int = 0) -> _State | None:
        """A plain dotted name (no calls) to what it names, following imports."""
        if depth > _MAX_DEPTH:
            return None
        key = dotted
        if depth == 0 and key in self.symbol_memo:
            return self.symbol_memo[key]
        parts = dotted.split(".")
        state: _State | None = None
        i = 0
        while i < len(parts) and ".".join(parts[: i + 1]) in self.packages:
            i += 1
        if i:
            state = ("mod", ".".join(parts[:i]))
        else:
            state, i = ("ext", parts[0]), 1
        for name in parts[i:]:
            if state is None:
                break
            if state[0] == "var":  # an attribute of a variable is one of its value
                state = self._variable(state[1])
                if state is None:
                    break
            state = self._attr(state, name, depth)
        if depth == 0:
            self.symbol_memo[key] = state
        return state

    def _module_attr(self, module: str, name: str, depth: int) -> _State | None:
        qual = f"{module}.{name}"
        d = self.defs.get(qual)
        if d is not None and d.parent is None:
            return ("cls" if d.kind is _DEF_CLASS else "def", qual)
        target = self.imports.get(module, {}).get(name)
        if target is not None and target != qual:
            return self._symbol(target, depth + 1)
        if qual in self.packages:
            return ("mod", qual)
        if qual in self.variables:
            return ("var", qual)
        for star in self.stars.get(module, ()):
            if star in self.modules and star != module:
                found = self._module_attr(star, name, depth + 1)
                if found is not None:
                    return found
        return None

    def mro(self, cls: str) -> tuple[str, ...]:
        """Depth-first, left-to-right base order (C3 differs only in diamonds)."""
        cached = self.mro_memo.get(cls)
        if cached is not None:
            return cached
        self.mro_memo[cls] = (cls,)  # cycle guard
        order = [cls]
        d = self.defs.get(cls)
        if d is None and cls in self.contrib:  # Django's model: its methods are Django's
            order.append("!" + cls)
        for base in d.bases if d is not None else ():
            state = self.interpret(base) if base[:1] not in ("<", "?") else None
            if state is None:
                order.append("?")
            elif state[0] == "cls":
                order.extend(b for b in self.mro(state[1]) if b not in order)
            elif state[0] == "ext":
                order.append("!" + state[1])
        result = tuple(order)
        self.mro_memo[cls] = result
        return result

    def _lookup(self, cls: str, name: str, skip_self: bool = False) -> _State | None:
        order = self.mro(cls)[1 if skip_self else 0 :]
        for i, k in enumerate(order):
            if k == "?":
                return None  # an unresolved base could define it: do not guess past it
            if k.startswith("!"):
                # the only opaque base left defines it (or nothing does): else ambiguous
                rest = order[i + 1 :]
                if any(r == "?" or r.startswith("!") for r in rest):
                    return None
                if k == "!builtins.object" and name not in _OBJECT_NAMES:
                    return None  # ``class M(object)``: a mixin's call into its siblings
                return ("extattr", f"{k[1:]}.{name}")
            qual = f"{k}.{name}"
            d = self.defs.get(qual)
            if d is not None:
                return ("cls" if d.kind is _DEF_CLASS else "def", qual)
        return None

    # ------------------------------------------------------------------ references
    def interpret(self, ref: str) -> _State | None:
        if ref in self.memo:
            return self.memo[ref]
        self.memo[ref] = None  # a reference that reaches itself resolves to nothing
        try:
            state = self._interpret(ref)
        except (RecursionError, ValueError, IndexError, KeyError, TypeError):
            state = None  # a malformed reference is unresolved, never a crash
        self.memo[ref] = state
        return state

    def _interpret(self, ref: str) -> _State | None:
        state: _State | None
        if ref[:1] == "=":  # a literal's value (a function's ``return "x"``): its type's
            literal = ref[len(JSON_OF) :] if ref.startswith(JSON_OF) else ""
            return self.interpret(literal) if literal else None
        if ref.startswith("%"):
            function, _, rest = ref[1:].partition("%")
            param = _split_suffix(rest.partition(".")[0])[0]
            param_type = self._param_type(function, param)
            if param_type is None:
                return None
            return self.interpret(param_type + rest[len(param) :])
        if ref.startswith("^"):
            cls, _, rest = ref[1:].partition("^")
            method, rest = _first_attr(rest)
            if method is None:
                return None
            state = self._lookup(cls, method, skip_self=True)
            if (state is None or state[0] == "extattr") and method in _QS_API:
                served = self.served.get(cls)  # super().get_queryset() in a manager
                if served is not None:
                    state = ("qm", served[1], method, served[-1], "")
            if state is not None and state[0] == "extattr" and method in _VIEW_SERVES:
                state = self._view_method(state, cls, method, 1)  # a view's super()
            pieces = rest
        elif ref.startswith("&"):  # ``get_class("checkout.views", "X")``: Oscar's loader
            label, _, rest = ref[1:].partition("&")
            first, _, rest = rest.partition(".")
            name, suffix = _split_suffix(first)
            qual = self._loaded(label, name)
            if qual is None:
                return None
            state = self._apply_suffix(self._symbol(qual), suffix)
            pieces = "." + rest if rest else ""
        elif ref.startswith("@"):
            label, _, rest = ref[1:].partition(".")
            model, _, rest = rest.partition(".")
            model_name, suffix = _split_suffix(model)
            qual = self.by_label.get((label, model_name)) or self.by_label.get(
                (label.lower(), model_name.lower())
            )
            if qual is None:
                return None
            state = self._apply_suffix(("cls", qual), suffix)
            pieces = "." + rest if rest else ""
        else:
            plain, pieces = _split_plain(ref)
            state = self._symbol(plain) if plain else None
            if state is not None and state[0] == "var":
                state = self._variable(state[1])
        return self._walk(state, pieces)

    def _walk(self, state: _State | None, pieces: str) -> _State | None:
        """Apply ``.name()[]...`` pieces (each starting with a dot) to ``state``."""
        for piece in pieces.split(".")[1:] if pieces else ():
            if state is None:
                return None
            name, suffix = _split_suffix(piece)
            if name:
                state = self._attr(state, name, 0)
                if state is not None and state[0] == "var":
                    state = self._variable(state[1])
            state = self._apply_suffix(state, suffix)
        return state

    def _loaded(self, label: str, name: str) -> str | None:
        """What django-oscar's ``get_class(label, name)`` loads: ``name`` from the
        project's own module ``<app>.<label>`` (a forked app) when one analysed module
        so named defines it, else from Oscar's ``oscar.apps.<label>``; None when two
        project modules could be meant."""
        found = [
            m
            for m in self.modules
            if (m == label or m.endswith("." + label)) and f"{m}.{name}" in self.defs
        ]
        forks = [m for m in found if not m.startswith("oscar.")]
        if len(forks) > 1:
            return None
        if forks:
            return f"{forks[0]}.{name}"
        return f"oscar.apps.{label}.{name}"

    def _variable(self, qual: str) -> _State | None:
        type_ref = self.variables.get(qual)
        if type_ref is None or type_ref == qual or type_ref.startswith(qual + "."):
            return ("var", qual)
        return self.interpret(type_ref)

    def _attr(self, state: _State, name: str, depth: int) -> _State | None:
        kind = state[0]
        if kind == "mod":
            return self._module_attr(state[1], name, depth)
        if kind == "ext":
            qual = f"{state[1]}.{name}"
            return ("cls", qual) if qual in self.contrib else ("ext", qual)
        if kind == "cls":
            if state[1] in self.models:
                manager = self._manager(state[1], name)
                if manager is not None:
                    return manager
            return self._lookup(state[1], name)
        if kind == "inst":
            if name == "__class__":  # ``self.__class__(...)``: a new instance, as ``self.m()``
                return ("cls", state[1])
            related = self._related(state[1], name)
            if related is not None:
                return related
            served = self.served.get(state[1])  # ``self`` in a manager of one model
            if served is not None:
                found = self._manager_attr(served, name)
                if found is not None:
                    return found
            attribute = self._instance_attribute(state[1], name)
            if attribute is not None:
                in_body = attribute[:1] == "~"  # set in the class body only
                value = (
                    self.interpret(attribute[1:] if in_body else attribute) if attribute else None
                )
                d = self.defs.get(value[1]) if in_body and value and value[0] == "def" else None
                if d is not None and d.kind is _DEF_FUNCTION and not self._is_task(d):
                    # ``on_save = audit`` in a class body: a bound method, its first
                    # parameter the instance; the call reaches ``audit`` with the
                    # arguments shifted, so its call sites type none of them
                    return ("bound", d.qualname)
                return value
            found = self._lookup(state[1], name)
            if found is not None and found[0] == "def":
                d = self.defs[found[1]]
                if d.decorators and not _PROPERTIES.isdisjoint(d.decorators):
                    return self._called(found)  # a property's value: what its getter returns
            if found is not None and found[0] == "extattr" and name in _VIEW_SERVES:
                return self._view_method(found, state[1], name, 0)
            return found
        if kind == "extinst":
            qual = f"{state[1]}.{name}"
            known_attrs = _BUILTIN_ATTRS.get(state[1])
            if known_attrs is not None and name not in known_attrs:
                return None  # ``names.save()`` on a list: no such method
            if qual in _REQUEST_USERS and self.user_model:
                return ("inst", self.user_model)  # signed in (an AnonymousUser has no row)
            known = _EXTERNAL_ATTRS.get(qual)
            return ("extattr", qual) if known is None else ("extinst", known)
        if kind == "extattr":  # ``self.stdout`` of a command, then ``.write``
            known = _framework_attr(state[1])
            return None if known is None else self._attr(("extinst", known), name, depth)
        if kind in ("mgr", "qs", "vqs"):
            return self._manager_attr(state, name)
        if kind == "def":
            nested = self.defs.get(f"{state[1]}.{name}")  # a function's nested definition
            if nested is not None:
                return ("cls" if nested.kind is _DEF_CLASS else "def", nested.qualname)
            if name in _TASK_ATTRS:
                return ("task", state[1], name)
        return None

    def _instance_attribute(self, cls: str, name: str) -> str | None:
        """The type reference of ``x`` on ``cls``'s instances, assigned through ``self``
        in a method of it or of a project base (``self.mailer = Mailer()``) or
        annotated in a class body; "" when assigned but of no one known type; None when
        no project class assigns it (a method, or what an opaque base gives)."""
        for k in self.mro(cls):
            if k == "?" or k[0] == "!":
                return None
            qual = f"{k}.{name}"
            if qual in self.defs:
                return None
            if qual in self.variables:
                return self.variables[qual] or ""
        return None

    def _apply_suffix(self, state: _State | None, suffix: str) -> _State | None:
        """Apply ``()`` (a call), ``[]`` (an item) and ``[0]`` (the first item)."""
        i, end = 0, len(suffix)
        while i < end:
            if state is None:
                return None
            if suffix[i] == "(":
                state, i = self._called(state), i + 2
            else:
                first = suffix[i + 1] == "0"
                state, i = self._iterated(state, first), i + (3 if first else 2)
        return state

    def _called(self, state: _State) -> _State | None:
        kind = state[0]
        if kind == "cls":
            return ("inst", state[1])
        if kind == "def" or kind == "bound":
            d = self.defs.get(state[1])
            return self.interpret(d.returns) if d is not None and d.returns else None
        if kind == "ext" and state[1] == "django.contrib.auth.get_user_model":
            return ("cls", self.user_model) if self.user_model else None
        if kind == "ext" or kind == "extattr":
            result = _EXTERNAL_RESULTS.get(state[1])
            if result is not None:
                return ("extinst", result)
            last = state[1].rpartition(".")[2]
            if kind == "ext" and (last[:1].isupper() or state[1] in _EXTERNAL_CLASSES):
                return ("extinst", state[1])
            return None
        if kind == "qm":
            if state[2] in _VALUES or (len(state) > 5 and state[2] in _QS_READ):
                return ("vqs", state[1], state[3])
            if len(state) > 5:  # ``values().first()``: a dict, not an instance
                return None
            if state[2] == "with_perm":  # the users with a permission
                return ("qs", state[1], state[3])
            if state[2] in _INSTANCE or state[2] in _USER_MANAGER:
                return ("inst", state[1])
            if state[2] in _QS_READ or state[2] in _ROWS:
                return ("qs", state[1], state[3])
            if state[2] in _PAIRS:
                return ("pair", state[1])
        if kind == "cm":
            return self._method_result(state)
        if kind == "vm":  # a generic view's ``get_queryset()``/``get_object()``
            return ("qs", state[3], "") if state[2] == "get_queryset" else ("inst", state[3])
        return None

    def _method_result(self, state: _State) -> _State | None:
        """What a project manager/queryset method returns, its ``self`` being the
        manager or queryset it was reached through (``return self.filter(...)``)."""
        d = self.defs.get(state[1])
        if d is None or not d.returns or d.parent is None:
            return None
        receiver, self_ref, returns = state[2:], d.parent + "()", d.returns
        if returns == self_ref:
            return receiver
        if returns.startswith(self_ref + "."):
            return self._walk(receiver, returns[len(self_ref) :])
        return self.interpret(returns)

    @staticmethod
    def _iterated(state: _State, first: bool = False) -> _State | None:
        """An item of ``state`` (``first``: the item at index 0)."""
        if state[0] == "qs":
            return ("inst", state[1])
        if state[0] == "pair":  # ``(row, created)``: only the first item is a row
            return ("inst", state[1]) if first else None
        if state[0] == "ext":
            item = _EXTERNAL_ITEMS.get(state[1])
            return ("extinst", item) if item is not None else None
        return None

    def callee(self, state: _State | None) -> str | None:
        if state is None:
            return None
        kind = state[0]
        if kind in _DIRECT_CALLEES:
            return state[1]
        if kind == "cls":
            init = self._lookup(state[1], "__init__")
            return init[1] if init is not None and init[0] == "def" else state[1]
        if kind == "qm":
            return state[4] or _QS_CALLEE + state[2]
        if kind in ("task", "cm"):
            return state[1]
        return None

    # ------------------------------------------------------------------ parameters
    def _param_type(self, function: str, name: str) -> str | None:
        """The instance type every known call site passes for an unannotated parameter.

        Only plain functions (a method's receiver shifts positions; it could also be
        called through a base class we cannot see), only when every call site in the
        project (tests aside) is known to pass an instance of the same class. One unknown call site,
        a ``*args`` spread or a defaulted parameter left out: no type.
        """
        key = (function, name)
        if key in self.param_memo:
            return self.param_memo[key]
        self.param_memo[key] = None  # recursion through the call graph: unknown
        found = self._infer_param(function, name)
        self.param_memo[key] = found
        return found

    def _infer_param(self, function: str, name: str) -> str | None:
        d = self.defs.get(function)
        if d is not None:  # ``*args``/``**kwargs``, also where a closure or lambda reads them
            for p in d.params:
                if p.name == name and p.kind in STAR_PARAM_TYPES:
                    return STAR_PARAM_TYPES[p.kind]
        if d is not None and d.kind is _DEF_METHOD and d.parent is not None:
            method = function.rpartition(".")[2]
            hook = _VIEW_HOOKS.get(method)
            given = _FRAMEWORK_PARAMS.get(method)
            if (hook or given) and len(d.params) > 1 and d.params[1].name == name:
                order = self.mro(d.parent)
                if hook is not None and _framework_base(order, hook.bases, hook.prefix):
                    return self._hook_argument(order, hook)
                if given is not None and _framework_base(order, given[1], given[0]):
                    return given[2]
        if d is None or d.kind is not _DEF_FUNCTION:
            return None
        if function in self.redefined:
            return None
        index, keyword = _binding(d, name)
        types: set[str] = set()
        sites = self._call_sites()
        if self.building:  # reached while they are found: what is known so far is not all
            return None
        for site in sites.get(function, ()):
            arg = None if site is None else _argument_for(site[0], keyword, index)
            state = self.interpret(arg.ref) if arg is not None and arg.ref else None
            if arg is not None and arg.kind is _ARG_ORM_INSTANCE and arg.model:
                state = ("inst", arg.model)
            if state is None or state[0] != "inst":
                return None
            types.add(state[1])
        return f"{types.pop()}()" if len(types) == 1 else None

    def _param_value(self, function: str, name: str) -> Argument | None:
        """The value every call site passes an unannotated parameter, as an argument
        (its kind, and the model of a row or queryset): the join of the sites' (see
        :func:`analyzers.parse.join_kinds`), a default left to stand counting as its
        literal. ``def charge(amount)`` called as ``charge(order.total)`` and
        ``charge(Decimal("0"))``: ``amount`` is JSON wherever ``charge`` passes it on.

        Only where every call is seen (:meth:`_only_called`), the function or method
        defined once, no decorator wrapping it, the parameter not changed in place
        (``items.append(row)``), with at least one call site in the project (tests
        aside), each one known: a ``*args`` spread or ``**kwargs`` that may hold the
        parameter, a list, dict or set literal, one unknown argument: None. A call
        site reached again while its own parameter is being decided (recursion) is
        unknown.
        """
        key = (function, name)
        memo = self.value_memo
        if key in memo:
            return memo[key]
        memo[key] = None
        found = self._infer_value(function, name)
        memo[key] = found
        return found

    def _infer_value(self, function: str, name: str) -> Argument | None:
        if self.building:  # reached while the call sites are found: not all known yet
            return None
        d = self.defs.get(function)
        if d is None or d.decorators or function in self.redefined:
            return None
        param = next((p for p in d.params if p.name == name), None)
        if param is None or param.kind in STAR_PARAM_TYPES or param.mutated:
            return None
        method = d.kind is _DEF_METHOD
        if method:
            if d.params[0].name == name or not self._closed_method(d):
                return None
        elif d.kind is not _DEF_FUNCTION:
            return None
        sites = self._call_sites().get(function)
        if not sites or not self._only_called(function):
            return None
        index, keyword = _binding(d, name)
        kinds: list[ArgKind] = []
        models: set[str] = set()
        for site in sites:
            if site is None:
                return None
            args, callee = site
            receiver = self._receiver(callee) if method else False
            if receiver is None:
                return None
            # an instance called first is the first parameter
            at = index - 1 if receiver and index is not None else index
            arg = _argument_for(args, keyword, at)
            if arg is None:  # left out: the default, unless a spread may pass it
                if not param.default_json or any(
                    a.keyword == "**" or a.text.startswith("<starred") for a in args
                ):
                    return None
                kinds.append(_ARG_JSON)
                continue
            if arg.text in _MUTABLE_DISPLAYS or (arg.ref is not None and holds_mutable(arg.ref)):
                return None
            one = self._argument(arg)
            if one.kind is _ARG_UNKNOWN:
                return None
            kinds.append(one.kind)
            if one.model is not None:
                models.add(one.model)
        kind = join_kinds(kinds)
        if kind is _ARG_UNKNOWN:
            return None
        model = models.pop() if len(models) == 1 and kind in _MODEL_KINDS else None
        return _Argument(name, kind, None, model, None)

    def _only_called(self, function: str) -> bool:
        """Is ``function`` called only where linking sees it called? By name, as
        nothing more is known where it is not: no module reads the name as a value
        (``register(f)``, ``HOOKS = [f]``, ``return f``, ``cb=f``, ``self.f`` passed
        on: whoever holds it may pass anything), applies it as a decorator, or calls
        it where linking names no project definition (a star import, an unresolved
        receiver, one typed by a parameter)."""
        self._call_sites()
        self._values_read()
        name = function.rpartition(".")[2]
        if function in self.escaped or name in self.value_names or name in self.value_attrs:
            return False
        if self.defs[function].kind is _DEF_METHOD:  # ``x.m()`` called
            return name not in self.unseen_methods
        return name not in self.unseen

    def _closed_method(self, d: Definition) -> bool:
        """Can the method ``d`` be called only as a call site names it? A private one
        (``_total``: no protocol, framework or library calls it; a public name may be
        a hook: a view's ``get``, a logging filter's ``filter``, a file's ``write``),
        not special (``__eq__``: operators call it), its name no other project
        definition's, its class no framework's subclass nor mixed into one (Django
        calls a model's ``_do_update``), nor one whose ``getattr(self, name)`` may
        reach it."""
        name = d.qualname.rpartition(".")[2]
        if name[:1] != "_" or name[:2] == "__" or d.parent is None:
            return False
        return self._def_names()[name] == 1 and d.parent not in self._open_classes()

    def _open_classes(self) -> set[str]:
        """Project classes another's code may call the methods of: every class in the
        order of one with a base outside the project (a framework's), and of one
        whose methods ``getattr(self, name)`` reads (with its subclasses)."""
        if self.open_classes is None:
            self._values_read()
            found: set[str] = set()
            for q, d in self.defs.items():
                if d.kind is not _DEF_CLASS:
                    continue
                order = self.mro(q)
                if any(k in self.dynamic for k in order) or any(
                    k != "!builtins.object" and (k[:1] in "!?" or k not in self.defs) for k in order
                ):
                    found.update(order)
            self.open_classes = found
        return self.open_classes

    def _hook_argument(self, order: tuple[str, ...], hook: _Hook) -> str | None:
        """What a generic view passes its ``form_valid``/``perform_create``... hook:
        an instance of the ModelForm or ModelSerializer it names (``hook.form``), or a
        row of the model it serves; None unless every way there agrees."""
        found = self._hook_values(order, 0, hook.names, hook.form)
        return found.pop() if found is not None and len(found) == 1 else None

    def _hook_values(
        self, order: tuple[str, ...], start: int, names: tuple[str, ...], form: bool
    ) -> set[str] | None:
        """What ``names[0]`` gives, looked up from ``order[start]`` on as Python does:
        a project override's returns (``super()``'s being what the next definer gives),
        or the class attribute; where no project class defines it, the framework's
        method reads the next name. None when one way is unknown (an unresolved base,
        a return of no known value)."""
        if not names:
            return set()
        name = names[0]
        for i in range(start, len(order)):
            k = order[i]
            if k == "?":
                return None  # an unresolved base could define it
            if k[0] == "!":
                break
            ref = self.serves.get(k, {}).get(name)
            if ref is None:
                continue
            if not name.startswith("get_"):  # the attribute
                value = self._hook_type(ref, form)
                return None if value is None else {value}
            out: set[str] = set()
            for returned in self.returns_of.get((k, name), ()):
                if returned.startswith("^") and returned[1:].partition("^")[2].startswith(
                    f".{name}()"
                ):
                    deeper = self._hook_values(order, i + 1, names, form)  # ``super()``'s
                    if deeper is None:
                        return None
                    out |= deeper
                    continue
                value = self._hook_type(returned, form) if returned else None
                if value is None:
                    return None
                out.add(value)
            return out
        return self._hook_values(order, 0, names[1:], form)

    def _view_method(self, found: _State, view: str, method: str, start: int) -> _State:
        """A generic view's own ``get_queryset()``/``get_object()`` (``found``, the
        framework's method, reached from ``view``'s MRO at ``start``): what it returns
        is the model the view serves, as its hooks are given (a queryset of it, a
        row); ``found`` itself when the view is no generic one or serves no one model."""
        order = self.mro(view)
        if not (
            _framework_base(order, _SERVING_VIEWS, "!django.views.generic")
            or _framework_base(order, _SERVING_DRF, "!rest_framework.")
        ):
            return found
        served = self._hook_values(order, start, _VIEW_SERVES[method], False)
        if served is None or len(served) != 1:
            return found
        return ("vm", found[1], method, served.pop()[:-2])

    def _hook_type(self, ref: str, form: bool) -> str | None:
        if form:
            state = self.interpret(ref)
            if state is not None and state[0] == "cls" and state[1] in self.saves:
                return f"{state[1]}()"
            return None
        model = self._model_served(ref)
        return None if model is None else f"{model}()"

    def _call_sites(self) -> dict[str, list[_Site | None]]:
        if self.sites is None:
            # set first: interpreting a callee may type a parameter by its call sites
            # (``_param_type``), which sees the sites found so far
            sites: dict[str, list[_Site | None]] = {}
            self.sites = sites
            self.building = True
            unseen, through = self.unseen, self.unseen_methods
            for m in self.modules.values():
                if m.is_test:  # tests pass fixtures and fakes: production callers decide
                    continue
                factories: set[tuple[int, int]] | None = None
                for call in m.calls:
                    callee = call.callee
                    if call.text[:1] == "@":
                        # a decorator factory's call (``@retry(3)``) passes none of the
                        # arguments the function gets: the factory's own call site (made
                        # by the module, where the decorator is) is the one that tells;
                        # a decorator itself (``@audited``) is given the function
                        if factories is None:
                            factories = {
                                (c.loc.line, c.loc.col) for c in m.calls if c.text[:1] != "@"
                            }
                        if (call.loc.line, call.loc.col) not in factories:
                            unseen.add(call.text.rpartition(".")[2].lstrip("@"))
                        continue
                    if callee is not None and callee[:1] == "%":
                        # a call through a parameter reaches a method, never a plain
                        # function: skipping it keeps inference from recursing into
                        # itself; the method it reaches is not known
                        through.add(call.text.rpartition(".")[2])
                        continue
                    state = None if callee is None else self.interpret(callee)
                    if state is None:
                        # ``f()`` (a star import's, a name bound where linking cannot
                        # see): any function ``f``; ``x.f()``: a method (a module
                        # the project imports is known)
                        text = call.text
                        if "." in text:
                            through.add(text.rpartition(".")[2])
                        else:
                            unseen.add(text)
                    elif state[0] == "def":
                        # a method's receiver: decided when its parameters are
                        sites.setdefault(state[1], []).append((call.args, callee or ""))
                    elif state[0] == "bound":  # a function bound to a class: shifted
                        sites.setdefault(state[1], []).append(None)
            through |= unseen
            self.building = False
        return self.sites

    def _values_read(self) -> None:
        """What the modules read as values (``ModuleFacts.value_names``), for
        :meth:`_only_called`: the project functions and methods they name, the
        attribute names of other objects, the names nothing here ties to one
        definition, and the classes a ``getattr(self, name)`` reads. Once, when
        first needed: linking's first pass (before the models are known) needs none."""
        if self.values_known:
            return
        self.values_known = True
        bare, attrs, escaped = self.value_names, self.value_attrs, self.escaped
        names = self._def_names()
        for m in self.modules.values():
            # ``try: from fast import f`` / ``except ImportError: from slow import f``:
            # linking ties ``f(...)`` to one of them; both escape
            bound: dict[str, set[str]] = {}
            for imp in m.imports:
                if imp.bound_as != "*":
                    bound.setdefault(imp.bound_as, set()).add(imp.target)
            for name, targets in bound.items():
                own = f"{m.module}.{name}"
                if (len(targets) > 1 or own in self.defs) and any(
                    t.rpartition(".")[2] in names for t in (*targets, own)
                ):
                    for target in (*targets, own):
                        state = self.interpret(target)
                        if state is not None and state[0] == "def":
                            escaped.add(state[1])
            for ref in m.value_names:
                first = ref[:1]
                if first == ".":
                    attrs.add(ref[1:])
                    continue
                if first == "*":  # ``getattr(self, name)`` in this class
                    self.dynamic.add(ref[1:])
                    continue
                last = ref.rpartition(".")[2].lstrip("~")
                if last not in names:
                    continue  # no project function or method has the name
                # ``~name``, ``~views.refund``: as written in the module, else a
                # reference (a name a function imports)
                state = self.interpret(f"{m.module}.{ref[1:]}" if first == "~" else ref)
                if state is None:
                    bare.add(last)
                elif state[0] == "def" or state[0] == "bound":
                    escaped.add(state[1])

    def _def_names(self) -> collections.Counter[str]:
        """How many project functions and methods have each name."""
        counts = self.def_names
        if counts is None:
            counts = self.def_names = collections.Counter(
                q.rpartition(".")[2] for q, f in self.defs.items() if f.kind is not _DEF_CLASS
            )
        return counts

    def _receiver(self, callee: str) -> bool | None:
        """Does the call ``callee`` of a method pass an instance first (``obj.m(...)``,
        ``super().m(...)``), or the class's own method the instance explicitly
        (``Cart.add(cart, ...)``)? None when what it is called on is not known."""
        if callee[:1] == "^":
            return True
        head = callee.rpartition(".")[0]
        state = self.interpret(head) if head else None
        if state is None:
            return None
        if state[0] == "inst":
            return True
        return False if state[0] == "cls" else None

    # ------------------------------------------------------------------ models
    def _models(self) -> dict[str, ModelFact]:
        return {q: c for q, c in self.candidates.items() if self._is_model(q)}

    def _proxy_table(self, model: ModelFact) -> ModelFact:
        """A proxy model reads and writes its concrete parent's table (``Meta.proxy``):
        ``OpenOrder.objects.update()`` writes ``orders_order``, not ``orders_openorder``.
        A parent outside the analysed code leaves the table as parsed (unknown)."""
        if not model.proxy:
            return model
        for base in self.mro(model.qualname)[1:]:
            contrib = self.contrib.get(base.removeprefix("!"))
            if contrib is not None:  # a proxy of Django's ``User``: ``auth_user``
                return replace(model, table=contrib[1])
            parent = self.candidates.get(base)
            if parent is not None and not parent.abstract and not parent.proxy:
                return replace(model, table=parent.table)
        return model

    def _is_model(self, cls: str) -> bool:
        for k in self.mro(cls)[1:]:
            name = k[1:] if k.startswith("!") else k
            if name in _MODEL_ROOTS or name in _EXTERNAL_MODEL_BASES:
                return True
        return False

    def _user_model(self) -> str | None:
        """The model ``AUTH_USER_MODEL`` names in the settings we analysed (every such
        assignment agreeing), else Django's ``User`` unless the project defines a
        user model of its own (then settings we did not see name it: unknown); None
        when they disagree or name a model we do not know."""
        if not self.user_settings:
            custom = any(
                not m.abstract and not m.proxy and not _CUSTOM_USER_BASES.isdisjoint(self.mro(q))
                for q, m in self.models.items()
            )
            return _DEFAULT_USER if _DEFAULT_USER in self.models and not custom else None
        found = {self._model_named(t) for t in self.user_settings}
        return found.pop() if len(found) == 1 else None

    def _relations(self, model: ModelFact) -> ModelFact:
        if not model.relation_fields:
            return model
        fields = tuple(
            replace(r, target=self._model_ref(r.target, model)) for r in model.relation_fields
        )
        return replace(model, relation_fields=fields, relations=tuple(r.target for r in fields))

    def _model_ref(self, target: str, model: ModelFact) -> str:
        """``"self"``, ``"Model"``, ``"app.Model"`` or a reference -> the model's qualname."""
        if target == "self":
            return model.qualname
        if target == "django.conf.settings.AUTH_USER_MODEL" and self.user_model:
            return self.user_model
        if "." not in target:
            qual = self.by_label.get((model.app_label, target))
            return qual or f"{model.app_label}.{target}"
        label, _, name = target.rpartition(".")
        qual = self.by_label.get((label, name))
        if qual is not None:
            return qual
        state = self._symbol(target)
        return state[1] if state is not None and state[0] == "cls" else target

    def _reverse(self) -> dict[tuple[str, str], _State]:
        """``order.items`` / ``order.orderitem_set``: reverse accessors per target model."""
        reverse: dict[tuple[str, str], _State] = {}
        for q, m in self.models.items():
            for r in m.relation_fields:
                if r.target not in self.models or r.related_name == "+":
                    continue
                lower = q.rpartition(".")[2].lower()
                if r.kind == "OneToOneField":
                    reverse[(r.target, r.related_name or lower)] = ("inst", q)
                else:
                    reverse[(r.target, r.related_name or f"{lower}_set")] = ("mgr", q)
        return reverse

    def _related(self, model: str, name: str) -> _State | None:
        m = self.models.get(model)
        if m is None:
            return None
        for r in m.relation_fields:
            if r.name == name and r.target in self.models:
                if r.kind == "ManyToManyField":
                    return self._manager(r.target, "_default_manager")
                return ("inst", r.target)
        for k in self.mro(model):
            found = self.reverse.get((k, name))
            if found is not None:  # a related manager subclasses the default manager
                return self._manager(found[1], "_default_manager") if found[0] == "mgr" else found
        return None

    # ------------------------------------------------------------------ managers
    def _declare_managers(self) -> None:
        """Managers declared on models (``objects = Mgr()``), by their project classes;
        and which of those classes serve exactly one concrete model, whose table their
        ``self.filter(...)`` then queries (a class serving several: not known)."""
        for q, m in self.models.items():
            declared, kept = [], []
            for g in m.managers:
                mcls = self._project_class(g.manager)
                qcls = self._project_class(g.queryset)
                if g.queryset is None:  # ``name = X()``: a manager only if X is one
                    if mcls and not self._is_manager(mcls):
                        continue
                    if not mcls and not (g.manager or "").endswith("Manager"):
                        continue
                    qcls = self._queryset_of(mcls)
                    methods = mcls
                else:  # from_queryset / as_manager: the QuerySet's methods too
                    methods = f"{mcls} {qcls}".strip()
                declared.append((g.name, methods, qcls))
                offered = self._resolved(g.queryset) or self._made_from(mcls) or None
                kept.append(ManagerFact(g.name, self._resolved(g.manager), offered))
            if declared:
                self.declared[q] = tuple(declared)
            if m.managers:  # what was not a manager (a field, a helper) is dropped
                self.models[q] = replace(m, managers=tuple(kept))
        serving: dict[str, set[_State]] = {}
        for q, m in self.models.items():
            if m.abstract:
                continue
            seen: set[str] = set()
            for k in self.mro(q):
                for name, methods, qcls in self.declared.get(k, ()):
                    if name in seen:
                        continue
                    seen.add(name)
                    as_qs = ("qs", q, qcls)
                    in_qs = self.mro(qcls) if qcls else ()
                    for cls in methods.split():
                        receiver = as_qs if cls == qcls else ("mgr", q, methods, qcls)
                        for base in self.mro(cls):
                            if base in self.defs:  # a from_queryset manager's QS base: qs
                                serving.setdefault(base, set()).add(
                                    as_qs if base in in_qs else receiver
                                )
                    if qcls:
                        for base in self.mro(qcls):
                            if base in self.defs:
                                serving.setdefault(base, set()).add(("qs", q, qcls))
        self.served = {c: next(iter(s)) for c, s in serving.items() if len(s) == 1}

    def _project_class(self, ref: str | None) -> str:
        state = self.interpret(ref) if ref else None
        return state[1] if state is not None and state[0] == "cls" else ""

    def _resolved(self, ref: str | None) -> str | None:
        return None if ref is None else self._name(ref)

    def _is_manager(self, cls: str) -> bool:
        return cls.endswith("Manager") or any(
            k.startswith("!") and k.endswith("Manager") for k in self.mro(cls)
        )

    def _queryset_of(self, manager: str) -> str:
        """The project QuerySet class a manager's ``get_queryset`` returns, if known;
        else the one it was made from (``_made_from``)."""
        method = self._project_method(manager, "get_queryset") if manager else None
        d = self.defs.get(method) if method else None
        state = self.interpret(d.returns) if d is not None and d.returns else None
        if state is not None and state[0] == "inst":
            return state[1]
        return self._made_from(manager)

    def _made_from(self, manager: str) -> str:
        """The project QuerySet a manager class was made from with
        ``Manager.from_queryset(QS)`` (parsing gives it the bases ``(QS, Manager)``),
        directly or through a project base; else ""."""
        for base in self.mro(manager)[1:] if manager else ():
            if base == "?" or base.startswith("!"):
                break
            if any(k.startswith("!") and k.endswith(".QuerySet") for k in self.mro(base)):
                return base
        return ""

    def _project_method(self, cls: str, name: str) -> str | None:
        """The method ``name`` defined by ``cls`` or a project base before any opaque one."""
        for k in self.mro(cls):
            if k == "?" or k.startswith("!"):
                return None
            d = self.defs.get(f"{k}.{name}")
            if d is not None:
                return None if d.kind is _DEF_CLASS else d.qualname
        return None

    def _manager(self, model: str, name: str) -> _State | None:
        """``Model.<name>``: a declared manager (inherited ones too), else Django's."""
        if name == "_base_manager":  # always a plain Manager (without base_manager_name)
            return ("mgr", model, "", "")
        for k in self.mro(model):
            for declared, methods, qcls in self.declared.get(k, ()):
                if declared == name or name == "_default_manager":
                    return ("mgr", model, methods, qcls)
        return ("mgr", model, "", "") if name in _MANAGERS else None

    def _manager_attr(self, state: _State, name: str) -> _State | None:
        """A manager's or queryset's attribute: the project's method (its manager or
        queryset class), else Django's API, else unknown (``None``), never invented."""
        model = state[1]
        if name == "model":  # ``self.model(...)`` in a manager builds an instance
            return ("cls", model)
        if state[0] == "mgr":
            methods, qcls = state[2], state[3]
        else:
            methods = qcls = state[2]
        values = ("values",) if state[0] == "vqs" else ()
        for cls in methods.split():
            found = self._project_method(cls, name)
            if found is not None:
                if name in _QS_API:  # an override: it runs, and it is still that API call
                    return ("qm", model, name, qcls, found, *values)
                return ("cm", found, *state)
        if name in _QS_API:
            return ("qm", model, name, qcls, "", *values)
        users = (self.user_model, _DEFAULT_USER)  # Django's ``User`` has a UserManager
        if name in _USER_MANAGER and model in users and state[0] == "mgr":
            return ("qm", model, name, qcls, "django.contrib.auth.models.UserManager." + name)
        return None

    # ------------------------------------------------------------------ per module
    def module(self, m: ModuleFacts) -> ModuleFacts:
        calls, orm = self._calls(m)
        if m.raw_sql:
            orm += tuple(self._raw_sql(m.raw_sql))
        if m.model_bindings:
            orm += tuple(self._bound(m.model_bindings))
        if self.contrib:  # Django's models: their tables, which no analysed model gives
            orm = tuple(
                replace(a, table=self.contrib[a.model][1]) if a.model in self.contrib else a
                for a in orm
            )
        defs = tuple(self._definition(d) for d in m.definitions)
        return replace(
            m,
            definitions=defs,
            calls=calls,
            models=tuple(
                self.models[c.qualname] for c in m.model_candidates if c.qualname in self.models
            ),
            orm=orm,
            urls=tuple(self._url(u) for u in m.urls if u.router is None or self._router(u.router)),
            signals=tuple(self._signals(m.signals)),
            tasks=tuple(self._tasks(defs)),
            effects=tuple(self._effects(calls)),
            global_uses=tuple(self._global_uses(m)),
            model_candidates=(),  # decided: the models are in ``models`` now
            raw_sql=(),  # decided: database cursors' SQL is in ``orm`` now
            model_bindings=(),  # decided: what the framework does for a class is in ``orm``
            value_names=frozenset(),  # decided: in the arguments' kinds
        )

    def _calls(self, m: ModuleFacts) -> tuple[tuple[Call, ...], tuple[OrmAccess, ...]]:
        # The hottest loop of linking (every call site of the project): the common
        # cases of ``callee`` and ``_orm`` are decided inline, without a method call.
        out: list[Call] = []
        orm: list[OrmAccess] = []
        unknown, row = _ARG_UNKNOWN, _ARG_ORM_INSTANCE  # ``request.user``: its model
        memo, interpret, callee_of = self.memo, self.interpret, self.callee
        direct, instance_orm = _DIRECT_CALLEES, _INSTANCE_ORM
        previous: str | None = None  # the callee of the call before this one
        for call in m.calls:
            ref = call.callee
            # ``f (on commit)`` follows its registration: kept if that is Django's
            if (
                call.text[-1:] == ")"
                and previous != _ON_COMMIT
                and call.text.endswith(_ON_COMMIT_TEXT)
            ):
                continue
            state = None if ref is None else memo[ref] if ref in memo else interpret(ref)
            args = call.args
            for a in args:
                if a.ref is not None and (a.kind is unknown or (a.kind is row and a.model is None)):
                    args = tuple([self._argument(a) for a in args])
                    break
            if state is None:
                callee = None
            elif state[0] in direct:
                callee = state[1]
            else:
                callee = callee_of(state)
            previous = callee
            caller = call.caller
            if call.text[:1] == "@" and state is not None and state[0] == "def":
                where = self._registers(state, caller, m.module)
                if where == "":
                    continue  # a factory's: its own call, where it is written, stands
                caller = where or caller
            if callee == ref and args is call.args and caller is call.caller:
                out.append(call)  # unchanged (external names, direct references): reuse it
            else:  # direct construction: dataclasses.replace is five times slower
                out.append(
                    _Call(
                        caller,
                        callee,
                        call.text,
                        call.loc,
                        args,
                        call.result_used,
                        call.in_atomic,
                    )
                )
            if (
                state is not None
                and ref is not None
                and (state[0] == "qm" or ref.rpartition(".")[2] in instance_orm)
            ):
                access = self._orm(call, state, ref)
                if access is not None:
                    orm.append(access)
        return tuple(out), tuple(orm)

    def _registers(self, decorator: _State, function: str, module: str) -> str | None:
        """Where a decorator that returns the function unchanged (``@register``, the
        inner function of a factory ``@handles("x")``) runs: once, in the scope that
        defines ``function`` (its class or enclosing function, else ``module``), not
        each time the function runs. "" for a factory's inner function (the factory's
        own call is already that scope's); None for a decorator returning anything else
        (a wrapper): its call is the function's."""
        d = self.defs.get(decorator[1])
        if d is None:
            return None
        if self._passes_through(d):
            defined = self.defs.get(function)
            return defined.parent or module if defined is not None else None
        made = self._called(decorator)  # ``@handles("x")``: what the factory returns
        inner = self.defs.get(made[1]) if made is not None and made[0] == "def" else None
        return "" if inner is not None and self._passes_through(inner) else None

    def _passes_through(self, d: Definition) -> bool:
        """Does ``d`` return its (first, past a method's receiver) parameter unchanged,
        as a registration decorator does (``def register(fn): ...; return fn``)? Every
        ``return`` agrees, the parameter is never rebound (parsing gives it as
        ``%function%name`` only then), and ``d`` defines no function of its own: a
        local's type is the last assignment's, so ``wrapper = fn`` under an ``if``
        after ``def wrapper`` would read as ``fn``."""
        params = [p for p in d.params if p.kind in POSITIONAL_KINDS]
        if d.kind is _DEF_METHOD and not any(x.endswith("staticmethod") for x in d.decorators):
            params = params[1:]
        if not params or d.returns != f"%{d.qualname}%{params[0].name}":
            return False
        if self.enclosing is None:
            self.enclosing = {x.parent for x in self.defs.values() if x.parent}
        return d.qualname not in self.enclosing

    def _orm(self, call: Call, state: _State, ref: str) -> OrmAccess | None:
        sfu = _locks(ref)
        if state[0] == "qm":
            method = state[2]
            if method in _WRITE:
                op = _ORM_WRITE
            elif method in _READ:
                op = _ORM_READ
            elif method in _USER_MANAGER:
                op = _USER_MANAGER[method]
            else:
                return None
            return OrmAccess(call.caller, state[1], op, method, call.loc, sfu)
        method = ref.rpartition(".")[2]
        instance_op = _INSTANCE_ORM.get(method)
        if instance_op is None:
            return None
        op = instance_op
        receiver = self.interpret(ref[: -len(method) - 1]) if "." in ref else None
        if receiver is not None and receiver[0] == "inst" and receiver[1] in self.models:
            return OrmAccess(call.caller, receiver[1], op, method, call.loc, sfu)
        if ref.startswith("^") and state[0] in ("def", "extattr"):
            cls = ref[1:].partition("^")[0]
            if cls in self.models:
                return OrmAccess(call.caller, cls, op, method, call.loc, sfu)
        if method == "save" and self.saves and state[0] != "def" and _commits(call.args):
            # ``form.save()`` of a ModelForm (a project override's own body decides,
            # its ``super().save()`` included)
            if receiver is not None and receiver[0] == "inst":
                model = self._saved_by(receiver[1])
            elif ref.startswith("^"):
                model = self._saved_by(ref[1:].partition("^")[0])
            else:
                model = None
            if model is not None:
                return OrmAccess(call.caller, model, op, method, call.loc)
        return None

    def _saved_by(self, cls: str) -> str | None:
        """The model ``cls.save()`` writes: the nearest ``Meta.model`` in its bases
        (one that names no analysed model stops the search: never the parent's)."""
        for k in self.mro(cls):
            if k in self.saves:
                return self.saves[k]
        return None

    def _model_named(self, ref: str) -> str | None:
        state = self.interpret(ref)
        if state is not None and state[0] == "cls" and state[1] in self.models:
            return state[1]
        return None

    def _bound(self, bindings: Iterable[ModelBinding]) -> Iterable[OrmAccess]:
        """What Django reads and writes for a class: the admin for a registered model;
        a generic view (Django's, DRF's) for its ``model``, ``queryset`` or
        ``serializer_class``; an admin inline for its ``model``. Each (class, model,
        operation) once. (``META``: at each ``save()`` call instead, see ``_orm``.)"""
        seen: set[tuple[str, str, OrmOp]] = set()
        for b in bindings:
            if b.kind is BindingKind.META or b.kind is BindingKind.USER:
                continue
            if b.kind is BindingKind.ADMIN:
                model = self._model_named(b.model)
                registers = self.callee(self.interpret(b.callee)) if b.callee else None
                if model is not None and registers in _ADMIN_REGISTER:
                    yield OrmAccess(self._owner(b.owner), model, _ORM_WRITE, "admin", b.loc)
                continue
            model = self._model_served(b.model) if b.model else None  # "": a return unknown
            if model is None:
                continue
            order = self.mro(b.owner)
            ops = _view_ops(order)
            if not ops and _framework_base(order, _INLINES, "!django.contrib.admin"):
                ops = {_ORM_WRITE: "admin"}
            for op, method in ops.items():
                if (b.owner, model, op) not in seen:
                    seen.add((b.owner, model, op))
                    yield OrmAccess(b.owner, model, op, method, b.loc)

    def _model_served(self, ref: str) -> str | None:
        """The model a view names: ``Order``, ``Order.objects.filter(...)``, an
        ``Order`` row (``get_object``), or a serializer or form class that saves it."""
        state = self.interpret(ref)
        if state is None:
            return None
        if state[0] == "cls":
            return state[1] if state[1] in self.models else self._saved_by(state[1])
        if state[0] in ("qs", "mgr", "inst", "vqs") and state[1] in self.models:
            return state[1]
        return None

    def _owner(self, ref: str) -> str:
        """An admin registration's owner: its ModelAdmin class, else the registering
        module or function (already a qualname)."""
        if ref in self.defs or ref in self.modules:
            return ref
        state = self.interpret(ref)
        return state[1] if state is not None and state[0] in ("cls", "def") else ref

    def _raw_sql(self, found: Iterable[RawSql]) -> Iterable[OrmAccess]:
        """Raw SQL run by a Django database cursor: an access per table it names, with
        the model mapped to that table when there is one (case-insensitive, as an
        unquoted SQL name is)."""
        if self.by_table is None:
            self.by_table = {}
            for q, m in self.models.items():
                if not m.abstract and not m.proxy:
                    self.by_table.setdefault(m.table.lower(), q)
        for r in found:
            if self.callee(self.interpret(r.callee)) not in _SQL_CALLEES:
                continue
            tables = tables_of(r.sql)
            for table, op in tables.accesses:
                model = self.by_table.get(table.lower(), "")
                locks = op is _ORM_READ and table in tables.locked
                yield OrmAccess(r.function, model, op, r.method, r.loc, locks, table)

    def _argument(self, arg: Argument) -> Argument:
        if arg.ref is None or (arg.kind is not _ARG_UNKNOWN and arg.kind is not _ARG_ORM_INSTANCE):
            return arg
        ref, text, keyword = arg.ref, arg.text, arg.keyword
        if ref[:1] == JOIN and ref[-1] == "}":
            return self._joined(arg)
        if "(" not in ref and "[" not in ref and ref[:1] not in "%^@?":
            # a module-level variable, of this module or imported: its value's
            # constructor tells (``LOCK = threading.Lock()``, ``FH = open(...)``)
            symbol = self._symbol(ref)
            if symbol is not None and symbol[0] == "var":
                type_ref = self.variables.get(symbol[1])
                value_kind = kind_of_type(type_ref) if type_ref else _ARG_UNKNOWN
                if value_kind is not _ARG_UNKNOWN:
                    return _Argument(text, value_kind, keyword, None, symbol[1])
        if ref.startswith(_SETTINGS) and self._setting_is_json(ref[len(_SETTINGS) :]):
            return _Argument(text, _ARG_JSON, keyword, None, None)
        if ref[-2:] == "()" and self._returns_json_literal(ref):
            return _Argument(text, _ARG_JSON, keyword, None, None)
        if ".request." in ref and self._request_text(ref):
            return _Argument(text, _ARG_JSON, keyword, None, None)
        field = self._form_value(ref) if ".cleaned_data." in ref else self._field_kind(ref)
        if field is not None:  # ``order.total``: a model field's value; a form's
            return _Argument(text, field, keyword, None, None)
        state = self.interpret(ref)
        if state is None:
            if ref[:1] == "%":  # a parameter: what every call site passes it
                function, _, param = ref[1:].partition("%")
                value = self._param_value(function, param) if param.isidentifier() else None
                if value is not None:
                    return _Argument(text, value.kind, keyword, value.model, None)
            return _Argument(text, arg.kind, keyword, None, None)
        kind = state[0]
        if kind == "inst" and state[1] in self.models:
            return _Argument(text, _ARG_ORM_INSTANCE, keyword, state[1], None)
        if (kind == "qs" or kind == "mgr" or kind == "vqs") and state[1] in self.models:
            return _Argument(text, _ARG_QUERYSET, keyword, state[1], None)
        if kind in ("def", "cls", "task", "cm", "bound", "vm"):
            return _Argument(text, _ARG_CALLABLE, keyword, None, state[1])
        if (
            kind == "extinst"
            and kind_of_type(state[1] + "()") is _ARG_JSON
            and self._returns_its_value(ref)
        ):
            # what a function returns, annotated or inferred (``-> str``, ``return
            # Decimal(...)``), a property's value: a str, a number, a tagged type
            return _Argument(text, _ARG_JSON, keyword, None, None)
        if kind in ("ext", "var"):
            return _Argument(text, arg.kind, keyword, None, state[1])
        if kind == "inst":  # an instance of a project class that is not a model
            return _Argument(text, arg.kind, keyword, None, f"{state[1]}()")
        return _Argument(text, arg.kind, keyword, None, None)

    def _joined(self, arg: Argument) -> Argument:
        """An argument that is one of several values (:data:`analyzers.parse.JOIN`):
        each part linked as an argument of its own, the kinds joined; a subtraction
        that may involve a date or datetime is unknown (two make a timedelta)."""
        op, parts = split_join(arg.ref)  # type: ignore[arg-type]
        text, keyword = arg.text, arg.keyword
        if op == "-" and any(self._maybe_temporal(p) for p in parts):
            return _Argument(text, _ARG_UNKNOWN, keyword, None, None)
        kinds, models = [], set()
        for part in parts:
            one = self._argument(_Argument(text, kind_of_type(part), keyword, None, part))
            if one.kind is _ARG_UNKNOWN:
                return _Argument(text, _ARG_UNKNOWN, keyword, None, None)
            kinds.append(one.kind)
            if one.model is not None:
                models.add(one.model)
        kind = join_kinds(kinds)
        model = models.pop() if len(models) == 1 and kind in _MODEL_KINDS else None
        return _Argument(text, kind, keyword, model, None)

    def _maybe_temporal(self, ref: str) -> bool:
        """Could the value of ``ref`` be a date or datetime? False only where its type
        is known to be another: a literal, a request's text, a model field of another
        class, a typed return or setting of another type."""
        if ref[:1] == JOIN:
            return any(self._maybe_temporal(p) for p in split_join(ref)[1])
        if maybe_temporal(ref):  # ``timezone.now()``, ``.replace(hour=0)`` of one
            return True
        if kind_of_type(ref) is _ARG_JSON:  # a literal, text, ``str()``, ``Decimal()``
            return False
        if ref.startswith(_SETTINGS):  # by what the settings modules assign it
            name = ref[len(_SETTINGS) :]
            types = self._setting_types().get(name)
            if types is None:
                return name not in _JSON_SETTINGS
            return any(t is None or maybe_temporal(t) for t in types)
        head, _, name = ref.rpartition(".")
        state = self.interpret(head) if name.isidentifier() else None
        if state is not None and state[0] == "inst":
            field = self._model_field_class(state[1], name, relations=False)
            if field is not None:
                return field in _TEMPORAL_FIELDS
        state = self.interpret(ref)
        if state is not None and state[0] == "extinst":  # a typed return, a property
            value = f"{state[1]}()"
            return maybe_temporal(value) or kind_of_type(value) is not _ARG_JSON
        return True

    def _request_text(self, ref: str) -> bool:
        """``self.request.GET["q"]`` in a view: its request's text (see
        :data:`analyzers.parse.REQUEST_TEXT`), when the ``request`` attribute is a
        request (a view's) and not another's (a Celery task's ``self.request``)."""
        owner = request_text_owner(ref)
        state = self.interpret(owner) if owner is not None else None
        if state is not None and state[0] == "extattr":  # a view's ``request``
            return _framework_attr(state[1]) in _REQUESTS
        return state is not None and state[0] == "extinst" and state[1] in _REQUESTS

    def _setting_is_json(self, name: str) -> bool:
        """Is ``settings.NAME`` a str, int, float or bool? By what the project's settings
        modules (``settings.py``, ``settings/*.py``, ``*_settings.py``) assign it, every
        assignment agreeing; unassigned there, by Django's default for a few names."""
        types = self._setting_types().get(name)
        if types is None:
            return name in _JSON_SETTINGS
        return all(t is not None and kind_of_type(t) is _ARG_JSON for t in types)

    def _setting_types(self) -> dict[str, list[str | None]]:
        """What the project's settings modules assign each setting, by name."""
        types = self.setting_types
        if types is None:
            types = self.setting_types = {}
            for qual, type_ref in self.variables.items():
                module, _, setting = qual.rpartition(".")
                if _is_settings_module(module):
                    types.setdefault(setting, []).append(type_ref)
        return types

    def _returns_json_literal(self, ref: str) -> bool:
        """Is the call ``ref`` one of a function whose every ``return`` gives a JSON-able
        literal (``return "eu"``, ``return not x``) and whose value its call gives?"""
        state = self.interpret(ref[:-2])
        if state is None or (state[0] != "def" and state[0] != "bound"):
            return False
        d = self.defs.get(state[1])
        returns = d.returns if d is not None else None
        if returns is None or not returns.startswith(JSON_OF):
            return False
        return returns[len(JSON_OF) :] not in MUTABLE_LITERALS and self._returns_its_value(ref)

    def _returns_its_value(self, ref: str) -> bool:
        """Is the value of the call ``ref`` what the function's ``return`` gives? Not for
        an ``async def`` (a coroutine) nor under a decorator that may wrap it
        (``@sync_to_async``): only descriptors, caches and registrations keep it."""
        if not ref.endswith("()"):
            return True  # an attribute: a property's getter runs as written
        state = self.interpret(ref[:-2])
        d = self.defs.get(state[1]) if state is not None and state[0] == "def" else None
        if d is None:
            return True
        if d.is_async:
            return False
        for decorator in d.decorators:
            wrapped = self.defs.get(decorator)
            if decorator not in _KEEPS_RESULT and (
                wrapped is None or not self._passes_through(wrapped)
            ):
                return False
        return True

    def _form_value(self, ref: str) -> ArgKind | None:
        """The kind of ``form.cleaned_data["name"]`` (``ref``: ``<form>.cleaned_data.name``)
        by the field the form's class, or the nearest base declaring it, declares
        (:data:`_FORM_FIELD_KINDS`); None for a form we do not know or a field it does
        not declare (a ModelForm's from ``Meta.fields``)."""
        head, _, name = ref.rpartition(".cleaned_data.")
        state = self.interpret(head) if name.isidentifier() else None
        if state is None or state[0] != "inst":
            return None
        classes = self.mro(state[1])
        if "?" in classes or not any(k[:1] == "!" and ".forms" in k for k in classes):
            return None  # a base we cannot see, or no Django form
        if any(f"{k}.clean_{name}" in self.defs for k in classes):
            return None  # the form's own cleaning of the field returns the value
        for k in classes:
            candidate = self.candidates.get(k)
            if candidate is None:
                continue
            for field, field_class in candidate.value_fields:
                if field == name:
                    kind = _FORM_FIELD_KINDS.get(field_class)
                    return _FIELD_KINDS.get(field_class, _ARG_UNKNOWN) if kind is None else kind
            qual = f"{k}.{name}"
            if qual in self.defs or any(g.name == name for g in candidate.managers):
                return None  # bound to something else than a field we know
        model = self._saved_by(state[1])  # a ModelForm's field made from its model's
        return None if model is None else self._model_field(model, name, relations=True)

    def _field_kind(self, ref: str) -> ArgKind | None:
        """The kind of ``row.name`` when ``row`` is a model's instance and ``name`` a
        field declared on the model or a base (Django's user models' too), by the
        field's class (:data:`_FIELD_KINDS`); None when ``ref`` is no such attribute."""
        head, dot, name = ref.rpartition(".")
        if not dot or not name.isidentifier():
            return None
        state = self.interpret(head)
        if state is None or state[0] != "inst":
            return None
        return self._model_field(state[1], name, relations=False)

    def _model_field(self, cls: str, name: str, *, relations: bool) -> ArgKind | None:
        """The kind of the value of ``cls``'s field ``name`` (see :meth:`_field_kind`);
        a relation's (a row, or a queryset for a many-to-many) with ``relations``, else
        None for one (interpreting the attribute finds its model)."""
        found = self._model_field_class(cls, name, relations=relations)
        if found is None:
            return None
        if found in RELATION_KINDS:
            return _ARG_QUERYSET if found == "ManyToManyField" else _ARG_ORM_INSTANCE
        return _FIELD_KINDS.get(found, _ARG_UNKNOWN)

    def _model_field_class(self, cls: str, name: str, *, relations: bool) -> str | None:
        """The class of ``cls``'s field ``name`` (``CharField``; a relation's kind,
        ``ForeignKey``, with ``relations``); None when the name is no field we know."""
        for k in self.mro(cls):  # the nearest class binding the name decides
            if k == "?":
                return None  # an unresolved base could bind it
            model = self.models.get(k)
            if model is not None:
                for field, field_class in model.value_fields:
                    if field == name:
                        return field_class
                for r in model.relation_fields:
                    if r.name == name:
                        return r.kind if relations else None
            qual = f"{k}.{name}"
            if qual in self.defs or qual in self.variables:  # a method, a manager...
                return None
            fields = _CONTRIB_FIELDS.get(k[1:]) if k[:1] == "!" else None
            if fields is not None:
                return fields.get(name)
        return None

    def _definition(self, d: Definition) -> Definition:
        if not d.decorators and not d.bases and d.returns is None:
            return d
        decorators = tuple([self._name(x) for x in d.decorators])
        bases = tuple([self._name(x) for x in d.bases])
        returns = self.interpret(d.returns) if d.returns else None
        return d.with_resolved(
            decorators, bases, returns[1] if returns and returns[0] == "inst" else None
        )

    def _name(self, ref: str) -> str:
        if "<" in ref or ref.startswith("?"):
            return ref
        state = self.interpret(ref)
        if state is None:
            return ref
        if state[0] in ("cls", "var", "mod"):
            return state[1]
        return self.callee(state) or ref

    def _url(self, u: UrlRoute) -> UrlRoute:
        """The route with its view resolved; a DRF router's (kept only when ``register``
        is a router's) is marked ``router="router"``, its name being a basename."""
        router = None if u.router is None else _ROUTER
        if u.view is None:
            return replace(u, router=router) if u.router is not None else u
        state = self.interpret(u.view)
        view = state[1] if state is not None and state[0] in ("def", "cls", "ext") else None
        return replace(u, view=view, router=router)

    def _router(self, ref: str) -> bool:
        """Is ``ref`` a Django REST framework router's ``register`` (``DefaultRouter``,
        ``SimpleRouter``, a project subclass of one, or drf-nested-routers')?"""
        callee = self.callee(self.interpret(ref))
        if callee is None or not callee.startswith(_DRF_ROUTERS):
            return False
        owner, _, method = callee.rpartition(".")
        return method == "register" and owner.rpartition(".")[2].endswith("Router")

    def _signals(self, signals: Iterable[SignalHandler]) -> Iterable[SignalHandler]:
        for s in signals:
            receiver = self.interpret(s.receiver)
            if receiver is None or receiver[0] != "def":
                continue
            signal = self.interpret(s.signal)
            if signal is None or signal[0] not in ("ext", "var", "extattr", "def"):
                continue
            sender = self.interpret(s.sender) if s.sender else None
            yield replace(
                s,
                receiver=receiver[1],
                signal=signal[1],
                sender=sender[1] if sender is not None else None,
            )

    def _tasks(self, defs: Iterable[Definition]) -> Iterable[CeleryTask]:
        for d in defs:
            if self._is_task(d):
                yield CeleryTask(d.qualname, d.loc)

    @staticmethod
    def _is_task(d: Definition) -> bool:
        """A Celery task: an object, not a function (it binds to no instance)."""
        return any(dec in _TASK_DECORATORS or dec.endswith(".Celery.task") for dec in d.decorators)

    @staticmethod
    def _effects(calls: Iterable[Call]) -> Iterable[SideEffect]:
        for call in calls:
            if call.callee is not None:
                kind = effect_of(call.callee)
                if kind is not None:
                    yield SideEffect(call.caller, kind, call.callee, call.loc)

    def _global_uses(self, m: ModuleFacts) -> Iterable[GlobalUse]:
        prefix = m.module + "."
        for use in m.global_uses:
            if use.name.startswith(prefix) and use.name in self.mutable:
                yield use
                continue
            state = self._symbol(use.name)
            if state is not None and state[0] == "var" and state[1] in self.mutable:
                yield replace(use, name=state[1])


_SFU = ".select_for_update"


def _commits(args: tuple[Argument, ...]) -> bool:
    """Does ``save(...)`` with these arguments write? ``commit`` (ModelForm's only
    parameter, positional or not) must be absent or a literal ``True``: ``False``, a
    variable or a ``**kwargs`` spread may not. Other keywords (DRF's
    ``serializer.save(owner=user)``) still write."""
    return all(a.text == "True" for a in args if a.keyword is None or a.keyword in ("commit", "**"))


def _view_ops(order: tuple[str, ...]) -> dict[OrmOp, str]:
    """What the generic views and mixins among the opaque bases in ``order`` do to
    their model, each operation with the first base that does it."""
    ops: dict[OrmOp, str] = {}
    for k in order:
        if not k.startswith("!"):
            continue
        name = k.rpartition(".")[2]
        if k.startswith("!django.views.generic"):
            name = name[4:] if name.startswith("Base") else name
            found = _GENERIC_VIEWS.get(name, ())
        elif k.startswith("!rest_framework."):
            found = _DRF_VIEWS.get(name, ())
        else:
            continue
        for op in found:
            ops.setdefault(op, name)
    return ops


def _framework_attr(qual: str) -> str | None:
    """The documented type of an attribute a framework base class gives its
    subclasses' instances (``qual``: ``base.path.Class.attr``, as the project imported
    the base): a view's ``request`` and the URL's ``args``/``kwargs``, a form's
    ``cleaned_data``, a management command's ``stdout``/``stderr``/``style``, a test
    case's ``client``. None for any other."""
    path, _, attr = qual.rpartition(".")
    cls = path.rpartition(".")[2]
    django_view = path.startswith("django.views.")
    drf_view = not django_view and path.startswith(_DRF_REQUEST_HOLDERS)
    if attr == "request" and (django_view or drf_view):
        return "django.http.HttpRequest" if django_view else "rest_framework.request.Request"
    if attr in _VIEW_CALL_ATTRS and (drf_view or (django_view and _django_view_class(path))):
        return _VIEW_CALL_ATTRS[attr]  # set by ``View.setup()``/``APIView.dispatch()``
    if attr == "client" and cls.endswith("TestCase"):  # each test's own test client
        if path.startswith("django.test."):
            return "django.test.Client"
        if path.startswith("rest_framework.test."):
            return "rest_framework.test.APIClient"
    if attr == "cleaned_data" and path.startswith("django.forms.") and "FormSet" not in cls:
        return "builtins.dict"  # a form's (a formset's is a list of them)
    if cls in _COMMANDS and path.startswith("django.core.management"):
        if attr in ("stdout", "stderr"):
            return "django.core.management.base.OutputWrapper"
        if attr == "style":
            return "django.core.management.color.Style"
    return None


def _django_view_class(path: str) -> bool:
    """Is ``path`` (``django.views...Class``) one of Django's class-based views (what
    ``as_view()`` runs), not a helper of ``django.views`` such as the exception
    reporter?"""
    cls = path.rpartition(".")[2]
    return path.startswith("django.views.generic.") or cls.endswith("View") or cls in _CATALOGS


def _framework_base(order: tuple[str, ...], names: frozenset[str], prefix: str = "!") -> bool:
    """Is one of the opaque bases in ``order`` (``!dotted.Name``) under ``prefix``
    named one of ``names``?"""
    return any(k.startswith(prefix) and k.rpartition(".")[2] in names for k in order)


def _locks(ref: str) -> bool:
    """Does the call ``ref`` names belong to a ``select_for_update()`` queryset chain?

    Only queryset steps may follow the lock (``.filter().get``): once a row has been
    fetched (``.get()``, iteration), what is done with it later -- its ``save()``, a
    related row's ``save()``, a related manager's ``create()`` -- takes no lock of its
    own, though a local's type still carries the whole chain it came from.
    """
    cut = ref.rfind(_SFU)
    if cut < 0:
        return False
    rest = ref[cut + len(_SFU) :]
    if not rest:
        return True  # the ``select_for_update()`` call itself
    if not rest.startswith("()."):
        return False  # iterated (``()[]``), or not a call at all
    *steps, method = rest[3:].split(".")
    for step in steps:
        name, suffix = _split_suffix(step)
        if suffix != "()" or name not in _QS_READ:
            return False
    return not _split_suffix(method)[1]


def _is_settings_module(module: str) -> bool:
    """``shop.settings``, ``shop.settings.base``, ``shop.test_settings``; not an app's
    ``app_settings`` (its own defaults, not Django's settings)."""
    parts = module.split(".")
    last = parts[-1]
    return (last.endswith("settings") and last != "app_settings") or (
        len(parts) > 1 and parts[-2] == "settings"
    )


def _binding(d: Definition, name: str) -> tuple[int | None, str | None]:
    """How a call passes ``d``'s parameter ``name``: its position among those a call
    can pass by position (None: keyword-only, or no such parameter), and the keyword
    (None: positional-only), for :func:`_argument_for`."""
    positional = [p.name for p in d.params if p.kind in POSITIONAL_KINDS]
    index = positional.index(name) if name in positional else None
    only = any(p.name == name and p.kind == "positional_only" for p in d.params)
    return index, None if only else name


def _argument_for(
    args: tuple[Argument, ...], name: str | None, index: int | None
) -> Argument | None:
    """The argument a call passes for parameter ``name`` (keyword, else position;
    ``name`` None: a positional-only parameter, given by position alone)."""
    if name is not None:
        for a in args:
            if a.keyword == name:
                return a
    if index is None:
        return None
    positional = [a for a in args if a.keyword is None]
    if any(a.text.startswith("<starred") for a in positional[: index + 1]):
        return None
    return positional[index] if index < len(positional) else None


def _split_suffix(piece: str) -> tuple[str, str]:
    """``get()[]`` -> (``get``, ``()[]``); ``pair()[0]`` -> (``pair``, ``()[0]``)."""
    cut = len(piece)
    while cut and piece[cut - 1] in ")]":
        cut -= 3 if piece[cut - 2] == "0" else 2
    return piece[:cut], piece[cut:]


def _split_plain(ref: str) -> tuple[str, str]:
    """Longest leading dotted name without calls, and the rest (starting with '.')."""
    cut = ref.find("(")
    bracket = ref.find("[")
    if bracket >= 0 and (cut < 0 or bracket < cut):
        cut = bracket
    if cut < 0:
        return ref, ""
    start = ref.rfind(".", 0, cut)
    if start < 0:
        return ref[:cut], "." + ref[cut:]
    return ref[:start], ref[start:]


def _first_attr(rest: str) -> tuple[str | None, str]:
    """``.save().x`` -> (``save``, ``.()...``) with the suffix kept for interpretation."""
    if not rest.startswith("."):
        return None, rest
    piece, dot, tail = rest[1:].partition(".")
    name, suffix = _split_suffix(piece)
    return name, ("." + suffix if suffix else "") + (dot + tail if dot else "")
