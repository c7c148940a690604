"""Call resolution across modules: each construct of issue 3 item 1, and negatives."""

from __future__ import annotations

import textwrap

from tests.unit.analyzers.linkkit import callee, calls_in, project


def test_import_module_and_call_attribute() -> None:
    m = project({"app/a.py": "import os.path\ndef f():\n    os.path.join('a')\n"})["app.a"]
    assert callee(m, "app.a.f", "os.path.join") == "os.path.join"


def test_import_dotted_as_alias() -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/util.py": "def helper():\n    pass\n",
        "app.py": "import pkg.util as u\ndef f():\n    u.helper()\n",
    }
    assert callee(project(files)["app"], "app.f", "u.helper") == "pkg.util.helper"


def test_from_import_as_alias() -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/util.py": "def helper():\n    pass\n",
        "app.py": "from pkg.util import helper as h\ndef f():\n    h()\n",
    }
    assert callee(project(files)["app"], "app.f", "h") == "pkg.util.helper"


def test_relative_imports_from_module_and_package() -> None:
    files = {
        "shop/__init__.py": "from .orders import place\n",
        "shop/orders.py": "from . import util\nfrom .util import fmt\n"
        "def place():\n    util.fmt()\n    fmt()\n",
        "shop/util.py": "def fmt():\n    pass\n",
        "main.py": "import shop\ndef run():\n    shop.place()\n",
    }
    linked = project(files)
    assert callee(linked["shop.orders"], "shop.orders.place", "util.fmt") == "shop.util.fmt"
    assert callee(linked["shop.orders"], "shop.orders.place", "fmt") == "shop.util.fmt"
    # re-export through the package __init__
    assert callee(linked["main"], "main.run", "shop.place") == "shop.orders.place"


def test_parent_relative_import() -> None:
    files = {
        "shop/__init__.py": "",
        "shop/core.py": "def log():\n    pass\n",
        "shop/orders/__init__.py": "",
        "shop/orders/views.py": "from ..core import log\ndef v():\n    log()\n",
    }
    linked = project(files)
    assert callee(linked["shop.orders.views"], "shop.orders.views.v", "log") == "shop.core.log"


def test_module_attribute_and_function_defined_later() -> None:
    src = "def a():\n    b()\n\ndef b():\n    pass\n"
    assert callee(project({"m.py": src})["m"], "m.a", "b") == "m.b"


def test_instantiation_resolves_to_init_inherited_across_modules() -> None:
    files = {
        "base.py": "class Base:\n    def __init__(self):\n        pass\n",
        "child.py": "from base import Base\nclass Child(Base):\n    pass\n"
        "def make():\n    Child()\n",
        "plain.py": "class P:\n    pass\ndef make():\n    P()\n",
    }
    linked = project(files)
    assert callee(linked["child"], "child.make", "Child") == "base.Base.__init__"
    assert callee(linked["plain"], "plain.make", "P") == "plain.P"  # no __init__: the class


def test_self_and_cls_methods_including_inherited() -> None:
    files = {
        "base.py": "class Base:\n    def render(self):\n        pass\n"
        "    @classmethod\n    def build(cls):\n        pass\n",
        "view.py": "from base import Base\nclass View(Base):\n"
        "    def get(self):\n        self.render()\n        self.own()\n"
        "    def own(self):\n        pass\n"
        "    @classmethod\n    def make(cls):\n        cls.build()\n",
    }
    m = project(files)["view"]
    assert callee(m, "view.View.get", "self.render") == "base.Base.render"
    assert callee(m, "view.View.get", "self.own") == "view.View.own"
    assert callee(m, "view.View.make", "cls.build") == "base.Base.build"


def test_super_call_goes_to_the_base_method() -> None:
    files = {
        "base.py": "class Base:\n    def save(self):\n        pass\n",
        "child.py": "from base import Base\nclass Child(Base):\n"
        "    def save(self):\n        super().save()\n",
    }
    assert callee(project(files)["child"], "child.Child.save", "super().save") == "base.Base.save"


