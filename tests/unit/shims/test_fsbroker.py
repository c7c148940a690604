"""The durable filesystem broker's in-flight bookkeeping, on real folders and processes.

A taken message lives in its owner's in-flight folder until it is acked (deleted),
rejected (deleted, or renamed back with requeue) or its owner dies (renamed back by the
next consumer). "Dies" is checked on a real second process holding real POSIX locks:
a live one keeps its messages, a SIGKILLed one gives them back.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection, Exchange, Producer, Queue
from kombu.transport import get_transport_cls

import shims.celery  # noqa: F401  (registers the transport for filesystem://)
from shims import fsbroker

QUEUE = "jobs"
ROOT = Path(__file__).resolve().parents[3]


def options(folder: Path, **extra: Any) -> dict[str, Any]:
    queue = folder / "queue"
    queue.mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "control_folder": str(folder / "control"),
        **extra,
    }


@pytest.fixture(autouse=True)
def fresh_state() -> None:
    """kombu keeps declared bindings process-wide and then skips writing them to a new
    folder's exchange table: each test has its own folder, so it starts from none."""
    fsbroker.Transport.global_state.clear()


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[Connection]:
    with Connection("filesystem://", transport_options=options(tmp_path)) as connection:
        yield connection


def publish(connection: Connection, *bodies: object) -> None:
    queue = Queue(QUEUE, Exchange(QUEUE), routing_key=QUEUE)
    producer = Producer(connection.channel())
    for body in bodies:
        producer.publish(
            body, exchange=queue.exchange, routing_key=QUEUE, declare=[queue], serializer="json"
        )


def queued(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / "queue").glob(f"*.{QUEUE}.msg"))


def in_flight(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / "queue" / fsbroker.INFLIGHT).glob("*/*.msg"))


def test_filesystem_urls_use_the_durable_transport() -> None:
    assert get_transport_cls("filesystem") is fsbroker.Transport
    assert Connection("filesystem://").transport_cls == "filesystem"


@pytest.mark.parametrize("fsync", [True, False])
def test_a_publish_appears_whole_under_its_final_name(tmp_path: Path, fsync: bool) -> None:
    with Connection("filesystem://", transport_options=options(tmp_path, fsync=fsync)) as conn:
        publish(conn, {"n": 1})
    [name] = queued(tmp_path)
    assert json.loads((tmp_path / "queue" / name).read_text())["properties"]["delivery_tag"]
    assert list((tmp_path / "queue" / fsbroker.INCOMING).iterdir()) == []


def test_taking_moves_the_file_in_flight_and_ack_deletes_it(
    conn: Connection, tmp_path: Path
) -> None:
    publish(conn, {"n": 1})
    [name] = queued(tmp_path)
    message = conn.default_channel.basic_get(QUEUE)
    assert message.payload == {"n": 1}
    assert queued(tmp_path) == []
    assert in_flight(tmp_path) == [name]  # on disk while unacknowledged
    message.ack()
    assert in_flight(tmp_path) == []
    assert queued(tmp_path) == []


def test_reject_with_requeue_puts_the_same_file_back_at_the_front(
    conn: Connection, tmp_path: Path
) -> None:
    publish(conn, {"n": 1}, {"n": 2})
    first_name = queued(tmp_path)[0]
    channel = conn.default_channel
    first = channel.basic_get(QUEUE)
    first.requeue()
    assert in_flight(tmp_path) == []
    assert queued(tmp_path)[0] == first_name  # its own file, not a second copy
    assert len(queued(tmp_path)) == 2
    again = channel.basic_get(QUEUE)
    assert again.payload == {"n": 1}
    assert again.delivery_tag == first.delivery_tag
    again.reject()  # without requeue: gone
    assert in_flight(tmp_path) == []
    assert len(queued(tmp_path)) == 1


def test_a_clean_close_puts_unacknowledged_messages_back_once(tmp_path: Path) -> None:
    with Connection("filesystem://", transport_options=options(tmp_path)) as connection:
        publish(connection, {"n": 1}, {"n": 2})
        channel = connection.channel()
        assert channel.basic_get(QUEUE) is not None
        assert channel.basic_get(QUEUE) is not None
        assert queued(tmp_path) == []
        channel.close()
    assert len(queued(tmp_path)) == 2  # the files themselves, no copies
    assert in_flight(tmp_path) == []


def test_a_no_ack_take_keeps_nothing_in_flight(conn: Connection, tmp_path: Path) -> None:
    publish(conn, {"n": 1})
    message = conn.default_channel.basic_get(QUEUE, no_ack=True)
    assert message.payload == {"n": 1}
    assert in_flight(tmp_path) == [] == queued(tmp_path)


