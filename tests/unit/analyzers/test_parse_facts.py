"""Per-module facts straight from ``facts_from_source`` (before linking)."""

from __future__ import annotations

from textwrap import dedent

import pytest

from analyzers.facts import DefKind, ModuleFacts, Param
from analyzers.parse import facts_from_source, is_test_path, module_name


def facts(
    source: str, module: str = "shop.orders.views", path: str = "shop/orders/views.py"
) -> ModuleFacts:
    result = facts_from_source(dedent(source), module=module, path=path)
    assert isinstance(result, ModuleFacts), result
    return result


@pytest.mark.parametrize(
    ("relpath", "expected"),
    [("orders/views.py", "orders.views"), ("pkg/__init__.py", "pkg"), ("manage.py", "manage")],
)
def test_module_names_from_paths(relpath: str, expected: str) -> None:
    assert module_name(relpath) == expected


def test_module_name_prefix_for_a_package_root() -> None:
    assert module_name("db/models/base.py", "django") == "django.db.models.base"


@pytest.mark.parametrize(
    ("relpath", "expected"),
    [
        ("orders/tests.py", True),
        ("orders/test_views.py", True),
        ("orders/views_tests.py", True),
        ("orders/tests/helpers.py", True),
        ("orders/views.py", False),
        ("orders/contest.py", False),
    ],
)
def test_test_files_are_marked(relpath: str, expected: bool) -> None:
    assert is_test_path(relpath) is expected


def test_imports_with_targets_aliases_and_conditions() -> None:
    f = facts("""
        import os
        import os.path as osp
        from django.db import models as m
        from . import util
        from ..core import log
        from .models import *
        try:
            import ujson as json
        except ImportError:
            import json
        def f():
            import re
    """)
    assert [(i.target, i.bound_as, i.conditional) for i in f.imports] == [
        ("os", "os", False),
        ("os.path", "osp", False),
        ("django.db.models", "m", False),
        ("shop.orders.util", "util", False),
        ("shop.core.log", "log", False),
        ("shop.orders.models", "*", False),
        ("ujson", "json", True),
        ("json", "json", True),
        ("re", "re", True),
    ]


def test_relative_import_inside_a_package_init() -> None:
    f = facts("from .models import Order\n", module="shop.orders", path="shop/orders/__init__.py")
    assert f.is_package
    assert f.imports[0].target == "shop.orders.models.Order"


def test_a_default_no_call_can_fill_is_json() -> None:
    """A default is one object shared by every call leaving the parameter out: None, a
    str, a number, a bool or a tuple of those is JSON there; a list or a call is not."""
    f = facts(
        "def f(a, b=None, c='x', d=-1.5, e=(1, 'a'), g=[], h={}, i=(1, []), j=now(),"
        " *, k=True, m): pass\n"
    )
    (d,) = f.definitions
    assert [(p.name, p.has_default, p.default_json) for p in d.params] == [
        ("a", False, False),
        ("b", True, True),
        ("c", True, True),
        ("d", True, True),
        ("e", True, True),
        ("g", True, False),
        ("h", True, False),
        ("i", True, False),
        ("j", True, False),
        ("k", True, True),
        ("m", False, False),
    ]


def test_names_read_as_values() -> None:
    """What a function may be called through: a name read rather than called, as
    written (``~``: linking resolves it in the module); an object's attribute as
    ``.name``; a plain local (a parameter too) is none."""
    f = facts("""
        import shop.util as util
        from shop.hooks import on_save
        def handler(x):
            pass
        def wire(self, registry):
            count = 1
            registry.add(handler, on_save, count)
            callbacks = [self.publish, util.helper]
            return unknown_name
    """)
    assert {"~handler", "~on_save", ".publish", "~util.helper", "~unknown_name"} <= f.value_names
    assert not {"~count", "~callbacks", "~registry", ".add", "~add"} & f.value_names


