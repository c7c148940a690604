"""Runtime settings for the shims, from explicit values, the environment, Django or pyproject.

One frozen :class:`Settings` value, built once by :func:`load_settings`. Precedence,
highest first: explicit overrides > ``STRANGLER_*`` environment variables > Django's
``settings.STRANGLER`` dict (only when Django is installed and configured) >
``[tool.strangler]`` in ``./pyproject.toml`` > the embedded defaults, which need no
server at all (SQLite route store, Celery's filesystem transport).

Unknown keys in pyproject or Django settings are ignored, because those tables are
shared with the rest of the toolkit (analysis excludes, score weights...); unknown keys
in explicit overrides are an error, because they can only be typos.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

__all__ = [
    "ENV_PREFIX",
    "Settings",
    "env_var",
    "is_secret_key",
    "load_settings",
    "mask_url",
    "split_failover",
    "userinfo_span",
]

ENV_PREFIX = "STRANGLER_"

# Field name -> the shorter key users write in pyproject / env / Django settings.
_KEY_FOR_FIELD = {"route_store_url": "route_store"}
# A query key is secret when its lower-cased name contains one of these words or ends
# in "key": a rule, not a list, because every client names its secrets differently
# (redis-py's ssl_password and sentinel_password, access_key, secret_key,
# client_secret, auth, sas_token...). Masking a harmless value costs nothing.
_SECRET_WORDS = ("pass", "secret", "token", "auth", "credential")
_SECRET_NAMES = frozenset({"sig", "signature"})  # an Azure SAS URL's signature
# The ``;`` between the URLs of a kombu failover list: one followed by ``scheme://``.
_FAILOVER_SPLIT = re.compile(r";(?=[A-Za-z][A-Za-z0-9+.-]*://)")


_URL_FIELDS = frozenset({"route_store_url", "broker_url", "result_backend"})


@dataclass(frozen=True, slots=True, repr=False)
class Settings:
    """Everything the runtime needs; every field has a default that works offline.

    Its ``repr`` masks the URLs' passwords: the runtime holds a ``Settings``, so it shows
    up in tracebacks, Django's debug pages and error reports.
    """

    route_store_url: str = "sqlite:///.strangler/routes.db"
    route_ttl: float = 1.0
    route_store_timeout: float = 0.5
    broker_url: str = "filesystem://"
    broker_folder: str = ".strangler/broker"
    result_backend: str = "file://.strangler/results"
    metrics_flush_interval: float = 2.0
    prometheus: bool = False
    routing_key: str | None = None
    outbox_enabled: bool = False
    outbox_batch_size: int = 100
    outbox_relay_interval: float = 1.0
    # A sent outbox row not confirmed by the handler side after this many seconds is
    # published again (the wait doubles each time), at most ``outbox_max_publishes``
    # publishes in all; then it is dead-lettered ``never confirmed``. 0 disables.
    outbox_redeliver_after: float = 30.0
    outbox_max_publishes: int = 5

    def __post_init__(self) -> None:
        if self.route_ttl < 0:
            raise ValueError(f"route_ttl must be >= 0 seconds, got {self.route_ttl}")
        if self.metrics_flush_interval <= 0:
            raise ValueError(
                f"metrics_flush_interval must be > 0 seconds, got {self.metrics_flush_interval}"
            )
        if self.route_store_timeout <= 0:
            raise ValueError(
                f"route_store_timeout must be > 0 seconds, got {self.route_store_timeout}"
            )
        if self.outbox_batch_size < 1:
            raise ValueError(f"outbox_batch_size must be >= 1, got {self.outbox_batch_size}")
        if self.outbox_redeliver_after < 0:
            raise ValueError(
                f"outbox_redeliver_after must be >= 0 seconds, got {self.outbox_redeliver_after}"
            )
        if self.outbox_max_publishes < 1:
            raise ValueError(f"outbox_max_publishes must be >= 1, got {self.outbox_max_publishes}")

    def __repr__(self) -> str:
        shown = (f"{f.name}={_masked_field(f.name, getattr(self, f.name))!r}" for f in fields(self))
        return f"Settings({', '.join(shown)})"

    def broker_transport_options(self) -> dict[str, Any]:
        """Celery ``broker_transport_options`` for the filesystem transport (else empty).

        The filesystem transport takes its folders from transport options, not from the
        URL; producer and consumer share one folder so either side can be started first.
        """
        if not self.broker_url.startswith("filesystem:"):
            return {}
        queue = str(Path(self.broker_folder) / "queue")
        return {
            "data_folder_in": queue,
            "data_folder_out": queue,
            "processed_folder": str(Path(self.broker_folder) / "processed"),
            # kombu keeps its exchange table in ./control by default: keep it with the
            # rest of the broker instead of littering the working directory.
            "control_folder": str(Path(self.broker_folder) / "control"),
            "store_processed": False,
        }


def _masked_field(name: str, value: Any) -> Any:
    return mask_url(value) if name in _URL_FIELDS and isinstance(value, str) else value


def env_var(field_name: str) -> str:
    """The environment variable for a settings field, e.g. ``STRANGLER_ROUTE_STORE``."""
    return ENV_PREFIX + _KEY_FOR_FIELD.get(field_name, field_name).upper()


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    pyproject: Path | None = None,
) -> Settings:
    """Build the settings from every source, highest precedence first (see module doc).

    Raises ``ValueError`` with a one-line message naming the source of a bad value.
    """
    values: dict[str, Any] = {}
    sources: list[tuple[str, Mapping[str, Any], bool]] = [
        ("pyproject.toml [tool.strangler]", _pyproject_values(pyproject), False),
        ("Django settings.STRANGLER", _django_values(), False),
        ("environment", _env_values(os.environ if environ is None else environ), False),
        ("overrides", overrides or {}, True),
    ]
    for source, raw, strict in sources:
        values.update(_coerce_all(raw, source, strict=strict))
    return Settings(**values)


def mask_url(url: str) -> str:
    """``url`` with its password (and secret query values) replaced by ``****``.

    Every place that prints or logs a store or broker URL goes through this, so a
    ``redis://:secret@host`` never reaches a terminal, a log file or a CI transcript.
    A kombu failover list (``redis://:a@h1;redis://:b@h2``) is masked URL by URL; only
    a ``;`` followed by ``scheme://`` separates two URLs, since a password may hold one.
    """
    return ";".join(_mask_one(part) for part in split_failover(url))


def split_failover(url: str) -> list[str]:
    """The URLs of a kombu failover list, split on each ``;`` followed by ``scheme://``."""
    return _FAILOVER_SPLIT.split(url)


def is_secret_key(name: str) -> bool:
    """Does a URL query key hold a secret (so its value is never shown)?

    True when the lower-cased name contains ``pass``, ``secret``, ``token``, ``auth`` or
    ``credential``, ends in ``key``, or is ``sig``/``signature``.
    """
    lowered = name.lower()
    return (
        any(word in lowered for word in _SECRET_WORDS)
        or lowered.endswith("key")
        or lowered in _SECRET_NAMES
    )


def _mask_one(url: str) -> str:
    try:
        masked = _mask_userinfo(url)
        parts = urlsplit(masked)
        if parts.query:
            pairs = parse_qsl(parts.query, keep_blank_values=True)
            if any(is_secret_key(k) for k, _ in pairs):
                query = urlencode(
                    [(k, "****" if is_secret_key(k) else v) for k, v in pairs],
                    safe="*/:",
                )
                masked = masked.replace(f"?{parts.query}", f"?{query}", 1)
                # No client reads a fragment: after a secret value it is the rest of
                # the secret (``?password=pa#ss``), not a fragment.
                if parts.fragment:
                    masked = masked.replace(f"#{parts.fragment}", "#****", 1)
        return masked
    except ValueError:
        return "<unparsable url>"


def _mask_userinfo(url: str) -> str:
    """``url`` with everything between the first ``:`` after ``//`` and the last ``@``
    replaced by ``****``.

    Not ``urlsplit(url).password``: an unencoded ``/``, ``?``, ``#`` or ``@`` in a
    password ends urlsplit's authority early (``redis://:pa/ss@h`` has no password to
    it), and the password would be printed whole or in part. Taking the widest span
    errs on the side of masking: a harmless ``@`` in a query value
    (``redis://h:6379/0?client_name=a@b``) masks the host and path too, never less.
    """
    span = userinfo_span(url)
    if span is None:
        return url
    start, at = span
    colon = url.find(":", start, at)
    return url if colon < 0 else f"{url[: colon + 1]}****{url[at:]}"


def userinfo_span(url: str) -> tuple[int, int] | None:
    """Where a URL's user name and password are, at their widest: from after ``//`` to
    the last ``@`` (None without both). Masking and ``shims.urls.check_userinfo`` read
    the same span, so what one masks is what the other checks."""
    start = url.find("//")
    at = url.rfind("@")
    if start < 0 or at < start + 2:
        return None
    return start + 2, at


# ---------------------------------------------------------------- sources


def _field_types() -> dict[str, type]:
    hints = {"str": str, "float": float, "int": int, "bool": bool, "str | None": str}
    return {f.name: hints[str(f.type)] for f in fields(Settings)}


def _canonical(key: str) -> str | None:
    """Map a user-facing key (``route_store``, ``ROUTE_STORE``) to a field name."""
    name = key.lower()
    names = {f.name for f in fields(Settings)}
    if name in names:
        return name
    return next((f for f, short in _KEY_FOR_FIELD.items() if short == name), None)


def _pyproject_values(path: Path | None) -> Mapping[str, Any]:
    path = Path.cwd() / "pyproject.toml" if path is None else path
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from None
    table = data.get("tool", {}).get("strangler", {})
    return table if isinstance(table, dict) else {}


def _django_values() -> Mapping[str, Any]:
    """Django's ``settings.STRANGLER``, read through the Django package (lazily imported)."""
    try:
        from shims.django.conf import strangler_settings
    except ImportError:  # Django not installed: a worker without the monolith
        return {}
    return strangler_settings()


def _env_values(environ: Mapping[str, str]) -> Mapping[str, Any]:
    return {
        f.name: environ[env_var(f.name)] for f in fields(Settings) if env_var(f.name) in environ
    }


def _coerce_all(raw: Mapping[str, Any], source: str, *, strict: bool) -> dict[str, Any]:
    types = _field_types()
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = _canonical(str(key))
        if name is None:
            if strict:
                raise ValueError(f"{source}: unknown setting {key!r}")
            continue
        out[name] = _coerce(value, types[name], f"{source}: {key}")
    return out


def _coerce(value: Any, kind: type, where: str) -> Any:
    if value is None:
        return None
    parse: Callable[[Any], Any] = _PARSERS[kind]
    try:
        return parse(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: expected {kind.__name__}, got {value!r}") from None


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(text)


def _parse_number(kind: type) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if isinstance(value, bool):
            raise TypeError("a boolean is not a number")
        return kind(value)

    return parse


def _parse_str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


_PARSERS: dict[type, Callable[[Any], Any]] = {
    bool: _parse_bool,
    float: _parse_number(float),
    int: _parse_number(int),
    str: _parse_str,
}
