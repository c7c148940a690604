"""Django facts after linking: models, tables, ORM, URLs, signals, tasks, effects."""

from __future__ import annotations

import pytest

from analyzers.facts import ArgKind, EffectKind, ManagerFact, ModuleFacts, OrmOp
from analyzers.graph import build_index
from analyzers.parse import facts_from_source
from tests.unit.analyzers.linkkit import callee, calls_in, project

MODELS = """
from django.db import models

class Stamped(models.Model):
    created = models.DateTimeField()
    class Meta:
        abstract = True

class Customer(Stamped):
    name = models.CharField(max_length=10)

class Order(Stamped):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    class Meta:
        db_table = "shop_order"
    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)

class OrderItem(models.Model):
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE)
    tags = models.ManyToManyField("Tag")

class Tag(models.Model):
    pass

class NotAModel:
    pass
"""


def shop(views: str, extra: dict[str, str] | None = None) -> dict:
    files = {
        "orders/__init__.py": "",
        "orders/models.py": MODELS,
        "orders/views.py": views,
        **(extra or {}),
    }
    return project(files)


def test_models_tables_and_abstract_bases_across_modules() -> None:
    extra = {
        "core/__init__.py": "",
        "core/base.py": "from django.db import models\n"
        "class Base(models.Model):\n    class Meta:\n        abstract = True\n",
        "billing/__init__.py": "",
        "billing/models.py": "from core.base import Base\nclass Invoice(Base):\n    pass\n",
    }
    linked = shop("", extra)
    models = {m.qualname: m for m in linked["orders.models"].models}
    assert set(models) == {
        "orders.models.Stamped",
        "orders.models.Customer",
        "orders.models.Order",
        "orders.models.OrderItem",
        "orders.models.Tag",
    }
    assert models["orders.models.Stamped"].abstract
    assert models["orders.models.Order"].table == "shop_order"
    assert models["orders.models.Customer"].table == "orders_customer"
    (invoice,) = linked["billing.models"].models  # base chain defined in another module
    assert (invoice.qualname, invoice.table) == ("billing.models.Invoice", "billing_invoice")


def test_string_model_references_resolve_to_qualnames() -> None:
    linked = shop("")
    item = next(m for m in linked["orders.models"].models if m.qualname.endswith("OrderItem"))
    assert item.relations == ("orders.models.Order", "orders.models.Tag")


def test_orm_reads_and_writes_with_imported_model() -> None:
    views = """
from orders.models import Order
def listing():
    Order.objects.filter(x=1).exclude(y=2)
    Order.objects.create(x=1)
    Order.objects.filter(x=1).update(y=2)
"""
    orm = shop(views)["orders.views"].orm
    assert [(o.model, o.op, o.method) for o in orm] == [
        ("orders.models.Order", OrmOp.READ, "filter"),
        ("orders.models.Order", OrmOp.READ, "exclude"),
        ("orders.models.Order", OrmOp.WRITE, "create"),
        ("orders.models.Order", OrmOp.READ, "filter"),
        ("orders.models.Order", OrmOp.WRITE, "update"),
    ]
    assert all(o.function == "orders.views.listing" for o in orm)


def test_async_orm_reads_and_writes_and_their_rows() -> None:
    """Django's async API (4.1+): the same queries, awaited. ``await`` keeps the
    type, so a row from ``aget`` and one from ``async for`` are known instances."""
    views = """
from orders.models import Order
async def handle(pk):
    order = await Order.objects.aget(pk=pk)
    await order.asave()
    if await Order.objects.filter(pk=pk).aexists():
        await Order.objects.filter(pk=pk).aupdate(state=1)
    async for row in Order.objects.filter(pk=pk).aiterator():
        await row.adelete()
    await Order.objects.abulk_create([])
    await order.items.aadd(1)
    await order.acustom()
"""
    orm = shop(views)["orders.views"].orm
    assert [(o.method, o.op, o.loc.line) for o in orm if o.model == "orders.models.Order"] == [
        ("aget", OrmOp.READ, 4),
        ("asave", OrmOp.WRITE, 5),
        ("filter", OrmOp.READ, 6),
        ("aexists", OrmOp.READ, 6),
        ("filter", OrmOp.READ, 7),
        ("aupdate", OrmOp.WRITE, 7),
        ("filter", OrmOp.READ, 8),
        ("aiterator", OrmOp.READ, 8),
        ("adelete", OrmOp.WRITE, 9),
        ("abulk_create", OrmOp.WRITE, 10),
    ]
    # ``order.items`` is not a relation of Order (OrderItem's FK has no related_name:
    # ``orderitem_set``), and ``acustom`` is no Django API: neither is invented
    assert {o.method for o in orm} <= {
        "aget",
        "asave",
        "filter",
        "aexists",
        "aupdate",
        "aiterator",
        "adelete",
        "abulk_create",
    }


def test_iterating_an_iterator_gives_rows() -> None:
    views = """
from orders.models import Order
def sweep():
    for order in Order.objects.filter(state=1).iterator(chunk_size=100):
        order.save()
"""
    orm = shop(views)["orders.views"].orm
    assert [(o.model, o.method) for o in orm][-1] == ("orders.models.Order", "save")


def test_the_row_of_get_or_create_is_a_row_and_created_is_not() -> None:
    """``obj, created = M.objects.get_or_create(...)`` (``update_or_create``, the
    async forms, ``...[0]``) gives a row: its ``save()`` writes M and passing it is
    passing an ORM instance, also when a function returns the pair or an attribute
    keeps it. ``created``, ``[1]``, a loop over the pair and other tuple unpacking
    give nothing."""
    views = """
from orders.models import Order
from orders.mail import confirm
async def place(i):
    order, created = await Order.objects.aget_or_create(pk=1)
    order.save()
    confirm(order)
    confirm(created)
    row = Order.objects.update_or_create(pk=2)[0]
    confirm(row)
    flag = Order.objects.get_or_create(pk=3)[1]
    confirm(flag)
    quotient, rest = divmod(7, 2)
    confirm(quotient)
    confirm(Order.objects.get_or_create(pk=4)[1])
    pair = Order.objects.get_or_create(pk=5)
    confirm(pair[1])
    confirm(pair[0])
    for item in Order.objects.get_or_create(pk=6):
        confirm(item)
    confirm(get_pair()[1])
    for item in get_pair():
        confirm(item)
    confirm(get_pair()[0])
    got, _ = get_pair()
    confirm(got)
def get_pair():
    return Order.objects.get_or_create(pk=7)
class Holder:
    def __init__(self):
        self.pair = Order.objects.get_or_create(pk=8)
    def keep(self):
        self.pair[0].save()
        self.pair[1].save()
"""
    facts = shop(views, {"orders/mail.py": "def confirm(order):\n    pass\n"})["orders.views"]
    sent = [
        (c.loc.line, c.args[0].kind, c.args[0].model) for c in facts.calls if c.text == "confirm"
    ]
    assert sent == [
        (7, ArgKind.ORM_INSTANCE, "orders.models.Order"),
        (8, ArgKind.UNKNOWN, None),
        (10, ArgKind.ORM_INSTANCE, "orders.models.Order"),
        (12, ArgKind.UNKNOWN, None),
        (14, ArgKind.UNKNOWN, None),
        (15, ArgKind.UNKNOWN, None),  # ``created``, however it is reached
        (17, ArgKind.UNKNOWN, None),
        (18, ArgKind.ORM_INSTANCE, "orders.models.Order"),
        (20, ArgKind.UNKNOWN, None),  # a pair's items differ: neither is known
        (21, ArgKind.UNKNOWN, None),  # ``created`` of a pair a function returns
        (23, ArgKind.UNKNOWN, None),
        (24, ArgKind.ORM_INSTANCE, "orders.models.Order"),  # its row
        (26, ArgKind.ORM_INSTANCE, "orders.models.Order"),
    ]
    writes = [(a.method, a.loc.line) for a in facts.orm if a.op is OrmOp.WRITE]
    assert writes == [
        ("aget_or_create", 5),
        ("save", 6),
        ("update_or_create", 9),
        ("get_or_create", 11),
        ("get_or_create", 15),
        ("get_or_create", 16),
        ("get_or_create", 19),
        ("get_or_create", 28),
        ("get_or_create", 31),
        ("save", 33),  # the row of a pair kept in an attribute; ``[1]`` is a bool
    ]


def test_select_for_update_is_flagged() -> None:
    views = """
from orders.models import Order
def lock():
    Order.objects.select_for_update().get(pk=1)
"""
    orm = shop(views)["orders.views"].orm
    assert [(o.method, o.select_for_update) for o in orm] == [
        ("select_for_update", True),
        ("get", True),
    ]


def test_select_for_update_stays_on_its_own_chain() -> None:
    # the rows it fetched are locked, but saving them (or a related row, or rows
    # reached through a relation) later is a plain write, not another lock
    views = """
from orders.models import Order
def refund():
    o = Order.objects.select_for_update().get(pk=1)
    c = o.customer
    c.save()
    o.save()
    o.orderitem_set.create()
    for other in Order.objects.select_for_update().filter(x=1):
        other.delete()
    qs = Order.objects.select_for_update()
    qs.filter(x=2).first()
"""
    orm = shop(views)["orders.views"].orm
    found = [(o.loc.line, o.model.rpartition(".")[2], o.method, o.select_for_update) for o in orm]
    assert found == [
        (4, "Order", "select_for_update", True),
        (4, "Order", "get", True),
        (6, "Customer", "save", False),
        (7, "Order", "save", False),
        (8, "OrderItem", "create", False),
        (9, "Order", "select_for_update", True),
        (9, "Order", "filter", True),
        (10, "Order", "delete", False),
        (11, "Order", "select_for_update", True),
        # a locking queryset evaluated later still locks, where it is evaluated
        (12, "Order", "filter", True),
        (12, "Order", "first", True),
    ]


def test_instance_save_with_known_type() -> None:
    views = """
from orders.models import Order, Customer
def annotated(order: Order):
    order.save()
def fetched():
    o = Order.objects.get(pk=1)
    o.delete()
def built():
    c = Customer(name="x")
    c.save()
def unknown(thing):
    thing.save()
"""
    linked = shop(views)
    orm = {(o.function, o.model, o.op, o.method) for o in linked["orders.views"].orm}
    assert orm == {
        ("orders.views.annotated", "orders.models.Order", OrmOp.WRITE, "save"),
        ("orders.views.fetched", "orders.models.Order", OrmOp.READ, "get"),
        ("orders.views.fetched", "orders.models.Order", OrmOp.WRITE, "delete"),
        ("orders.views.built", "orders.models.Customer", OrmOp.WRITE, "save"),
    }
    m = linked["orders.views"]
    assert callee(m, "orders.views.annotated", "order.save") == "orders.models.Order.save"
    assert callee(m, "orders.views.built", "c.save") == "django.db.models.Model.save"
    assert callee(m, "orders.views.unknown", "thing.save") is None


def test_super_save_in_a_model_writes_its_table() -> None:
    orm = shop("")["orders.models"].orm
    assert [(o.function, o.model, o.op) for o in orm] == [
        ("orders.models.Order.save", "orders.models.Order", OrmOp.WRITE)
    ]


def test_related_managers_forward_and_reverse() -> None:
    views = """
from orders.models import Customer, Order, OrderItem
def related(customer: Customer, order: Order, item: OrderItem):
    customer.orders.all()
    order.orderitem_set.filter(x=1)
    item.tags.add(1)
    for o in Order.objects.filter(x=1):
        o.customer.save()
"""
    orm = [(o.model, o.method) for o in shop(views)["orders.views"].orm]
    assert orm == [
        ("orders.models.Order", "all"),
        ("orders.models.OrderItem", "filter"),
        ("orders.models.Tag", "add"),
        ("orders.models.Order", "filter"),
        ("orders.models.Customer", "save"),
    ]


def test_orm_on_a_class_that_is_not_a_model_is_not_orm() -> None:
    views = "from orders.models import NotAModel\ndef f():\n    NotAModel.objects.filter()\n"
    assert shop(views)["orders.views"].orm == ()


def test_get_model_string_reference() -> None:
    views = """
from django.apps import apps
def f():
    Order = apps.get_model("orders", "Order")
    Order.objects.all()
"""
    assert [(o.model, o.method) for o in shop(views)["orders.views"].orm] == [
        ("orders.models.Order", "all")
    ]


def test_urls_path_re_path_include() -> None:
    urls = """
from django.urls import path, re_path, include
from orders import views
urlpatterns = [
    path("orders/", views.listing, name="listing"),
    re_path(r"^detail/(?P<pk>\\d+)/$", views.Detail.as_view(), name="detail"),
    path("api/", include("orders.api_urls")),
]
"""
    views = (
        "from django.views import View\ndef listing(request):\n    pass\n"
        "class Detail(View):\n    pass\n"
    )
    routes = shop(views, {"orders/urls.py": urls})["orders.urls"].urls
    assert [(r.pattern, r.view, r.name, r.include) for r in routes] == [
        ("orders/", "orders.views.listing", "listing", None),
        (r"^detail/(?P<pk>\d+)/$", "orders.views.Detail", "detail", None),
        ("api/", None, None, "orders.api_urls"),
    ]
    assert routes[0].loc.line == 5


def test_drf_router_registrations_are_routes_and_other_registers_are_not() -> None:
    """``router.register("orders", OrderViewSet)``: Django REST framework routes the
    viewset, so it is an entry point like a ``path()`` view; ``admin.site.register``
    and a project registry's ``register`` route nothing."""
    urls = """
from django.contrib import admin
from django.urls import include, path
from rest_framework import routers
from rest_framework.routers import SimpleRouter
from orders.api import OrderViewSet, Lines
from orders.models import Order
from orders.registry import registry
class VersionedRouter(routers.DefaultRouter):
    pass
router = routers.DefaultRouter()
router.register(r"orders", OrderViewSet, basename="order")
lines = VersionedRouter()
lines.register("lines", Lines)
SimpleRouter().register(prefix, Lines)
admin.site.register(Order)
registry.register("orders", OrderViewSet)
urlpatterns = [path("api/", include(router.urls))]
"""
    api = (
        "from rest_framework import viewsets\n"
        "class OrderViewSet(viewsets.ModelViewSet):\n    pass\n"
        "class Lines(viewsets.ViewSet):\n    pass\n"
    )
    registry = (
        "class Registry:\n    def register(self, name, obj):\n        pass\nregistry = Registry()\n"
    )
    linked = shop(
        "", {"orders/urls.py": urls, "orders/api.py": api, "orders/registry.py": registry}
    )
    routes = linked["orders.urls"].urls
    assert [(r.pattern, r.view, r.name, r.loc.line, r.router) for r in routes[:2]] == [
        ("orders", "orders.api.OrderViewSet", "order", 12, "router"),
        ("lines", "orders.api.Lines", None, 14, "router"),  # a project subclass of a router
    ]
    assert [r.include for r in routes[2:]] == ["orders.urls.router.urls"]  # nothing else
    index = build_index(list(linked.values()))
    assert index.external_entries["orders.api.OrderViewSet"].startswith("url 'orders'")


def test_signals_receiver_decorator_and_connect() -> None:
    signals = """
from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver
from orders.models import Order
@receiver(post_save, sender=Order)
def on_save(sender, instance, **kwargs):
    pass
def on_delete(sender, **kwargs):
    pass
pre_delete.connect(on_delete, sender=Order)
"""
    handlers = shop("", {"orders/signals.py": signals})["orders.signals"].signals
    assert [(h.receiver, h.signal, h.sender) for h in handlers] == [
        ("orders.signals.on_save", "django.db.models.signals.post_save", "orders.models.Order"),
        ("orders.signals.on_delete", "django.db.models.signals.pre_delete", "orders.models.Order"),
    ]


def test_socket_connect_is_not_a_signal() -> None:
    src = "import socket\ndef f():\n    s = socket.socket()\n    s.connect(('h', 1))\n"
    assert shop("", {"net.py": src})["net"].signals == ()