def test_decorators_resolved() -> None:
    files = {
        "deco.py": "def traced(f):\n    return f\n",
        "m.py": "from deco import traced\nimport functools\n@traced\ndef f():\n    pass\n"
        "@functools.lru_cache(maxsize=1)\ndef g():\n    pass\n",
    }
    defs = {d.qualname: d for d in project(files)["m"].definitions}
    assert defs["m.f"].decorators == ("deco.traced",)
    assert defs["m.g"].decorators == ("functools.lru_cache",)


def test_nested_functions_and_closures_over_self() -> None:
    src = (
        "class C:\n    def m(self):\n        def inner():\n            self.n()\n"
        "            helper()\n        def helper():\n            pass\n        inner()\n"
        "    def n(self):\n        pass\n"
    )
    m = project({"m.py": src})["m"]
    assert callee(m, "m.C.m", "inner") == "m.C.m.inner"
    assert callee(m, "m.C.m.inner", "self.n") == "m.C.n"
    assert callee(m, "m.C.m.inner", "helper") == "m.C.m.helper"


def test_builtins_and_external_names() -> None:
    src = "from django.core.mail import send_mail\ndef f():\n    len([])\n    send_mail()\n"
    m = project({"m.py": src})["m"]
    assert callee(m, "m.f", "len") == "builtins.len"
    assert callee(m, "m.f", "send_mail") == "django.core.mail.send_mail"


# ---------------------------------------------------------------------- negatives
def test_method_sharing_a_name_with_an_imported_function_is_not_that_function() -> None:
    src = (
        "from notify import send\n"
        "def f(client):\n    client.send()\n    send()\n"
        "class C:\n    def send(self):\n        pass\n    def g(self, other):\n"
        "        other.send()\n"
    )
    files = {"notify.py": "def send():\n    pass\n", "m.py": src}
    m = project(files)["m"]
    assert callee(m, "m.f", "client.send") is None
    assert callee(m, "m.f", "send") == "notify.send"
    assert callee(m, "m.C.g", "other.send") is None


def test_unknown_attribute_and_unknown_name_stay_unresolved() -> None:
    files = {
        "lib.py": "def real():\n    pass\n",
        "m.py": "import lib\ndef f(x):\n    lib.missing()\n    nowhere()\n    x()\n",
    }
    m = project(files)["m"]
    assert callee(m, "m.f", "lib.missing") is None
    assert callee(m, "m.f", "nowhere") is None
    assert callee(m, "m.f", "x") is None


def test_local_variable_shadowing_a_module_function_is_unresolved() -> None:
    src = "def g():\n    pass\ndef f(g):\n    g()\n"
    assert callee(project({"m.py": src})["m"], "m.f", "g") is None


def test_method_lookup_stops_at_an_unresolved_base() -> None:
    src = "from somewhere import *\nclass C(Unknown):\n    def m(self):\n        self.x()\n"
    assert callee(project({"m.py": src})["m"], "m.C.m", "self.x") is None


DECO = """
import functools
from django.db import transaction

def audited(fn):
    @functools.wraps(fn)
    def wrapper(*a, **kw):
        return fn(*a, **kw)
    return wrapper

def retry(times):
    def decorator(fn):
        def again(*a, **kw):
            return fn(*a, **kw)
        return again
    return decorator
"""


def test_a_decorator_is_a_call_from_the_function_it_wraps() -> None:
    src = """
import functools
from django.db import transaction
from django.dispatch import receiver
from deco import audited, retry

@audited
def close():
    pass

@retry(3)
def pay():
    pass

@functools.lru_cache(maxsize=1)
@transaction.atomic
def cached():
    pass

class C:
    @property
    def x(self):
        return 1

    @x.setter
    def x(self, value):
        pass
"""
    m = project({"deco.py": DECO, "m.py": src})["m"]
    assert [(c.callee, c.text) for c in calls_in(m, "m.close")] == [("deco.audited", "@audited")]
    # a decorator factory: called once by the module, its wrapper runs for every call
    assert [(c.callee, c.text) for c in calls_in(m, "m.pay")] == [("deco.retry", "@retry")]
    assert ("deco.retry", "retry") in [(c.callee, c.text) for c in calls_in(m, "m")]
    # external decorators resolve to external names; atomic stays a region, not a call
    assert [c.callee for c in calls_in(m, "m.cached")] == ["functools.lru_cache"]
    assert [a.kind for a in m.atomics] == ["decorator"]
    # builtin descriptors and a property's accessors wrap nothing: no call
    assert calls_in(m, "m.C.x") == []
    decorator_calls = [c for c in m.calls if c.text.startswith("@")]
    assert all(not c.in_atomic and c.result_used and not c.args for c in decorator_calls)


