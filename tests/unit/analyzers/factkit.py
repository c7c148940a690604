"""Hand-built facts for graph/capability/scoring tests: a tiny shop, written out in full.

Building ``ModuleFacts`` by hand keeps these tests independent of the parser: they
check what the graph and the scores make of facts, not how facts are extracted.
"""

from __future__ import annotations

from analyzers.facts import (
    ArgKind,
    Argument,
    AtomicRegion,
    Call,
    CeleryTask,
    Definition,
    DefKind,
    EffectKind,
    GlobalState,
    GlobalUse,
    Location,
    ModelFact,
    ModuleFacts,
    OrmAccess,
    OrmOp,
    Param,
    SideEffect,
    SignalHandler,
    UrlRoute,
)

__all__ = ["arg", "call", "fn", "path_of", "shop"]


def path_of(module: str) -> str:
    return module.replace(".", "/") + ".py"


def fn(
    qualname: str,
    line: int,
    end: int | None = None,
    *,
    parent: str | None = None,
    kind: DefKind = DefKind.FUNCTION,
    params: tuple[str, ...] = (),
    bases: tuple[str, ...] = (),
) -> Definition:
    module = qualname.rsplit(".", 2 if parent and kind is DefKind.METHOD else 1)[0]
    return Definition(
        qualname=qualname,
        kind=kind,
        loc=Location(path_of(module), line),
        end_line=end if end is not None else line + 4,
        parent=parent,
        params=tuple(Param(p) for p in params),
        bases=bases,
    )


def arg(text: str, kind: ArgKind = ArgKind.JSON) -> Argument:
    return Argument(text=text, kind=kind)


def call(
    caller: str,
    callee: str | None,
    path: str,
    line: int,
    *args: Argument,
    used: bool = True,
    atomic: bool = False,
    text: str | None = None,
) -> Call:
    return Call(
        caller=caller,
        callee=callee,
        text=text or (callee or "x").rsplit(".", 1)[-1],
        loc=Location(path, line),
        args=tuple(args),
        result_used=used,
        in_atomic=atomic,
    )


