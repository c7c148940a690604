"""Settings precedence: overrides > environment > Django settings > pyproject > defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shims.config import Settings, env_var, load_settings, mask_url


@pytest.fixture
def pyproject(tmp_path: Path) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(
        "[tool.strangler]\n"
        'route_store = "sqlite:///from-pyproject.db"\n'
        'broker_url = "redis://pyproject:6379/0"\n'
        "route_ttl = 5\n"
        'exclude = ["migrations"]  # another part of the toolkit reads this\n'
    )
    return path


@pytest.fixture
def no_django(settings: Any) -> None:
    """The session's Django settings carry a STRANGLER dict; most tests want none."""
    del settings.STRANGLER


def test_defaults_need_no_server(no_django: None, tmp_path: Path) -> None:
    s = load_settings(environ={}, pyproject=tmp_path / "missing.toml")
    assert s == Settings()
    assert s.route_store_url == "sqlite:///.strangler/routes.db"
    assert s.broker_url.startswith("filesystem://")
    assert s.route_ttl == 1.0
    opts = s.broker_transport_options()
    assert opts["data_folder_in"] == opts["data_folder_out"]
    assert opts["data_folder_in"].startswith(".strangler/broker")
    assert opts["control_folder"].startswith(".strangler/broker")


def test_pyproject_over_defaults(no_django: None, pyproject: Path) -> None:
    s = load_settings(environ={}, pyproject=pyproject)
    assert s.route_store_url == "sqlite:///from-pyproject.db"
    assert s.broker_url == "redis://pyproject:6379/0"
    assert s.route_ttl == 5.0
    assert s.metrics_flush_interval == Settings().metrics_flush_interval


def test_django_over_pyproject(settings: Any, pyproject: Path) -> None:
    settings.STRANGLER = {"ROUTE_STORE": "memory://django", "ROUTE_TTL": 0.25}
    s = load_settings(environ={}, pyproject=pyproject)
    assert s.route_store_url == "memory://django"
    assert s.route_ttl == 0.25
    assert s.broker_url == "redis://pyproject:6379/0"


def test_environment_over_django(settings: Any, pyproject: Path) -> None:
    settings.STRANGLER = {"ROUTE_STORE": "memory://django"}
    env = {
        "STRANGLER_ROUTE_STORE": "redis://env:6379/3",
        "STRANGLER_ROUTE_TTL": "0.5",
        "STRANGLER_PROMETHEUS": "yes",
        "STRANGLER_OUTBOX_BATCH_SIZE": "7",
    }
    s = load_settings(environ=env, pyproject=pyproject)
    assert s.route_store_url == "redis://env:6379/3"
    assert s.route_ttl == 0.5
    assert s.prometheus is True
    assert s.outbox_batch_size == 7


def test_overrides_over_everything(settings: Any, pyproject: Path) -> None:
    settings.STRANGLER = {"ROUTE_STORE": "memory://django"}
    s = load_settings(
        {"route_store_url": "memory://explicit", "route_ttl": 0},
        environ={"STRANGLER_ROUTE_STORE": "redis://env:6379/3"},
        pyproject=pyproject,
    )
    assert (s.route_store_url, s.route_ttl) == ("memory://explicit", 0.0)


def test_short_key_works_in_overrides_too(no_django: None, tmp_path: Path) -> None:
    s = load_settings({"route_store": "memory://x"}, environ={}, pyproject=tmp_path / "no")
    assert s.route_store_url == "memory://x"


def test_env_var_names() -> None:
    assert env_var("route_store_url") == "STRANGLER_ROUTE_STORE"
    assert env_var("broker_url") == "STRANGLER_BROKER_URL"
    assert env_var("result_backend") == "STRANGLER_RESULT_BACKEND"
    assert env_var("route_ttl") == "STRANGLER_ROUTE_TTL"


