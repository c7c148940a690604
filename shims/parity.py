"""Parity testing: the monolith's own test suite run against the function path.

The best evidence that an extracted function behaves like the monolith is the
monolith's own tests passing while the feature is routed to the function. Run as they
are, they cannot show it: a fire-and-forget call returns before its worker has done
anything, the e-mail it sends lands in the *worker's* ``mail.outbox``, and
``override_settings`` changes only the test process. Parity mode closes those three
gaps and nothing else; the calls still cross the real broker to a real worker:

* **caller** (:func:`enable`, used by ``shims.django.testing.ParityRunner``): every
  function-path call carries the ``stranglerparity`` extension attribute, a JSON string
  holding the settings the test overrode (``override_settings``/``modify_settings``);
  a fire-and-forget call waits for its handler (publish on commit is kept) and returns
  what the handler returned, as the monolith body did; the mail the handler sent is
  appended to this process's ``django.core.mail.outbox``. Fallback stays as the feature
  configures it, and every function-path call is tallied in :data:`report`, so a run
  says how many calls the worker really answered and why any fell back.
* **worker** (started with ``STRANGLER_PARITY_WORKER=1``; never in production): a parity
  event runs with those settings applied (``override_settings``, e-mail to the locmem
  backend, one parity event at a time) and its reply is
  ``{"strangler_parity": 1, "result": ..., "mail": [...]}``; when a request/reply
  handler raises, ``result`` is the error answer and ``mail`` still holds what it sent
  first (:class:`ParityRun`), delivered before the caller raises. Transient errors are
  retried without backoff (``shims.handlers``). A worker without the flag dead-letters
  parity events: settings from an event are applied only by a worker that was started
  to serve tests.

What parity cannot carry is stated, not papered over: state in the test process's memory
(caches, module globals, mocks) and settings that do not encode as JSON (logged and
skipped; ``DATABASES`` never travels: the worker is pointed at the test database when it
starts).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from shims.encoding import UnencodableArgument, decode_value, encode_value, is_error_answer

__all__ = [
    "ATTRIBUTE",
    "REPLY_MARK",
    "WORKER_ENV",
    "ParityError",
    "ParityReport",
    "ParityRun",
    "active",
    "attribute",
    "deliver_mail",
    "disable",
    "enable",
    "message_from_dict",
    "message_to_dict",
    "report",
    "run_parity_event",
    "settings_overrides",
    "timeout",
    "unwrap",
    "worker_enabled",
]

log = logging.getLogger("shims.parity")

ATTRIBUTE = "stranglerparity"  # CloudEvents extension names: lowercase letters and digits
REPLY_MARK = "strangler_parity"
WORKER_ENV = "STRANGLER_PARITY_WORKER"
LOCMEM_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Never sent: the worker keeps its own connection to the test database, and e-mail in a
# parity worker always goes to the locmem backend (read back from the reply).
_NOT_SENT = frozenset({"DATABASES", "EMAIL_BACKEND"})


class ParityError(RuntimeError):
    """A parity call got an answer that is not a parity reply (a worker without the flag)."""


@dataclass
class ParityReport:
    """What the function path did during a parity run, per feature (this process)."""

    answered: Counter[str] = field(default_factory=Counter)
    fallbacks: dict[str, Counter[str]] = field(default_factory=dict)
    failures: dict[str, Counter[str]] = field(default_factory=dict)
    unsent_settings: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def answer(self, feature: str) -> None:
        with self._lock:
            self.answered[feature] += 1

    def fallback(self, feature: str, reason: str) -> None:
        with self._lock:
            self.fallbacks.setdefault(feature, Counter())[reason] += 1

    def fail(self, feature: str, reason: str) -> None:
        with self._lock:
            self.failures.setdefault(feature, Counter())[reason] += 1

    def as_dict(self) -> dict[str, Any]:
        features = sorted(set(self.answered) | set(self.fallbacks) | set(self.failures))
        return {
            "features": {
                name: {
                    "answered_by_function": self.answered[name],
                    "fell_back": dict(sorted(self.fallbacks.get(name, Counter()).items())),
                    "failed": dict(sorted(self.failures.get(name, Counter()).items())),
                }
                for name in features
            },
            "settings_not_sent": sorted(self.unsent_settings),
        }

    def clear(self) -> None:
        with self._lock:
            self.answered.clear()
            self.fallbacks.clear()
            self.failures.clear()
            self.unsent_settings.clear()


report = ParityReport()
_state = {"active": False, "timeout": 30.0}


def enable(timeout: float = 30.0) -> None:
    """Turn parity mode on for this process (the test runner does it)."""
    if timeout <= 0:
        raise ValueError(f"parity timeout must be > 0 seconds, got {timeout}")
    _state["active"] = True
    _state["timeout"] = timeout
    report.clear()


def disable() -> None:
    _state["active"] = False


def active() -> bool:
    return bool(_state["active"])


def timeout() -> float:
    """How long a parity call waits for its handler (a test waits, production never)."""
    return float(_state["timeout"])


# ---------------------------------------------------------------- caller side


def settings_overrides() -> dict[str, Any]:
    """The settings the running test overrode, innermost override first.

    ``override_settings`` and ``modify_settings`` stack ``UserSettingsHolder`` objects on
    ``settings._wrapped``; each holds its overridden names in its ``__dict__``. Values set
    by the test runner itself (``settings.EMAIL_BACKEND = ...``) are not overrides and
    are not collected.
    """
    from django.conf import UserSettingsHolder, settings

    found: dict[str, Any] = {}
    holder = getattr(settings, "_wrapped", None)
    while isinstance(holder, UserSettingsHolder):
        for name, value in vars(holder).items():
            if name.isupper() and name not in found:
                found[name] = value
        holder = holder.default_settings
    return found


def attribute() -> str:
    """The ``stranglerparity`` attribute value: the test's settings overrides, as JSON."""
    sent: dict[str, Any] = {}
    for name, value in settings_overrides().items():
        if name in _NOT_SENT:
            continue
        try:
            sent[name] = encode_value(value, f"setting {name}")
        except UnencodableArgument:
            if name not in report.unsent_settings:
                log.warning("parity: setting %s does not encode as JSON; not sent", name)
            report.unsent_settings.add(name)
    return json.dumps({"settings": sent}, sort_keys=True)