REG = """
HANDLERS = {}
ORDER = []

def register(fn):
    ORDER.append(fn)
    return fn

def handles(name):
    def deco(fn):
        HANDLERS[name] = fn
        return fn
    return deco

class Registry:
    def __init__(self):
        self.items = []

    def add(self, fn):
        self.items.append(fn)
        return fn

registry = Registry()

def wrapping(fn):
    def wrapper(*args):
        return fn(*args)
    return wrapper

def first(fn, other=None):
    return other

def maybe(fn):
    wrapper = fn
    def wrapper(*args):
        return fn(*args)
    return wrapper

def unless_debug(fn):
    def wrapper(*args):
        return fn(*args)
    if not DEBUG:
        wrapper = fn
    return wrapper

class Static:
    @staticmethod
    def add(fn):
        ORDER.append(fn)
        return fn
"""


def test_a_class_decorator_is_a_call_where_the_class_is_defined() -> None:
    """``@audited class C`` runs ``audited(C)`` once, when the class is defined, as its
    body does: a call from the class (not from its methods). A registration (a
    decorator returning the class unchanged) is the scope defining the class's, as a
    registered function's is; a factory's own call (``@retry(3)``) is recorded once, by
    the defining scope, and its registering inner function adds none."""
    src = """
from deco import audited, retry
from reg import register, handles

@audited
class Ledger:
    def post(self):
        pass

@retry(3)
class Job:
    pass

def make():
    @register
    class Local:
        pass
    @handles("x")
    class Handler:
        pass
    return Local

class Outer:
    @register
    class Inner:
        pass
"""
    m = project({"deco.py": DECO, "reg.py": REG, "m.py": src})["m"]
    assert [(c.callee, c.text) for c in calls_in(m, "m.Ledger")] == [("deco.audited", "@audited")]
    assert calls_in(m, "m.Ledger.post") == []
    at_module = [(c.callee, c.text) for c in calls_in(m, "m")]
    assert at_module.count(("deco.retry", "retry")) == 1
    assert calls_in(m, "m.Job") == []
    # registrations: the defining function's, the defining class's; a factory's once
    assert [(c.callee, c.text) for c in calls_in(m, "m.make")] == [
        ("reg.register", "@register"),
        ("reg.handles", "handles"),
    ]
    assert [(c.callee, c.text) for c in calls_in(m, "m.Outer")] == [("reg.register", "@register")]


def test_a_registration_decorator_runs_where_the_function_is_defined() -> None:
    """A decorator that returns the function it is given unchanged (a registry's
    ``@register``, the inner function of a factory ``@handles("b")``, a registry
    object's method) runs once, where the function is defined: its call is the
    module's (the class body's, the enclosing function's), not the function's, which
    calls nothing through it. A decorator returning a wrapper (or another parameter)
    stays a call from the function it wraps."""
    files = {
        "reg.py": REG,
        "m.py": """
            from reg import Static, first, handles, maybe, register, registry, unless_debug
            from reg import wrapping

            @register
            def a():
                pass

            @handles("b")
            def b():
                pass

            @registry.add
            def c():
                pass

            @wrapping
            def d():
                pass

            @first
            def f():
                pass

            @maybe
            def g():
                pass

            @unless_debug
            def h():
                pass

            @Static.add
            def i():
                pass

            class K:
                @register
                def e(self):
                    pass

            def outer():
                @register
                def inner():
                    pass
        """,
    }
    m = project({k: textwrap.dedent(v) for k, v in files.items()})["m"]
    for function in ("m.a", "m.b", "m.c", "m.i", "m.K.e", "m.outer.inner"):
        assert calls_in(m, function) == [], function
    at_import = [(c.callee, c.text, c.loc.line) for c in calls_in(m, "m")]
    assert at_import == [
        ("reg.register", "@register", 5),
        ("reg.handles", "handles", 9),  # the factory's own call; its result registers
        ("reg.Registry.add", "@registry.add", 13),
        ("reg.Static.add", "@Static.add", 33),
    ]
    assert [(c.callee, c.text) for c in calls_in(m, "m.K")] == [("reg.register", "@register")]
    assert [(c.callee, c.text) for c in calls_in(m, "m.outer")] == [("reg.register", "@register")]
    # a wrapper, and a decorator returning some other parameter, run with the function
    assert [(c.callee, c.text) for c in calls_in(m, "m.d")] == [("reg.wrapping", "@wrapping")]
    assert [(c.callee, c.text) for c in calls_in(m, "m.f")] == [("reg.first", "@first")]
    # ``def wrapper`` rebinds the name ``wrapper = fn`` had bound: it returns the wrapper
    assert [(c.callee, c.text) for c in calls_in(m, "m.g")] == [("reg.maybe", "@maybe")]
    # ``wrapper = fn`` under an ``if``: the wrapper is returned on the other path
    assert [c.callee for c in calls_in(m, "m.h")] == ["reg.unless_debug"]