def test_celery_tasks_shared_task_and_app_task() -> None:
    files = {
        "proj/__init__.py": "",
        "proj/celery.py": "from celery import Celery\napp = Celery('proj')\n",
        "orders/tasks.py": "from celery import shared_task\nfrom proj.celery import app\n"
        "@shared_task\ndef a():\n    pass\n@app.task(bind=True)\ndef b(self):\n    pass\n"
        "def not_a_task():\n    a.delay()\n",
    }
    linked = shop("", files)
    tasks = linked["orders.tasks"].tasks
    assert [t.qualname for t in tasks] == ["orders.tasks.a", "orders.tasks.b"]
    assert callee(linked["orders.tasks"], "orders.tasks.not_a_task", "a.delay") == "orders.tasks.a"


def test_what_on_commit_is_given_runs_after_the_transaction() -> None:
    """``transaction.on_commit(...)`` is the fix the analysis itself suggests for a
    call made inside ``atomic``: what it registers runs after the commit, so it is
    no call inside the transaction, and its result is dropped (fire-and-forget). A
    function handed over by reference is still called: from here."""
    views = """
from functools import partial
from django.db import transaction
from orders.mail import send, later
class Checkout:
    def note(self, pk):
        pass
    def place(self, pk):
        with transaction.atomic():
            transaction.on_commit(lambda: send(pk))
            transaction.on_commit(partial(later, pk))
            transaction.on_commit(self.note)
            transaction.on_commit(print)
            send(pk)
"""
    mail = "def send(pk):\n    return 1\ndef later(pk):\n    pass\n"
    facts = shop(views, {"orders/mail.py": mail})["orders.views"]
    got = [
        (c.text, c.callee, c.in_atomic, c.result_used, c.loc.line, [a.text for a in c.args])
        for c in calls_in(facts, "orders.views.Checkout.place")
        if c.callee is None or not c.callee.startswith(("django.", "functools."))
    ]
    assert got == [
        ("send", "orders.mail.send", False, False, 10, ["pk"]),
        ("later (on commit)", "orders.mail.later", False, False, 11, ["pk"]),
        ("self.note (on commit)", "orders.views.Checkout.note", False, False, 12, []),
        ("print (on commit)", "builtins.print", False, False, 13, []),
        ("send", "orders.mail.send", True, False, 14, ["pk"]),  # this one is inside
    ]
    place = calls_in(facts, "orders.views.Checkout.place")
    registrations = [c for c in place if c.callee == "django.db.transaction.on_commit"]
    assert len(registrations) == 4
    assert all(c.in_atomic for c in registrations)  # registered inside, run after


def test_atomic_decorator_and_with_mark_calls() -> None:
    views = """
from django.db import transaction
from django.db.transaction import atomic
@transaction.atomic
def a():
    step()
@atomic
def b():
    step()
def c():
    step()
    with transaction.atomic():
        step()
def step():
    pass
"""
    m = shop(views)["orders.views"]
    assert [(r.function, r.kind) for r in m.atomics] == [
        ("orders.views.a", "decorator"),
        ("orders.views.b", "decorator"),
        ("orders.views.c", "with"),
    ]
    assert [c.in_atomic for c in calls_in(m, "orders.views.c") if c.text == "step"] == [False, True]
    assert all(c.in_atomic for c in calls_in(m, "orders.views.a"))


def test_side_effects() -> None:
    views = """
import subprocess, requests, httpx, urllib.request
from django.core.mail import send_mail, EmailMessage
from django.core.cache import cache
from PIL import Image
def effects():
    send_mail("s", "b", "f", ["t"])
    EmailMessage("s").send()
    requests.post("u")
    httpx.get("u")
    urllib.request.urlopen("u")
    open("f").read()
    subprocess.run(["ls"])
    Image.open("x.png")
    cache.set("k", 1)
"""
    effects = [(e.kind, e.callee) for e in shop(views)["orders.views"].effects]
    assert effects == [
        (EffectKind.MAIL, "django.core.mail.send_mail"),
        (EffectKind.MAIL, "django.core.mail.EmailMessage"),
        (EffectKind.MAIL, "django.core.mail.EmailMessage.send"),
        (EffectKind.HTTP, "requests.post"),
        (EffectKind.HTTP, "httpx.get"),
        (EffectKind.HTTP, "urllib.request.urlopen"),
        (EffectKind.FILE, "builtins.open"),
        (EffectKind.SUBPROCESS, "subprocess.run"),
        (EffectKind.IMAGE, "PIL.Image.open"),
        (EffectKind.CACHE, "django.core.cache.cache.set"),
    ]


def test_argument_kinds_at_call_sites() -> None:
    views = """
import threading
from orders.models import Order
LOCK = threading.Lock()
def handler(request, order: Order, n):
    lock = threading.Lock()
    with open("f") as fh:
        notify(request, order, order.pk, lambda: 1, fh, lock, {"a": [1, "x"]}, n, helper)
def notify(*args):
    pass
def helper():
    pass
"""
    (call,) = [c for c in shop(views)["orders.views"].calls if c.text == "notify"]
    assert [a.kind for a in call.args] == [
        ArgKind.REQUEST,
        ArgKind.ORM_INSTANCE,
        ArgKind.JSON,
        ArgKind.CALLABLE,
        ArgKind.FILE,
        ArgKind.LOCK,
        ArgKind.JSON,
        ArgKind.UNKNOWN,
        ArgKind.CALLABLE,
    ]
    assert call.args[1].model == "orders.models.Order"


def test_rows_querysets_and_the_request_s_user_reached_through_a_name() -> None:
    """An argument written as an attribute, call or subscript of a typed name is
    typed as the name is: a foreign key of a row and ``qs[0]`` are rows,
    ``request.user`` (``self.request.user`` too) the user's row; a queryset or a
    manager is a queryset of its model. An attribute of an unknown name stays
    unknown."""
    views = """
from django.views import View
from orders.models import Order
def handler(request, thing):
    order = Order.objects.get(pk=1)
    recent = Order.objects.filter(state=1)
    notify(order.customer, recent[0], request.user, recent, Order.objects, recent.exclude(x=1),
           thing.attr)
class Page(View):
    def get(self, request):
        notify(self.request.user)
def notify(*args):
    pass
"""
    calls = [c for c in shop(views)["orders.views"].calls if c.text == "notify"]
    assert [(a.kind, a.model) for a in calls[0].args] == [
        (ArgKind.ORM_INSTANCE, "orders.models.Customer"),
        (ArgKind.ORM_INSTANCE, "orders.models.Order"),
        (ArgKind.ORM_INSTANCE, "django.contrib.auth.models.User"),  # no AUTH_USER_MODEL
        (ArgKind.QUERYSET, "orders.models.Order"),
        (ArgKind.QUERYSET, "orders.models.Order"),
        (ArgKind.QUERYSET, "orders.models.Order"),
        (ArgKind.UNKNOWN, None),
    ]
    assert [a.kind for a in calls[1].args] == [ArgKind.ORM_INSTANCE]


def test_module_level_locks_and_uploads_are_not_serialisable() -> None:
    views = """
import threading
from django.db import connection
from django.http import HttpRequest
from django.views import View
from locks import SHARED, CONN, NAMES, FH
LOCK = threading.Lock()
COUNT = 3
def handler(request, other: HttpRequest, thing):
    up = request.FILES["f"]
    late = request.FILES.get("g")
    notify(LOCK, SHARED, CONN, request.FILES["f"], request.FILES.get("g"),
           request.FILES.getlist("h"), request.FILES, other.FILES["f"], up, late,
           COUNT, NAMES, thing.FILES["f"], request.POST["p"], FH)
class Upload(View):
    def post(self, request):
        notify(self.request.FILES["f"], request.FILES["f"])
def notify(*args):
    pass
"""
    extra = {
        "locks.py": "import threading\nfrom django.db import connections\n"
        "SHARED = threading.RLock()\nCONN = connections['default']\nNAMES = ['a']\n"
        "FH = open('x')\n"
    }
    calls = [c for c in shop(views, extra)["orders.views"].calls if c.text == "notify"]
    kinds = [[a.kind for a in c.args] for c in calls]
    assert kinds == [
        [
            ArgKind.LOCK,  # a module-level threading.Lock()
            ArgKind.LOCK,  # another module's RLock, imported
            ArgKind.UNKNOWN,  # connections['default']: not a plain constructor call
            ArgKind.FILE,  # request.FILES["f"]
            ArgKind.FILE,  # request.FILES.get("g")
            ArgKind.FILE,  # .getlist(): a list of uploads
            ArgKind.FILE,  # all the uploads
            ArgKind.FILE,  # an annotated request
            ArgKind.FILE,  # a local bound to an upload
            ArgKind.FILE,
            ArgKind.JSON,  # a module-level int
            ArgKind.UNKNOWN,  # a module-level list: what it holds by then is unknown
            ArgKind.UNKNOWN,  # ``thing`` is no request
            ArgKind.JSON,  # request.POST is form data (text), not a file
            ArgKind.FILE,  # a module-level open file, imported
        ],
        [ArgKind.FILE, ArgKind.FILE],  # a class-based view's self.request
    ]
    assert calls[0].args[0].ref == "orders.views.LOCK"
    assert calls[0].args[1].ref == "locks.SHARED"


def test_text_from_a_request_builtins_and_module_constants_is_json() -> None:
    """What is text or a number by construction travels in JSON: a request's query
    string, form, cookies and headers (``self.request``'s too, DRF's
    ``query_params``), what ``str()``/``int()``/``len()`` give and a str's own
    methods, a module-level str/int/float/bool constant (imported too), and the
    values the shim carries tagged (a Decimal, a datetime or date, a UUID). Not: a
    request's session, ``round()`` (a Decimal stays one), a constant a function
    rebinds under ``global``, a name assigned different kinds of value, a str's
    ``encode()`` (bytes), a ``timedelta``."""
    views = """
import datetime
import uuid
from decimal import Decimal
from django.utils import timezone
from django.views import View
from consts import SUBJECT, RETRIES
import consts
LIMIT = 2.5
MODE = "a"
MODE = None
TOKEN = "x"
def handler(request, price):
    email = request.POST["email"]
    q = request.GET.get("q", "")
    page = int(request.GET.get("page", 1))
    notify(email, q, page, request.GET.getlist("tag"), request.COOKIES.get("c"),
           request.headers["X-Id"], request.method, str(price), len(q), q.strip().lower(),
           " ".join(q.split()), SUBJECT, RETRIES, consts.ENABLED, LIMIT,
           request.session.get("k"), round(price, 2), MODE, TOKEN, q.encode(),
           datetime.timedelta(days=1))
    when = timezone.now()
    notify(Decimal("1.50"), Decimal(q).quantize(Decimal("0.01")), when,
           datetime.date.today(), uuid.uuid4(), datetime.datetime(2024, 1, 1))
def rotate():
    global TOKEN
    TOKEN = "y"
class Search(View):
    def get(self, request):
        notify(self.request.GET["q"], self.request.path, self.request.GET.dict(),
               self.request.get_full_path(), request.query_params.get("q"))
class Job:  # a Celery task's ``self.request`` is no HTTP request
    def run(self):
        notify(self.request.headers.get("x"), self.request.method)
def notify(*args):
    pass
"""
    extra = {"consts.py": "SUBJECT = 'Your order'\nRETRIES = 3\nENABLED = True\n"}
    calls = [c for c in shop(views, extra)["orders.views"].calls if c.text == "notify"]
    kinds = [[a.kind for a in c.args] for c in calls]
    json, unknown = ArgKind.JSON, ArgKind.UNKNOWN
    assert kinds == [
        [*[json] * 15, unknown, unknown, unknown, unknown, unknown, unknown],
        [json] * 6,
        [json] * 5,
        [unknown, unknown],
    ]


def test_a_model_field_s_value_is_typed_by_the_field_s_class() -> None:
    """``order.total`` of a row: JSON for text, numbers, booleans, dates and Decimals
    (the shim carries the last two tagged), a file for a FileField, unknown for a
    DurationField or a custom field; fields of abstract bases and of Django's user
    models count; an attribute that is no field is typed as before (a property by
    what its getter returns), and a name that is no row is not looked up."""
    billing = """
from django.contrib.auth.models import AbstractUser
from django.db import models
from orders.models import Stamped
class Member(AbstractUser):
    nickname = models.CharField(max_length=9)
class Invoice(Stamped):
    total = models.DecimalField(max_digits=9, decimal_places=2)
    paid = models.BooleanField(default=False)
    pdf = models.FileField()
    grace = models.DurationField()
    money = MoneyField()
    @property
    def label(self):
        return str(self.pk)
"""
    views = """
from billing.models import Invoice, Member
def handler(request, thing):
    invoice = Invoice.objects.get(pk=1)
    total = invoice.total
    member = Member.objects.first()
    notify(total, invoice.paid, invoice.created, invoice.pdf, invoice.grace, invoice.money,
           invoice.label, request.user.email, member.username, member.nickname, thing.total)
def notify(*args):
    pass
"""
    extra = {"billing/__init__.py": "", "billing/models.py": billing}
    calls = [c for c in shop(views, extra)["orders.views"].calls if c.text == "notify"]
    json, unknown = ArgKind.JSON, ArgKind.UNKNOWN
    assert [a.kind for a in calls[0].args] == [
        json,  # a local bound to a DecimalField's value
        json,  # BooleanField
        json,  # an abstract base's DateTimeField
        ArgKind.FILE,
        unknown,  # a timedelta
        unknown,  # a custom field
        json,  # no field: a property, whose getter returns a str
        unknown,  # request.user: a project's user model no settings name, unknown
        json,  # AbstractUser's username, on a project's user model
        json,
        unknown,  # ``thing`` is no row
    ]
    # the nearest class binding a name decides: a relation, a method or a property
    # over a base's field is no field value; AbstractBaseUser has no ``email`` field
    overrides = """
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models
from orders.models import Customer
class Base(models.Model):
    owner = models.CharField(max_length=9)
    stamp = models.DateTimeField()
    class Meta:
        abstract = True
class Thing(Base):
    owner = models.ForeignKey(Customer, on_delete=models.CASCADE)
    def stamp(self):
        return 1
class Account(AbstractBaseUser):
    def email(self):
        return ""
"""
    views = """
from billing.models import Thing, Account
def handler():
    thing = Thing.objects.get(pk=1)
    account = Account.objects.get(pk=1)
    notify(thing.owner, thing.stamp, account.email, account.last_login)
def notify(*args):
    pass
"""
    extra = {"billing/__init__.py": "", "billing/models.py": overrides}
    calls = [c for c in shop(views, extra)["orders.views"].calls if c.text == "notify"]
    assert [a.kind for a in calls[0].args] == [
        ArgKind.ORM_INSTANCE,
        ArgKind.CALLABLE,
        ArgKind.CALLABLE,
        json,
    ]
    plain = "def h(request):\n    notify(request.user.email, request.user.is_staff)\n"
    calls = list(shop(plain + "def notify(*a):\n    pass\n")["orders.views"].calls)
    assert [a.kind for a in calls[0].args] == [json, json]  # Django's User's fields


def test_a_setting_is_json_when_the_settings_assign_it_a_scalar() -> None:
    """``settings.X`` as an argument: JSON when every settings module that assigns it
    (``settings.py``, ``settings/*.py``, ``*_settings.py``) assigns a str, int, float or
    bool; a list, an unknown value or assignments that disagree are unknown; a setting
    the project does not assign is JSON only for Django's own str/bool defaults."""
    files = {
        "shop/settings/__init__.py": "",
        "shop/settings/base.py": "COUNTRY = 'FR'\nBCC = ['a']\nLIMIT = 3\nMODE = 'a'\n",
        "shop/test_settings.py": "MODE = None\nSECRET = env('SECRET')\n",
        "shop/other.py": "OTHER = 'x'\n",
    }
    views = """
from django.conf import settings
def handler(request):
    notify(settings.COUNTRY, settings.LIMIT, settings.DEFAULT_FROM_EMAIL, settings.BCC,
           settings.MODE, settings.SECRET, settings.OTHER, settings.CACHES)
def notify(*args):
    pass
"""
    calls = [c for c in shop(views, files)["orders.views"].calls if c.text == "notify"]
    json, unknown = ArgKind.JSON, ArgKind.UNKNOWN
    assert [a.kind for a in calls[0].args] == [json] * 3 + [unknown] * 5
    # an app's own defaults are no settings module; LOGIN_URL is often reverse_lazy()
    files["shop/app_settings.py"] = "COLOUR = 'red'\n"
    views = "from django.conf import settings\nnotify(settings.COLOUR, settings.LOGIN_URL)\n"
    calls = [c for c in shop(views, files)["orders.views"].calls if c.text == "notify"]
    assert [a.kind for a in calls[0].args] == [unknown, unknown]


