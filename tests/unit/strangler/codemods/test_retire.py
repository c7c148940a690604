"""RetireMonolithPath: before/after source strings, a few lines each."""

from __future__ import annotations

from textwrap import dedent

from strangler.codemods import RetireMonolithPath, Status, run_codemod


def retire(code: str, **options: bool):
    return run_codemod(RetireMonolithPath("n.send", **options), dedent(code))


def check(before: str, after: str, **options: bool) -> None:
    result = retire(before, **options)
    assert result.status is Status.CHANGED, result
    assert result.code == dedent(after)
    again = retire(result.code, **options)
    assert again.status is Status.UNCHANGED
    assert again.code == result.code


def test_body_becomes_a_dispatch_only_call_docstring_kept() -> None:
    check(
        '''\
        from django.core.mail import send_mail
        from shims import routed


        # comment above stays
        @routed("n.send", task="f.n.tasks.send", style="request_reply", key=None, timeout=2.5)
        def send(order, *args, retries=3, **kwargs):  # trailing comment stays
            """Email the customer."""
            send_mail("subject", "body", None, [order.email])
            return True
        ''',
        '''\
        from django.core.mail import send_mail
        from shims import dispatch_only


        # comment above stays
        def send(order, *args, retries=3, **kwargs):  # trailing comment stays
            """Email the customer."""
            return dispatch_only(
                "n.send",
                task="f.n.tasks.send",
                style="request_reply",
                timeout=2.5,
                outbox=False,
                arguments={"order": order, "args": args, "retries": retries, "kwargs": kwargs},
            )
        ''',
    )


def test_method_keeps_other_decorators_and_self_travels() -> None:
    check(
        """\
        from shims import routed, other


        class Order:
            @other
            @routed("n.send", task="t")
            def send(self):
                return 1
        """,
        """\
        from shims import dispatch_only, other


        class Order:
            @other
            def send(self):
                return dispatch_only(
                    "n.send",
                    task="t",
                    style="fire_and_forget",
                    timeout=5.0,
                    outbox=False,
                    arguments={"self": self},
                )
        """,
    )


def test_remove_deletes_the_function_and_the_unused_import() -> None:
    check(
        """\
        import os
        from shims import routed


        def keep():
            return os.sep


        @routed("n.send", task="t")
        def send(order):
            return 1
        """,
        """\
        import os


        def keep():
            return os.sep
        """,
        remove=True,
    )


def test_remove_inside_if_block_leaves_a_pass() -> None:
    check(
        """\
        import sys
        from shims import routed

        if sys.platform:
            @routed("n.send", task="t")
            def send(order):
                return 1
        """,
        """\
        import sys

        if sys.platform:
            pass
        """,
        remove=True,
    )


def test_prune_imports_drops_imports_only_the_old_body_used() -> None:
    check(
        """\
        import json
        import os
        from shims import routed


        def keep():
            return os.sep


        @routed("n.send", task="t")
        def send(order):
            return json.dumps(order)
        """,
        """\
        import os
        from shims import dispatch_only


        def keep():
            return os.sep


        def send(order):
            return dispatch_only(
                "n.send",
                task="t",
                style="fire_and_forget",
                timeout=5.0,
                outbox=False,
                arguments={"order": order},
            )
        """,
        prune_imports=True,
    )


def test_other_features_are_untouched() -> None:
    code = '@routed("n.other", task="t")\ndef send(order):\n    return 1\n'
    result = retire(code)
    assert result.status is Status.UNCHANGED
    assert result.code == code
    assert result.notes == ("n.send: no function is routed for this feature here",)


def test_routed_without_task_is_refused() -> None:
    code = '@routed("n.send")\ndef send(order):\n    return 1\n'
    result = retire(code)
    assert result.status is Status.SKIPPED
    assert result.code == code
    assert "no task=" in result.notes[0]
