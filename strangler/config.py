"""The toolkit's settings for one analysed project: ``[tool.strangler]`` and friends.

Every option has four sources; the highest present wins, option by option:

    command-line flag  >  ``STRANGLER_*`` environment variable  >
    ``[tool.strangler]`` in the target's ``pyproject.toml``  >  built-in default

``weights`` is a mapping and merges *key by key* along the same order, so a flag can
retune one weight without restating the others. Unknown keys in ``[tool.strangler]``
are ignored because the runtime shims read the same table; unknown weight names and
bad values are errors (:class:`ConfigError`, exit 2), because they can only be typos.

Broker and route-store URLs are plain values here (the analysis never connects to
them); their defaults are the shims' embedded ones, so both sides agree.
"""

from __future__ import annotations

import glob
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from analyzers.scoring import DEFAULT_WEIGHTS
from shims.config import Settings as _RuntimeSettings
from shims.config import mask_url

__all__ = ["ENV_PREFIX", "Config", "ConfigError", "env_var", "load_config", "parse_weights"]

ENV_PREFIX = "STRANGLER_"
DEFAULT_EXCLUDE = ("*/migrations/*",)  # generated schema code: no capability lives there
_RUNTIME = _RuntimeSettings()


class ConfigError(ValueError):
    """A bad configuration value; the message is one line naming its source."""


@dataclass(frozen=True, slots=True, repr=False)
class Config:
    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    cache_dir: str = ".strangler/cache"  # relative paths are relative to the analysed root
    cache: bool = True
    jobs: int | None = None  # None: all cores when there are 3 or more, else in-process
    strict: bool = False
    top: int = 20  # 0: all
    proposal_size: int = 10
    target: str = "functions"
    broker_url: str = _RUNTIME.broker_url
    route_store: str = _RUNTIME.route_store_url
    sources: Mapping[str, str] = field(default_factory=dict)  # option -> where it came from

    def __repr__(self) -> str:
        """Like the dataclass repr, with URL passwords masked (tracebacks, logs)."""
        masked = {name: mask_url(getattr(self, name)) for name in ("broker_url", "route_store")}
        shown = (f"{f.name}={masked.get(f.name, getattr(self, f.name))!r}" for f in fields(self))
        return f"Config({', '.join(shown)})"

    def cache_path(self, root: Path) -> Path:
        path = Path(self.cache_dir).expanduser()
        return path if path.is_absolute() else root / path

    @property
    def analysed_exclude(self) -> tuple[str, ...]:
        """``exclude`` and the extraction target: the handler packages ``extract`` writes
        are not the monolith. Analysed with it, a capability's moved copy reads as a
        second writer of its tables and as a caller of what it imports back (an
        exception class became an entry point), so a second ``extract`` was refused and
        every score moved after an extraction. The glob is anchored at the project root
        (``functions/*``): an app's own ``functions`` folder elsewhere stays analysed."""
        folder = self.target.strip().replace("\\", "/")
        parts = [part for part in folder.split("/") if part not in ("", ".")]
        if folder.startswith(("/", "~")) or Path(folder).is_absolute() or ".." in parts:
            return self.exclude  # extract refuses such a target: nothing of it to skip
        folder = "/".join(parts)
        if not folder:
            return self.exclude
        return (*self.exclude, f"{glob.escape(folder)}/*")

    def fingerprint(self) -> dict[str, Any]:
        """The options that change an analysis' result (part of its cache key)."""
        return {
            "weights": dict(sorted(self.weights.items())),
            "exclude": list(self.analysed_exclude),
            "proposal_size": self.proposal_size,
        }

    def display(self) -> dict[str, Any]:
        """For printing: secrets in URLs masked."""
        shown = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "sources"}
        shown["broker_url"] = mask_url(self.broker_url)
        shown["route_store"] = mask_url(self.route_store)
        shown["weights"] = dict(self.weights)
        return shown


def env_var(option: str) -> str:
    return ENV_PREFIX + option.upper()