INVOICES = """
from django.db import models
class Invoice(models.Model):
    total = models.DecimalField()
    discount = models.DecimalField()
    due = models.DateField()
    paid = models.DateTimeField()
    customer = models.ForeignKey("orders.Customer", on_delete=models.CASCADE)
"""


def test_a_value_that_is_one_of_several_is_what_they_all_are() -> None:
    """``a or b``, ``x if c else y``, arithmetic, ``min``/``max``/``abs``/``round``, a
    ``.get()``'s default, ``-x``: JSON when every operand is, a row when the one kind that is
    not JSON is a row (``invoice if c else None``), unknown when one operand is unknown
    or they differ. A subtraction that may involve a date or datetime is unknown (two
    make a timedelta); ``"%s" % x`` and ``not x`` are text or a bool however made, as
    is a function's that returns a str literal (not a list literal's); ``sum(xs)`` is
    unknown (a ``Money``'s ``__radd__`` makes it a Money)."""
    views = """
import datetime
from django.conf import settings
from django.utils import timezone
from billing.models import Invoice
def region():
    return "eu"
def total(xs):
    return sum(xs)
def found():
    return []
def handler(request, thing, flag, xs):
    invoice = Invoice.objects.get(pk=1)
    country = request.GET.get("country") or invoice.customer.name or settings.COUNTRY
    notify(country, invoice if flag else None, invoice or request, thing or "x",
           "%s items" % thing, invoice.total - invoice.discount, invoice.total * 2 + 1,
           invoice.paid - invoice.paid, timezone.now() - invoice.due, invoice.due - thing,
           sum(xs), round(thing), round(invoice.total, 2), round(thing, 2),
           abs(invoice.discount), max(invoice.total, 0), max(xs), -invoice.total,
           not thing, -thing)
    q = request.GET.get("q", thing)
    c = request.GET.get("c") or "NL"
    notify(request.GET.get("p", ""), request.GET.get("p", thing), q, c, region(),
           total(xs), found(), str(c) if flag else len(xs))
def notify(*args):
    pass
"""
    extra = {
        "billing/__init__.py": "",
        "billing/models.py": INVOICES,
        "shop/settings.py": "COUNTRY = 'FR'\n",
    }
    calls = [c for c in shop(views, extra)["orders.views"].calls if c.text == "notify"]
    json, unknown, row = ArgKind.JSON, ArgKind.UNKNOWN, ArgKind.ORM_INSTANCE
    assert [a.kind for a in calls[0].args] == [
        json,  # text, a CharField, a str setting
        row,  # a row or None
        unknown,  # a row or a request
        unknown,  # an unknown parameter's value
        json,  # printf-style formatting gives a str
        json,  # DecimalField - DecimalField
        json,
        unknown,  # DateTimeField - DateTimeField: a timedelta
        unknown,  # now() - DateField
        unknown,  # a date minus something unknown
        unknown,  # sum(xs): of unknown items
        unknown,  # round(x) of an unknown x
        json,  # round(Decimal, 2): a Decimal
        unknown,  # round(unknown, 2)
        json,
        json,
        unknown,  # max of an iterable: one of its items
        json,  # minus a Decimal
        json,  # ``not``: a bool
        unknown,  # minus an unknown
    ]
    assert calls[0].args[1].model == "billing.models.Invoice"
    assert [a.kind for a in calls[1].args] == [
        json,  # the default is JSON
        unknown,  # the default is unknown
        unknown,  # a local bound to such a .get()
        json,  # a local bound to text or a literal
        json,  # a function returning a str literal
        unknown,  # a function returning sum()
        unknown,  # a function returning a list literal
        json,  # str() or len()
    ]


def test_a_join_claims_json_only_where_every_way_to_it_is_json() -> None:
    """What must not read JSON: a returned local whose branches differ (its literal
    type is the last written), a generator's call, a datetime's ``replace()`` minus
    another, a list built by a join and filled (``[None] * 3``, a ``.get()``'s ``[]``
    default), a project function shadowing ``max`` or ``abs`` (imported, or defined
    further down); a chained assignment or a join local used with a suffix makes
    no callee or reference of the join. What may: a nested join of JSON parts, a
    ``.get()``'s ``default=``, a typed return's subtraction that is not a date's."""
    views = """
from decimal import Decimal
from django.conf import settings
from django.utils import timezone
from billing.models import Invoice
from billing.util import max
def get_invoice(pk):
    try:
        invoice = Invoice.objects.get(pk=pk)
    except Invoice.DoesNotExist:
        invoice = None
    return invoice
def rows():
    yield Invoice.objects.get(pk=1)
    return "done"
def price() -> Decimal: ...
class Handler:
    def run(self, request, flag, thing):
        invoice = Invoice.objects.get(pk=1)
        slots = [None] * 3
        slots[0] = invoice
        acc = [] if flag else ["x"]
        acc.append(invoice)
        notify(get_invoice(1), rows(), timezone.now().replace(hour=0) - timezone.now(),
               slots, acc, max(invoice.total, 1), (invoice.total or 0) + (invoice.discount or 1),
               request.GET.get("p", default=thing), request.GET.get("p", default="x"),
               price() - invoice.total, settings.START - invoice.total, [1] + [2],
               abs(invoice.total))
        tags = request.GET.get("t", [])
        tags.append(invoice)
        notify(tags)
        x = self.inv = invoice if flag else None
        self.inv.save()
        qs = Invoice.objects.filter(pk=1) or []
        for row in qs:
            notify(row)
        first, second = qs
        notify(first)
def notify(*args):
    pass
def abs(x):
    return Invoice.objects.get(pk=x)
"""
    extra = {
        "billing/__init__.py": "",
        "billing/models.py": INVOICES,
        "billing/util.py": "from billing.models import Invoice\n"
        "def max(a, b):\n    return Invoice.objects.get(pk=a)\n",
        "shop/settings.py": "import datetime\nSTART = datetime.date(2024, 1, 1)\n",
    }
    linked = shop(views, extra)["orders.views"]
    calls = [c for c in linked.calls if c.text == "notify"]
    json, unknown = ArgKind.JSON, ArgKind.UNKNOWN
    assert [a.kind for a in calls[0].args] == [
        unknown,  # a row or None, by branch
        unknown,  # a generator
        unknown,  # datetime minus datetime: a timedelta
        unknown,  # a list filled after the join made it
        unknown,
        ArgKind.ORM_INSTANCE,  # billing.util.max, no builtin: it returns a row
        json,  # Decimal or int, plus Decimal or int
        unknown,  # default= an unknown
        json,  # default= a str
        json,  # a typed Decimal return minus a DecimalField
        unknown,  # a settings date minus a Decimal: may be a date
        json,  # a literal list made of two: fresh
        unknown,  # ``abs`` is the module's own, defined further down
    ]
    assert all(c.args[0].ref is None or "{" not in c.args[0].ref for c in calls[1:])
    assert [a.kind for a in calls[1].args] == [unknown]  # text or a list, filled
    assert [a.kind for a in calls[2].args] == [unknown]  # an item of a join: unknown
    assert [a.kind for a in calls[3].args] == [unknown]
    save = [c for c in linked.calls if c.text == "self.inv.save"]
    assert [c.callee for c in save] == [None]  # not a made-up ``{...}.save``
    assert all(c.callee is None or "{" not in c.callee for c in linked.calls)


def test_a_local_s_literal_type_holds_only_where_every_branch_agrees() -> None:
    """A literal's type makes a name's argument JSON only where every way through the
    code gives it one: both branches of an ``if``, a loop that may not run, a ``try``
    whose handler may run instead; ``x += m`` joins it with ``m``. A ``.get()`` with a
    default bound any way (chained, walrus) is no request text; a builtin a star import
    may shadow is no builtin; ``sum(qs, 0)`` is unknown; ``return {}`` and ``return
    result`` agree on a dict."""
    views = """
from billing.models import Invoice
from billing.star import *
def fallback(flag):
    try:
        x = Invoice.objects.get(pk=1)
    except Invoice.DoesNotExist:
        x = "none"
    return x or ""
def cached(keys):
    if not keys:
        return {}
    result = {}
    return result
def handler(request, flag, items):
    invoice = Invoice.objects.get(pk=1)
    if flag:
        both = "a"
    else:
        both = 1
    if flag:
        one = "a"
    mixed = "a"
    if flag:
        mixed = invoice
    total = 0
    for m in items:
        total += m
    text = ""
    text += "b"
    c = d = request.GET.get("t", invoice)
    notify(fallback(True), both, one, mixed, total, text, c, (w := request.GET.get("t", invoice)),
           w, round(invoice.total), sum(Invoice.objects.all(), 0))
    cached([]).get("k")
def notify(*args):
    pass
"""
    extra = {
        "billing/__init__.py": "",
        "billing/models.py": INVOICES,
        "billing/star.py": "from billing.models import Invoice\n"
        "def round(x):\n    return Invoice.objects.get(pk=x)\n",
    }
    linked = shop(views, extra)["orders.views"]
    (call,) = [c for c in linked.calls if c.text == "notify"]
    json, unknown = ArgKind.JSON, ArgKind.UNKNOWN
    assert [a.kind for a in call.args] == [
        unknown,  # a row or "none", or ""
        json,  # "a" or 1
        unknown,  # "a", or whatever ``one`` was
        ArgKind.ORM_INSTANCE,  # "a" or a row
        unknown,  # 0 + unknown items
        json,  # "" + "b"
        unknown,  # text, or a row
        unknown,
        unknown,
        unknown,  # the star import's round
        unknown,  # sum() with a start: not a join
    ]
    (get,) = [c for c in linked.calls if c.text == "cached().get"]
    assert get.callee == "builtins.dict.get"


def test_a_branch_does_not_see_another_s_literal() -> None:
    """Ways are walked in source order, but a str literal the ``if`` branch binds is
    not the ``else`` branch's, nor a handler's (it may run before the body bound it),
    nor the ``try``'s ``else``'s when only a handler bound it; after an ``if``/``elif``
    binding literals, the way through neither keeps the type from before."""
    views = """
def handler(x, y, z, flag):
    if flag:
        x = "a"
    else:
        notify(x)
    try:
        y = "b"
        risky()
    except ValueError:
        notify(y)
    try:
        risky()
    except ValueError:
        z = "c"
    else:
        notify(z)
    if flag:
        x = Order.objects.get(pk=1)
    if x is True:
        x = 1
    elif x is False:
        x = 0
    notify(x)
def notify(*args):
    pass
"""
    views = "from orders.models import Order\n" + views
    calls = [c for c in shop(views)["orders.views"].calls if c.text == "notify"]
    # the last: 1, 0 or a row (not the row alone: what the ``elif``'s empty ``else``
    # leaves is the name's type before it, not the last one written)
    assert [a.kind for c in calls for a in c.args] == [ArgKind.UNKNOWN] * 4


def test_an_argument_is_what_every_way_to_it_may_have_bound() -> None:
    """A name's value as an argument joins what each way through branches, loops and
    ``try``s may have bound it to, whatever the type (``len()`` or a row): the ``else``
    reads what the name held before the ``if``; a loop's body reads what the previous
    round left, and a ``break`` may leave it part-way; a handler may run after any part
    of the ``try``; a ``nonlocal`` in a nested function or a walrus in a condition may
    rebind it. The type that resolves calls stays the last one written."""
    views = """
import os
from django.db.models import Q
from orders.models import Order
class Handler:
    def run(self, items, flag, v):
        row = Order.objects.get(pk=1)
        x = row
        if flag:
            x = "a"
        else:
            notify(x)
        b = "a"
        for i in items:
            b = row
            if flag:
                break
            b = "b"
        c = "a"
        for r in items:
            notify(c)
            c = row
        d = "a"
        try:
            d = row
            v.save()
            d = "b"
        except ValueError:
            pass
        e = row
        if flag:
            e = len(items)
        f = "a"
        def inner():
            nonlocal f
            f = row
        inner()
        g = row
        if flag and (g := "a"):
            pass
        names = []
        names.append(row)
        for h in names:
            notify(h)
        k = "a"
        import os as k
        notify(b, c, d, e, f, g, k)
        n = 0
        n += 1
        n.bit_length()
        self.inv = Order.objects.get(Q(pk=1), Q(pk=2))
        self.inv.save()
def notify(*args):
    pass
"""
    linked = shop(views)["orders.views"]
    calls = [c for c in linked.calls if c.text == "notify"]
    unknown, row = ArgKind.UNKNOWN, ArgKind.ORM_INSTANCE
    assert [a.kind for c in calls for a in c.args] == [
        row,  # x in the else: the row it held before the if
        unknown,  # c at the top of the loop: "a", or the row of the last round
        unknown,  # h: an item of a list code filled
        unknown,  # b: a break may leave "b" unset
        row,  # c after the loop: "a" or a row
        unknown,  # d: "b", or whatever the handler saw
        row,  # e: a row or an int
        unknown,  # f: a nested function rebinds it
        unknown,  # g: the walrus may not have run
        unknown,  # k: a module now
    ]
    callees = {c.text: c.callee for c in linked.calls}
    assert callees["n.bit_length"] == "builtins.int.bit_length"
    assert callees["self.inv.save"] == "orders.models.Order.save"


def test_every_binding_on_some_way_is_followed() -> None:
    """The less usual ways a name is bound on some ways only: an ``elif``'s walrus (its
    test ran on the later ways too), a ``case`` capture whose guard failed, an
    ``except ... as`` in a loop read at its top, a ``nonlocal`` two functions down,
    a walrus in a comprehension, a ``def`` over a name; a str's type a way disputes
    gives no str methods or items; a ``.get()`` whose key is a call still has its
    default."""
    views = """
from django.utils import timezone
from orders.models import Order
def f(request, flag, other, items, name, v):
    row = Order.objects.get(pk=1)
    a = "a"
    if flag:
        pass
    elif (a := row) and other:
        a = "b"
    notify(a)
    match row:
        case b if flag:
            b = "b"
        case _:
            notify(b)
    c = "a"
    for i in items:
        notify(c)
        try:
            v.save()
        except ValueError as c:
            pass
    d = "a"
    def g():
        def h():
            nonlocal d
            d = row
        h()
    g()
    e = d
    notify(d, e)
    k = "a"
    [(k := r) for r in [row]]
    notify(k)
    m = "a"
    if flag:
        m = 1
    def m():
        pass
    notify(m)
    t = timezone.now()
    if flag:
        t = "2020"
    u = t.strip()
    notify(t.strip(), u)
    for ch in t:
        notify(ch)
    notify(request.GET.get(str(name), row))
    w = request.GET.get(name.lower(), [])
    w.append(row)
    notify(w)
def notify(*args):
    pass
"""
    calls = [c for c in shop(views)["orders.views"].calls if c.text == "notify"]
    kinds = [a.kind for c in calls for a in c.args]
    unknown = ArgKind.UNKNOWN
    assert kinds == [
        unknown,  # a: "a", or the walrus's value (unknown), or "b"
        unknown,  # b: captured, though its guard failed
        unknown,  # c at the loop's top: "a" or an exception
        unknown,  # d: a nested function two levels down rebinds it
        unknown,  # e = d
        unknown,  # k: the comprehension's walrus
        ArgKind.CALLABLE,  # m: the def
        unknown,  # t.strip(): t may be a datetime
        unknown,
        unknown,  # an item of t
        ArgKind.ORM_INSTANCE,  # text or the row default
        unknown,  # text or a list filled after
    ]