def unwrap(reply: Any) -> Any:
    """The handler's result from a parity reply, decoded; its mail goes to ``mail.outbox``.

    An error answer (the handler raised, ``shims.encoding.is_error_answer``) is returned as
    it came, for the caller to raise (``decode_exception``); the mail the handler sent
    before raising is delivered all the same, first, as the monolith body's mail would be
    in the outbox when its exception reached the test.
    """
    if not isinstance(reply, dict) or reply.get(REPLY_MARK) != 1:
        raise ParityError(
            f"not a parity reply ({type(reply).__name__}): start the worker with {WORKER_ENV}=1"
        )
    deliver_mail(reply.get("mail") or [])
    result = reply.get("result")
    return result if is_error_answer(result) else decode_value(result)


def deliver_mail(messages: list[dict[str, Any]]) -> None:
    """Append the worker's messages to this process's locmem outbox, as Django's would."""
    from django.core import mail

    outbox = getattr(mail, "outbox", None)
    if outbox is None:
        outbox = mail.outbox = []
    outbox.extend(message_from_dict(item) for item in messages)


# ---------------------------------------------------------------- mail, both ways


def message_to_dict(message: Any) -> dict[str, Any]:
    """Everything a test can assert on an ``EmailMessage``, as JSON.

    Fuller than ``shims.effects.mail_summary`` (which a shadow comparison uses): HTML
    alternatives, reply-to, headers and attachments too, so a test that reads them in
    the outbox reads what the worker sent.
    """
    attachments = []
    for item in getattr(message, "attachments", []):
        if isinstance(item, tuple | list) and len(item) == 3:
            filename, content, mimetype = item
            raw = content.encode("utf-8") if isinstance(content, str) else bytes(content)
            text = isinstance(content, str)
            encoded = content if text else base64.b64encode(raw).decode("ascii")
            attachments.append([filename, encoded, mimetype, text])
        else:  # a MIMEBase part: keep it as its text
            attachments.append([None, str(item), None, True])
    return {
        "subject": str(message.subject),
        "body": str(message.body),
        "from_email": str(message.from_email or ""),
        "to": [str(a) for a in message.to],
        "cc": [str(a) for a in message.cc],
        "bcc": [str(a) for a in message.bcc],
        "reply_to": [str(a) for a in message.reply_to],
        "headers": {str(k): str(v) for k, v in (message.extra_headers or {}).items()},
        "alternatives": [[str(c), str(m)] for c, m in getattr(message, "alternatives", [])],
        "attachments": attachments,
        "content_subtype": str(message.content_subtype),
    }


