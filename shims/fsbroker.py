"""The embedded broker, made durable: kombu's filesystem transport that keeps in-flight files.

kombu's filesystem transport deletes a message file the moment a worker takes it and
keeps the unacknowledged message only in that worker's memory, restored on a clean
shutdown only. A worker that is SIGKILLed, OOM-killed or loses power mid-task therefore
loses every message it had taken, ``acks_late`` or not, which breaks the shim's promise
that an accepted event is never lost. This transport keeps the message on disk until it
is acknowledged:

* **take**: the file is *renamed* (atomic on one filesystem) from the queue folder into
  this process's in-flight folder, ``<queue folder>/.inflight/<owner>/``. Two workers
  racing for one file cannot both win the rename, so a message is never taken twice;
* **ack** deletes the in-flight file; **reject with requeue**, a clean shutdown and
  ``basic_recover`` rename it back into the queue, under its own name, so it keeps its
  place at the front (its publish time);
* **a dead owner's files go back to the queue**: each owner holds a POSIX lock on
  ``<owner>/.lock`` for its whole life. The kernel drops the lock when the process dies,
  however it dies, and keeps it while it lives, however slow its task. A consuming
  process checks the other owners when it starts and every ``restore_interval`` seconds
  (default 5) and moves back the files of each owner whose lock it can take. Unlike a
  visibility timeout (kombu's Redis transport), a long task is never redelivered while
  its worker lives, and a dead worker's messages come back within seconds, not an hour.
  Duplicates would be absorbed by the handlers' dedupe; this design makes none.

Publishing is made atomic too: a message is written under ``.incoming/`` and renamed into
the queue, so a consumer never reads a half-written file (kombu writes in place, and a
consumer polling at that instant could take an empty file and lose the message). With
``fsync`` (default on) the file and the queue folder are synced before the publish
returns, so an accepted message survives a power loss. The on-disk format, the queue
folder layout and the transport options are kombu's: a stock kombu producer or
consumer on the same folders still works (without these guarantees).

POSIX only (``fcntl``), and for a local filesystem: over NFS the locks are only as good
as the server's lock manager. :func:`register` makes it the transport of every
``filesystem://`` URL in this process (``shims.celery`` calls it on import).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import threading
import uuid
from pathlib import Path
from queue import Empty
from time import monotonic
from typing import Any

import kombu.transport
from kombu.exceptions import ChannelError
from kombu.transport import filesystem, virtual
from kombu.utils.json import dumps, loads

__all__ = ["INFLIGHT", "SCHEME", "Channel", "QoS", "Transport", "register", "restore_orphans"]

SCHEME = "filesystem"
INFLIGHT = ".inflight"  # inside the queue folder: same filesystem, so renames are atomic
INCOMING = ".incoming"  # publishes are written here first, then renamed into the queue
CORRUPT = ".corrupt"  # files that are not a kombu message: kept for a human, not retried
LOCK = ".lock"
DEFAULT_RESTORE_INTERVAL = 5.0

logger = logging.getLogger(__name__)


def register() -> None:
    """Serve ``filesystem://`` URLs with :class:`Transport` in this process.

    kombu picks a transport from the URL scheme through ``TRANSPORT_ALIASES``; its cache
    entry is dropped in case a stock ``filesystem`` transport was already looked up.
    """
    kombu.transport.TRANSPORT_ALIASES[SCHEME] = f"{__name__}:Transport"
    getattr(kombu.transport, "_transport_cache", {}).pop(SCHEME, None)


class Owner:
    """One process's in-flight folder, alive exactly as long as the process holds its lock.

    The folder is made under a hidden staging name, its lock file created and locked
    there, and only then renamed into place: a restorer never sees a live owner whose
    lock is not held yet. The lock file descriptor stays open for the life of the
    process, never closed (closing *any* descriptor of a file drops a process's POSIX
    locks on it, which is also why :func:`restore_orphans` skips the caller's own folder).
    """

    def __init__(self, inflight: Path) -> None:
        inflight.mkdir(parents=True, exist_ok=True)
        self.pid = os.getpid()
        self.name = f"{self.pid}-{uuid.uuid4().hex[:12]}"
        staging = inflight / f".new-{self.name}"
        staging.mkdir()
        self._fd = os.open(staging / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.folder = inflight / self.name
        os.rename(staging, self.folder)
        self.claimed: dict[str, Path] = {}  # delivery tag -> in-flight file
        self.next_restore = 0.0


_owners: dict[Path, Owner] = {}
_owners_lock = threading.Lock()


def owner_for(inflight: Path) -> Owner:
    """This process's owner of ``inflight`` (a new one in a forked child: locks don't fork)."""
    key = inflight.resolve()
    with _owners_lock:
        owner = _owners.get(key)
        if owner is None or owner.pid != os.getpid():
            owner = _owners[key] = Owner(key)
        return owner


def restore_orphans(queue_folder: Path) -> int:
    """Move the in-flight files of every dead owner back into ``queue_folder``.

    An owner is dead when its lock can be taken (or its lock file is gone: a restorer
    tearing it down). Two restorers cannot both take one lock, and each file moves with
    one rename, so a file is never restored twice. This process's own owners are
    skipped: POSIX locks never conflict within one process, and testing one would
    release it. Returns how many messages were put back.
    """
    inflight = queue_folder / INFLIGHT
    try:
        entries = [e for e in os.scandir(inflight) if e.is_dir() and not e.name.startswith(".")]
    except FileNotFoundError:
        return 0
    with _owners_lock:
        own = {o.name for o in _owners.values() if o.pid == os.getpid()}
    return sum(_restore_if_dead(Path(e.path), queue_folder) for e in entries if e.name not in own)


def _restore_if_dead(folder: Path, queue_folder: Path) -> int:
    try:
        fd: int | None = os.open(folder / LOCK, os.O_RDWR)
    except FileNotFoundError:
        fd = None
    except OSError:
        return 0
    try:
        if fd is not None:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # held: its owner is alive
                return 0
        restored = 0
        for name in _listdir(folder):
            if name.endswith(".msg"):
                with contextlib.suppress(FileNotFoundError):
                    os.rename(folder / name, queue_folder / name)
                    restored += 1
        with contextlib.suppress(OSError):
            (folder / LOCK).unlink()
        with contextlib.suppress(OSError):
            folder.rmdir()
        if restored:
            logger.warning(
                "restored %d unacknowledged message(s) of a dead worker (%s)", restored, folder.name
            )
        return restored
    finally:
        if fd is not None:
            os.close(fd)


def _listdir(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except FileNotFoundError:
        return []


class QoS(virtual.QoS):
    """kombu's QoS, with the in-flight file settled on ack, reject and restore."""

    channel: Channel

    def ack(self, delivery_tag: str) -> None:
        self.channel.settle(delivery_tag)
        super().ack(delivery_tag)  # type: ignore[no-untyped-call]

    def reject(self, delivery_tag: str, requeue: bool = False) -> None:
        if not requeue:
            self.channel.settle(delivery_tag)
        elif self.channel.give_back(delivery_tag):
            requeue = False  # the file is back in the queue: no second copy from memory
        super().reject(delivery_tag, requeue=requeue)  # type: ignore[no-untyped-call]

    def restore_unacked(self) -> list[tuple[BaseException, Any]]:
        """Put every unacknowledged message back: its own file when there is one."""
        self._flush()  # type: ignore[no-untyped-call]
        errors: list[tuple[BaseException, Any]] = []
        while self._delivered:
            tag, message = self._delivered.popitem()
            if self.channel.give_back(tag):
                continue
            try:
                self.channel._restore(message)  # type: ignore[no-untyped-call]
            except BaseException as exc:  # kombu's contract: report the rest, go on
                if tag not in self._dirty:
                    errors.append((exc, message))
        return errors