def test_a_decorator_inside_a_decorator_is_the_wrapper_s() -> None:
    deco = project({"deco.py": DECO})["deco"]
    # ``functools.wraps(fn)`` is called by ``audited`` when it defines the wrapper...
    assert [c.callee for c in calls_in(deco, "deco.audited")] == ["functools.wraps"]
    # ...and the wrapper runs inside what it returns: an external name, no coupling
    assert [(c.text, c.callee) for c in calls_in(deco, "deco.audited.wrapper")] == [
        ("@functools.wraps", "functools.wraps"),
        ("fn", None),
    ]


def test_instance_attributes_take_the_type_assigned_through_self() -> None:
    """``self.x = Mailer()`` in any method (of the class or a project base), ``x:
    Mailer`` in a class body and ``form_class = OrderForm`` there type ``self.x``: a
    lazy ``None`` first does not count; a literal gives its type (``self.count = 0``:
    an int). Two assignments that disagree, one of an unknown value, a ``cls.x`` of a
    classmethod or a call's result in a class body (a model's or form's field) leave
    it unresolved."""
    files = {
        "mailer.py": """
            class Mailer:
                def send(self, text):
                    pass
            class Sms:
                def send(self, text):
                    pass
        """,
        "svc.py": """
            import requests
            from dataclasses import dataclass
            from mailer import Mailer, Sms

            class Base:
                klass = Sms
                field = Sms()

                def __init__(self, given):
                    self.http = requests.Session()
                    self.lazy = None
                    self.flip = Mailer()
                    self.given = given
                    self.count = 0

                def connect(self):
                    self.lazy = Mailer()
                    self.flip = Sms()

            class Checkout(Base):
                def run(self):
                    self.http.post("https://example.com")
                    self.lazy.send("a")
                    self.klass().send("b")
                    self.flip.send("c")
                    self.given.send("d")
                    self.count.bit_length()
                    self.field.send("e")
                    self.cached.send("f")

                @classmethod
                def warm(cls):
                    cls.cached = Mailer()

            @dataclass
            class Job:
                mailer: Mailer

                def go(self):
                    self.mailer.send("g")
        """,
    }
    m = project(files)["svc"]
    run = "svc.Checkout.run"
    assert callee(m, run, "self.http.post") == "requests.Session.post"
    assert callee(m, run, "self.lazy.send") == "mailer.Mailer.send"
    assert callee(m, run, "self.klass().send") == "mailer.Sms.send"
    for unknown in ("self.flip.send", "self.given.send"):
        assert callee(m, run, unknown) is None, unknown
    assert callee(m, run, "self.count.bit_length") == "builtins.int.bit_length"
    assert callee(m, run, "self.field.send") is None
    assert callee(m, run, "self.cached.send") is None
    assert callee(m, "svc.Job.go", "self.mailer.send") == "mailer.Mailer.send"
    assert [(e.function, e.callee) for e in m.effects if e.function == run] == [
        (run, "requests.Session.post")  # the HTTP call made through the attribute
    ]