def test_a_way_that_returns_or_raises_does_not_reach_the_code_after() -> None:
    """The demo's checkout: ``order = place_order(...)`` in the ``try``, every handler
    returns, so after the ``try`` ``order`` is the row (and so after an ``if`` whose
    other branch raises or, in a loop, continues)."""
    views = """
from orders.models import Order
def checkout(flag, items):
    try:
        order = Order.objects.get(pk=1)
    except ValueError:
        return None
    except KeyError as exc:
        raise RuntimeError() from exc
    notify(order)
    if flag:
        other = Order.objects.get(pk=2)
    else:
        raise ValueError()
    notify(other)
    for i in items:
        if i:
            row = Order.objects.get(pk=i)
        else:
            continue
        notify(row)
def notify(*args):
    pass
"""
    calls = [c for c in shop(views)["orders.views"].calls if c.text == "notify"]
    assert [a.kind for c in calls for a in c.args] == [ArgKind.ORM_INSTANCE] * 3


def test_a_returned_name_s_literal_counts_where_no_way_disputes_it() -> None:
    """``label = "eu"; return label`` returns a str; with ``label = row`` on another
    way it does not."""
    views = """
from orders.models import Order
def region():
    label = "eu"
    return label
def either(flag):
    label = "eu"
    if flag:
        label = Order.objects.get(pk=1)
    return label
def handler(flag):
    notify(region(), either(flag))
def notify(*args):
    pass
"""
    (call,) = [c for c in shop(views)["orders.views"].calls if c.text == "notify"]
    assert [a.kind for a in call.args] == [ArgKind.JSON, ArgKind.ORM_INSTANCE]


def test_a_match_statement_s_cases_are_ways() -> None:
    """One case of a ``match`` runs, or none: a name cases bind differently joins
    their values (and the one before); a captured name is unknown."""
    views = """
from orders.models import Order
def f(v, flag):
    row = Order.objects.get(pk=1)
    x = "a"
    match v:
        case 1:
            x = row
        case Order(pk=pk) if flag:
            notify(pk)
        case [first, *others]:
            x = "b"
    notify(x)
    z = "a"
    match v:
        case str():
            z = "b"
    notify(z)
    w = "a"
    match row:
        case w:
            pass
    notify(w)
def notify(*args):
    pass
"""
    calls = [c for c in shop(views)["orders.views"].calls if c.text == "notify"]
    assert [a.kind for c in calls for a in c.args] == [
        ArgKind.UNKNOWN,  # a capture
        ArgKind.ORM_INSTANCE,  # "a", a row or "b"
        ArgKind.JSON,  # "a" or "b"
        ArgKind.UNKNOWN,  # captured: no longer "a"
    ]


def test_a_long_elif_chain_is_one_choice_not_a_recursion() -> None:
    """2,000 ``elif`` branches are walked as one choice of ways, not nested ``if``s."""
    branches = "".join(f"    elif x == {i}:\n        y = {i}\n" for i in range(2000))
    source = f"def f(x):\n    if x:\n        y = 0\n{branches}    g(y)\n"
    facts = facts_from_source(source, module="m", path="m.py")
    assert isinstance(facts, ModuleFacts), facts
    (call,) = [c for c in facts.calls if c.text == "g"]
    assert call.args[0].kind is ArgKind.UNKNOWN  # y may be unbound: no else


def test_a_form_s_cleaned_value_is_typed_by_the_declared_field() -> None:
    """``form.cleaned_data["email"]`` (``.get("email")``, a local bound to it, the
    form's own ``self.cleaned_data``) by the field the form or a base declares: text,
    numbers, booleans, choices and dates are JSON, a model choice a row, a model
    multiple choice a queryset, a file field an upload; a field the form does not
    declare (a ModelForm's ``Meta.fields``), a typed choice or a computed key stay
    unknown, and so does a field the form cleans itself (``clean_<field>``), a name a
    subclass binds otherwise and the ``cleaned_data`` of what is no form."""
    forms = """
from django import forms
class Base(forms.Form):
    email = forms.EmailField()
class Checkout(Base):
    quantity = forms.IntegerField()
    carrier = forms.ChoiceField(choices=[])
    customer = forms.ModelChoiceField(queryset=None)
    tags = forms.ModelMultipleChoiceField(queryset=None)
    scan = forms.FileField()
    size = forms.TypedChoiceField(coerce=int)
    coupon = forms.CharField()
    def clean(self):
        notify(self.cleaned_data["quantity"])
    def clean_coupon(self):
        return Coupon.objects.get(code=self.cleaned_data["coupon"])
class Picky(Checkout):
    email = Chooser()
class Dropped(Checkout):
    email = None
class Row:
    cleaned_data = {}
"""
    views = """
from orders.forms import Checkout, Picky, Dropped, Row
def handler(request, key):
    form = Checkout(request.POST)
    email = form.cleaned_data["email"]
    notify(email, form.cleaned_data.get("quantity"), form.cleaned_data["carrier"],
           form.cleaned_data["customer"], form.cleaned_data["tags"], form.cleaned_data["scan"],
           form.cleaned_data["size"], form.cleaned_data["other"], form.cleaned_data[key],
           form.cleaned_data["coupon"], Picky().cleaned_data["email"],
           Row().cleaned_data["email"], Dropped().cleaned_data["email"])
def notify(*args):
    pass
"""
    linked = shop(views, {"orders/forms.py": forms})
    calls = [c for c in linked["orders.views"].calls if c.text == "notify"]
    json, unknown = ArgKind.JSON, ArgKind.UNKNOWN
    assert [a.kind for a in calls[0].args] == [
        json,  # a base's EmailField, through a local
        json,
        json,
        ArgKind.ORM_INSTANCE,
        ArgKind.QUERYSET,
        ArgKind.FILE,
        unknown,
        unknown,
        unknown,
        unknown,  # its clean_coupon() returns what it likes
        unknown,  # a subclass binds the name to something that is no field we know
        unknown,  # no form
        unknown,  # a subclass drops the field
    ]
    own = [c for c in linked["orders.forms"].calls if c.text == "notify"]
    assert [a.kind for a in own[0].args] == [json]


def test_what_a_function_returns_is_json_when_its_type_is() -> None:
    """A call whose result the linker types (an annotation, ``return str(...)``, a
    property's getter) is JSON when the type is a str, a number or a tagged type; a
    list, a literal return it does not type, an unannotated parameter, an ``async
    def``'s call (a coroutine) and a wrapped function's stay unknown."""
    util = """
from decimal import Decimal
from asgiref.sync import sync_to_async
def label() -> str: ...
def built():
    return str(1)
def price():
    return Decimal("1")
def names() -> list: ...
def echo(x):
    return x
class Item:
    @property
    def title(self) -> str: ...
    @staticmethod
    def code() -> str: ...
async def fetch() -> str: ...
@sync_to_async
def bridged() -> str: ...
"""
    views = """
from orders.util import label, built, price, names, echo, Item, fetch, bridged
def handler(item: Item):
    text = label()
    notify(text, built(), price(), item.title, names(), echo(1), Item.code(), fetch(),
           bridged())
def notify(*args):
    pass
"""
    calls = shop(views, {"orders/util.py": util})["orders.views"].calls
    json, unknown = ArgKind.JSON, ArgKind.UNKNOWN
    found = [a.kind for c in calls if c.text == "notify" for a in c.args]
    # not a coroutine's (async def) nor a wrapper's value (@sync_to_async)
    assert found == [json, json, json, json, unknown, unknown, json, unknown, unknown]


def test_a_model_form_s_cleaned_value_is_its_model_field_s() -> None:
    """A ModelForm's field made from its ``Meta.model`` (not declared on the form) is
    typed by the model's field: a value field as on a row, a foreign key a row, a
    many-to-many a queryset; a declared field still wins; a name the model does not
    have stays unknown."""
    forms = """
from django import forms
from orders.models import Order, OrderItem
class OrderForm(forms.ModelForm):
    note = forms.IntegerField()
    class Meta:
        model = Order
        fields = ["customer", "created", "note"]
class ItemForm(forms.ModelForm):
    class Meta:
        model = OrderItem
        fields = "__all__"
"""
    views = """
from orders.forms import OrderForm, ItemForm
def handler(request):
    form = OrderForm(request.POST)
    items = ItemForm(request.POST)
    notify(form.cleaned_data["customer"], form.cleaned_data["created"],
           form.cleaned_data["note"], items.cleaned_data["tags"], form.cleaned_data["nope"])
def notify(*args):
    pass
"""
    calls = shop(views, {"orders/forms.py": forms})["orders.views"].calls
    found = [a.kind for c in calls if c.text == "notify" for a in c.args]
    assert found == [
        ArgKind.ORM_INSTANCE,
        ArgKind.JSON,  # the abstract base's DateTimeField
        ArgKind.JSON,
        ArgKind.QUERYSET,
        ArgKind.UNKNOWN,
    ]


def test_result_used() -> None:
    views = "def f():\n    g()\n    x = g()\n    return g()\ndef g():\n    return 1\n"
    m = shop(views)["orders.views"]
    assert [c.result_used for c in calls_in(m, "orders.views.f")] == [False, True, True]


def test_module_level_mutable_state_and_uses_across_modules() -> None:
    files = {
        "registry.py": "HANDLERS = {}\nNAMES = []\nLIMIT = 3\n"
        "def register(k, v):\n    HANDLERS[k] = v\ndef names():\n    return list(NAMES)\n",
        "user.py": "from registry import HANDLERS, LIMIT\n"
        "def add():\n    HANDLERS.update(a=1)\ndef read():\n    return HANDLERS['a'], LIMIT\n",
    }
    linked = shop("", files)
    reg = linked["registry"]
    assert [(g.qualname, g.kind) for g in reg.globals] == [
        ("registry.HANDLERS", "dict"),
        ("registry.NAMES", "list"),
    ]
    assert [(u.function, u.name, u.writes) for u in reg.global_uses] == [
        ("registry.register", "registry.HANDLERS", True),
        ("registry.names", "registry.NAMES", False),
    ]
    assert [(u.function, u.name, u.writes) for u in linked["user"].global_uses] == [
        ("user.add", "registry.HANDLERS", True),
        ("user.read", "registry.HANDLERS", False),
    ]


def test_mutations_through_subscripts_are_writes() -> None:
    # ``_SEEN[k].append(v)`` mutates _SEEN (it is not a read of it); so do nested
    # subscripts assigned or deleted
    files = {
        "memo.py": "from collections import defaultdict\n_SEEN = defaultdict(list)\n"
        "def remember(k, v):\n    _SEEN[k].append(v)\n"
        "def nest(k, j, v):\n    _SEEN[k][j] = v\n"
        "def drop(k, j):\n    del _SEEN[k][j]\n"
        "def recall(k):\n    return _SEEN[k]\n"
        "def count(k):\n    return _SEEN[k].count(1)\n",
        "user.py": "from memo import _SEEN\ndef add(k):\n    _SEEN[k].append(k)\n",
    }
    linked = shop("", files)
    assert [(u.function, u.name, u.writes) for u in linked["memo"].global_uses] == [
        ("memo.remember", "memo._SEEN", True),
        ("memo.nest", "memo._SEEN", True),
        ("memo.drop", "memo._SEEN", True),
        ("memo.recall", "memo._SEEN", False),
        ("memo.count", "memo._SEEN", False),
    ]
    assert [(u.function, u.name, u.writes) for u in linked["user"].global_uses] == [
        ("user.add", "memo._SEEN", True),
    ]


def test_a_proxy_model_reads_and_writes_its_concrete_parents_table() -> None:
    files = {
        "orders/__init__.py": "",
        "orders/models.py": "from django.db import models\n"
        "class Order(models.Model):\n    total = models.IntegerField()\n"
        "class OpenOrder(Order):\n    class Meta:\n        proxy = True\n"
        "class Urgent(OpenOrder):\n    class Meta:\n        proxy = True\n",
        "orders/views.py": "from orders.models import OpenOrder, Urgent\n"
        "def close():\n    OpenOrder.objects.update(total=0)\n    Urgent.objects.all()\n",
    }
    linked = project(files)
    tables = {m.qualname: m.table for m in linked["orders.models"].models}
    assert tables == {
        "orders.models.Order": "orders_order",
        "orders.models.OpenOrder": "orders_order",  # not orders_openorder
        "orders.models.Urgent": "orders_order",  # a proxy of a proxy
    }


def test_containers_are_known_by_where_their_constructor_comes_from() -> None:
    """``collections.Counter`` is a dict; ``prometheus_client.Counter`` is a metric."""
    files = {
        "metrics.py": "from prometheus_client import Counter\nimport collections as c\n"
        "from collections import deque as dq\n"
        "REQUESTS = Counter('requests_total', 'doc')\n"
        "SEEN = c.Counter()\nRECENT = dq(maxlen=5)\n",
    }
    linked = shop("", files)
    assert [(g.qualname, g.kind) for g in linked["metrics"].globals] == [
        ("metrics.SEEN", "dict"),
        ("metrics.RECENT", "list"),
    ]


def test_mutations_through_a_module_attribute_resolve_at_link_time() -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/state.py": "_E = []\n_M = {}\nLIMIT = 3\ndef limit():\n    return 1\n",
        "user.py": "import pkg.state\nfrom pkg import state\nimport pkg.state as st\n"
        "def a():\n    pkg.state._E.append(1)\n"
        "def b(k):\n    state._M[k] = 1\n"
        "def c(k):\n    st._M[k].add(1)\n"
        "def d():\n    st.LIMIT.append(1)\n    st.limit.update()\n"
        "def e(state):\n    state._E.append(1)\n",
    }
    linked = shop("", files)
    # LIMIT is no mutable state and limit a function: dropped; e's ``state`` is a
    # parameter, not the module
    assert [(u.function, u.name, u.writes) for u in linked["user"].global_uses] == [
        ("user.a", "pkg.state._E", True),
        ("user.b", "pkg.state._M", True),
        ("user.c", "pkg.state._M", True),
    ]


def test_reads_through_a_module_attribute_resolve_at_link_time() -> None:
    """The reading side of the test above: ``pkg.state._M.get(k)`` reads another
    module's mutable state (a handler in another process would not see it)."""
    files = {
        "pkg/__init__.py": "",
        "pkg/state.py": "_E = []\n_M = {}\nLIMIT = 3\nclass Box:\n    items = []\n",
        "user.py": "import os.path\nimport pkg.state\nfrom pkg import state\n"
        "import pkg.state as st\nfrom pkg.state import Box\n"
        "def a(k):\n    return pkg.state._M.get(k)\n"
        "def b(k):\n    return k in state._M or st.LIMIT or os.path.sep\n"
        "def c():\n    for x in st._E:\n        pass\n    n = len(Box.items)\n"
        "def d(state):\n    return state._E\n",
    }
    linked = shop("", files)
    assert [(u.function, u.name, u.loc.line, u.writes) for u in linked["user"].global_uses] == [
        ("user.a", "pkg.state._M", 7, False),
        ("user.b", "pkg.state._M", 9, False),
        ("user.c", "pkg.state._E", 11, False),
    ]  # LIMIT is no mutable state, os.path no state, d's ``state`` a parameter


def test_names_rebound_under_global_are_module_state() -> None:
    files = {
        "counter.py": "COUNT = 0\n"
        "def read():\n    return COUNT, _LATE\n"  # before any function rebinds them
        "def bump():\n    global COUNT\n    COUNT += 1\n"
        "def reset():\n    global COUNT, _LATE\n    COUNT = 0\n    _LATE = 1\n"
        "def shadow():\n    COUNT = 5\n    return COUNT\n"
        "CONSTANT = 1\n"
        "def const():\n    global CONSTANT\n    return CONSTANT\n",
        "other.py": "from counter import COUNT, CONSTANT\ndef peek():\n    return COUNT\n",
    }
    linked = shop("", files)
    counter = linked["counter"]
    assert [(g.qualname, g.kind, g.loc.line) for g in counter.globals] == [
        ("counter.COUNT", "other", 1),
        ("counter._LATE", "other", 10),
    ]
    assert [(u.function, u.name, u.writes) for u in counter.global_uses] == [
        ("counter.read", "counter.COUNT", False),
        ("counter.read", "counter._LATE", False),
        ("counter.bump", "counter.COUNT", True),
        ("counter.reset", "counter.COUNT", True),
        ("counter.reset", "counter._LATE", True),
    ]
    # ``from counter import COUNT`` copies the value: reading it reads no shared state
    assert linked["other"].global_uses == ()