class Channel(filesystem.Channel):
    """kombu's filesystem channel: atomic publish, rename-to-claim, files kept until ack."""

    QoS = QoS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._no_ack_queues: set[str] = set()
        self._owner: Owner | None = None
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]

    # -- options -----------------------------------------------------------------

    @property
    def queue_folder(self) -> Path:
        return Path(self.data_folder_in)

    @property
    def fsync(self) -> bool:
        return bool(self.transport_options.get("fsync", True))

    @property
    def restore_interval(self) -> float:
        return float(self.transport_options.get("restore_interval", DEFAULT_RESTORE_INTERVAL))

    @property
    def owner(self) -> Owner:
        """This process's in-flight folder for the queue folder (made on first use)."""
        owner = self._owner
        if owner is None or owner.pid != os.getpid():
            owner = self._owner = owner_for(self.queue_folder / INFLIGHT)
        return owner

    # -- publish -------------------------------------------------------------------

    # kombu names the second argument `payload` here and `message` in its base class
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Write under ``.incoming/``, then rename into the queue: never seen half-written."""
        folder = Path(self.data_folder_out)
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        staging = folder / INCOMING
        try:
            staging.mkdir(exist_ok=True)
            with open(staging / name, "wb") as file:
                file.write(dumps(payload).encode())  # type: ignore[no-untyped-call]
                if self.fsync:
                    file.flush()
                    os.fsync(file.fileno())
            os.rename(staging / name, folder / name)
            if self.fsync:
                _fsync_folder(folder)
        except OSError as exc:
            with contextlib.suppress(OSError):
                (staging / name).unlink()
            raise ChannelError(f"Cannot add file {name!r} to directory") from exc

    # -- consume -------------------------------------------------------------------

    def basic_consume(self, queue: str, no_ack: bool, *args: Any, **kwargs: Any) -> Any:
        # a no-ack consumer (Celery's remote control) never acks: its files go at once
        (self._no_ack_queues.add if no_ack else self._no_ack_queues.discard)(queue)
        return super().basic_consume(queue, no_ack, *args, **kwargs)  # type: ignore[no-untyped-call]

    def basic_get(self, queue: str, no_ack: bool = False, **kwargs: Any) -> Any:
        message = super().basic_get(queue, no_ack=no_ack, **kwargs)  # type: ignore[no-untyped-call]
        if message is not None and no_ack:
            self.settle(message.delivery_tag)
        return message

    def _get(self, queue: str, timeout: float | None = None) -> Any:
        """Claim the oldest file of ``queue`` by renaming it into this process's folder."""
        owner = self.owner
        self._maybe_restore(owner)
        wanted = f"{queue}.msg"
        for name in sorted(os.listdir(self.queue_folder)):
            if name.partition(".")[2] != wanted:
                continue
            claimed = owner.folder / name
            try:
                os.rename(self.queue_folder / name, claimed)
            except OSError:  # taken by another consumer meanwhile
                continue
            payload = self._read_claimed(claimed)
            if payload is None:
                continue
            tag = payload.get("properties", {}).get("delivery_tag")
            if queue in self._no_ack_queues or not isinstance(tag, str):
                self._finish(claimed)
            else:
                owner.claimed[tag] = claimed
            return payload
        raise Empty()

    def _read_claimed(self, claimed: Path) -> dict[str, Any] | None:
        try:
            raw = claimed.read_bytes()
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.rename(claimed, self.queue_folder / claimed.name)
            raise ChannelError(f"Cannot read file {claimed.name!r} from queue.") from exc
        try:
            payload = loads(raw.decode())  # type: ignore[no-untyped-call]
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            return payload
        corrupt = self.queue_folder / CORRUPT
        corrupt.mkdir(exist_ok=True)
        os.rename(claimed, corrupt / claimed.name)
        logger.error("not a kombu message, moved to %s: %s", corrupt, claimed.name)
        return None

    def _maybe_restore(self, owner: Owner) -> None:
        now = monotonic()
        if now >= owner.next_restore:
            owner.next_restore = now + self.restore_interval
            restore_orphans(self.queue_folder)

    # -- settle --------------------------------------------------------------------

    def settle(self, delivery_tag: str) -> None:
        """The message is done with (acked, or rejected without requeue): drop its file."""
        claimed = self.owner.claimed.pop(delivery_tag, None)
        if claimed is not None:
            self._finish(claimed)

    def give_back(self, delivery_tag: str) -> bool:
        """Rename the message's file back into the queue; False if this process has none."""
        claimed = self.owner.claimed.pop(delivery_tag, None)
        if claimed is None:
            return False
        try:
            os.rename(claimed, self.queue_folder / claimed.name)
        except FileNotFoundError:
            return False
        return True

    def _finish(self, claimed: Path) -> None:
        if self.store_processed:
            processed = Path(self.processed_folder)
            processed.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                shutil.move(claimed, processed / claimed.name)
        else:
            with contextlib.suppress(FileNotFoundError):
                claimed.unlink()


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Transport(filesystem.Transport):
    """kombu's filesystem transport with :class:`Channel`: nothing taken is lost on a crash."""

    Channel = Channel