def shop() -> list[ModuleFacts]:
    """orders -> notifications (fire-and-forget mail), orders -> inventory (locked stock)."""
    views, services = "orders/views.py", "orders/services.py"
    emails, stock, admin = "notifications/emails.py", "inventory/stock.py", "inventory/admin.py"
    orders_models, inv_models = "orders/models.py", "inventory/models.py"
    return [
        ModuleFacts(
            module="orders.models",
            path=orders_models,
            lines=20,
            definitions=(fn("orders.models.Order", 3, 15, kind=DefKind.CLASS),),
            models=(
                ModelFact(
                    "orders.models.Order", "orders", "orders_order", Location(orders_models, 3)
                ),
            ),
        ),
        ModuleFacts(
            module="inventory.models",
            path=inv_models,
            lines=10,
            definitions=(fn("inventory.models.Stock", 3, 9, kind=DefKind.CLASS),),
            models=(
                ModelFact(
                    "inventory.models.Stock",
                    "inventory",
                    "inventory_stock",
                    Location(inv_models, 3),
                ),
            ),
        ),
        ModuleFacts(
            module="orders.views",
            path=views,
            lines=40,
            definitions=(fn("orders.views.checkout", 10, 30, params=("request",)),),
            imports=(),
            calls=(
                call(
                    "orders.views.checkout",
                    "orders.services.place_order",
                    views,
                    20,
                    arg("request", ArgKind.REQUEST),
                    arg("cart_id"),
                ),
            ),
            urls=(),
        ),
        ModuleFacts(
            module="orders.urls",
            path="orders/urls.py",
            lines=5,
            urls=(
                UrlRoute(
                    "checkout/", "orders.views.checkout", "checkout", Location("orders/urls.py", 4)
                ),
            ),
        ),
        ModuleFacts(
            module="orders.services",
            path=services,
            lines=60,
            definitions=(
                fn("orders.services.place_order", 5, 40, params=("request", "cart_id")),
                fn("orders.services._total", 42, 50, params=("order",)),
            ),
            calls=(
                call(
                    "orders.services.place_order",
                    "orders.services._total",
                    services,
                    12,
                    arg("order", ArgKind.ORM_INSTANCE),
                ),
                call(
                    "orders.services.place_order",
                    "inventory.stock.reserve",
                    services,
                    15,
                    arg("order", ArgKind.ORM_INSTANCE),
                    atomic=True,
                ),
                call(
                    "orders.services.place_order",
                    "notifications.emails.send_order_confirmation",
                    services,
                    30,
                    arg("order", ArgKind.ORM_INSTANCE),
                    used=False,
                    atomic=True,
                ),
            ),
            orm=(
                OrmAccess(
                    "orders.services.place_order",
                    "orders.models.Order",
                    OrmOp.WRITE,
                    "create",
                    Location(services, 11),
                ),
            ),
            atomics=(
                AtomicRegion("orders.services.place_order", Location(services, 10), 35, "with"),
            ),
        ),
        ModuleFacts(
            module="notifications.emails",
            path=emails,
            lines=30,
            definitions=(
                fn("notifications.emails.send_order_confirmation", 5, 15, params=("order",)),
                fn("notifications.emails._render", 17, 25, params=("order",)),
            ),
            calls=(
                call(
                    "notifications.emails.send_order_confirmation",
                    "notifications.emails._render",
                    emails,
                    8,
                    arg("order", ArgKind.ORM_INSTANCE),
                ),
                call(
                    "notifications.emails.send_order_confirmation",
                    "django.core.mail.send_mail",
                    emails,
                    10,
                    arg("subject"),
                    used=False,
                ),
                call("notifications.emails._render", None, emails, 20, text="template.render"),
            ),
            orm=(
                OrmAccess(
                    "notifications.emails._render",
                    "orders.Order",
                    OrmOp.READ,
                    "get",
                    Location(emails, 19),
                ),
            ),
            effects=(
                SideEffect(
                    "notifications.emails.send_order_confirmation",
                    EffectKind.MAIL,
                    "django.core.mail.send_mail",
                    Location(emails, 10),
                ),
            ),
        ),
        ModuleFacts(
            module="inventory.stock",
            path=stock,
            lines=30,
            definitions=(fn("inventory.stock.reserve", 5, 20, params=("order",)),),
            calls=(
                call(
                    "inventory.stock.reserve",
                    "orders.services._total",
                    stock,
                    9,
                    arg("order", ArgKind.ORM_INSTANCE),
                ),
            ),
            orm=(
                OrmAccess(
                    "inventory.stock.reserve",
                    "inventory.models.Stock",
                    OrmOp.READ,
                    "filter",
                    Location(stock, 8),
                    select_for_update=True,
                ),
                OrmAccess(
                    "inventory.stock.reserve",
                    "inventory.models.Stock",
                    OrmOp.WRITE,
                    "save",
                    Location(stock, 12),
                ),
            ),
            globals=(GlobalState("inventory.stock._reserved", Location(stock, 2), "dict"),),
            global_uses=(
                GlobalUse(
                    "inventory.stock.reserve",
                    "inventory.stock._reserved",
                    Location(stock, 14),
                    True,
                ),
            ),
        ),
        ModuleFacts(
            module="inventory.admin",
            path=admin,
            lines=20,
            definitions=(fn("inventory.admin.adjust", 5, 12),),
            orm=(
                OrmAccess(
                    "inventory.admin.adjust",
                    "inventory.models.Stock",
                    OrmOp.WRITE,
                    "update",
                    Location(admin, 9),
                ),
            ),
            global_uses=(
                GlobalUse(
                    "inventory.admin.adjust",
                    "inventory.stock._reserved",
                    Location(admin, 10),
                    False,
                ),
            ),
            signals=(
                SignalHandler(
                    "inventory.admin.adjust",
                    "django.db.models.signals.post_save",
                    "orders.models.Order",
                    Location(admin, 4),
                ),
            ),
        ),
        ModuleFacts(
            module="notifications.tasks",
            path="notifications/tasks.py",
            lines=10,
            definitions=(fn("notifications.tasks.nightly_digest", 4, 9),),
            tasks=(
                CeleryTask(
                    "notifications.tasks.nightly_digest", Location("notifications/tasks.py", 3)
                ),
            ),
        ),
        ModuleFacts(
            module="tests.test_orders",
            path="tests/test_orders.py",
            lines=10,
            is_test=True,
            definitions=(fn("tests.test_orders.test_checkout", 3, 8),),
            calls=(
                call(
                    "tests.test_orders.test_checkout",
                    "orders.views.checkout",
                    "tests/test_orders.py",
                    5,
                    arg("rf.get('/')", ArgKind.REQUEST),
                ),
            ),
        ),
    ]