def test_definitions_kinds_parents_params_decorators_docstrings() -> None:
    f = facts('''
        class View(Base):
            """Shows orders.

            More text."""
            @staticmethod
            def build(x: int, *args, key=None, **kw):
                pass
            async def fetch(self, request):
                def inner():
                    pass
    ''')
    defs = {d.qualname: d for d in f.definitions}
    view = defs["shop.orders.views.View"]
    assert (view.kind, view.bases, view.docstring) == (DefKind.CLASS, ("?Base",), "Shows orders.")
    build = defs["shop.orders.views.View.build"]
    assert build.kind is DefKind.METHOD
    assert build.parent == "shop.orders.views.View"
    assert build.decorators == ("builtins.staticmethod",)
    assert build.params == (
        Param("x", "int", "positional"),
        Param("args", None, "var_positional"),
        Param("key", None, "keyword_only", has_default=True, default_json=True),
        Param("kw", None, "var_keyword"),
    )
    assert defs["shop.orders.views.View.fetch"].is_async
    inner = defs["shop.orders.views.View.fetch.inner"]
    assert (inner.kind, inner.parent) == (DefKind.FUNCTION, "shop.orders.views.View.fetch")
    assert (view.loc.line, view.end_line, view.size) == (2, 11, 10)


def test_call_sites_carry_caller_text_location_and_module_level_caller() -> None:
    f = facts("""
        setup()
        def f():
            a.b.c(1)
    """)
    assert [(c.caller, c.text, c.loc.line, c.loc.col) for c in f.calls] == [
        ("shop.orders.views", "setup", 2, 0),
        ("shop.orders.views.f", "a.b.c", 4, 4),
    ]


def test_model_candidates_carry_meta_and_relations() -> None:
    f = facts(
        """
        from django.db import models
        class Order(models.Model):
            customer = models.ForeignKey("customers.Customer", related_name="orders",
                                         on_delete=models.CASCADE)
            class Meta:
                db_table = "legacy_orders"
                app_label = "sales"
    """,
        module="shop.orders.models",
        path="shop/orders/models.py",
    )
    (order,) = f.model_candidates
    assert (order.app_label, order.table) == ("sales", "legacy_orders")
    assert [(r.name, r.target, r.kind, r.related_name) for r in order.relation_fields] == [
        ("customer", "customers.Customer", "ForeignKey", "orders")
    ]
    assert f.models == ()  # only linking can tell which candidates are models


def test_default_table_uses_the_app_package() -> None:
    f = facts(
        "from django.db import models\nclass LineItem(models.Model):\n    pass\n",
        module="shop.orders.models.items",
        path="shop/orders/models/items.py",
    )
    assert f.model_candidates[0].table == "orders_lineitem"


def test_module_level_variables_record_their_value_type() -> None:
    f = facts("from celery import Celery\napp = Celery('x')\nN = 3\nNONE = None\n")
    assert [(v.qualname, v.type_ref) for v in f.variables] == [
        ("shop.orders.views.app", "celery.Celery()"),
        ("shop.orders.views.N", "builtins.int()"),  # a literal: its builtin type
        ("shop.orders.views.NONE", None),
    ]


def test_global_declaration_assignment_is_a_write_to_module_state() -> None:
    f = facts("COUNTS = {}\ndef reset():\n    global COUNTS\n    COUNTS = {}\n")
    assert [(u.function, u.name, u.writes) for u in f.global_uses] == [
        ("shop.orders.views.reset", "shop.orders.views.COUNTS", True)
    ]


def test_local_shadowing_hides_module_state() -> None:
    f = facts("CACHE = {}\ndef f():\n    CACHE = {}\n    CACHE['a'] = 1\n")
    assert f.global_uses == ()


@pytest.mark.parametrize(
    ("app_name", "names"),
    [
        ('app_name = "shop"', ["shop:index", "shop:order"]),
        ('app_name: str = "shop"', ["shop:index", "shop:order"]),
        ('app_name = "shop"\napp_name = label()', ["index", "order"]),  # not a literal
        ("", ["index", "order"]),
        ('def f():\n    app_name = "inner"', ["index", "order"]),  # a local: no namespace
    ],
)
def test_a_route_s_name_carries_its_urlconf_s_app_name(app_name: str, names: list[str]) -> None:
    """What ``reverse()`` is given: ``shop:index`` when the URLconf says ``app_name =
    "shop"`` (wherever in the module), a DRF router's basename too."""
    source = (
        "from django.urls import path\n"
        "from rest_framework.routers import DefaultRouter\n"
        "from shop import views\n"
        "router = DefaultRouter()\n"
        'router.register("orders", views.Orders, basename="order")\n'
        'urlpatterns = [path("", views.index, name="index")]\n' + app_name + "\n"
    )
    found = facts(source, module="shop.urls", path="shop/urls.py")
    assert sorted(u.name for u in found.urls if u.name) == names