def load_config(
    root: Path,
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Merge the four sources for the project at ``root`` (see module docstring).

    ``flags`` holds only the options given on the command line (``None`` = not given).
    """
    layers = [
        ("pyproject", _pyproject_table(root)),
        ("env", _env_layer(environ or {})),
        ("flag", {k: v for k, v in (flags or {}).items() if v is not None}),
    ]
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    weights = dict(DEFAULT_WEIGHTS)
    for source, layer in layers:
        for key, raw in layer.items():
            if key == "weights":
                weights.update(_parse(key, raw, source))
                sources[key] = source
            elif key in _PARSERS:
                values[key] = _parse(key, raw, source)
                if source == "pyproject" and key in _PROJECT_PATHS:
                    _check_inside(root, key, values[key])
                sources[key] = source
    return Config(weights=weights, sources=sources, **values)


_PROJECT_PATHS = frozenset({"cache_dir", "target"})
"""Options naming a folder the tool writes into, relative to the analysed root.

From ``[tool.strangler]`` they must stay inside the project: that file belongs to the
code under analysis, which must not be able to make the tool write anywhere else (an
absolute path, ``..``, ``~`` or a symlink out). A flag or an environment variable is the
operator's own choice and may point anywhere, e.g. a shared cache folder."""


def _check_inside(root: Path, key: str, value: str) -> None:
    base = root.resolve()
    path = Path(value)
    if (
        path.is_absolute()
        or value.startswith("~")
        or not (base / path).resolve().is_relative_to(base)
    ):
        option = key.replace("_", "-")
        raise ConfigError(
            f"{_where(key, 'pyproject')}: {value!r} is outside the project {root} "
            f"(a path outside it can only come from --{option} or {env_var(key)})"
        )


def _pyproject_table(root: Path) -> Mapping[str, Any]:
    """``[tool.strangler]`` of the nearest ``pyproject.toml`` at or above ``root``."""
    start = root if root.is_dir() else root.parent
    for folder in (start, *start.parents):
        path = folder / "pyproject.toml"
        if path.is_file():
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
                raise ConfigError(f"{path}: cannot read [tool.strangler] ({exc})") from None
            tool = data.get("tool", {})
            table = tool.get("strangler", {}) if isinstance(tool, dict) else None
            if not isinstance(table, dict):  # ``tool = "x"``, ``[[tool.strangler]]``
                raise ConfigError(f"{path}: [tool.strangler] is not a table")
            return table
    return {}


def _env_layer(environ: Mapping[str, str]) -> dict[str, Any]:
    names = (*_PARSERS, "weights")
    return {name: environ[env_var(name)] for name in names if env_var(name) in environ}


# ------------------------------------------------------------------ parsers


def _parse(key: str, raw: Any, source: str) -> Any:
    parser = parse_weights if key == "weights" else _PARSERS[key]
    try:
        return parser(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{_where(key, source)}: {exc}") from None


_FLAGS = {"weights": "--weight", "cache": "--no-cache"}
"""Flags not spelled like their option: errors name the flag as the user typed it."""


def _where(key: str, source: str) -> str:
    return {
        "flag": _FLAGS.get(key, f"--{key.replace('_', '-')}"),
        "env": env_var(key),
        "pyproject": f"[tool.strangler] {key}",
    }.get(source, key)


def parse_weights(raw: Any) -> dict[str, float]:
    """A mapping, or ``"name=1.5,other=0"`` text, or a sequence of ``name=value`` items."""
    if isinstance(raw, str):
        raw = [item for item in raw.split(",") if item.strip()]
    if isinstance(raw, list | tuple):
        pairs: dict[str, Any] = {}
        for item in raw:
            name, sep, value = str(item).partition("=")
            if not sep:
                raise ValueError(f"expected NAME=NUMBER, got {item!r}")
            pairs[name.strip()] = value.strip()
        raw = pairs
    if not isinstance(raw, Mapping):
        raise ValueError(f"expected a table of weights, got {raw!r}")
    out: dict[str, float] = {}
    for name, value in raw.items():
        if name not in DEFAULT_WEIGHTS:
            raise ValueError(f"unknown weight {name!r}; known: {', '.join(DEFAULT_WEIGHTS)}")
        try:
            number = float(value) if not isinstance(value, bool) else -1.0
        except (TypeError, ValueError, OverflowError):  # OverflowError: 1e400 as an int
            number = -1.0
        if not 0 <= number < float("inf"):  # also NaN
            raise ValueError(f"weight {name} must be a finite number >= 0, got {value!r}")
        out[str(name)] = number
    return out


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true/false, got {raw!r}")


def _positive_int(raw: Any) -> int:
    return _integer(raw, 1, "a positive integer")


def _count(raw: Any) -> int:
    return _integer(raw, 0, "an integer >= 0")


def _integer(raw: Any, minimum: int, expected: str) -> int:
    """``raw`` as a whole number >= ``minimum``: an int, or text of one (a flag, an
    environment variable). A bool or a float (``top = 2.5`` in TOML) is refused rather
    than truncated, and every refusal says what was expected, not Python's own words."""
    if isinstance(raw, bool | float):
        raise ValueError(f"expected {expected}, got {raw!r}")
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValueError(f"expected {expected}, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"expected {expected}, got {raw!r}")
    return value


def _jobs(raw: Any) -> int | None:
    """Worker processes: a positive integer, or ``auto``/``0`` for the default (the
    same spellings from a flag, the environment and pyproject)."""
    if str(raw).strip().lower() in {"", "auto", "0"}:
        return None
    return _integer(raw, 1, "a positive integer or auto")


def _globs(raw: Any) -> tuple[str, ...]:
    if isinstance(raw, str):
        return tuple(g.strip() for g in raw.split(",") if g.strip())
    if isinstance(raw, list | tuple) and all(isinstance(g, str) for g in raw):
        return tuple(raw)
    raise ValueError(f"expected a list of glob patterns, got {raw!r}")


def _text(raw: Any) -> str:
    if not isinstance(raw, str) or not raw:
        raise ValueError(f"expected a non-empty string, got {raw!r}")
    return raw


def _url(raw: Any) -> str:
    """A broker or store URL. A refusal names the type, never the value: a list or a
    table holding ``redis://:secret@host`` would print the secret (masking works on
    URLs, not on whatever a mistyped value is)."""
    if not isinstance(raw, str) or not raw:
        raise ValueError(f"expected a non-empty URL string, got {type(raw).__name__}")
    return raw


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "exclude": _globs,
    "cache_dir": _text,
    "cache": _bool,
    "jobs": _jobs,
    "strict": _bool,
    "top": _count,
    "proposal_size": _positive_int,
    "target": _text,
    "broker_url": _url,
    "route_store": _url,
}