def test_self_dunder_class_builds_an_instance_of_the_class() -> None:
    files = {
        "money.py": """
            class Money:
                def __init__(self, value):
                    self.value = value

                def plus(self, other):
                    return self.__class__(self.value + other.value)
        """
    }
    m = project(files)["money"]
    assert callee(m, "money.Money.plus", "self.__class__") == "money.Money.__init__"


def test_a_property_s_value_is_what_its_getter_returns() -> None:
    """``@property``, ``functools.cached_property`` and Django's ``cached_property``
    read as attributes: ``self.session.post()`` calls the method of what the getter
    returns (its annotation first), and the property is no callable argument."""
    files = {
        "mailer.py": """
            class Mailer:
                def send(self):
                    pass
        """,
        "client.py": """
            import functools
            import requests
            from django.utils.functional import cached_property
            from mailer import Mailer

            class Client:
                @cached_property
                def session(self):
                    return requests.Session()

                @property
                def mailer(self) -> Mailer:
                    return build()

                @functools.cached_property
                def backup(self):
                    return Mailer()

                def go(self):
                    self.session.post("https://example.com")
                    self.mailer.send()
                    self.backup.send()
                    notify(self.backup)

            def notify(value):
                pass
        """,
    }
    m = project(files)["client"]
    go = "client.Client.go"
    assert callee(m, go, "self.session.post") == "requests.Session.post"
    assert callee(m, go, "self.mailer.send") == "mailer.Mailer.send"
    assert callee(m, go, "self.backup.send") == "mailer.Mailer.send"
    (sent,) = [c for c in calls_in(m, go) if c.text == "notify"]
    assert sent.args[0].ref == "mailer.Mailer()"  # an object, not a callable


def test_an_attribute_of_a_rebound_self_is_not_the_instance_s() -> None:
    """``self = other`` then ``self.x = ...`` sets nothing on this class's instances;
    ``self.x: T = value`` declares T whatever the value."""
    files = {
        "mailer.py": """
            class Mailer:
                def send(self):
                    pass
        """,
        "a.py": """
            from mailer import Mailer

            class A:
                def setup(self, factory):
                    self.declared: Mailer = factory()
                    self = factory()
                    self.other = Mailer()

                def go(self):
                    self.declared.send()
                    self.other.send()
        """,
    }
    m = project(files)["a"]
    assert callee(m, "a.A.go", "self.declared.send") == "mailer.Mailer.send"
    assert callee(m, "a.A.go", "self.other.send") is None


def test_init_subclass_and_new_receive_the_class() -> None:
    """``__init_subclass__`` (an implicit classmethod) and ``__new__`` get the class:
    what they set through it is no instance attribute, so a class-body alias keeps
    typing ``self._pick`` and ``cls.m()`` there is the class's method."""
    files = {
        "rand.py": """
            class Random:
                def __init_subclass__(cls, **kw):
                    cls._pick = cls._pick_slow
                    cls.describe()

                def __new__(cls, seed):
                    cls.describe()
                    return super().__new__(cls)

                @classmethod
                def describe(cls):
                    pass

                def _pick_fast(self, n):
                    return n

                def _pick_slow(self, n):
                    return n

                _pick = _pick_fast

                def choice(self, seq):
                    return seq[self._pick(len(seq))]
        """
    }
    m = project(files)["rand"]
    assert callee(m, "rand.Random.choice", "self._pick") == "rand.Random._pick_fast"
    for method in ("rand.Random.__init_subclass__", "rand.Random.__new__"):
        assert callee(m, method, "cls.describe") == "rand.Random.describe"


def test_an_explicit_object_base_defines_only_what_object_has() -> None:
    """``class FormMixin(object)`` calling ``self.get_form()`` calls a sibling's or a
    subclass's method: unresolved, not ``builtins.object.get_form``; what ``object``
    does define (``__init__``, ``__eq__``...) still resolves to it."""
    files = {
        "mixins.py": """
            class FormMixin(object):
                def __init__(self):
                    super().__init__()

                def post(self):
                    form = self.get_form()
                    return self.__eq__(form)
        """
    }
    m = project(files)["mixins"]
    post = "mixins.FormMixin.post"
    assert callee(m, post, "self.get_form") is None
    assert callee(m, post, "self.__eq__") == "builtins.object.__eq__"
    init = "mixins.FormMixin.__init__"
    assert callee(m, init, "super().__init__") == "builtins.object.__init__"


