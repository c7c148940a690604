"""AddRoutedDecorator / RemoveRouted: before/after source strings, a few lines each."""

from __future__ import annotations

from textwrap import dedent

import pytest

from strangler.codemods import (
    AddRoutedDecorator,
    RemoveRouted,
    RoutedSpec,
    Status,
    run_codemod,
)

SPEC = RoutedSpec("n.send", task="functions.n.tasks.send")
DECO = "{DECO}"
DECO_ARGS = (
    '"n.send"',
    'task="functions.n.tasks.send"',
    'style="fire_and_forget"',
    "key=None",
    "timeout=5.0",
    "fallback=True",
    "outbox=False",
)


def expand(template: str) -> str:
    """Dedent, then replace each ``{DECO}`` line by the decorator at that indentation."""
    lines = []
    for line in dedent(template).splitlines(keepends=True):
        if line.strip() == DECO:
            indent = line[: len(line) - len(line.lstrip())]
            args = "".join(f"{indent}    {arg},\n" for arg in DECO_ARGS)
            line = f"{indent}@routed(\n{args}{indent})\n"
        lines.append(line)
    return "".join(lines)


def add(code: str, targets: dict[str, RoutedSpec] | None = None):
    return run_codemod(AddRoutedDecorator(targets or {"send": SPEC}), dedent(code))


def check(before: str, after: str, targets: dict[str, RoutedSpec] | None = None) -> None:
    """Adding gives ``after``; adding again changes nothing; removing gives ``before``."""
    before, after = dedent(before), expand(after)
    result = add(before, targets)
    assert result.status is Status.CHANGED, result
    assert result.code == after
    assert add(after, targets).status is Status.UNCHANGED
    reverted = run_codemod(RemoveRouted("n.send"), after)
    assert reverted.code == before


def test_plain_function_gets_decorator_and_import() -> None:
    check(
        """\
        import os


        def send(order):
            return os.sep
        """,
        """\
        import os
        from shims import routed


        {DECO}
        def send(order):
            return os.sep
        """,
    )


def test_module_without_imports_reverts_byte_for_byte() -> None:
    check(
        """\
        def send(order):
            pass
        """,
        """\
        from shims import routed

        {DECO}
        def send(order):
            pass
        """,
    )


def test_existing_decorators_docstring_and_comments_are_kept() -> None:
    check(
        '''\
        """Module doc."""
        from django.db import transaction


        # sends the mail
        @transaction.atomic  # keep me
        def send(order):  # trailing
            """Docstring stays."""
            # body comment
            return 1
        ''',
        '''\
        """Module doc."""
        from django.db import transaction
        from shims import routed


        # sends the mail
        {DECO}
        @transaction.atomic  # keep me
        def send(order):  # trailing
            """Docstring stays."""
            # body comment
            return 1
        ''',
    )


def test_method_long_decorator_wraps_with_class_indentation() -> None:
    spec = RoutedSpec(
        "n.send",
        task="functions.notifications.tasks.send_order_confirmation",
        style="request_reply",
        key_expr="lambda self: self.customer_id",
    )
    check(
        """\
        from shims import other


        class Order:
            def send(self, *args, **kwargs):
                return args
        """,
        """\
        from shims import routed, other


        class Order:
            @routed(
                "n.send",
                task="functions.notifications.tasks.send_order_confirmation",
                style="request_reply",
                key=lambda self: self.customer_id,
                timeout=5.0,
                fallback=True,
                outbox=False,
            )
            def send(self, *args, **kwargs):
                return args
        """,
        {"Order.send": spec},
    )


def test_multiline_signature_and_star_args() -> None:
    check(
        """\
        import os


        def send(
            order,  # the order
            *args,
            retries: int = 3,
            **kwargs,
        ) -> None:
            pass
        """,
        """\
        import os
        from shims import routed


        {DECO}
        def send(
            order,  # the order
            *args,
            retries: int = 3,
            **kwargs,
        ) -> None:
            pass
        """,
    )


def test_conditional_import_and_definitions_under_if() -> None:
    check(
        """\
        import sys

        try:
            import json
        except ImportError:  # pragma: no cover
            json = None

        if sys.platform == "linux":
            def send(order):
                return 1
        else:
            def send(order):
                return 2
        """,
        """\
        import sys
        from shims import routed

        try:
            import json
        except ImportError:  # pragma: no cover
            json = None

        if sys.platform == "linux":
            {DECO}
            def send(order):
                return 1
        else:
            {DECO}
            def send(order):
                return 2
        """,
    )


def test_staticmethod_stays_outermost() -> None:
    check(
        """\
        import os


        class Mailer:
            @staticmethod
            def send(order):
                pass
        """,
        """\
        import os
        from shims import routed


        class Mailer:
            @staticmethod
            {DECO}
            def send(order):
                pass
        """,
        {"Mailer.send": SPEC},
    )