def message_from_dict(data: dict[str, Any]) -> Any:
    """An ``EmailMultiAlternatives`` equal, for a test, to the message the worker sent."""
    from django.core.mail import EmailMultiAlternatives

    message = EmailMultiAlternatives(
        subject=data["subject"],
        body=data["body"],
        from_email=data["from_email"] or None,
        to=data["to"],
        cc=data["cc"],
        bcc=data["bcc"],
        reply_to=data["reply_to"],
        headers=data["headers"],
    )
    for content, mimetype in data["alternatives"]:
        message.attach_alternative(content, mimetype)
    for filename, content, mimetype, text in data["attachments"]:
        body = content if text else base64.b64decode(content)
        message.attach(filename, body, mimetype)
    message.content_subtype = data["content_subtype"]
    return message


# ---------------------------------------------------------------- worker side


def worker_enabled() -> bool:
    """True in a worker started to serve parity tests (``STRANGLER_PARITY_WORKER=1``)."""
    return os.environ.get(WORKER_ENV) == "1"


_worker_lock = threading.Lock()  # settings are process-wide: one parity event at a time


class ParityRun:
    """One delivery of a parity event in the worker (``value``: its ``stranglerparity``).

    Calling it runs the handler with the test's settings and returns the reply
    ``{"strangler_parity": 1, "result": ..., "mail": [...]}``. The mail is kept even when
    the handler raises, so the handler base can answer the exception with :meth:`reply`
    too (a request/reply event): a handler that sends mail and then raises must not lose
    the mail the test will look for.
    """

    def __init__(self, value: str) -> None:
        self.value = value
        self.mail: list[dict[str, Any]] = []

    def __call__(self, handle: Callable[[Any], Any], event: Any) -> dict[str, Any]:
        from shims.effects import observe

        overrides = _decoded_settings(self.value)
        with _worker_lock, _settings(overrides), observe() as effects:
            try:
                result = handle(event)
            finally:
                self.mail = [message_to_dict(m) for m in effects.messages]
        return self.reply(result)

    def reply(self, result: Any) -> dict[str, Any]:
        """``result`` (a value, or an error answer) with the mail this delivery sent."""
        return {REPLY_MARK: 1, "result": result, "mail": self.mail}


def run_parity_event(handle: Callable[[Any], Any], event: Any, value: str) -> dict[str, Any]:
    """Run ``handle(event)`` with the test's settings; the reply carries result and mail."""
    return ParityRun(value)(handle, event)


def _decoded_settings(value: str) -> dict[str, Any]:
    loaded = json.loads(value)
    settings = loaded.get("settings", {}) if isinstance(loaded, dict) else {}
    if not isinstance(settings, dict):
        raise ValueError("parity attribute: 'settings' must be an object")
    return {
        str(name): decode_value(item) for name, item in settings.items() if name not in _NOT_SENT
    }


@contextmanager
def _settings(overrides: dict[str, Any]) -> Iterator[None]:
    from django.core import mail
    from django.test import override_settings

    with override_settings(EMAIL_BACKEND=LOCMEM_BACKEND, **overrides):
        mail.outbox = []  # the reply carries what this event sent; nothing accumulates
        yield