def test_an_attribute_assigned_any_other_way_is_unknown() -> None:
    """Besides ``self.x = T()``, an attribute can be set by unpacking, ``+=``,
    ``setattr(self, "x", ...)``, ``with ... as self.x`` or ``for self.x in``: each is
    one more assignment, of the type it gives when that is known, so any unknown one
    leaves ``x`` unresolved; one that agrees keeps it. ``del`` sets nothing."""
    files = {
        "mailer.py": """
            class Mailer:
                def send(self):
                    pass
        """,
        "svc.py": """
            from mailer import Mailer

            class Svc:
                def __init__(self, pair, name):
                    self.a = Mailer()
                    self.a, self.other = pair
                    self.b = Mailer()
                    self.b += Mailer()
                    self.c = Mailer()
                    del self.c
                    self.d = Mailer()
                    setattr(self, "d", name)
                    self.e = Mailer()
                    *self.e, rest = pair
                    self.f = Mailer()
                    with Mailer() as self.f:
                        pass
                    self.g = Mailer()
                    setattr(self, name, 1)

                def go(self):
                    self.a.send()
                    self.b.send()
                    self.c.send()
                    self.d.send()
                    self.e.send()
                    self.f.send()
                    self.g.send()
        """,
    }
    m = project(files)["svc"]
    for unknown in "abde":
        assert callee(m, "svc.Svc.go", f"self.{unknown}.send") is None, unknown
    assert callee(m, "svc.Svc.go", "self.c.send") == "mailer.Mailer.send"  # del
    assert callee(m, "svc.Svc.go", "self.f.send") == "mailer.Mailer.send"  # agrees
    assert callee(m, "svc.Svc.go", "self.g.send") == "mailer.Mailer.send"  # not a literal name


def test_attribute_assignments_resolve_in_their_own_method_s_scope() -> None:
    """Each method may import its own ``Client``: the same text names different
    classes, so the attribute is unknown; the same class imported twice agrees."""
    files = {
        "a.py": """
            class Client:
                def send(self):
                    pass
        """,
        "b.py": """
            class Client:
                def send(self):
                    pass
        """,
        "svc.py": """
            class Svc:
                def one(self):
                    from a import Client
                    self.client = Client()
                    self.same = Client()

                def two(self):
                    from b import Client
                    self.client = Client()

                def three(self):
                    from a import Client
                    self.same = Client()

                def go(self):
                    self.client.send()
                    self.same.send()
        """,
    }
    m = project(files)["svc"]
    assert callee(m, "svc.Svc.go", "self.client.send") is None
    assert callee(m, "svc.Svc.go", "self.same.send") == "a.Client.send"


def test_a_function_assigned_in_a_class_body_is_a_bound_method() -> None:
    """``on_save = audit`` makes ``self.on_save(x)`` call ``audit(self, x)``: the call
    reaches ``audit``, and leaves its parameters untyped whatever other call sites
    pass. A function stored on the instance (``self.cb = notify``) is called as it
    is, and a Celery task in a class body is an object, not a method: its ``delay``
    is the task's."""
    files = {
        "svc.py": """
            class Order:
                def save(self):
                    pass

            def audit(first, order):
                first.save()

            def notify(row):
                row.save()

            @shared_task
            def send_mail(to):
                pass

            def direct():
                audit(Order(), Order())

            class Svc:
                on_save = audit
                sender = send_mail

                def __init__(self):
                    self.cb = notify

                def go(self):
                    self.on_save(Order())
                    self.cb(Order())
                    self.sender.delay("a@example.com")
        """,
    }
    files["svc.py"] = "from celery import shared_task\n" + textwrap.dedent(files["svc.py"])
    m = project(files)["svc"]
    assert callee(m, "svc.Svc.go", "self.on_save") == "svc.audit"
    assert callee(m, "svc.audit", "first.save") is None  # ``first`` is also the Svc
    assert callee(m, "svc.Svc.go", "self.cb") == "svc.notify"
    assert callee(m, "svc.notify", "row.save") == "svc.Order.save"  # ``cb`` does not bind
    assert callee(m, "svc.Svc.go", "self.sender.delay") == "svc.send_mail"