def test_settings_reads() -> None:
    views = (
        "from django.conf import settings\ndef f():\n    return settings.SHOP_URL\n"
        "def g(settings):\n    return settings.OTHER\n"
        "def h():\n    return getattr(settings, 'TIMEOUT', 3)\n"
    )
    reads = shop(views)["orders.views"].settings_reads
    assert [(r.function, r.name) for r in reads] == [
        ("orders.views.f", "SHOP_URL"),
        ("orders.views.h", "TIMEOUT"),
    ]


def test_settings_through_an_imported_module_are_read() -> None:
    views = (
        "import django.conf\nimport django.conf as dc\n"
        "def f():\n    return django.conf.settings.SHOP_URL + dc.settings.DEBUG\n"
        "def g(django):\n    return django.conf.settings.OTHER\n"  # a parameter, not Django
        "def h():\n    return django.conf.global_settings.X\n"
    )
    reads = shop(views)["orders.views"].settings_reads
    assert [(r.function, r.name, r.loc.line) for r in reads] == [
        ("orders.views.f", "SHOP_URL", 4),
        ("orders.views.f", "DEBUG", 4),
    ]


def test_indexed_handlers_and_querysets_are_typed_and_other_items_are_not() -> None:
    views = """
import sys
from django.core.cache import caches
from orders.models import Order
def f():
    caches["default"].set("k", 1)
    Order.objects.filter(x=1)[0].save()
    sys.argv[1].split()
    Order.objects.filter(x=1)[:5].count()
    Order.objects.dates("created", "month")[0].strftime("%Y")
    store = caches["sessions"]
    store.delete("k")
"""
    facts = shop(views)["orders.views"]
    effects = [(e.kind, e.callee, e.loc.line) for e in facts.effects]
    assert effects == [
        (EffectKind.CACHE, "django.core.cache.backends.base.BaseCache.set", 6),
        (EffectKind.CACHE, "django.core.cache.backends.base.BaseCache.delete", 12),  # a local
    ]
    assert callee(facts, "orders.views.f", "sys.argv[].split") is None  # never guessed
    # a slice is still the queryset; a dates() row is a date, not an Order
    count = "Order.objects.filter().count"
    assert callee(facts, "orders.views.f", count) == "django.db.models.QuerySet.count"
    assert callee(facts, "orders.views.f", "Order.objects.dates()[0].strftime") is None
    writes = [(a.model, a.method, a.loc.line) for a in facts.orm if a.op is OrmOp.WRITE]
    assert writes == [("orders.models.Order", "save", 7)]


def test_return_types_and_get_object_or_404_type_locals() -> None:
    views = """
from django.shortcuts import get_object_or_404
from orders.models import Order, Customer
def make():
    order = Order.objects.create(x=1)
    return order
def annotated() -> Customer:
    return lookup()
def lookup():
    pass
def view(pk):
    a = get_object_or_404(Order, pk=pk)
    a.save()
    b = get_object_or_404(Order.objects.select_related("customer"), pk=pk)
    b.delete()
    c = make()
    c.save()
    annotated().save()
"""
    m = shop(views)["orders.views"]
    orm = [(o.model, o.method) for o in m.orm if o.function == "orders.views.view"]
    assert orm == [
        ("orders.models.Order", "save"),
        ("orders.models.Order", "select_related"),
        ("orders.models.Order", "delete"),
        ("orders.models.Order", "save"),
        ("orders.models.Customer", "save"),
    ]
    defs = {d.qualname: d.returns for d in m.definitions}
    assert defs["orders.views.make"] == "orders.models.Order"
    assert defs["orders.views.annotated"] == "orders.models.Customer"
    assert defs["orders.views.lookup"] is None


def test_unannotated_parameter_typed_by_every_call_site() -> None:
    views = """
from orders.models import Order, Customer
def capture(order, token):
    order.save()
def ship(order):
    order.save()
def checkout():
    order = Order.objects.create()
    capture(order, "tok")
    ship(order)
def elsewhere(thing):
    ship(thing)
def mixed(order):
    order.save()
def caller_a():
    mixed(Order.objects.get(pk=1))
def caller_b():
    mixed(Customer.objects.get(pk=1))
def rebinds(order):
    order = make_something()
    order.save()
def caller_c():
    rebinds(Order.objects.get(pk=1))
"""
    m = shop(views)["orders.views"]
    writes = {(o.function, o.model) for o in m.orm if o.method == "save"}
    assert writes == {("orders.views.capture", "orders.models.Order")}
    call = next(c for c in m.calls if c.text == "order.save" and c.caller.endswith("capture"))
    assert call.callee == "orders.models.Order.save"
    (arg,) = next(c for c in m.calls if c.text == "ship" and c.caller.endswith("checkout")).args
    assert (arg.kind, arg.model) == (ArgKind.ORM_INSTANCE, "orders.models.Order")


def test_signal_with_lazy_string_sender() -> None:
    signals = """
from django.db.models.signals import post_save
from django.dispatch import receiver
@receiver(post_save, sender="orders.Order")
def award(sender, instance, **kwargs):
    pass
"""
    (handler,) = shop("", {"loyalty/signals.py": signals})["loyalty.signals"].signals
    assert (handler.receiver, handler.sender) == ("loyalty.signals.award", "orders.models.Order")


def test_parameter_inference_ignores_test_callers_and_reports_plain_instances() -> None:
    files = {
        "orders/capture.py": "def capture(order):\n    order.save()\n",
        "orders/checkout.py": "from orders.models import Order\n"
        "from orders.capture import capture\n"
        "class Cart:\n    pass\ndef get_cart():\n    cart = Cart()\n    return cart\n"
        "def place(cart):\n    pass\n"
        "def checkout():\n    capture(Order.objects.create())\n    place(get_cart())\n",
        "orders/tests.py": "from orders.capture import capture\n"
        "def test_capture(fixture):\n    capture(fixture)\n",
    }
    linked = shop("", files)
    assert [(o.model, o.method) for o in linked["orders.capture"].orm] == [
        ("orders.models.Order", "save")
    ]
    place = next(c for c in linked["orders.checkout"].calls if c.text == "place")
    assert (place.args[0].kind, place.args[0].ref) == (ArgKind.UNKNOWN, "orders.checkout.Cart()")


def _sunk(m: ModuleFacts, caller: str) -> list[tuple[ArgKind, str | None]]:
    """The kind (and model) of each argument ``caller`` passes to ``sink``."""
    (call,) = [c for c in calls_in(m, f"orders.views.{caller}") if c.text == "sink"]
    return [(a.kind, a.model) for a in call.args]


def test_parameter_value_is_what_every_call_site_passes() -> None:
    views = """
from decimal import Decimal
from orders.models import Order
def sink(*values):
    pass
def charge(amount, currency="EUR", note=None):
    sink(amount, currency, note)
def capture(order):
    charge(order.pk, note="paid")
    charge(Decimal("1.50"), "USD")
def outer(token):
    inner(token)
def inner(token):
    sink(token)
def start():
    outer("tok_1")
def notify(order):
    sink(order)
def send():
    notify(Order.objects.get(pk=1))
    notify(None)
def rows(orders):
    sink(orders)
def listing():
    rows(Order.objects.filter(pk=1))
"""
    m = shop(views)["orders.views"]
    json = (ArgKind.JSON, None)
    assert _sunk(m, "charge") == [json, json, json]
    assert _sunk(m, "inner") == [json]  # through ``outer``'s parameter
    assert _sunk(m, "notify") == [(ArgKind.ORM_INSTANCE, "orders.models.Order")]
    assert _sunk(m, "rows") == [(ArgKind.QUERYSET, "orders.models.Order")]


def test_parameter_value_unknown_where_a_caller_may_pass_anything() -> None:
    views = """
from orders.models import Order
import registry
def sink(*values):
    pass
def handler(value):
    sink(value)
def hooked(value):
    sink(value)
HOOK = hooked
@registry.register
def decorated(value):
    sink(value)
def filled(value, tags=[]):
    sink(value, tags)
def spread(value=None, other=None):
    sink(value, other)
def mutable(value):
    sink(value)
def mixed(value):
    sink(value)
def orphan(value):
    sink(value)
def audited(value):
    sink(value)
    return value
@audited
def audited_view(request):
    pass
def retry(times):
    sink(times)
    def wrap(function):
        return function
    return wrap
@retry(3)
def flaky():
    pass
def calls(thing, opts, items):
    handler("a")
    registry.connect(handler)
    hooked("a")
    decorated("a")
    filled("a")
    spread("a", **opts)
    spread(*items)
    mutable(["a"])
    mixed("a")
    mixed(thing)
    audited("a")
"""
    m = shop(views)["orders.views"]
    unknown = (ArgKind.UNKNOWN, None)
    escaped = ("handler", "hooked", "decorated", "audited")
    for caller in (*escaped, "mutable", "mixed"):
        assert _sunk(m, caller) == [unknown], caller
    assert _sunk(m, "filled") == [(ArgKind.JSON, None), unknown]  # a list default
    assert _sunk(m, "spread") == [unknown, unknown]  # ``**opts``, ``*items`` may hold them
    assert _sunk(m, "orphan") == [unknown]  # no call site
    # ``@retry(3)``: the factory's call is the module's ``retry(3)``; ``@audited``
    # (above) is given the function it decorates
    assert _sunk(m, "retry") == [(ArgKind.JSON, None)]


def test_method_parameter_value_where_every_call_is_seen() -> None:
    """A private method is called through its instance (the receiver is its first
    parameter), or through its class with the instance given; only where no other
    call could reach it: its name is no other definition's nor an unresolved call's,
    no framework base calls it (also through a subclass it is mixed into), no
    ``getattr(self, name)`` reads it, and it is private (a public name may be a
    protocol's: ``filter``, ``write``)."""
    views = """
from django.views import View
from orders.models import Order
def sink(*values):
    pass
class Mailer:
    def _deliver(self, address, subject="Hi"):
        sink(self, address, subject)
    def _relay(self, address):
        sink(address)
    def _notify(self, address):
        sink(address)
    def _publish(self, address):
        sink(address)
    def _other(self, address):
        sink(address)
    def __call__(self, address):
        sink(address)
    def public(self, address):
        sink(address)
class Sub(Mailer):
    def start(self, order):
        self._deliver(order.pk)
        super()._deliver("a@b.c", subject="Re")
        Mailer._deliver(self, "d@e.f")
        self._relay("x")
        self._notify("x")
        self._publish("x")
        self._other("x")
        self.public("x")
        self(order.pk)
        register(self._publish)
def loose(thing):
    thing._notify("y")
class Other:
    def _other(self, address):
        pass
class Mixin:
    def _render_page(self, title):
        sink(title)
class Page(Mixin, View):
    def get(self, request):
        self._render_page("x")
class Hooks:
    def _on_paid(self, payload):
        sink(payload)
    def handle(self, event, payload):
        self._on_paid("x")
        getattr(self, "_on_" + event)(payload)
"""
    m = shop(views)["orders.views"]
    json, unknown = (ArgKind.JSON, None), (ArgKind.UNKNOWN, None)
    assert _sunk(m, "Mailer._deliver") == [unknown, json, json]  # ``self``: not passed on
    assert _sunk(m, "Mailer._relay") == [json]
    assert _sunk(m, "Mailer._notify") == [unknown]  # ``thing._notify``: unresolved
    assert _sunk(m, "Mailer._publish") == [unknown]  # a bound method passed on
    assert _sunk(m, "Mailer._other") == [unknown]  # ``Other._other`` shares the name
    assert _sunk(m, "Mailer.__call__") == [unknown]
    assert _sunk(m, "Mailer.public") == [unknown]
    assert _sunk(m, "Mixin._render_page") == [unknown]  # mixed into Django's ``View``
    assert _sunk(m, "Hooks._on_paid") == [unknown]  # ``getattr(self, ...)``


ESCAPES = {
    "a join passed on": "def use(x):\n    registry.add(export if x else sink)\n",
    "a class attribute": "class A:\n    handler = export\n",
    "a module-level name under an if": "if os.environ.get('X'):\n    HOOK = export\n",
    "a global bound in a function": "def install():\n    global HOOK\n    HOOK = export\n",
    "a parameter's default": "def run(row, cb=export):\n    cb(row)\n",
    "a function's return": "def pick():\n    return {'csv': export}\n",
    "an attribute of the module": "import orders.views as me\ndef use():\n    return me.export\n",
    "an attribute of a module imported in a function": (
        "def ready():\n    from orders import views\n    registry.connect(views.export)\n"
    ),
    "a name two imports bind": (
        "try:\n    from orders.views import export as impl\n"
        "except ImportError:\n    from orders.slow import impl\n"
    ),
}


@pytest.mark.parametrize("how", sorted(ESCAPES))
def test_parameter_value_unknown_where_the_function_escapes(how: str) -> None:
    """``export`` read as a value anywhere (not called), or called where linking
    names no definition: whoever holds it may pass anything, whatever its one call
    site passes."""
    head = "import registry, os\ndef sink(*v):\n    pass\ndef export(v):\n    sink(v)\n"
    head += "def start():\n    export('a')\n"
    assert _sunk(shop(head)["orders.views"], "export") == [(ArgKind.JSON, None)]
    assert _sunk(shop(head + ESCAPES[how])["orders.views"], "export") == [(ArgKind.UNKNOWN, None)]


def test_parameter_value_unknown_where_a_call_is_not_tied_to_a_definition() -> None:
    """``from orders.views import *`` then ``export(row)``: linking names no callee,
    so the one call site it ties to ``export`` is not all of them."""
    views = "def sink(*v):\n    pass\ndef export(v):\n    sink(v)\ndef start():\n    export('a')\n"
    star = {"orders/jobs.py": "from orders.views import *\ndef job(row):\n    export(row)\n"}
    assert _sunk(shop(views)["orders.views"], "export") == [(ArgKind.JSON, None)]
    assert _sunk(shop(views, star)["orders.views"], "export") == [(ArgKind.UNKNOWN, None)]


def test_parameter_value_unknown_where_its_binding_is_not_one() -> None:
    """A positional-only parameter takes no keyword (``x="a"`` goes to ``**kw``); a
    function defined twice (under an ``if``) has two signatures; a parameter the body
    changes in place holds more than what was passed."""
    views = """
import os
from orders.models import Order
def sink(*values):
    pass
def only(x, /, **kw):
    sink(x)
if os.environ.get("A"):
    def twice(a, b):
        sink(b)
else:
    def twice(b, a):
        sink(b)
def filled(items):
    items.append(Order.objects.get(pk=1))
    sink(items)
def extended(ids):
    ids += [Order.objects.get(pk=1)]
    sink(ids)
def aliased(data):
    payload = data
    payload["order"] = Order.objects.get(pk=1)
    sink(data)
def nested(items):
    def add():
        items[0] = Order.objects.get(pk=1)
    add()
    sink(items)
def use():
    only(Order.objects.get(pk=1), x="a")
    twice("s", Order.objects.get(pk=1))
    filled("a b".split())
    nested("a b".split())
    extended("a b".split())
    aliased("a b".split())
"""
    m = shop(views)["orders.views"]
    assert _sunk(m, "only") == [(ArgKind.ORM_INSTANCE, "orders.models.Order")]
    (only,) = [d for d in m.definitions if d.qualname == "orders.views.only"]
    assert only.params[0].kind == "positional_only"
    twice = [c for c in calls_in(m, "orders.views.twice") if c.text == "sink"]
    assert [c.args[0].kind for c in twice] == [ArgKind.UNKNOWN, ArgKind.UNKNOWN]
    assert _sunk(m, "filled") == [(ArgKind.UNKNOWN, None)]
    assert _sunk(m, "nested") == [(ArgKind.UNKNOWN, None)]
    assert _sunk(m, "extended") == [(ArgKind.UNKNOWN, None)]
    assert _sunk(m, "aliased") == [(ArgKind.UNKNOWN, None)]
    mutated = {d.qualname.rpartition(".")[2] for d in m.definitions for p in d.params if p.mutated}
    assert mutated == {"filled", "nested", "extended", "aliased"}