def test_async_def_is_refused_with_a_reason() -> None:
    code = "async def send(order):\n    pass\n"
    result = add(code)
    assert result.status is Status.SKIPPED
    assert result.code == code
    assert result.notes == (
        "send: async def is not supported: shims.routed wraps synchronous callables",
    )


def test_routed_for_another_feature_is_refused() -> None:
    code = '@routed("other.feature", task="t")\ndef send(order):\n    pass\n'
    result = add(code)
    assert result.status is Status.SKIPPED
    assert "already routed as 'other.feature'" in result.notes[0]


def test_property_is_refused() -> None:
    code = "class A:\n    @property\n    def send(self):\n        return 1\n"
    result = add(code, {"A.send": SPEC})
    assert result.status is Status.SKIPPED
    assert "properties are not routed" in result.notes[0]


def test_only_the_target_qualname_changes() -> None:
    code = "def send(o):\n    pass\n\n\nclass A:\n    def send(self):\n        pass\n"
    result = add(code, {"A.send": SPEC})
    assert result.changed == ("A.send",)
    assert result.code.count("@routed(") == 1
    assert result.code.index("@routed(") > result.code.index("class A")


def test_missing_target_is_reported_and_nothing_changes() -> None:
    result = add("def other():\n    pass\n")
    assert result.status is Status.UNCHANGED
    assert result.notes == ("send: not found in this module",)


def test_foreign_routed_name_is_a_failure() -> None:
    code = "from mylib import routed\n\n\ndef send(o):\n    pass\n"
    result = add(code)
    assert result.status is Status.FAILED
    assert result.code == code
    assert "already binds 'routed'" in (result.error or "")


def test_unparsable_module_is_a_failure_not_an_exception() -> None:
    result = add("def send(:\n")
    assert result.status is Status.FAILED
    assert result.error


def test_remove_keeps_import_used_by_another_feature() -> None:
    code = expand(
        """\
        from shims import routed


        {DECO}
        def send(o):
            pass


        @routed("n.other", task="t")
        def other(o):
            pass
        """
    )
    result = run_codemod(RemoveRouted("n.send"), code)
    assert result.status is Status.CHANGED
    assert result.code.startswith("from shims import routed\n")
    assert "n.send" not in result.code
    assert run_codemod(RemoveRouted("n.send"), result.code).status is Status.UNCHANGED


@pytest.mark.parametrize("bad", ["lambda:", "1 +"])
def test_spec_rejects_a_key_that_is_not_an_expression(bad: str) -> None:
    with pytest.raises(ValueError, match="key_expr"):
        RoutedSpec("f", task="t", key_expr=bad)


def test_spec_rejects_unknown_style() -> None:
    with pytest.raises(ValueError, match="style"):
        RoutedSpec("f", task="t", style="maybe")


def test_crlf_and_tab_indentation_are_followed() -> None:
    code = "import os\r\n\r\n\r\nclass A:\r\n\tdef send(self):\r\n\t\treturn 1\r\n"
    result = run_codemod(AddRoutedDecorator({"A.send": SPEC}), code)
    assert '\r\n\t@routed(\r\n\t\t"n.send",\r\n' in result.code
    assert "\n" not in result.code.replace("\r\n", "")
    assert run_codemod(RemoveRouted("n.send"), result.code).code == code


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"style": "request_reply", "outbox": True}, "outbox=True needs"),
        ({"timeout": 0}, "timeout must be > 0"),
    ],
)
def test_spec_rejects_what_the_shim_would_reject_at_import(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        RoutedSpec("f", task="t", **options)  # type: ignore[arg-type]


def test_overload_stubs_are_left_alone() -> None:
    code = dedent(
        """\
        from typing import overload


        @overload
        def send(order: int) -> int: ...
        @overload
        def send(order: str) -> str: ...
        def send(order):
            return order
        """
    )
    result = add(code)
    assert result.status is Status.CHANGED
    assert result.code.count("@routed(") == 1
    assert "@routed(" in result.code.split("def send(order: str) -> str: ...")[1]


def test_already_routed_with_other_arguments_is_noted_not_rewritten() -> None:
    code = (
        "from shims import routed\n\n\n"
        '@routed("n.send", task="old.task", style="request_reply")\ndef send(o):\n    pass\n'
    )
    result = add(code)
    assert result.status is Status.UNCHANGED
    assert result.code == code
    assert [note.split("; ")[1].split(" differs")[0] for note in result.notes] == [
        "its task=",
        "its style=",
    ]


def test_routed_without_its_import_gets_the_import() -> None:
    code = '@routed("n.send", task="functions.n.tasks.send")\ndef send(o):\n    pass\n'
    result = add(code)
    assert result.status is Status.CHANGED
    assert result.code == "from shims import routed\n\n" + code


def test_a_utf8_bom_is_kept() -> None:
    source = "\ufeffdef send(order):\n    return order\n"
    result = run_codemod(AddRoutedDecorator({"send": SPEC}), source)
    assert result.status is Status.CHANGED
    assert result.code.startswith("\ufefffrom shims import routed\n")
    assert run_codemod(RemoveRouted("n.send"), result.code).code == source