def test_a_literal_s_methods_are_its_type_s() -> None:
    """A local or attribute bound to a display, comprehension, string or number, and a
    literal itself, call the builtin type's methods (``builtins.list.append``); so do
    ``set()`` and ``defaultdict(list)``. ``None`` has none, a rebinding forgets the
    type, and what a literal is passed as stays JSON only when all of it is; a name
    bound to a list, dict or set literal is passed as unknown: what it holds by the
    call need not be the literal (``names.append(y)``), as for a module-level one."""
    files = {
        "a.py": """
            import collections

            def f(y):
                names = []
                names.append(y)
                counts = {"a": 1}
                counts.get("a")
                seen = set()
                seen.add(y)
                ", ".join(names)
                ", ".join(names).split()
                f"{y}".upper()
                groups = collections.defaultdict(list)
                groups.items()
                squares = [i * i for i in range(3)]
                squares.sort()
                nothing = None
                nothing.strip()
                names = y
                names.append(1)
                g(counts, [y], -1)

            def g(*args):
                pass
        """,
    }
    m = project(files)["a"]
    got = {c.text: c.callee for c in calls_in(m, "a.f") if c.text not in ("g", "names.append")}
    assert got == {
        "counts.get": "builtins.dict.get",
        "set": "builtins.set",
        "seen.add": "builtins.set.add",
        "', '.join": "builtins.str.join",
        "', '.join().split": "builtins.str.split",
        "<joinedstr>.upper": "builtins.str.upper",
        "collections.defaultdict": "collections.defaultdict",
        "groups.items": "collections.defaultdict.items",
        "range": "builtins.range",
        "squares.sort": "builtins.list.sort",
        "nothing.strip": None,
    }
    appends = [c.callee for c in calls_in(m, "a.f") if c.text == "names.append"]
    assert appends == ["builtins.list.append", None]  # the second: ``names`` is ``y``
    (sent,) = [c for c in calls_in(m, "a.f") if c.text == "g"]
    assert [a.kind.value for a in sent.args] == ["unknown", "unknown", "json"]


def test_star_parameters_are_a_tuple_and_a_dict_whatever_their_annotation() -> None:
    """``*args`` is always a tuple and ``**kwargs`` a dict: the language says so, so
    ``kwargs.get()`` is ``builtins.dict.get``, in a closure too. An annotation
    (``**orders: Order``) is not the parameter's type (its items stay untyped), nor is
    what a caller passes by the parameter's name; a rebinding forgets the type."""
    files = {
        "a.py": """
            class Order:
                def save(self):
                    pass

            def f(*args, **kwargs):
                kwargs.get("pk")
                kwargs.setdefault("x", 1)
                args.count(1)

            def g(*orders: Order, **by_name: Order):
                orders.save()
                by_name.items()
                by_name.save()

            def h(**options):
                options = make()
                options.get("x")

            def outer(**by_name):
                def inner():
                    by_name.save()
                    by_name.items()
                return inner

            def caller():
                outer(by_name=Order())

            def make():
                pass
        """,
    }
    m = project(files)["a"]
    got = {(c.caller, c.text): c.callee for c in m.calls if c.caller[:3] in ("a.f", "a.g", "a.h")}
    got.pop(("a.h", "make"))
    assert got == {
        ("a.f", "kwargs.get"): "builtins.dict.get",
        ("a.f", "kwargs.setdefault"): "builtins.dict.setdefault",
        ("a.f", "args.count"): "builtins.tuple.count",
        ("a.g", "orders.save"): None,  # a tuple of orders has no ``save``
        ("a.g", "by_name.items"): "builtins.dict.items",
        ("a.g", "by_name.save"): None,
        ("a.h", "options.get"): None,  # whatever ``make()`` returns
    }
    # a closure reads the dict too, never what a caller passes by the same keyword
    assert callee(m, "a.outer.inner", "by_name.save") is None
    assert callee(m, "a.outer.inner", "by_name.items") == "builtins.dict.items"


