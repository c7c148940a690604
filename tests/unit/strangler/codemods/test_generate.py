"""generate_handler_package: the generated package compiles, passes ruff, and runs."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from textwrap import dedent

import jsonschema
import pytest

from analyzers.facts import ArgKind
from strangler.codemods import (
    USER_SAMPLE,
    ArgSpec,
    EntryPointSpec,
    GeneratedPackage,
    GenerationFailure,
    HandlerPackageSpec,
    ModuleSource,
    generate_handler_package,
    routed_spec,
)

REPO = Path(__file__).resolve().parents[4]
RUFF = Path(sys.executable).with_name("ruff")

SERVICES = '''\
"""Notifications of the shop."""
from __future__ import annotations

import logging
import os.path as osp
from typing import TYPE_CHECKING

from ..util import slugify
from .templates import render

try:
    import json
except ImportError:  # pragma: no cover
    json = None

if TYPE_CHECKING:
    from shop.models import Order

logger = logging.getLogger(__name__)
PREFIX = "[shop]"


def _subject(order_number: int) -> str:
    return f"{PREFIX} order {order_number}"


def shared_helper(x: int) -> int:
    return x * 2


def other_user() -> int:
    return shared_helper(2)


def send(
    order_number: int, *tags: str, loud: bool = False, **extra: str
) -> dict[str, object]:
    """Send it."""
    # a comment inside the body stays
    body = render(_subject(order_number), slugify(osp.basename("A/B")))
    logger.info("sent %s", body)
    return {
        "body": body,
        "tags": list(tags),
        "loud": loud,
        "extra": extra,
        "n": shared_helper(1),
        "json": json is not None,
    }


def notify(order: Order) -> None:
    logger.info("%s", order)


def from_request(request) -> None:
    return None
'''

MODULES = {
    "shop/__init__.py": "",
    "shop/notify/__init__.py": "",
    "shop/notify/services.py": SERVICES,
    "shop/notify/templates.py": "def render(subject, slug):\n    return f'{subject}:{slug}'\n",
    "shop/util.py": "def slugify(text):\n    return text.lower()\n",
}


def sources() -> tuple[ModuleSource, ...]:
    return tuple(
        ModuleSource(
            path.removesuffix(".py").removesuffix("/__init__").replace("/", "."),
            code,
            is_package=path.endswith("__init__.py"),
        )
        for path, code in MODULES.items()
    )


SEND = EntryPointSpec("shop.notify.services", "send", "notify.send", style="request_reply")
NOTIFY = EntryPointSpec(
    "shop.notify.services",
    "notify",
    "notify.notify",
    args=(ArgSpec("order", ArgKind.ORM_INSTANCE, "shop.Order"),),
)


def make_spec(**changes: object) -> HandlerPackageSpec:
    spec = HandlerPackageSpec(
        capability="notify",
        entry_points=(SEND, NOTIFY),
        modules=sources(),
        moves=("shop.notify.services._subject", "shop.notify.templates.render"),
        copies=("shop.notify.services.shared_helper",),
    )
    return HandlerPackageSpec(**{**{f: getattr(spec, f) for f in spec.__slots__}, **changes})


def generate(**changes: object) -> GeneratedPackage:
    result = generate_handler_package(make_spec(**changes))
    assert isinstance(result, GeneratedPackage), result
    return result


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fake monolith plus the generated package, on disk."""
    root = tmp_path_factory.mktemp("monolith")
    for path, code in {**MODULES, **generate().files}.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(code)
    return root


def test_files_of_the_package() -> None:
    package = generate()
    assert package.create_only == ("functions/__init__.py",)
    assert sorted(package.files) == [
        "functions/__init__.py",
        "functions/notify/__init__.py",
        "functions/notify/celery.py",
        "functions/notify/handlers.py",
        "functions/notify/schemas/notify.json",
        "functions/notify/schemas/send.json",
        "functions/notify/tasks.py",
        "functions/notify/tests/__init__.py",
        "functions/notify/tests/test_handlers.py",
    ]


def test_generated_code_compiles(written: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "functions"],
        cwd=written,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def ruff_problems(root: Path) -> str:
    """What ruff finds in the generated package under ``root`` ("" for nothing)."""
    done = subprocess.run(
        [
            str(RUFF),
            "check",
            "--isolated",
            "--no-cache",
            "--select",
            "E,F,W,I,B,UP,SIM,C4,RUF,PT",
            "--line-length",
            "88",
            "functions",
        ],
        cwd=root,
        capture_output=True,
        text=True,
    )
    return "" if done.returncode == 0 else done.stdout + done.stderr


def test_generated_code_passes_ruff(written: Path) -> None:
    assert ruff_problems(written) == ""