def test_keyword_spread_is_no_positional_argument() -> None:
    """``f(order, **extra)``: ``extra`` is not ``f``'s second parameter."""
    views = """
from orders.models import Order
def sink(*values):
    pass
def place(customer, order=None):
    order.save()
    sink(order)
def checkout(extra):
    place(Order.objects.get(pk=1), **extra)
"""
    m = shop(views)["orders.views"]
    (call,) = [c for c in m.calls if c.text == "place"]
    assert [a.keyword for a in call.args] == [None, "**"]
    assert _sunk(m, "place") == [(ArgKind.UNKNOWN, None)]
    assert not [o for o in m.orm if o.function == "orders.views.place"]


MANAGED = """
from django.db import models
from django.contrib.contenttypes.fields import GenericForeignKey

class Mgr(models.Manager):
    def recent(self):
        return self.filter(created__gt=1)

    def create(self, **kw):
        return super().create(**kw)

class QS(models.QuerySet):
    def paid(self):
        return self.filter(paid=True)

class Shared(models.Manager):
    def live(self):
        return self.filter(live=True)

class Order(models.Model):
    objects = Mgr()
    shared = Shared()

class Line(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    objects = Mgr.from_queryset(QS)()
    shared = Shared()

class Tag(models.Model):
    objects = QS.as_manager()

class Plain(models.Model):
    name = models.CharField(max_length=3)
    owner = GenericForeignKey()
"""


def test_custom_manager_and_queryset_methods_resolve_to_the_project() -> None:
    views = """
from shop.models import Order, Line, Tag, Plain
def use(order: Order):
    Order.objects.recent()
    Order.objects.filter(x=1)
    Order.objects.nonexistent()
    Order.objects.filter(x=1).recent()
    Line.objects.paid()
    Line.objects.recent()
    Line.objects.filter(x=1).paid()
    Tag.objects.paid()
    Tag.objects.exclude(x=1).paid().count()
    Plain.objects.recent()
    Plain.objects.filter(x=1).nonexistent()
    Order.shared.live()
    order.lines.paid()
    Order.objects.create(x=1)
"""
    linked = project({"shop/__init__.py": "", "shop/models.py": MANAGED, "shop/views.py": views})
    m = linked["shop.views"]
    got = {c.text: c.callee for c in calls_in(m, "shop.views.use")}
    assert got == {
        "Order.objects.recent": "shop.models.Mgr.recent",
        "Order.objects.filter": "django.db.models.QuerySet.filter",
        "Order.objects.nonexistent": None,  # neither the API nor Mgr's: never invented
        "Order.objects.filter().recent": None,  # a Mgr method is not on its querysets
        "Line.objects.paid": "shop.models.QS.paid",
        "Line.objects.recent": "shop.models.Mgr.recent",
        "Line.objects.filter": "django.db.models.QuerySet.filter",
        "Line.objects.filter().paid": "shop.models.QS.paid",
        "Tag.objects.paid": "shop.models.QS.paid",
        "Tag.objects.exclude().paid().count": "django.db.models.QuerySet.count",
        "Tag.objects.exclude().paid": "shop.models.QS.paid",
        "Tag.objects.exclude": "django.db.models.QuerySet.exclude",
        "Plain.objects.recent": None,
        "Plain.objects.filter().nonexistent": None,
        "Plain.objects.filter": "django.db.models.QuerySet.filter",
        "Order.shared.live": "shop.models.Shared.live",
        "order.lines.paid": "shop.models.QS.paid",  # a related manager: Line's default
        "Order.objects.create": "shop.models.Mgr.create",  # the override runs
    }
    orm = {(o.model, o.method) for o in m.orm}
    assert ("shop.models.Order", "create") in orm  # still a write of Order's table
    assert ("shop.models.Tag", "count") in orm
    assert not any(o.method in ("recent", "nonexistent", "paid") for o in m.orm)


def test_a_manager_serving_several_models_queries_no_known_table() -> None:
    linked = project({"shop/__init__.py": "", "shop/models.py": MANAGED})
    # Mgr serves Order and Line, QS Line and Tag, Shared Order and Line: whose table
    # ``self.filter`` reads is not known, so no access is guessed
    assert linked["shop.models"].orm == ()
    declared = {m.qualname: m.managers for m in linked["shop.models"].models}
    assert declared["shop.models.Line"] == (
        ManagerFact("objects", "shop.models.Mgr", "shop.models.QS"),
        ManagerFact("shared", "shop.models.Shared", None),
    )
    assert declared["shop.models.Tag"] == (ManagerFact("objects", None, "shop.models.QS"),)
    assert declared["shop.models.Plain"] == ()  # a field is not a manager


def test_a_manager_serving_one_model_queries_that_model() -> None:
    models = """
from django.db import models

class Mgr(models.Manager):
    def recent(self):
        return self.filter(created__gt=1)
    def archive(self):
        self.get_queryset().update(archived=True)
        super().get_queryset().delete()
    def build(self):
        return self.model(x=1)

class Order(models.Model):
    objects = Mgr()
"""
    linked = project({"shop/__init__.py": "", "shop/models.py": models})
    orm = [(o.function, o.model, o.op, o.method) for o in linked["shop.models"].orm]
    assert orm == [
        ("shop.models.Mgr.recent", "shop.models.Order", OrmOp.READ, "filter"),
        ("shop.models.Mgr.archive", "shop.models.Order", OrmOp.READ, "get_queryset"),
        ("shop.models.Mgr.archive", "shop.models.Order", OrmOp.WRITE, "update"),
        ("shop.models.Mgr.archive", "shop.models.Order", OrmOp.READ, "get_queryset"),
        ("shop.models.Mgr.archive", "shop.models.Order", OrmOp.WRITE, "delete"),
    ]
    assert callee(linked["shop.models"], "shop.models.Mgr.build", "self.model") == (
        "shop.models.Order"
    )


def test_a_decorator_call_does_not_hide_what_its_factory_is_passed() -> None:
    files = {
        "sig.py": "class Signal:\n    def connect(self, f):\n        pass\npost = Signal()\n",
        "deco.py": """
def receiver(signal):
    def _decorator(func):
        signal.connect(func)
        return func
    return _decorator
""",
        "m.py": "from sig import post\nfrom deco import receiver\n"
        "@receiver(post)\ndef h():\n    pass\n",
    }
    deco = project(files)["deco"]
    # the module's ``receiver(post)`` types the parameter; ``h``'s decorator call passes
    # nothing and is not a call site that says otherwise
    assert callee(deco, "deco.receiver._decorator", "signal.connect") == "sig.Signal.connect"


def test_async_saves_send_model_signals_to_their_receivers() -> None:
    """``await order.asave()`` sends ``post_save`` like ``save()`` does: the receiver
    gets an implicit call site from the writer (``_index_signal_calls``)."""
    signals = """
from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver
@receiver(post_save, sender="orders.Order")
def award(sender, instance, **kwargs):
    pass
@receiver(pre_delete, sender="orders.Order")
def forget(sender, instance, **kwargs):
    pass
"""
    views = """
from orders.models import Order
async def place(pk):
    order = await Order.objects.acreate(pk=pk)
    await order.adelete()
"""
    index = build_index(list(shop(views, {"loyalty/signals.py": signals}).values()))
    sent = {
        (c.caller, c.callee, c.text, c.loc.line) for c in index.calls_from["orders.views.place"]
    }
    assert ("orders.views.place", "loyalty.signals.award", "acreate (sends post_save)", 4) in sent
    assert ("orders.views.place", "loyalty.signals.forget", "adelete (sends pre_delete)", 5) in sent


FROM_QUERYSET = """
from django.db import models

class OrderQuerySet(models.QuerySet):
    def paid(self):
        return self.filter(paid=True)

class OrderManager(models.Manager.from_queryset(OrderQuerySet)):
    def recent(self):
        return self.order_by("-id")

class Order(models.Model):
    objects = OrderManager()

class RefundQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(state="closed")

RefundManager = models.Manager.from_queryset(RefundQuerySet)

class Refund(models.Model):
    objects = RefundManager()

class Plain(models.Model):
    objects = models.Manager()
"""


def test_a_manager_subclassing_or_bound_to_from_queryset_offers_its_queryset() -> None:
    """``class M(Manager.from_queryset(QS))`` and ``M = Manager.from_queryset(QS)``:
    Django copies QS's methods onto the manager, so ``Order.objects.paid()`` is QS's,
    and ``self.filter`` inside QS queries the one model it serves."""
    views = """
from shop.models import Order, Refund, Plain
def use():
    Order.objects.paid().count()
    Order.objects.recent().paid()
    Refund.objects.open().update(state="x")
    Plain.objects.paid()
"""
    linked = project(
        {"shop/__init__.py": "", "shop/models.py": FROM_QUERYSET, "shop/views.py": views}
    )
    got = {c.text: c.callee for c in calls_in(linked["shop.views"], "shop.views.use")}
    assert got["Order.objects.paid"] == "shop.models.OrderQuerySet.paid"
    assert got["Order.objects.paid().count"] == "django.db.models.QuerySet.count"
    assert got["Order.objects.recent"] == "shop.models.OrderManager.recent"
    assert got["Order.objects.recent().paid"] == "shop.models.OrderQuerySet.paid"
    assert got["Refund.objects.open"] == "shop.models.RefundQuerySet.open"
    assert got["Refund.objects.open().update"] == "django.db.models.QuerySet.update"
    assert got["Plain.objects.paid"] is None  # a plain manager has no such method
    orm = {(o.function, o.model, o.method) for o in linked["shop.views"].orm}
    assert ("shop.views.use", "shop.models.Order", "count") in orm
    assert ("shop.views.use", "shop.models.Refund", "update") in orm
    models = linked["shop.models"]
    inside = {(o.function, o.model, o.method) for o in models.orm}
    assert inside == {
        ("shop.models.OrderQuerySet.paid", "shop.models.Order", "filter"),
        ("shop.models.OrderManager.recent", "shop.models.Order", "order_by"),
        ("shop.models.RefundQuerySet.open", "shop.models.Refund", "exclude"),
    }
    managers = {m.qualname: m.managers for m in models.models}
    assert managers["shop.models.Order"] == (
        ManagerFact("objects", "shop.models.OrderManager", "shop.models.OrderQuerySet"),
    )
    assert managers["shop.models.Refund"] == (
        ManagerFact("objects", "shop.models.RefundManager", "shop.models.RefundQuerySet"),
    )
    classes = {d.qualname: d.bases for d in models.definitions if d.kind.value == "class"}
    # the class Django builds, as parsing records it: the QuerySet's copies come first
    assert classes["shop.models.RefundManager"] == (
        "shop.models.RefundQuerySet",
        "django.db.models.Manager",
    )
    assert classes["shop.models.OrderManager"] == (
        "shop.models.OrderQuerySet",
        "django.db.models.Manager",
    )


def test_raw_sql_run_by_a_database_cursor_reads_and_writes_tables() -> None:
    """``cursor.execute("UPDATE shop_order ...")`` writes Order's table as
    ``Order.objects.update()`` would; a table no model maps to is still a table; a
    string passed to any other ``execute`` is not SQL we know of."""
    views = """
from django.db import connection, connections
class Exporter:
    def execute(self, sql):
        pass
def report(sql):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE SHOP_ORDER SET state = 2 WHERE id = %s", [1])
        cursor.execute("SELECT * FROM orders_customer c JOIN ledger l ON l.c = c.id FOR UPDATE")
        cursor.execute(sql)
def other():
    cur = connections["default"].cursor()
    cur.executemany("INSERT INTO ledger (x) VALUES (%s)", [])
    Exporter().execute("DELETE FROM shop_order")
"""
    linked = shop(views)["orders.views"]
    got = [(o.function[13:], o.model, o.op, o.method, o.loc.line, o.select_for_update, o.table)
           for o in linked.orm]  # fmt: skip
    assert got == [
        ("report", "orders.models.Order", OrmOp.WRITE, "execute", 8, False, "shop_order"),
        ("report", "orders.models.Customer", OrmOp.READ, "execute", 9, True, "orders_customer"),
        ("report", "", OrmOp.READ, "execute", 9, True, "ledger"),
        ("other", "", OrmOp.WRITE, "executemany", 13, False, "ledger"),
    ]
    assert linked.raw_sql == ()  # decided at linking
    index = build_index([*shop(views).values()])
    assert index.writers["shop_order"] == {"orders.models.Order.save", "orders.views.report"}
    assert index.writers["ledger"] == {"orders.views.other"}
    assert index.readers["ledger"] == {"orders.views.report"}


def test_what_django_writes_for_forms_admin_and_generic_views() -> None:
    """The writers an ORM-only view misses: a ModelForm's (or DRF ModelSerializer's)
    ``save()`` writes its ``Meta.model``; the admin writes what is registered with
    it; a generic view writes or reads its ``model``."""
    forms = """
from django import forms
from rest_framework import serializers
from orders.models import Order, Customer
class OrderForm(forms.ModelForm):
    class Meta:
        model = Order
        fields = ["customer"]
class RushOrderForm(OrderForm):
    pass
class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = "__all__"
class Search(forms.Form):
    def save(self):
        pass
"""
    views = """
from django.views.generic import ListView, UpdateView
from orders.forms import OrderForm, RushOrderForm, CustomerSerializer, Search
from orders.models import Order, Tag
def edit(request):
    form = OrderForm(request.POST)
    form.save()
    draft = RushOrderForm(request.POST).save(commit=False)
    RushOrderForm(request.POST).save()
    CustomerSerializer(data=request.data).save()
    Search(request.GET).save()
class OrderUpdate(UpdateView):
    model = Order
class Tags(ListView):
    model = Tag
class NotAView:
    model = Order
"""
    admin = """
from django.contrib import admin
from orders.models import Order, OrderItem, Tag, Customer
from orders.registry import registry
class ItemInline(admin.TabularInline):
    model = OrderItem
@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    inlines = [ItemInline]
class TagAdmin(admin.ModelAdmin):
    pass
admin.site.register([Tag], TagAdmin)
admin.site.register(Customer)
registry.register(Order)
"""
    registry = (
        "class Registry:\n    def register(self, obj):\n        pass\nregistry = Registry()\n"
    )
    linked = shop(
        views,
        {"orders/forms.py": forms, "orders/admin.py": admin, "orders/registry.py": registry},
    )

    def accesses(module: str) -> list[tuple[str, str, OrmOp, str, int]]:
        return [
            (o.function.rpartition(".")[2], o.model.rpartition(".")[2], o.op, o.method, o.loc.line)
            for o in linked[module].orm
            if o.method not in ("filter", "all")
        ]

    assert accesses("orders.views") == [
        ("edit", "Order", OrmOp.WRITE, "save", 7),
        ("edit", "Order", OrmOp.WRITE, "save", 9),  # inherited Meta; commit=False wrote nothing
        ("edit", "Customer", OrmOp.WRITE, "save", 10),
        ("OrderUpdate", "Order", OrmOp.READ, "UpdateView", 13),
        ("OrderUpdate", "Order", OrmOp.WRITE, "UpdateView", 13),
        ("Tags", "Tag", OrmOp.READ, "ListView", 15),
    ]  # a plain Form's save and a class that is no view: nothing
    assert accesses("orders.admin") == [
        ("OrderAdmin", "Order", OrmOp.WRITE, "admin", 7),
        ("TagAdmin", "Tag", OrmOp.WRITE, "admin", 12),
        ("admin", "Customer", OrmOp.WRITE, "admin", 13),  # the module registers it
        ("ItemInline", "OrderItem", OrmOp.WRITE, "admin", 6),
    ]  # a project registry's register is no admin
    assert all(m.model_bindings == () for m in linked.values())  # decided at linking