def test_a_module_level_literal_has_its_type_where_every_assignment_agrees() -> None:
    """``_PRICES = {}`` at module level: ``_PRICES.get()`` in a function (of the module
    or one importing it) is ``builtins.dict.get``. Two module-level assignments that
    disagree, or a function rebinding the name under ``global``, leave it untyped:
    what the function sees is whatever ran last."""
    files = {
        "pricing.py": """
            _PRICES = {}
            SYMBOLS = {"EUR": "€"}
            NAMES = []
            NAMES = ()
            REGISTRY = {}
            CLIENT = None

            def price(sku):
                _PRICES.get(sku)
                SYMBOLS.get("EUR")
                NAMES.count(sku)
                REGISTRY.get(sku)
                CLIENT.get(sku)
                _PRICES.save()

            def reset():
                global REGISTRY
                REGISTRY = load()

            def load():
                pass
        """,
        "shop.py": """
            from pricing import SYMBOLS

            def label():
                SYMBOLS.items()
        """,
    }
    linked = project({k: textwrap.dedent(v) for k, v in files.items()})
    got = {c.text: c.callee for c in calls_in(linked["pricing"], "pricing.price")}
    assert got == {
        "_PRICES.get": "builtins.dict.get",
        "SYMBOLS.get": "builtins.dict.get",
        "NAMES.count": None,  # a list, then a tuple
        "REGISTRY.get": None,  # ``reset`` rebinds it
        "CLIENT.get": None,
        "_PRICES.save": None,  # no such method
    }
    assert callee(linked["shop"], "shop.label", "SYMBOLS.items") == "builtins.dict.items"


def test_deleting_an_attribute_leaves_an_inherited_property_s_type() -> None:
    files = {
        "svc.py": """
            from django.utils.functional import cached_property

            class Client:
                def fetch(self):
                    pass

            class Base:
                @cached_property
                def client(self):
                    return Client()

            class Svc(Base):
                def reset(self):
                    del self.client

                def run(self):
                    self.client.fetch()
        """,
    }
    m = project(files)["svc"]
    assert callee(m, "svc.Svc.run", "self.client.fetch") == "svc.Client.fetch"


def test_oscar_s_loader_loads_the_forked_app_s_class_else_oscar_s() -> None:
    """django-oscar shops load classes by app label: ``get_class("checkout.views",
    "X")`` is the project's forked ``<app>.checkout.views.X`` when it defines one, else
    Oscar's ``oscar.apps.checkout.views.X``; ``get_classes`` unpacks the same way, and
    a loaded class can be a base. Two forks that could be meant: unresolved."""
    files = {
        "shop/__init__.py": "",
        "shop/checkout/__init__.py": "",
        "shop/checkout/session.py": """
            class CheckoutSessionMixin:
                def check_basket(self):
                    pass
        """,
        "shop/checkout/views.py": """
            from django.views import generic
            from oscar.core.loading import get_class, get_classes

            CheckoutSessionMixin = get_class("checkout.session", "CheckoutSessionMixin")
            Repository, OrderCreator = get_classes(
                "shipping.repository", ["Repository", "OrderCreator"]
            )
            Thing = get_class("both.place", "Thing")

            class ShippingView(CheckoutSessionMixin, generic.FormView):
                def get(self, request):
                    self.check_basket()
                    Repository().get_methods()
                    OrderCreator().place()
                    Thing().go()
        """,
        "a/__init__.py": "",
        "a/both/__init__.py": "",
        "a/both/place.py": "class Thing:\n    def go(self):\n        pass\n",
        "b/__init__.py": "",
        "b/both/__init__.py": "",
        "b/both/place.py": "class Thing:\n    def go(self):\n        pass\n",
    }
    m = project({k: textwrap.dedent(v) for k, v in files.items()})["shop.checkout.views"]
    got = {c.text: c.callee for c in calls_in(m, "shop.checkout.views.ShippingView.get")}
    assert got == {
        "self.check_basket": "shop.checkout.session.CheckoutSessionMixin.check_basket",
        "Repository": "oscar.apps.shipping.repository.Repository",
        "Repository().get_methods": "oscar.apps.shipping.repository.Repository.get_methods",
        "OrderCreator": "oscar.apps.shipping.repository.OrderCreator",
        "OrderCreator().place": "oscar.apps.shipping.repository.OrderCreator.place",
        "Thing": None,  # ``a.both.place`` or ``b.both.place``
        "Thing().go": None,
    }