def test_handler_runs_the_moved_code_like_the_monolith(written: Path) -> None:
    script = dedent(
        """\
        import json
        from functions.notify import handlers
        from shop.notify import services

        data = {"order_number": 7, "tags": ["a", "b"], "loud": True, "extra": {"k": "v"}}
        event = {"id": "1", "type": "notify.send", "data": data}
        moved = handlers.handle_send(event)
        original = services.send(7, "a", "b", loud=True, k="v")
        print(json.dumps([moved, original]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=written,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": f"{written}:{REPO}", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    moved, original = json.loads(done.stdout)
    assert moved == original
    assert moved["body"] == "[shop] order 7:b"


def handlers_text() -> str:
    return generate().files["functions/notify/handlers.py"]


def test_imports_are_rewritten_to_absolute_and_helpers_travel() -> None:
    text = handlers_text()
    assert "from .." not in text
    assert "from ." not in text
    assert "from shop.util import slugify\n" in text
    assert "import os.path as osp\n" in text
    assert "from shop.notify.services import PREFIX, json, logger\n" in text  # json: conditional
    assert "# moved from shop.notify.templates\ndef render(" in text
    assert "# moved from shop.notify.services\ndef _subject(" in text
    assert "# copied from shop.notify.services\ndef shared_helper(" in text
    assert "other_user" not in text
    assert "    # a comment inside the body stays\n" in text
    assert text.index("def _subject(") < text.index("def send(")  # dependencies first


def test_type_checking_imports_stay_guarded() -> None:
    text = handlers_text()
    assert "from __future__ import annotations\n" in text
    assert "\nif TYPE_CHECKING:\n    from shop.models import Order\n" in text


def test_star_args_are_passed_positionally() -> None:
    text = handlers_text()
    call = (
        "    result = send(\n"
        '        arguments["order_number"],\n'
        '        *arguments["tags"],\n'
        '        loud=arguments["loud"],\n'
        '        **arguments["extra"],\n'
        "    )\n"
    )
    assert call in text
    assert "    result = notify(**arguments)\n    return _json_result(result)\n" in text


def test_schemas_are_valid_and_describe_the_arguments() -> None:
    files = generate().files
    send = json.loads(files["functions/notify/schemas/send.json"])
    notify = json.loads(files["functions/notify/schemas/notify.json"])
    for schema in (send, notify):
        jsonschema.Draft202012Validator.check_schema(schema)
    data = {"order_number": 7, "tags": ["a"], "loud": False, "extra": {"k": "v"}}
    jsonschema.validate(data, send)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**data, "order_number": "7"}, send)
    jsonschema.validate({"order": {"$model": "shop.Order", "pk": 3}}, notify)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"order": {"$model": "shop.Other", "pk": 3}}, notify)


def test_tasks_bind_handlers_by_the_routed_task_name() -> None:
    spec = make_spec()
    tasks = generate().files["functions/notify/tasks.py"]
    routed = routed_spec(spec, SEND, key_expr=None)
    assert routed.task == "functions.notify.tasks.send"
    assert routed.style == "request_reply"
    assert (
        'send = handler(\n    app,\n    "functions.notify.tasks.send",\n'
        '    schema=_schema("send"),\n)(handlers.handle_send)\n'
    ) in tasks


def test_celery_wiring_reuses_the_monolith_app_when_given() -> None:
    text = generate(celery_app="shop.worker:celery_app").files["functions/notify/celery.py"]
    assert "from shop.worker import celery_app as app\n" in text
    assert "ensure_json_only(app)\n" in text
    built = generate().files["functions/notify/celery.py"]
    assert "from shims.celery import build_app\n" in built


def test_generated_tests_use_model_refs_and_samples() -> None:
    text = generate(test_fixtures=("shop.json",)).files["functions/notify/tests/test_handlers.py"]
    assert 'fixtures = ("shop.json",)' in text
    assert '"order": self.model_ref("shop.Order"),' in text
    assert '"order_number": 1,' in text
    assert "json.dumps(result)" in text  # send is request/reply


def test_a_sample_nothing_told_us_is_marked_for_the_user() -> None:
    """``None`` stands in for an argument of unknown kind with no literal anywhere: the
    generated test says so above it, so ``int(None)`` failing deep in the moved code
    points back to the line to fix. A known kind or a literal gets no such note."""
    guessed = replace(NOTIFY, args=(ArgSpec("order", ArgKind.UNKNOWN),))
    literal = replace(NOTIFY, args=(ArgSpec("order", ArgKind.UNKNOWN, None, "3"),))
    note = "# unknown kind, no literal at any call site: write a real sample\n"
    text = generate(entry_points=(SEND, guessed)).files["functions/notify/tests/test_handlers.py"]
    assert f'{note}            "order": None,' in text
    assert text.count(note) == 1  # send's arguments are typed: no note
    given = generate(entry_points=(SEND, literal)).files["functions/notify/tests/test_handlers.py"]
    assert note not in given
    assert '"order": 3,' in given


def test_a_row_of_an_unknown_model_is_sampled_from_the_settings_or_asked_for(
    tmp_path: Path,
) -> None:
    """A ``request.user`` row samples the user model the settings name (imported);
    a row of a model the analysis could not name asks for its sample when run,
    rather than sending an event its own schema rejects."""
    user = replace(NOTIFY, args=(ArgSpec("order", ArgKind.ORM_INSTANCE, None, USER_SAMPLE),))
    files = generate(entry_points=(SEND, user)).files
    text = files["functions/notify/tests/test_handlers.py"]
    assert '"order": self.model_ref(settings.AUTH_USER_MODEL),' in text
    assert "\nfrom django.conf import settings\n" in text
    for path, code in {**MODULES, **files}.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(code)
    assert ruff_problems(tmp_path) == ""
    unknown = replace(NOTIFY, args=(ArgSpec("order", ArgKind.ORM_INSTANCE, None),))
    text = generate(entry_points=(SEND, unknown)).files["functions/notify/tests/test_handlers.py"]
    assert '"order": self.model_ref(""),' in text
    assert "settings" not in text
    stray = replace(  # a sample for no parameter of the function is never written
        NOTIFY,
        args=(*NOTIFY.args, ArgSpec("gone", ArgKind.ORM_INSTANCE, None, USER_SAMPLE)),
    )
    text = generate(entry_points=(SEND, stray)).files["functions/notify/tests/test_handlers.py"]
    assert "settings" not in text
    assert "        if not label:\n            self.fail(\n" in text


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        (
            {"entry_points": (EntryPointSpec("shop.notify.services", "from_request", "x"),)},
            None,
        ),
        (
            {
                "entry_points": (
                    EntryPointSpec(
                        "shop.notify.services",
                        "from_request",
                        "x",
                        args=(ArgSpec("request", ArgKind.REQUEST),),
                    ),
                )
            },
            "argument 'request' is a request: cannot travel in an event",
        ),
        (
            {"entry_points": (EntryPointSpec("shop.missing", "f", "x"),)},
            "the source of shop.missing was not given",
        ),
        (
            {"entry_points": (EntryPointSpec("shop.notify.services", "nope", "x"),)},
            "no module-level function or method of that name",
        ),
        ({"moves": ("shop.notify.templates.gone",)}, None),
        ({"entry_points": ()}, "no entry point"),
    ],
)
def test_refusals_are_values(changes: dict[str, object], reason: str | None) -> None:
    result = generate_handler_package(make_spec(**changes))
    if reason is None:  # these are fine: nothing refers to the bad move
        assert isinstance(result, GeneratedPackage)
        return
    assert isinstance(result, GenerationFailure)
    assert any(reason in line for line in result.reasons), result.reasons


def _handlers(result: GeneratedPackage | GenerationFailure, capability: str = "x") -> str:
    assert isinstance(result, GeneratedPackage), result
    return result.files[f"functions/{capability}/handlers.py"]


def _run_handler(
    tmp_path: Path, modules: dict[str, str], files: dict[str, str], script: str
) -> str:
    """Write the monolith modules and the generated package, run ``script`` there."""
    for path, code in {**modules, **files}.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(code)
    done = subprocess.run(
        [sys.executable, "-c", dedent(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": f"{tmp_path}:{REPO}", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _ruff_fi(text: str) -> str:
    done = subprocess.run(
        [
            *(str(RUFF), "check", "--isolated", "--no-cache", "--select", "E,F,W,I"),
            *("--config", "lint.isort.known-first-party = ['a', 'b', 'c', 'd', 'shop']"),
            *("--config", "lint.isort.known-third-party = ['shims']", "-"),
        ],
        input=text,
        capture_output=True,
        text=True,
    )
    return "" if done.returncode == 0 else done.stdout


CLASH_IMPORTS = {
    "a.py": "from b import helper\n\n\ndef f():\n    return helper()\n",
    "b.py": "def helper():\n    return 1\n",
    "c.py": "from d import helper\n\n\ndef g():\n    d_helper = 10  # a local of that name\n"
    "    return helper() + d_helper\n",
    "d.py": "def helper():\n    return 2\n",
}


def _clash_spec(
    modules: dict[str, str], *entries: EntryPointSpec, **changes: object
) -> HandlerPackageSpec:
    sources = tuple(
        ModuleSource(
            path.removesuffix(".py").removesuffix("/__init__").replace("/", "."),
            code,
            is_package=path.endswith("__init__.py"),
        )
        for path, code in modules.items()
    )
    return HandlerPackageSpec("x", entries, sources, **changes)  # type: ignore[arg-type]


def test_imports_that_would_clash_are_aliased(tmp_path: Path) -> None:
    """Two moved functions use different ``helper``s: each is imported under an alias
    named after its module, and only the references that mean it are renamed; an alias
    that the moved code already uses as a name gets a number."""
    f, g = EntryPointSpec("a", "f", "x.f"), EntryPointSpec("c", "g", "x.g")
    result = generate_handler_package(_clash_spec(CLASH_IMPORTS, f, g))
    text = _handlers(result)
    assert "from b import helper as b_helper\n" in text
    assert "from d import helper as d_helper_2\n" in text
    assert "def f():\n    return b_helper()\n" in text
    assert "    d_helper = 10  # a local of that name\n    return d_helper_2() + d_helper\n" in text
    assert "import helper\n" not in text
    assert _ruff_fi(text) == ""
    again = _handlers(generate_handler_package(_clash_spec(CLASH_IMPORTS, g, f)))
    assert "from b import helper as b_helper\n" in again  # whichever entry comes first
    assert "from d import helper as d_helper_2\n" in again
    assert result == generate_handler_package(_clash_spec(CLASH_IMPORTS, f, g))  # stable
    out = _run_handler(
        tmp_path,
        CLASH_IMPORTS,
        result.files,  # type: ignore[union-attr]
        """\
        from functions.x import handlers
        print(handlers.handle_f({"data": {}}), handlers.handle_g({"data": {}}))
        """,
    )
    assert out.split() == ["1", "12"]


CLASH_LOGGERS = {
    "shop/__init__.py": "",
    "shop/orders.py": '''\
import logging

from shop.util import fmt

logger = logging.getLogger(__name__)


def checkout(order_id: int) -> str:
    """Check out."""
    logger.info("checkout %s", order_id)  # the orders logger
    def inner(log=logger):
        return log
    assert inner() is logger
    return fmt(order_id)
''',
    "shop/util.py": """\
import logging

logger = logging.getLogger(__name__)


class Holder:
    logger = None


def fmt(value, logger=None):
    # a parameter named logger is not the module's
    holder = Holder()
    holder.logger = logger
    named(logger=value)
    assert [logger for logger in (1, 2)] == [1, 2]
    _log().info("fmt %s", value)
    return f"#{value}"


def named(logger):
    return logger


def _log():
    return logger
""",
}


def test_module_loggers_of_two_modules_are_aliased(tmp_path: Path) -> None:
    """The everyday Django case: every module has its own ``logger``. Parameters,
    locals, comprehension variables, attributes and keyword names of that spelling
    are other bindings and keep their text."""
    spec = _clash_spec(
        CLASH_LOGGERS,
        EntryPointSpec("shop.orders", "checkout", "x.checkout", style="request_reply"),
        moves=("shop.util.fmt", "shop.util.named", "shop.util._log"),
    )
    result = generate_handler_package(spec)
    text = _handlers(result)
    assert "from shop.orders import logger as shop_orders_logger\n" in text
    assert "from shop.util import logger as shop_util_logger\n" in text
    assert '    shop_orders_logger.info("checkout %s", order_id)  # the orders logger\n' in text
    assert "    def inner(log=shop_orders_logger):\n" in text
    assert "    assert inner() is shop_orders_logger\n" in text
    assert "def _log():\n    return shop_util_logger\n" in text
    fmt = CLASH_LOGGERS["shop/util.py"]
    moved_fmt = fmt[fmt.index("def fmt(") : fmt.index("\n\n\ndef named")]
    assert moved_fmt in text  # nothing in it means the module's logger: byte for byte
    assert _ruff_fi(text) == ""
    out = _run_handler(
        tmp_path,
        CLASH_LOGGERS,
        result.files,  # type: ignore[union-attr]
        """\
        from functions.x import handlers
        from shop import orders, util
        assert handlers.shop_orders_logger is orders.logger
        assert handlers.shop_util_logger is util.logger
        print(handlers.handle_checkout({"data": {"order_id": 7}}))
        """,
    )
    assert out.strip() == "#7"


def test_an_import_that_would_clash_with_a_moved_definition_is_aliased(tmp_path: Path) -> None:
    """``a.helper`` moves into handlers.py under its own name; ``b``'s moved code
    imports another ``helper``, which is aliased."""
    modules = {
        "a.py": "from b import g\n\n\ndef helper():\n    return 'a'\n\n\n"
        "def f():\n    return helper() + g()\n",
        "b.py": "from d import helper\n\n\ndef g():\n    return helper()\n",
        "d.py": "def helper():\n    return 'd'\n",
    }
    spec = _clash_spec(modules, EntryPointSpec("a", "f", "x.f"), moves=("a.helper", "b.g"))
    result = generate_handler_package(spec)
    text = _handlers(result)
    assert "from d import helper as d_helper\n" in text
    assert "# moved from a\ndef helper():\n    return 'a'\n" in text
    assert "def g():\n    return d_helper()\n" in text
    assert _ruff_fi(text) == ""
    script = 'from functions.x import handlers\nprint(handlers.handle_f({"data": {}}))\n'
    out = _run_handler(tmp_path, modules, result.files, script)  # type: ignore[union-attr]
    assert out.strip() == "ad"


def test_a_moved_definition_imported_under_another_name_is_called_by_its_own() -> None:
    modules = {
        "a.py": "from c import helper as other\n\n\ndef f():\n    return other() + 1\n",
        "c.py": "def helper():\n    return 2\n",
    }
    spec = _clash_spec(modules, EntryPointSpec("a", "f", "x.f"), moves=("c.helper",))
    text = _handlers(generate_handler_package(spec))
    assert "# moved from c\ndef helper():\n" in text
    assert "def f():\n    return helper() + 1\n" in text
    assert "other" not in text
    namespace: dict[str, object] = {}
    exec(compile(text, "handlers.py", "exec"), namespace)  # our own output
    assert namespace["handle_f"]({"data": {}}) == 3


def test_a_string_annotation_that_is_the_name_is_renamed_too() -> None:
    guarded = "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from {} import Order\n"
    modules = {
        "a.py": guarded.format("shop") + "\nfrom c import g\n\n\n"
        'def f(order: "Order") -> "list[int]":\n    return g(order)\n',
        "c.py": guarded.format("legacy") + "\n\ndef g(order: 'Order'):\n    return [order]\n",
    }
    spec = _clash_spec(modules, EntryPointSpec("a", "f", "x.f"), moves=("c.g",))
    text = _handlers(generate_handler_package(spec))
    assert "    from legacy import Order as legacy_Order\n" in text
    assert "    from shop import Order as shop_Order\n" in text
    assert "def g(order: 'legacy_Order'):\n" in text
    assert 'def f(order: "shop_Order") -> "list[int]":\n' in text


@pytest.mark.parametrize(
    ("modules", "moves", "reason"),
    [
        pytest.param(  # two definitions cannot both be ``helper``: no alias for a def
            {
                "a.py": "from c import helper as other\n\n\ndef helper():\n    return 1\n\n\n"
                "def f():\n    return helper() + other()\n",
                "c.py": "def helper():\n    return 2\n",
            },
            ("a.helper", "c.helper"),
            "'helper' would mean two things in handlers.py (a.helper and c.helper)",
            id="two-definitions",
        ),
        pytest.param(  # a function that rebinds the module's name through ``global``
            {
                "a.py": "from c import g\n\nlogger = None\n\n\ndef f():\n    global logger\n"
                "    logger = logger or 1\n    return g()\n",
                "c.py": "logger = 2\n\n\ndef g():\n    return logger\n",
            },
            ("c.g",),
            "a.f declares 'logger' global: cannot rename it",
            id="global",
        ),
        pytest.param(  # looked up by its text: a rename would not follow
            {
                "a.py": "from c import g\n\nlogger = None\n\n\ndef f():\n"
                "    return (logger, globals()['logger'], g())\n",
                "c.py": "logger = 2\n\n\ndef g():\n    return logger\n",
            },
            ("c.g",),
            "a.f reads names by their text (globals): cannot rename 'logger'",
            id="globals",
        ),
        pytest.param(  # the name a definition keeps is bound where it is used
            {
                "a.py": "from c import helper as other\n\n\n"
                "def f():\n    helper = 1\n    return other() + helper\n",
                "c.py": "def helper():\n    return 2\n",
            },
            ("c.helper",),
            "c.helper is imported as 'other' in a: a.f binds 'helper' itself",
            id="shadowed",
        ),
        pytest.param(  # named in a string (a patch target, a getattr): not renamed
            {
                "a.py": "from c import g\n\nlogger = None\n\n\n"
                "def f():\n    return (logger, getattr(f, 'logger', None), g())\n",
                "c.py": "logger = 2\n\n\ndef g():\n    return logger\n",
            },
            ("c.g",),
            "a.f names 'logger' in a string: cannot rename it",
            id="string",
        ),
        pytest.param(  # a moved helper would replace the generated handler
            {"a.py": "def handle_f():\n    return 1\n\n\ndef f():\n    return handle_f()\n"},
            ("a.handle_f",),
            "'handle_f' would mean two things in handlers.py (generated handler and a.handle_f)",
            id="generated-name",
        ),
    ],
)
def test_a_name_clash_that_cannot_be_renamed_is_refused(
    modules: dict[str, str], moves: tuple[str, ...], reason: str
) -> None:
    result = generate_handler_package(
        _clash_spec(modules, EntryPointSpec("a", "f", "x.f"), moves=moves)
    )
    assert isinstance(result, GenerationFailure)
    assert any(reason in line for line in result.reasons), result.reasons


@pytest.mark.parametrize("entry_first", [True, False])
def test_an_entry_point_the_moved_code_also_calls_is_the_moved_one(entry_first: bool) -> None:
    """``invoice_context`` (moved) calls ``invoice_number``, itself an entry point: the
    handler's copy must call the moved function, in either order of the entry points.
    Importing it from the monolith module would call the routed wrapper (a second event
    per call) and was refused as a name clash."""
    code = (
        "from shims import routed\n\n\n"
        '@routed("inv.number", task="t.number")\n'
        "def number(order_id):\n    return f'INV-{order_id}'\n\n\n"
        "def context(order_id):\n    return {'number': number(order_id)}\n\n\n"
        "def render(order_id):\n    return str(context(order_id))\n"
    )
    entries = (
        EntryPointSpec("inv", "number", "inv.number"),
        EntryPointSpec("inv", "render", "inv.render"),
    )
    spec = HandlerPackageSpec(
        "inv",
        entries if entry_first else entries[::-1],
        (ModuleSource("inv", code),),
        moves=("inv.context",),
    )
    result = generate_handler_package(spec)
    assert isinstance(result, GeneratedPackage), result
    handlers = result.files["functions/inv/handlers.py"]
    assert "import number" not in handlers
    assert "from inv import" not in handlers
    assert handlers.count("def number(order_id):") == 1
    assert "# moved from inv\ndef number(" in handlers
    assert "routed" not in handlers
    namespace: dict[str, object] = {}
    exec(compile(handlers, "handlers.py", "exec"), namespace)  # our own output
    assert namespace["handle_render"]({"data": {"order_id": 7}}) == "{'number': 'INV-7'}"


def test_the_routed_decorator_is_not_copied() -> None:
    routed = SERVICES.replace(
        "def notify(", '@routed("notify.notify", task="t")\ndef notify('
    ).replace("import logging\n", "import logging\n\nfrom shims import routed\n")
    modules = tuple(
        ModuleSource(m.name, routed) if m.name == "shop.notify.services" else m for m in sources()
    )
    again = generate(modules=modules)
    assert "routed" not in again.files["functions/notify/handlers.py"]
    assert again == generate()  # extracting twice generates the same package


def test_generated_handler_test_runs_and_passes(written: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-W",
            "error",
            "--ds=tests.django_settings",
            "functions/notify/tests/test_handlers.py",
            "-k",
            "test_send",  # test_notify needs a shop.Order model, which the fake has not
        ],
        cwd=written,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": f"{written}:{REPO}", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_generated_fire_and_forget_tests_check_the_result_and_capture_effects() -> None:
    text = generate(entry_points=(NOTIFY,)).files["functions/notify/tests/test_handlers.py"]
    assert "del result" not in text
    assert "with capture():" in text
    assert "json.dumps(result)" in text
    assert "effects.mail" not in text  # the spec says nothing about mail
    mailing = replace(NOTIFY, effects=("mail",))
    text = generate(entry_points=(mailing,)).files["functions/notify/tests/test_handlers.py"]
    assert "with capture() as effects:" in text
    assert "effects.mail" in text


def test_generated_task_runs_through_the_shim_handler_base(written: Path) -> None:
    """In-process (``Task.apply``): schema check, dedupe and the handler, no broker.

    The worker-over-a-broker path is the integration tests' job.
    """
    script = dedent(
        """\
        import json
        from shims.events import build_event
        from functions.notify import tasks

        data = {"order_number": 7, "tags": ["a"], "loud": False, "extra": {}}
        event = build_event("notify.send", data)
        print(json.dumps(tasks.send.apply(args=(event,)).get()))
        bad = build_event("notify.send", {**data, "order_number": "seven"})
        outcome = tasks.send.apply(args=(bad,))
        print(outcome.failed())
        """
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        cwd=written,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": f"{written}:{REPO}", "PATH": "/usr/bin:/bin", "HOME": str(written)},
    )
    assert done.returncode == 0, done.stderr
    result, failed = done.stdout.splitlines()[-2:]
    assert json.loads(result) == {
        "body": "[shop] order 7:b",
        "tags": ["a"],
        "loud": False,
        "extra": {},
        "n": 2,
        "json": True,
    }
    assert failed == "True"  # the schema refused a string order number


MODELS = """\
from django.db import models

from .mail import deliver


class Order(models.Model):
    def confirm(self, note: str = "") -> str:
        \"\"\"Confirm the order.\"\"\"
        return deliver(self, note)

    def save(self, *args, **kwargs):
        return super().save(*args, **kwargs)

    def secret(self):
        return self.__token

    @classmethod
    def make(cls):
        return cls()
"""


def method_spec(name: str) -> HandlerPackageSpec:
    return HandlerPackageSpec(
        "orders",
        (
            EntryPointSpec(
                "shop.models",
                name,
                f"orders.{name}",
                args=(ArgSpec("self", ArgKind.ORM_INSTANCE, "shop.Order"),),
            ),
        ),
        (
            ModuleSource("shop.models", MODELS),
            ModuleSource("shop.mail", "def deliver(order, note):\n    return note\n"),
        ),
    )


def test_a_method_moves_as_a_function_taking_self() -> None:
    result = generate_handler_package(method_spec("Order.confirm"))
    assert isinstance(result, GeneratedPackage), result
    handlers = result.files["functions/orders/handlers.py"]
    assert '# moved from shop.models.Order\ndef confirm(self, note: str = "") -> str:\n' in handlers
    assert "from shop.mail import deliver\n" in handlers
    assert "    result = confirm(**arguments)\n" in handlers
    assert "confirm = handler(" in result.files["functions/orders/tasks.py"]
    schema = json.loads(result.files["functions/orders/schemas/confirm.json"])
    assert schema["properties"]["self"]["properties"]["$model"] == {"const": "shop.Order"}
    assert routed_spec(
        method_spec("Order.confirm"), method_spec("Order.confirm").entry_points[0]
    ).task == ("functions.orders.tasks.confirm")
    compile(handlers, "handlers.py", "exec")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Order.save", "uses super, which only works inside its class"),
        ("Order.secret", "uses .__token, which only works inside its class"),
        ("Order.make", "a classmethod is not moved as a handler"),
        ("Order.missing", "no module-level function or method of that name"),
    ],
)
def test_methods_that_cannot_leave_their_class_are_refused(name: str, reason: str) -> None:
    result = generate_handler_package(method_spec(name))
    assert isinstance(result, GenerationFailure)
    assert any(reason in line for line in result.reasons), result.reasons


@pytest.mark.parametrize("self_arg", [ArgSpec("self"), ArgSpec("self", ArgKind.ORM_INSTANCE)])
def test_an_instance_method_whose_self_cannot_travel_is_refused(self_arg: ArgSpec) -> None:
    spec = method_spec("Order.confirm")
    entry = replace(spec.entry_points[0], args=(self_arg,))
    result = generate_handler_package(replace(spec, entry_points=(entry,)))
    assert isinstance(result, GenerationFailure)
    assert any("self is not a row of a known model" in line for line in result.reasons)


def test_names_the_moved_code_shares_with_the_helpers_are_imported_once() -> None:
    source = (
        "from typing import Any, Mapping\n\n\n"
        "def f(data: Mapping[str, Any]) -> Any:\n    return dict(data)\n"
    )
    spec = HandlerPackageSpec("x", (EntryPointSpec("m", "f", "x.f"),), (ModuleSource("m", source),))
    result = generate_handler_package(spec)
    assert isinstance(result, GeneratedPackage), result
    text = result.files["functions/x/handlers.py"]
    done = subprocess.run(
        [str(RUFF), "check", "--isolated", "--no-cache", "--select", "F", "-"],
        input=text,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout
    assert text.count("import Any") == 1


def test_scaffolding_lines_fit_with_long_names() -> None:
    long_entry = EntryPointSpec(
        "shop.notify.services",
        "send",
        "notifications_and_reminders.send_order_confirmation_by_mail",
        style="request_reply",
    )
    package = generate(
        capability="notifications_and_reminders",
        entry_points=(long_entry,),
        test_fixtures=("one.json", "two.json"),
        celery_app="shop.celery_application:celery_app",
    )
    moved = ("def send(", "def _subject(", "def render(", "def shared_helper(")
    for path, text in package.files.items():
        if path.endswith(".json"):
            continue
        if path.endswith("/handlers.py"):  # the moved code keeps its own lines
            text = text[: text.index("# moved from")] + text[text.index("def _event_data") :]
            assert not any(name in text for name in moved)
        too_long = [line for line in text.splitlines() if len(line) > 88]
        assert too_long == [], path
    tests = package.files["functions/notifications_and_reminders/tests/test_handlers.py"]
    assert 'fixtures = ("one.json", "two.json")' in tests


def test_names_from_a_star_import_come_from_the_monolith_module() -> None:
    source = "from os.path import *\n\n\ndef f(p):\n    return basename(p) + undefined_name\n"
    spec = HandlerPackageSpec("x", (EntryPointSpec("m", "f", "x.f"),), (ModuleSource("m", source),))
    result = generate_handler_package(spec)
    assert isinstance(result, GeneratedPackage), result
    assert "from m import basename, undefined_name\n" in result.files["functions/x/handlers.py"]
    plain = HandlerPackageSpec(
        "x",
        (EntryPointSpec("m", "f", "x.f"),),
        (ModuleSource("m", source.replace("from os.path import *\n", "")),),
    )
    noted = generate_handler_package(plain)
    assert isinstance(noted, GeneratedPackage)
    assert "m.f uses 'basename', which m does not define" in noted.notes


@pytest.mark.worker
@pytest.mark.slow
def test_generated_package_runs_in_a_real_worker(tmp_path: Path) -> None:
    """A Celery worker subprocess on the embedded filesystem transport runs the task."""
    for path, code in {**MODULES, **generate().files}.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(code)
    env = {"PYTHONPATH": f"{tmp_path}:{REPO}", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    celery = Path(sys.executable).with_name("celery")
    worker = subprocess.Popen(
        [
            str(celery),
            "-A",
            "functions.notify.celery",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "WARNING",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    script = dedent(
        """\
        import json
        from functions.notify.celery import app
        from shims.events import build_event

        data = {"order_number": 3, "tags": ["x"], "loud": True, "extra": {"a": "b"}}
        event = build_event("notify.send", data)
        reply = app.send_task("functions.notify.tasks.send", args=(event,))
        print(json.dumps(reply.get(timeout=30)))
        """
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        worker.terminate()
        _, worker_err = worker.communicate(timeout=30)
    assert done.returncode == 0, done.stderr + worker_err
    assert json.loads(done.stdout)["body"] == "[shop] order 3:b"
    assert json.loads(done.stdout)["extra"] == {"a": "b"}


@pytest.mark.parametrize("app", ['os:system("id")', "shop.celery:", "import:app", "a b:app"])
def test_a_celery_app_that_is_not_a_dotted_name_is_refused(app: str) -> None:
    result = generate_handler_package(make_spec(celery_app=app))
    assert isinstance(result, GenerationFailure)
    assert any("celery_app" in reason for reason in result.reasons), result.reasons


@pytest.mark.parametrize("celery_app", [None, "shop.celery_application_module:celery_app"])
def test_celery_module_passes_ruff_with_very_long_package_names(
    tmp_path: Path, celery_app: str | None
) -> None:
    capability = "notifications_and_reminders_for_customers_of_the_shop_when_orders_ship"
    package = generate(
        capability=capability,
        target="extracted_functions_of_the_monolith.handlers_of_the_shop",
        celery_app=celery_app,
    )
    path = f"extracted_functions_of_the_monolith/handlers_of_the_shop/{capability}/celery.py"
    for name, code in {**MODULES, **package.files}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(code)
    (tmp_path / "shop/celery_application_module.py").write_text("celery_app = None\n")
    done = subprocess.run(
        [str(RUFF), "check", "--isolated", "--no-cache", "--select", "E,F,W,I", path],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + package.files[path]
    assert (
        f"celery -A extracted_functions_of_the_monolith.handlers_of_the_shop.{capability}.celery"
        in (package.files[path].replace("\n", " ").replace("  ", " "))
    )


MAILER = """\
from django.core.mail import send_mail


def welcome(address: str) -> int:
    return send_mail("Welcome", "Hello", "shop@example.com", [address])


def quiet(address: str) -> int:
    return len(address)


def touch(user) -> str:
    return user.username
"""


def _run_generated(tmp_path: Path, *entries: EntryPointSpec) -> subprocess.CompletedProcess[str]:
    spec = HandlerPackageSpec("mailer", entries, (ModuleSource("mailer", MAILER),))
    package = generate_handler_package(spec)
    assert isinstance(package, GeneratedPackage), package
    for path, code in {"mailer.py": MAILER, **package.files}.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(code)
    return subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"),
            *("--ds=tests.django_settings", "functions/mailer/tests/test_handlers.py"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": f"{tmp_path}:{REPO}", "PATH": "/usr/bin:/bin"},
    )


def test_generated_test_asserts_the_mail_the_analysis_knows_about(tmp_path: Path) -> None:
    sends = EntryPointSpec("mailer", "welcome", "mailer.welcome", effects=("mail",))
    done = _run_generated(tmp_path, sends)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_generated_test_fails_when_the_handler_sends_no_mail(tmp_path: Path) -> None:
    claims = EntryPointSpec("mailer", "quiet", "mailer.quiet", effects=("mail",))
    done = _run_generated(tmp_path, claims)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed" in done.stdout
    assert "sends mail" in done.stdout


def test_generated_test_fails_instead_of_skipping_without_a_sample_row(tmp_path: Path) -> None:
    user = EntryPointSpec(
        "mailer",
        "touch",
        "mailer.touch",
        args=(ArgSpec("user", ArgKind.ORM_INSTANCE, "auth.User"),),
    )
    done = _run_generated(tmp_path, user)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "skipped" not in done.stdout
    assert "no auth.User row in the test database" in done.stdout