def test_the_real_process_environment_is_read(
    no_django: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRANGLER_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
    monkeypatch.chdir(tmp_path)
    assert load_settings().broker_url == "amqp://guest:guest@127.0.0.1:5672//"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"STRANGLER_ROUTE_TTL": "soon"}, "environment: route_ttl: expected float, got 'soon'"),
        ({"STRANGLER_PROMETHEUS": "maybe"}, "expected bool"),
        ({"STRANGLER_ROUTE_TTL": "-1"}, "route_ttl must be >= 0"),
    ],
)
def test_bad_values_name_their_source(
    no_django: None, tmp_path: Path, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        load_settings(environ=env, pyproject=tmp_path / "none.toml")


def test_unknown_override_is_a_typo(no_django: None, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown setting 'route_tll'"):
        load_settings({"route_tll": 1}, environ={}, pyproject=tmp_path / "none.toml")


def test_wrong_type_in_pyproject(no_django: None, tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.strangler]\nroute_store = 3\n")
    with pytest.raises(ValueError, match=r"pyproject.toml \[tool.strangler\]: route_store"):
        load_settings(environ={}, pyproject=path)


def test_broken_pyproject(no_django: None, tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.strangler\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_settings(environ={}, pyproject=path)


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("redis://:secret@host:6379/0", "redis://:****@host:6379/0"),
        ("amqp://guest:guest@localhost:5672//", "amqp://guest:****@localhost:5672//"),
        ("rediss://user:p%40ss@h:6380/1", "rediss://user:****@h:6380/1"),
        ("redis://h:6379/0?password=x&prefix=a:", "redis://h:6379/0?password=****&prefix=a:"),
        # any key naming a secret, not a fixed list: redis-py's, S3's, OAuth's, Azure's
        ("rediss://h:1/0?ssl_password=s3", "rediss://h:1/0?ssl_password=****"),
        ("redis://h/0?sentinel_password=s3&db=1", "redis://h/0?sentinel_password=****&db=1"),
        ("redis://h/0?Password=s3", "redis://h/0?Password=****"),
        ("sqs://h?access_key=a&secret_key=b", "sqs://h?access_key=****&secret_key=****"),
        ("x://h?client_secret=a&auth=b", "x://h?client_secret=****&auth=****"),
        ("x://h?sas_token=a&sig=b&prefix=p", "x://h?sas_token=****&sig=****&prefix=p"),
        ("sqlite:///.strangler/routes.db", "sqlite:///.strangler/routes.db"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("memory://", "memory://"),
        ("filesystem://", "filesystem://"),
        # kombu failover: every URL of the list has its password masked
        ("redis://:a@h1;redis://:b@h2", "redis://:****@h1;redis://:****@h2"),
        ("amqp://u:p1@h1//;amqp://u:p2@h2//", "amqp://u:****@h1//;amqp://u:****@h2//"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        # a / ? # ; or @ in the password ends urlsplit's authority early
        ("redis://:pa/ss@h:6379/0", "redis://:****@h:6379/0"),
        ("amqp://u:p/w@host//", "amqp://u:****@host//"),
        ("redis://:pa#ss@h/0", "redis://:****@h/0"),
        ("redis://:pa?ss@h/0", "redis://:****@h/0"),
        ("redis://:a;b@h", "redis://:****@h"),
        ("redis://u:p@ss/w@h", "redis://u:****@h"),
        ("redis://u:p@ss?w@h/0", "redis://u:****@h/0"),
        ("redis://:a;b@h1;redis://:c/d@h2", "redis://:****@h1;redis://:****@h2"),
        # an @ in the query: the widest span is masked, never less
        ("redis://:pa/ss@h/0?client_name=x@y", "redis://:****@y"),
        ("redis://h/0?password=pa#ss", "redis://h/0?password=****#****"),
        ("redis://us@er:pw@h", "redis://us@er:****@h"),
        ("redis://:pw@[::1]:6379/0", "redis://:****@[::1]:6379/0"),
        ("amqp://guest@h//", "amqp://guest@h//"),
    ],
)
def test_mask_url_password_with_delimiters(url: str, masked: str) -> None:
    assert mask_url(url) == masked


@pytest.mark.parametrize("char", ["/", "?", "#", ";", "@", "[", "]", ":", "&", "="])
def test_mask_url_never_shows_any_part_of_a_password(char: str) -> None:
    for url in (
        f"redis://:SEC{char}RET@h:6379/0",
        f"amqp://u:SEC{char}RET@h:5672//",
        f"redis://u:SEC{char}RET@h/0?client_name=a@b",
        f"redis://:ok@h1;redis://:SEC{char}RET@h2/0",
    ):
        shown = mask_url(url)
        assert "SEC" not in shown, (url, shown)
        assert "RET" not in shown, (url, shown)


def test_settings_repr_masks_every_url_password() -> None:
    settings = Settings(
        route_store_url="redis://:routepw@r:6379/0",
        broker_url="amqp://u:brokerpw@b:5672//",
        result_backend="redis://:resultpw@s:6379/1",
    )
    shown = repr(settings)
    for secret in ("routepw", "brokerpw", "resultpw"):
        assert secret not in shown
    assert "redis://:****@r:6379/0" in shown
    assert "route_ttl=1.0" in shown  # the rest is shown as before
