"""``shims.urls``: the SQLite URL helpers the stores and the read-only commands share."""

from __future__ import annotations

from pathlib import Path

import pytest

from shims.urls import (
    REDIS_OPTIONS,
    check_redis_url,
    check_userinfo,
    sqlite_file_missing,
    sqlite_path,
)


def test_sqlite_path_is_relative_or_absolute_and_a_bad_url_raises() -> None:
    assert sqlite_path("sqlite:///state/routes.db") == Path("state/routes.db")
    assert sqlite_path("sqlite:////var/lib/routes.db") == Path("/var/lib/routes.db")
    with pytest.raises(ValueError, match="bad SQLite URL"):
        sqlite_path("sqlite:///")
    with pytest.raises(ValueError, match="bad SQLite URL"):
        sqlite_path("redis://127.0.0.1:6379/0")


def test_a_missing_sqlite_file_is_told_apart_from_other_urls(tmp_path: Path) -> None:
    there = tmp_path / "routes.db"
    there.write_bytes(b"")
    assert sqlite_file_missing(f"sqlite:///{tmp_path / 'absent.db'}")
    assert not sqlite_file_missing(f"sqlite:///{there}")
    assert not sqlite_file_missing("redis://127.0.0.1:6379/0")  # not a file at all
    assert not sqlite_file_missing("sqlite:///")  # bad: opening it says so
    assert not (tmp_path / "absent.db").exists()  # asking created nothing


@pytest.mark.parametrize(
    "url",
    [
        "redis://h:6379/0?x=1",
        "redis://h:6379/0?Password=s3cret",
        "redis://h:6379/0?sentinel_password=s3cret",
        "redis://h:6379/0?ssl_password=s3cret",  # TLS options only with rediss://
        "redis://h:6379/notadb",
        "redis://h:6379/-1",
    ],
)
def test_check_redis_url_refuses_what_redis_py_would_misread(url: str) -> None:
    with pytest.raises(ValueError, match=r"^(unknown option|bad) .*store URL") as info:
        check_redis_url(url, kind="test store")
    assert "s3cret" not in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "redis://h:6379",
        "redis://h:6379/",
        "redis://:pw@h:6379/13?socket_timeout=2&prefix=a:",
        "rediss://h:6380/1?ssl_cert_reqs=required&ssl_password=x",
    ],
)
def test_check_redis_url_accepts_redis_py_options(url: str) -> None:
    check_redis_url(url, kind="test store", extra={"prefix"})


def test_the_unknown_option_is_named_with_the_accepted_ones() -> None:
    with pytest.raises(ValueError) as info:
        check_redis_url("redis://h/0?x=1", kind="route store")
    assert "unknown option 'x' in route store URL 'redis://h/0?x=1'" in str(info.value)
    assert "accepted: client_name, db," in str(info.value)


@pytest.mark.parametrize("scheme", ["redis", "rediss"])
def test_every_accepted_option_is_one_redis_py_takes(scheme: str) -> None:
    """The list must not promise what redis-py rejects: each option builds a connection."""
    redis = pytest.importorskip("redis")
    values = {"ssl_cert_reqs": "required", "ssl_check_hostname": "false"}
    names = REDIS_OPTIONS if scheme == "redis" else _rediss_options()
    for name in sorted(names):
        url = f"{scheme}://127.0.0.1:1/0?{name}={values.get(name, '1')}"
        check_redis_url(url, kind="test store")
        client = redis.Redis.from_url(url)
        client.connection_pool.make_connection()  # a TypeError for an unknown keyword
        client.close()


def _rediss_options() -> frozenset[str]:
    from shims import urls

    return urls._REDISS_OPTIONS


@pytest.mark.parametrize(
    "url",
    [
        "redis://:SE/CRET@h:6379/0",
        "redis://:SE#CRET@h/0",
        "redis://:12?SECRET@h:6379/0",
        "redis://:12?SE=CRET&x@h/0",
        "redis://u:SE@C/RET@h/0",
    ],
)
def test_a_password_urllib_would_split_is_refused_before_redis_py_reads_it(url: str) -> None:
    """Else redis-py's and urllib's errors quote the piece they choke on: the password."""
    with pytest.raises(ValueError, match=r"^bad test store URL 'redis://:?u?:?\*\*\*\*@") as info:
        check_redis_url(url, kind="test store")
    assert "SE" not in str(info.value)
    assert "CRET" not in str(info.value)


def test_an_at_after_the_host_is_refused() -> None:
    """``mask_url`` masks up to the last ``@``: the URL it shows would be wrong."""
    with pytest.raises(ValueError, match="any @ after its host"):
        check_redis_url("redis://h:6379/0?client_name=a@b", kind="test store")


@pytest.mark.parametrize(
    "url", ["redis://:a;b@h/0", "redis://u:p%2Fw@h/0", "redis://u:p@w@h/0", "unix://:pw@/tmp/s"]
)
def test_a_password_every_parser_reads_alike_is_accepted(url: str) -> None:
    check_userinfo(url, kind="test store")


def test_a_semicolon_in_a_password_is_refused_when_asked_for_kombu() -> None:
    with pytest.raises(ValueError, match=r"percent-encode each / \? # @ ;") as info:
        check_userinfo("redis://:SE;CRET@h/0", kind="broker", also=";")
    assert "CRET" not in str(info.value)