def test_generic_views_and_drf_viewsets_read_and_write_what_they_serve() -> None:
    """A ``queryset``, a ``serializer_class`` or a ModelForm ``form_class`` names the
    model as well as ``model`` does; DRF's viewsets and mixins do what their names
    say; one access per (class, model, operation)."""
    api = """
from django import forms
from django.views.generic import CreateView, DeleteView, ListView
from rest_framework import generics, mixins, serializers, viewsets
from orders.models import Order, Customer, Tag
class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
class Orders(viewsets.ModelViewSet):
    queryset = Order.objects.all()
    serializer_class = CustomerSerializer
class Customers(mixins.CreateModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = CustomerSerializer
class TagList(generics.ListAPIView):
    queryset = Tag.objects.filter(x=1)
class Purge(DeleteView):
    model = Tag
    queryset = Tag.objects.all()
class Plain(generics.GenericAPIView):
    queryset = Order.objects.all()
class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
class NewCustomer(CreateView):
    form_class = CustomerForm
"""
    linked = shop("", {"orders/api.py": api})
    got = {
        (o.function.rpartition(".")[2], o.model.rpartition(".")[2], o.op, o.method)
        for o in linked["orders.api"].orm
        if o.method not in ("all", "filter")
    }
    assert got == {
        ("Orders", "Order", OrmOp.READ, "ModelViewSet"),
        ("Orders", "Order", OrmOp.WRITE, "ModelViewSet"),
        ("Orders", "Customer", OrmOp.READ, "ModelViewSet"),  # what it serialises too
        ("Orders", "Customer", OrmOp.WRITE, "ModelViewSet"),
        ("Customers", "Customer", OrmOp.WRITE, "CreateModelMixin"),
        ("Customers", "Customer", OrmOp.READ, "ListModelMixin"),
        ("TagList", "Tag", OrmOp.READ, "ListAPIView"),
        ("Purge", "Tag", OrmOp.READ, "DeleteView"),
        ("Purge", "Tag", OrmOp.WRITE, "DeleteView"),
        ("NewCustomer", "Customer", OrmOp.WRITE, "CreateView"),  # its form's model
    }  # a bare GenericAPIView does nothing of its own
    purge = [o for o in linked["orders.api"].orm if o.function.endswith("Purge")]
    assert len([o for o in purge if o.method == "DeleteView"]) == 2  # not once per attribute


_CUSTOMER_FORMS = """\
class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
"""
"""A ModelSerializer and a ModelForm of ``Customer`` (imports: ``forms``, ``serializers``)."""


def test_a_view_that_computes_its_model_names_it_by_what_the_override_returns() -> None:
    """``get_queryset``, ``get_object``, ``get_serializer_class`` and ``get_form_class``
    overrides name the model as the attributes do: what every ``return`` agrees on,
    and each returned name the module knows (a serializer per action: each one's
    model; an unknown one adds nothing). One that narrows ``super()``'s queryset
    names none of its own, and a class that is no view gets nothing from the same
    methods."""
    api = (
        """
from django import forms
from django.shortcuts import get_object_or_404
from django.views.generic import CreateView, UpdateView
from rest_framework import generics, serializers, viewsets
from orders.models import Order, Customer, Tag
"""
        + _CUSTOMER_FORMS
        + """class MyOrders(UpdateView):
    fields = ["total"]
    def get_queryset(self):
        return Order.objects.filter(owner=self.request.user)
class Scoped(generics.RetrieveUpdateAPIView):
    def get_serializer_class(self):
        return CustomerSerializer
    async def get_object(self):
        return get_object_or_404(Tag, pk=self.kwargs["pk"])
class Either(viewsets.ModelViewSet):
    def get_serializer_class(self):
        if self.action == "list":
            return CustomerSerializer
        return OtherSerializer
class Narrowed(viewsets.ModelViewSet):
    queryset = Tag.objects.all()
    def get_queryset(self):
        return super().get_queryset().filter(x=1)
class NewCustomer(CreateView):
    def get_form_class(self):
        return CustomerForm
class NotAView:
    def get_queryset(self):
        return Order.objects.all()
"""
    )
    linked = shop("", {"orders/api.py": api})
    got = {
        (o.function.rpartition(".")[2], o.model.rpartition(".")[2], o.op, o.loc.line)
        for o in linked["orders.api"].orm
        if o.method not in ("all", "filter")
    }
    assert got == {
        ("MyOrders", "Order", OrmOp.READ, 15),  # at the override's def line
        ("MyOrders", "Order", OrmOp.WRITE, 15),
        ("Scoped", "Customer", OrmOp.READ, 18),
        ("Scoped", "Customer", OrmOp.WRITE, 18),
        ("Scoped", "Tag", OrmOp.READ, 20),  # the row get_object finds
        ("Scoped", "Tag", OrmOp.WRITE, 20),
        ("Either", "Customer", OrmOp.READ, 23),  # OtherSerializer is unknown
        ("Either", "Customer", OrmOp.WRITE, 23),
        ("Narrowed", "Tag", OrmOp.READ, 28),  # its queryset attribute, once
        ("Narrowed", "Tag", OrmOp.WRITE, 28),
        ("NewCustomer", "Customer", OrmOp.WRITE, 32),
    }


def test_a_serializer_per_action_names_each_model_it_returns() -> None:
    """Every ``return`` of ``get_serializer_class`` counts, in branches, handlers and
    ``match`` cases; not one of a function nested in it, nor ``super()``'s."""
    api = """
from rest_framework import serializers, viewsets
from orders.models import Order, Customer, Tag
class OrderSerializer(serializers.ModelSerializer):
    class Meta:
        model = Order
class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
class Orders(viewsets.ModelViewSet):
    def get_serializer_class(self):
        if self.action == "list":
            return OrderSerializer
        try:
            self.check()
        except ValueError:
            return CustomerSerializer
        match self.action:
            case "retrieve":
                return OrderSerializer
        def inner():
            return TagSerializer
        return super().get_serializer_class()
"""
    linked = shop("", {"orders/api.py": api})
    got = {(o.model.rpartition(".")[2], o.op) for o in linked["orders.api"].orm}
    assert got == {
        ("Order", OrmOp.READ),
        ("Order", OrmOp.WRITE),
        ("Customer", OrmOp.READ),
        ("Customer", OrmOp.WRITE),
    }


def test_a_view_s_hooks_get_its_form_serializer_or_row() -> None:
    """``form_valid(form)``, DRF's ``perform_create(serializer)`` and
    ``perform_update`` receive the view's ModelForm or ModelSerializer instance,
    ``perform_destroy(instance)`` a row of its model: their ``save()``/``delete()``
    write in the hook itself, whatever the parameter is called; a FormView (which
    saves nothing of its own) writes only there. A hook of a class that names no
    form, or a parameter other than the first, stays unknown."""
    api = (
        """
from django import forms
from django.views.generic import FormView
from rest_framework import serializers, viewsets
from orders.models import Customer, Tag
"""
        + _CUSTOMER_FORMS
        + """class Signup(FormView):
    form_class = CustomerForm
    def form_valid(self, f):
        f.save()
        return super().form_valid(f)
class Tags(viewsets.ModelViewSet):
    queryset = Tag.objects.all()
    serializer_class = CustomerSerializer
    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)
    def perform_destroy(self, instance):
        instance.delete()
class LaterSignup(Signup):
    def form_valid(self, form):
        form.save(commit=False)
class Contact(FormView):
    def form_valid(self, form, other):
        form.save()
        other.save()
"""
    )
    linked = shop("", {"orders/api.py": api})
    got = {
        (o.function.split(".", 2)[2], o.model.rpartition(".")[2], o.op, o.method, o.loc.line)
        for o in linked["orders.api"].orm
        if "." in o.function.split(".", 2)[2]  # the hooks, not the class-level accesses
    }
    assert got == {
        ("Signup.form_valid", "Customer", OrmOp.WRITE, "save", 15),
        ("Tags.perform_create", "Customer", OrmOp.WRITE, "save", 21),
        ("Tags.perform_destroy", "Tag", OrmOp.WRITE, "delete", 23),
    }  # LaterSignup's commit=False writes nothing; Contact names no form


def _hook_writes(api: str) -> set[tuple[str, str, str]]:
    """(Class.method, model, save/delete) of each write inside a method of ``api``."""
    linked = shop("", {"orders/api.py": api})
    return {
        (o.function.split(".", 2)[2], o.model.rpartition(".")[2], o.method)
        for o in linked["orders.api"].orm
        if "." in o.function.split(".", 2)[2] and o.method in ("save", "delete")
    }


def test_a_hook_is_typed_only_by_what_its_view_names_for_it() -> None:
    """Each hook follows the attributes its framework reads for it, along the
    bases: a subclass that sets only ``queryset`` keeps its parent's serializer. The
    nearest class naming one decides; if one of its names is unknown, or two
    disagree, the argument is unknown (an override's alternative returns never type
    it). A class that is no generic view, or a view whose bases never call the hook,
    types nothing."""
    api = (
        """
from django import forms
from django.views.generic import FormView, View
from rest_framework import generics, serializers, viewsets
from orders.models import Customer, Order, Tag
"""
        + _CUSTOMER_FORMS
        + """class Base(viewsets.ModelViewSet):
    serializer_class = CustomerSerializer
class Narrow(Base):
    queryset = Order.objects.all()
    def perform_create(self, serializer):
        serializer.save()
    def perform_destroy(self, instance):
        instance.delete()
class Torn(viewsets.ModelViewSet):
    serializer_class = CustomerSerializer
    def get_serializer_class(self):
        return self.pick()
    def perform_update(self, serializer):
        serializer.save()
class PerAction(viewsets.ModelViewSet):
    def get_serializer_class(self):
        if self.action == "list":
            return CustomerSerializer
        return None or CustomerSerializer
    def perform_create(self, serializer):
        serializer.save()
class Cleaner(object):
    model = Order
    queryset = Order.objects.all()
    def perform_destroy(self, path):
        path.delete()
class Plain(View):
    form_class = CustomerForm
    def form_valid(self, form):
        form.save()
class ReadOnly(generics.GenericAPIView):
    serializer_class = CustomerSerializer
    def perform_create(self, serializer):
        serializer.save()
"""
    )
    assert _hook_writes(api) == {
        ("Narrow.perform_create", "Customer", "save"),
        ("Narrow.perform_destroy", "Order", "delete"),
    }


def test_a_hook_follows_overrides_super_and_the_attribute_as_the_framework_does() -> None:
    """DRF's ``get_object()`` reads ``get_queryset()``, which reads ``queryset``: an
    override that narrows ``super()``'s result still serves the attribute's model,
    and an override in a base wins over an attribute a subclass sets (Python finds
    the method first; the framework's own reads the attribute only without one)."""
    api = (
        """
from django import forms
from rest_framework import serializers, viewsets
from orders.models import Customer, Order, Tag
"""
        + _CUSTOMER_FORMS
        + """class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
class Mine(viewsets.ModelViewSet):
    queryset = Order.objects.all()
    def get_queryset(self):
        return super().get_queryset().filter(customer=self.request.user)
    def perform_destroy(self, instance):
        instance.delete()
class Base(viewsets.ModelViewSet):
    def get_serializer_class(self):
        if self.action == "list":
            return TagSerializer
        return super().get_serializer_class()
class Sub(Base):
    serializer_class = TagSerializer
    def perform_create(self, serializer):
        serializer.save()
class Other(Base):
    serializer_class = CustomerSerializer
    def perform_update(self, serializer):
        serializer.save()
"""
    )
    assert _hook_writes(api) == {
        ("Mine.perform_destroy", "Order", "delete"),
        ("Sub.perform_create", "Tag", "save"),  # Other's could be a Tag or a Customer
    }


def test_same_named_views_in_branches_keep_their_own_returns() -> None:
    api = """
from rest_framework import viewsets
if PRODUCTION:
    class Listing(viewsets.ReadOnlyModelViewSet):
        def get_queryset(self):
            from orders.models import Order
            if self.request.user.is_staff:
                return Order.objects.all()
            return super().get_queryset()
else:
    class Listing(viewsets.ReadOnlyModelViewSet):
        def get_queryset(self):
            from orders.models import Customer
            if self.request.user.is_staff:
                return Customer.objects.all()
            return super().get_queryset()
"""
    linked = shop("", {"orders/api.py": api})
    got = {
        (o.model.rpartition(".")[2], o.op) for o in linked["orders.api"].orm if o.method != "all"
    }
    assert got == {("Order", OrmOp.READ), ("Customer", OrmOp.READ)}


def test_an_override_s_returns_resolve_where_they_are_written() -> None:
    """A ``get_serializer_class`` that imports its serializer, or returns a local,
    names its model: what it returns is read in the method, not the class."""
    api = """
from rest_framework import viewsets
class Late(viewsets.ModelViewSet):
    def get_serializer_class(self):
        from orders.serializers import TagSerializer
        chosen = TagSerializer
        if self.action == "list":
            return chosen
        return super().get_serializer_class()
"""
    serializers = """
from rest_framework import serializers
from orders.models import Tag
class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
"""
    linked = shop("", {"orders/api.py": api, "orders/serializers.py": serializers})
    got = {(o.model.rpartition(".")[2], o.op) for o in linked["orders.api"].orm}
    assert got == {("Tag", OrmOp.READ), ("Tag", OrmOp.WRITE)}


def test_a_view_s_model_and_form_class_reached_through_self() -> None:
    """``self.model.objects...`` reads the model a view names, ``self.form_class(...)``
    builds its form (whose ``save()`` writes), ``self.object = self.get_object()``
    types ``self.object``."""
    views = """
from django import forms
from django.views.generic import FormView, ListView
from orders.models import Order, Tag
class OrderForm(forms.ModelForm):
    class Meta:
        model = Order
class Recent(ListView):
    model = Tag
    def get_context_data(self, **kw):
        return {"n": self.model.objects.filter(state=1).count()}
class Edit(FormView):
    form_class = OrderForm
    def post(self, request):
        form = self.form_class(request.POST)
        form.save()
    def get_object(self):
        return Order.objects.get(pk=1)
    def get(self, request):
        self.object = self.get_object()
        self.object.delete()
"""
    orm = shop(views)["orders.views"].orm
    got = {
        (o.function.split(".", 2)[2], o.model.rpartition(".")[2], o.op, o.method)
        for o in orm
        if "." in o.function.split(".", 2)[2]
    }
    assert got == {
        ("Recent.get_context_data", "Tag", OrmOp.READ, "filter"),
        ("Recent.get_context_data", "Tag", OrmOp.READ, "count"),
        ("Edit.post", "Order", OrmOp.WRITE, "save"),
        ("Edit.get_object", "Order", OrmOp.READ, "get"),
        ("Edit.get", "Order", OrmOp.WRITE, "delete"),
    }


def test_a_form_s_save_writes_only_what_its_own_meta_names_and_only_when_it_commits() -> None:
    forms = """
from django import forms
from django.apps import apps
from orders.models import Order
class OrderForm(forms.ModelForm):
    class Meta:
        model = Order
class InvoiceForm(OrderForm):
    class Meta:
        model = apps.get_model("billing", "Invoice")
class AuditedForm(OrderForm):
    def save(self, commit=True):
        notify()
        return super().save(commit)
class LoggedForm(OrderForm):
    def save(self, commit=True):
        return super().save()
"""
    views = """
from orders.forms import OrderForm, InvoiceForm, AuditedForm, LoggedForm
def edit(request, flag, kw):
    InvoiceForm(request.POST).save()
    OrderForm(request.POST).save(False)
    OrderForm(request.POST).save(commit=flag)
    OrderForm(request.POST).save(**kw)
    OrderForm(request.POST).save(True)
    AuditedForm(request.POST).save()
    LoggedForm(request.POST).save()
"""
    linked = shop(views, {"orders/forms.py": forms})
    saves = [
        (o.function, o.loc.line)
        for module in ("orders.forms", "orders.views")
        for o in linked[module].orm
        if o.method == "save"
    ]
    assert sorted(saves) == [
        ("orders.forms.LoggedForm.save", 17),  # the override's super().save() writes
        ("orders.views.edit", 8),  # save(True)
    ]  # the override passing ``commit`` on may not; its callers' saves are its body's