def test_a_file_that_is_not_a_message_is_set_aside(conn: Connection, tmp_path: Path) -> None:
    (tmp_path / "queue" / f"0_x.{QUEUE}.msg").write_text("{not json")
    publish(conn, {"n": 2})
    message = conn.default_channel.basic_get(QUEUE)
    assert message.payload == {"n": 2}
    assert [p.name for p in (tmp_path / "queue" / fsbroker.CORRUPT).iterdir()] == [
        f"0_x.{QUEUE}.msg"
    ]


HOLDER = textwrap.dedent(
    """
    import sys, time
    from kombu import Connection
    import shims.celery
    opts = {"data_folder_in": sys.argv[1], "data_folder_out": sys.argv[1],
            "control_folder": sys.argv[2]}
    with Connection("filesystem://", transport_options=opts) as conn:
        channel = conn.channel()
        taken = [channel.basic_get(sys.argv[3]) for _ in range(int(sys.argv[4]))]
        print(" ".join(m.delivery_tag for m in taken), flush=True)
        time.sleep(60)
    """
)


class Holders:
    """Second processes that take ``count`` messages each and hold them, unacknowledged."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[subprocess.Popen[str]] = []

    def launch(self, count: int) -> subprocess.Popen[str]:
        queue, control = self.folder / "queue", self.folder / "control"
        process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(queue), str(control), QUEUE, str(count)],
            stdout=subprocess.PIPE, text=True, cwd=ROOT,
        )  # fmt: skip
        self.started.append(process)
        return process

    def start(self, count: int) -> tuple[subprocess.Popen[str], list[str]]:
        process = self.launch(count)
        return process, taken(process)

    def close(self) -> None:
        for process in self.started:
            process.kill()
            process.wait(timeout=10)
            assert process.stdout is not None
            process.stdout.close()


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[Holders]:
    holders = Holders(tmp_path)
    yield holders
    holders.close()


def taken(process: subprocess.Popen[str]) -> list[str]:
    assert process.stdout is not None
    return process.stdout.readline().split()


def test_two_consumers_racing_never_take_the_same_message(
    conn: Connection, tmp_path: Path, holder: Holders
) -> None:
    publish(conn, *({"n": n} for n in range(40)))
    racers = [holder.launch(20), holder.launch(20)]  # both scan the same 40 files at once
    first, second = (set(taken(p)) for p in racers)
    assert len(first) == len(second) == 20
    assert first.isdisjoint(second)
    assert queued(tmp_path) == []
    assert len(in_flight(tmp_path)) == 40
    assert fsbroker.restore_orphans(tmp_path / "queue") == 0  # both alive: nothing moves


def test_a_live_owner_keeps_its_messages_and_a_dead_ones_come_back(
    conn: Connection, tmp_path: Path, holder: Holders
) -> None:
    publish(conn, *({"n": n} for n in range(3)))
    process, tags = holder.start(2)
    assert len(tags) == 2
    assert len(in_flight(tmp_path)) == 2
    # the owner lives: nothing is restored, this consumer gets only the third message
    assert fsbroker.restore_orphans(tmp_path / "queue") == 0
    channel = conn.default_channel
    third = channel.basic_get(QUEUE)
    assert third.payload == {"n": 2}
    assert third.delivery_tag not in tags
    assert channel.basic_get(QUEUE) is None
    process.kill()  # SIGKILL: no ack, no restore, the lock dies with it
    process.wait(timeout=10)
    assert fsbroker.restore_orphans(tmp_path / "queue") == 2
    assert fsbroker.restore_orphans(tmp_path / "queue") == 0  # never twice
    back = [channel.basic_get(QUEUE) for _ in range(2)]
    assert sorted(m.delivery_tag for m in back) == sorted(tags)
    assert [m.payload for m in back] == [{"n": 0}, {"n": 1}]  # in publish order, at the front
    assert channel.basic_get(QUEUE) is None
    # the dead owner's folder is gone; this consumer's own stays
    owners = list((tmp_path / "queue" / fsbroker.INFLIGHT).iterdir())
    assert len(owners) == 1
    assert not owners[0].name.startswith(f"{process.pid}-")


def test_a_running_consumer_restores_a_dead_owners_messages_within_the_interval(
    tmp_path: Path, holder: Holders
) -> None:
    opts = options(tmp_path, restore_interval=0.2)
    with Connection("filesystem://", transport_options=opts) as connection:
        publish(connection, {"n": 1})
        channel = connection.channel()
        assert channel.basic_get(QUEUE) is not None  # this consumer's first pass has run
        publish(connection, {"n": 2})
        process, [tag] = holder.start(1)  # another consumer takes it, then dies
        process.kill()
        process.wait(timeout=10)
        deadline = time.monotonic() + 5
        message = None
        while message is None and time.monotonic() < deadline:
            time.sleep(0.05)
            message = channel.basic_get(QUEUE)
        assert message is not None
        assert message.delivery_tag == tag