def test_an_on_commit_that_is_not_django_s_calls_nothing_later() -> None:
    views = """
from orders.hooks import on_commit
from orders.mail import later
def place(pk):
    on_commit(later)
"""
    extra = {
        "orders/hooks.py": "def on_commit(fn):\n    pass\n",
        "orders/mail.py": "def later():\n    pass\n",
    }
    facts = shop(views, extra)["orders.views"]
    assert [c.callee for c in calls_in(facts, "orders.views.place")] == ["orders.hooks.on_commit"]


def test_the_last_assignment_of_a_view_s_model_holds_and_odd_registrations_are_skipped() -> None:
    api = """
from django.views.generic import ListView
from rest_framework import routers
from orders.models import Order, Tag
class Tags(ListView):
    model = Order
    model = Tag
router = routers.DefaultRouter()
router.register("x", *views)
router.register("y", Tags, basename=None)
"""
    linked = shop("", {"orders/api.py": api})["orders.api"]
    assert [(o.model, o.method) for o in linked.orm if o.method == "ListView"] == [
        ("orders.models.Tag", "ListView")
    ]
    assert [(u.pattern, u.view, u.name, u.router) for u in linked.urls] == [
        ("x", None, None, "router"),  # a route to a viewset we cannot name
        ("y", "orders.api.Tags", None, "router"),
    ]


def test_values_querysets_read_on_and_their_rows_are_not_instances() -> None:
    """``values()``/``values_list()`` keep a queryset of the model (its further
    ``annotate``/``order_by`` read it, and passing it is passing a queryset), but its
    rows are dicts or tuples: their ``save()`` writes nothing. A module's logger is a
    ``logging.Logger``."""
    views = """
import logging
from django.db.models import Count
from orders.models import Order
logger = logging.getLogger(__name__)
def report():
    rows = Order.objects.filter(state=1).values("customer").annotate(n=Count("id"))
    for row in rows.order_by("-n"):
        row.save()
    Order.objects.values_list("pk", flat=True).first().save()
    logger.info("done")
    send(Order.objects.values("pk"))
def send(pks):
    pass
"""
    facts = shop(views)["orders.views"]
    assert [(o.method, o.op) for o in facts.orm] == [
        ("filter", OrmOp.READ),
        ("values", OrmOp.READ),
        ("annotate", OrmOp.READ),
        ("order_by", OrmOp.READ),
        ("values_list", OrmOp.READ),
        ("first", OrmOp.READ),
        ("values", OrmOp.READ),
    ]
    assert callee(facts, "orders.views.report", "row.save") is None
    assert callee(facts, "orders.views.report", "logger.info") == "logging.Logger.info"
    (sent,) = [c for c in facts.calls if c.text == "send"]
    assert (sent.args[0].kind, sent.args[0].model) == (ArgKind.QUERYSET, "orders.models.Order")


def test_what_django_documents_types_requests_forms_commands_and_strings() -> None:
    """The attributes Django documents (a request's ``GET``/``POST``/``META``/
    ``session``, a view's ``self.request``/``self.kwargs``, a form's ``cleaned_data``, a command's
    ``stdout``/``style`` and its ``add_arguments`` parser), a datetime from
    ``timezone.now()`` and a string's own methods resolve to external names; an
    attribute Django does not document stays unresolved."""
    views = """
from django import forms
from django.core.management.base import BaseCommand
from django.utils import timezone
from django.views.debug import ExceptionReporter
from django.views.generic import ListView
from rest_framework.generics import RetrieveAPIView
from orders.models import Order
def search(request):
    term = str(request.GET.get("q", "")).strip().lower()
    request.session.get("cart")
    request.nothing.get("x")
    return timezone.now().date().isoformat()
class Recent(ListView):
    model = Order
    def get_queryset(self):
        return Order.objects.filter(state=self.request.GET.get("state"))
    def get_context_data(self, **kwargs):
        self.args.count(1)
        return {"pk": self.kwargs.get("pk"), "page": kwargs.get("page")}
class Search(forms.Form):
    q = forms.CharField()
    def clean(self):
        return self.cleaned_data.get("q")
class Command(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("--days", type=int)
    def handle(self, *args, **options):
        self.stdout.write(self.style.SUCCESS("done"))
        options.get("days")
        self.kwargs.get("days")
class Reporter(ExceptionReporter):
    def frames(self):
        return self.kwargs.get("x")
class Detail(RetrieveAPIView):
    def get_object(self):
        return self.kwargs.get("pk")
"""
    facts = shop(views)["orders.views"]
    got = {(c.caller.rpartition(".")[2], c.text): c.callee for c in facts.calls}
    assert got[("search", "request.GET.get")] == "django.http.QueryDict.get"
    assert got[("search", "str().strip().lower")] == "builtins.str.lower"
    assert got[("search", "request.session.get")] == (
        "django.contrib.sessions.backends.base.SessionBase.get"
    )
    assert got[("search", "request.nothing.get")] is None
    assert got[("search", "timezone.now().date().isoformat")] == "datetime.date.isoformat"
    assert got[("get_queryset", "self.request.GET.get")] == "django.http.QueryDict.get"
    assert got[("get_context_data", "self.kwargs.get")] == "builtins.dict.get"  # the URL's
    assert got[("get_context_data", "self.args.count")] == "builtins.tuple.count"
    assert got[("get_context_data", "kwargs.get")] == "builtins.dict.get"
    assert got[("handle", "options.get")] == "builtins.dict.get"
    assert got[("handle", "self.kwargs.get")] is None  # a command has no URL kwargs
    assert got[("frames", "self.kwargs.get")] is None  # nor a django.views helper
    assert got[("get_object", "self.kwargs.get")] == "builtins.dict.get"  # DRF's view
    assert got[("clean", "self.cleaned_data.get")] == "builtins.dict.get"
    assert got[("add_arguments", "parser.add_argument")] == (
        "django.core.management.base.CommandParser.add_argument"
    )
    assert got[("handle", "self.stdout.write")] == (
        "django.core.management.base.OutputWrapper.write"
    )
    assert got[("handle", "self.style.SUCCESS")] == "django.core.management.color.Style.SUCCESS"


def test_django_s_own_models_and_the_user_model_the_settings_name() -> None:
    """Without Django's source, its own models are still models with their tables:
    ``User.objects.create_user()`` writes ``auth_user``, ``Session`` rows read
    ``django_session``, a proxy of ``User`` is ``auth_user`` too. ``get_user_model()``,
    ``request.user`` and a foreign key to ``settings.AUTH_USER_MODEL`` are the model
    the settings' ``AUTH_USER_MODEL`` names, else Django's ``User``."""
    views = """
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.db import models
class Staff(User):
    class Meta:
        proxy = True
class Note(models.Model):
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
def register(request, name):
    user = User.objects.create_user(username=name)
    user.set_password("x")
    Session.objects.filter(session_key="k").delete()
    get_user_model().objects.filter(username=name).exists()
    Staff.objects.count()
    request.user.note_set.all()
    notify(request.user)
def notify(who):
    pass
"""
    facts = shop(views)["orders.views"]
    got = [(o.model.rpartition(".")[2], o.table, o.op.value, o.method) for o in facts.orm]
    assert got == [
        ("User", "auth_user", "write", "create_user"),
        ("Session", "django_session", "read", "filter"),
        ("Session", "django_session", "write", "delete"),
        ("User", "auth_user", "read", "filter"),
        ("User", "auth_user", "read", "exists"),
        ("Staff", None, "read", "count"),
        ("Note", None, "read", "all"),
    ]
    assert [m.table for m in facts.models] == ["auth_user", "orders_note"]
    assert callee(facts, "orders.views.register", "user.set_password") == (
        "django.contrib.auth.models.User.set_password"
    )
    (sent,) = [c for c in facts.calls if c.text == "notify"]
    assert sent.args[0].model == "django.contrib.auth.models.User"
    custom = views.replace(
        "from django.db import models",
        "from django.db import models\n"
        "from django.contrib.auth.models import AbstractUser\n"
        "class Member(AbstractUser):\n"
        "    pass",
    )
    linked = shop(
        custom, {"shop/__init__.py": "", "shop/settings.py": 'AUTH_USER_MODEL = "orders.Member"\n'}
    )
    facts = linked["orders.views"]
    (sent,) = [c for c in facts.calls if c.text == "notify"]
    assert sent.args[0].model == "orders.views.Member"
    reads = {(o.model.rpartition(".")[2], o.method) for o in facts.orm if o.op.value == "read"}
    assert ("Member", "filter") in reads  # get_user_model()
    assert ("Note", "all") in reads  # request.user.note_set: the foreign key's reverse


def test_a_user_model_of_the_project_s_own_or_a_same_named_app_is_never_django_s() -> None:
    """A project app labelled ``sites`` with a ``Site`` model keeps its own; a project
    that defines its own user model without settings we can read leaves the user
    model unknown (its methods are not ``auth.User``'s), and annotated or
    django-configurations settings name it. The setting's string is a string."""
    views = """
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, User
from django.db import models
from rest_framework import serializers
from django import forms
class Member(AbstractUser):
    def welcome(self):
        pass
def greet(request, perm):
    request.user.welcome()
    get_user_model().objects.filter(pk=1)
    User.objects.with_perm(perm).filter(is_active=True)
    settings.AUTH_USER_MODEL.lower()
class Ser(serializers.ModelSerializer):
    def validate(self, data):
        self.request.user.save()
class Several(forms.BaseFormSet):
    def clean(self):
        self.cleaned_data.index(1)
"""
    site = "from django.db import models\nclass Site(models.Model):\n    pass\n"
    extra = {"sites/__init__.py": "", "sites/models.py": site}
    extra["sites/refs.py"] = (
        "from django.db import models\n"
        "class Link(models.Model):\n"
        '    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE)\n'
    )
    linked = shop(views, extra)
    (link,) = linked["sites.refs"].models
    assert link.relations == ("sites.models.Site",)
    facts = linked["orders.views"]
    assert callee(facts, "orders.views.greet", "request.user.welcome") is None
    assert callee(facts, "orders.views.greet", "get_user_model().objects.filter") is None
    assert callee(facts, "orders.views.greet", "User.objects.with_perm().filter") == (
        "django.db.models.QuerySet.filter"
    )
    assert callee(facts, "orders.views.greet", "settings.AUTH_USER_MODEL.lower") == (
        "django.conf.settings.AUTH_USER_MODEL.lower"  # a setting's attribute, not a model's
    )
    assert callee(facts, "orders.views.Ser.validate", "self.request.user.save") is None
    assert callee(facts, "orders.views.Several.clean", "self.cleaned_data.index") is None
    for setting in (
        'AUTH_USER_MODEL: str = "orders.Member"\n',
        'class Base:\n    AUTH_USER_MODEL = "orders.Member"\n',
    ):
        facts = shop(views, {"shop/__init__.py": "", "shop/settings.py": setting})["orders.views"]
        assert callee(facts, "orders.views.greet", "request.user.welcome") == (
            "orders.views.Member.welcome"
        )


def test_a_generic_view_s_own_get_object_and_get_queryset_give_what_it_serves() -> None:
    """``self.get_object()`` of an ``UpdateView`` or a DRF view is a row of the model it
    serves (its ``save()`` writes there) and ``super().get_queryset()`` a queryset of
    it (its ``filter()`` reads it); a view serving no one model, or a class that is
    no generic view, types nothing."""
    views = """
from django.views.generic import UpdateView, View
from rest_framework import generics
from orders.models import Order, Tag
class Close(UpdateView):
    model = Order
    def post(self, request, *args, **kwargs):
        order = self.get_object()
        order.save()
class Tags(generics.ListAPIView):
    queryset = Tag.objects.all()
    def get_queryset(self):
        return super().get_queryset().filter(x=1)
    def touch(self):
        self.get_queryset().first().delete()
class Plain(View):
    model = Order
    def post(self, request):
        self.get_object().save()
"""
    facts = shop(views)["orders.views"]
    got = {
        (o.function.split(".", 2)[2], o.model.rpartition(".")[2], o.op.value, o.method)
        for o in facts.orm
        if "." in o.function.split(".", 2)[2]
    }
    assert got == {
        ("Close.post", "Order", "write", "save"),
        ("Tags.get_queryset", "Tag", "read", "filter"),
        ("Tags.touch", "Tag", "read", "first"),  # of what its own get_queryset returns
        ("Tags.touch", "Tag", "write", "delete"),
    }
    assert callee(facts, "orders.views.Close.post", "self.get_object") == (
        "django.views.generic.UpdateView.get_object"
    )


def test_a_function_bridged_by_sync_to_async_is_called_by_the_bridge_s_caller() -> None:
    """``await sync_to_async(order.save)()`` saves the order: the outer call calls what
    asgiref's bridge (``sync_to_async``, ``async_to_sync``, channels'
    ``database_sync_to_async``) wraps, with the outer call's arguments, so async code's
    reads, writes and calls are seen. A wrapper of any other name calls nothing known."""
    views = """
from asgiref.sync import async_to_sync, sync_to_async
from channels.db import database_sync_to_async
from orders.models import Order
from orders.mail import confirm, wrap
async def place(pk):
    order = await sync_to_async(Order.objects.get)(pk=pk)
    await sync_to_async(order.save)()
    await database_sync_to_async(confirm)(order)
    wrap(confirm)(order)
    await sync_to_async(lambda: confirm(order))()
def sync_view(run=None):
    async_to_sync(notify)(1)
    def shadowed(sync_to_async):
        sync_to_async(notify)(2)
async def notify(x):
    pass
"""
    mail = "def confirm(order):\n    pass\ndef wrap(fn):\n    return fn\n"
    facts = shop(views, {"orders/mail.py": mail})["orders.views"]
    got = [(o.method, o.op.value, o.loc.line) for o in facts.orm]
    assert got == [("get", "read", 7), ("save", "write", 8)]
    bridged = [(c.caller[13:], c.text, c.callee) for c in facts.calls if " (" in c.text]
    assert bridged == [
        ("place", "Order.objects.get (sync_to_async)", "django.db.models.QuerySet.get"),
        ("place", "order.save (sync_to_async)", "orders.models.Order.save"),
        ("place", "confirm (database_sync_to_async)", "orders.mail.confirm"),
        ("sync_view", "notify (async_to_sync)", "orders.views.notify"),
    ]
    (sent,) = [c for c in facts.calls if c.text == "confirm (database_sync_to_async)"]
    assert [(a.kind, a.model) for a in sent.args] == [(ArgKind.ORM_INSTANCE, "orders.models.Order")]
    assert [c.callee for c in facts.calls if c.text == "wrap()"] == [None]
    # a lambda's own call is seen where it is written; a parameter named like the
    # bridge is not the bridge
    assert [c.callee for c in facts.calls if c.text == "sync_to_async()"] == [None, None]
    assert [c.caller[13:] for c in facts.calls if c.text == "confirm"] == ["place"]


def test_a_test_case_s_client_is_django_s_or_drf_s_test_client() -> None:
    views = """
from django.test import TestCase
from rest_framework.test import APITestCase
class Pages(TestCase):
    def test_home(self):
        self.client.get("/")
class Api(APITestCase):
    def test_orders(self):
        self.client.post("/api/orders/")
class Plain:
    def test_other(self):
        self.client.get("/")
"""
    facts = shop(views)["orders.views"]
    got = {c.caller.rpartition(".")[2]: c.callee for c in facts.calls}
    assert got == {
        "test_home": "django.test.Client.get",
        "test_orders": "rest_framework.test.APIClient.post",
        "test_other": None,
    }
