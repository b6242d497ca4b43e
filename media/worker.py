"""A media worker process: rooms in their own process, driven by the web process.

Started by :class:`media.workers.WorkerRoomHost` as ``python -m media.worker FD``,
where ``FD`` is its end of a Unix socket pair. Both sides speak length-prefixed JSON (a 4-byte
big-endian length, then UTF-8 JSON):

web process to worker::

    {"settings": {...}, "factory": "media.workers:local_room_host"}   # first, once
    {"id": 7, "method": "join", "kwargs": {"room_id": "r1", "name": "张三", "sink": {"$sink": 3}}}

worker to web process::

    {"ready": 12345}                                     # the worker's pid, after the first message
    {"id": 7, "result": "3f2a9c1b0d4e"}                  # or {"id": 7, "error": {...}}
    {"sink": 3, "message": {"type": "joined", ...}}      # a message for a participant's browser

Any public method of the local host can be called by name; arguments are validated against
its type hints, and a ``{"$sink": n}`` argument becomes a sink that pushes messages back.
The web process leads the worker's life: the worker ignores SIGINT and SIGTERM, which a terminal's
Ctrl+C, systemd (``KillMode=control-group``) and ``kill -- -PGID`` send to every process of the
server at once, so that the web process can end its calls through the worker (a recording is
finished and its stop reported) before it closes the socket; the worker exits when its socket
closes, so it never outlives the web process (SIGKILL ends a worker alone; the server starts another).
ICE/UDP sockets of its rooms are bound here.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import logging
import os
import signal
import socket
import struct
import sys
from collections.abc import Callable
from typing import Any, get_type_hints

from pydantic import TypeAdapter
from pydantic_core import to_jsonable_python

from remote_check.errors import DomainError, Message

log = logging.getLogger(__name__)

HEADER = struct.Struct(">I")
MAX_FRAME = 16 * 1024 * 1024
SINK = "$sink"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""What a service manager sends every process of the server to stop it: the worker leaves them to
the web process, which ends the worker's calls and then closes its socket."""


def encode(message: dict[str, Any]) -> bytes:
    """One message as a length-prefixed JSON frame."""
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
    if len(body) > MAX_FRAME:
        raise ValueError(f"message of {len(body)} bytes is too large")
    return HEADER.pack(len(body)) + body


async def read_message(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    """The next message, or ``None`` when the other side closed the socket."""
    try:
        header = await reader.readexactly(HEADER.size)
        (size,) = HEADER.unpack(header)
        if size > MAX_FRAME:
            raise ValueError(f"frame of {size} bytes is too large")
        body = await reader.readexactly(size)
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    message = json.loads(body)
    if not isinstance(message, dict):
        raise ValueError("a message must be a JSON object")
    return message


def load_factory(path: str) -> Callable[..., Any]:
    """The callable named ``module:attribute``."""
    module, _, name = path.partition(":")
    factory = getattr(importlib.import_module(module), name)
    if not callable(factory):
        raise TypeError(f"{path} is not callable")
    return factory  # type: ignore[no-any-return]


def error_data(exc: BaseException) -> dict[str, Any]:
    """An exception as data: a domain refusal keeps its message, status, code and details."""
    if isinstance(exc, DomainError):
        message = exc.message
        return {
            "domain": {
                "zh": message.zh,
                "en": message.en,
                "status": exc.status,
                "code": exc.code,
                "details": exc.details,
            }
        }
    return {"internal": f"{type(exc).__name__}: {exc}"}


def rebuild_error(data: dict[str, Any]) -> Exception:
    """The exception a worker reported."""
    domain = data.get("domain")
    if isinstance(domain, dict):
        message = Message(domain["zh"], domain["en"])
        return DomainError(message, domain["status"], domain["code"], domain["details"])
    return RuntimeError(f"media worker: {data.get('internal')}")


class Worker:
    """Serves calls on one local host over a connected socket."""

    def __init__(self, host: Any, writer: asyncio.StreamWriter) -> None:
        self.host = host
        self.writer = writer
        self.tasks: set[asyncio.Task[None]] = set()
        self._adapters: dict[tuple[str, str], TypeAdapter[Any]] = {}

    def send(self, message: dict[str, Any]) -> None:
        """Queue a message to the web process (never blocks)."""
        if not self.writer.is_closing():
            self.writer.write(encode(message))

    def sink(self, sink_id: int) -> Callable[[dict[str, Any]], None]:
        """A sink that pushes messages for one participant back to the web process."""

        def push(message: dict[str, Any]) -> None:
            self.send({"sink": sink_id, "message": to_jsonable_python(message)})

        return push

    def arguments(self, name: str, method: Callable[..., Any], given: dict[str, Any]) -> dict[str, Any]:
        """The call's arguments, validated against the method's type hints; sinks made."""
        hints = get_type_hints(method)
        inspect.signature(method).bind(**given)  # a TypeError names a missing or unknown argument
        out: dict[str, Any] = {}
        for key, value in given.items():
            if isinstance(value, dict) and set(value) == {SINK}:
                out[key] = self.sink(int(value[SINK]))
            elif key in hints:
                adapter = self._adapters.get((name, key))
                if adapter is None:
                    adapter = self._adapters[(name, key)] = TypeAdapter(hints[key])
                out[key] = adapter.validate_python(value)
            else:
                out[key] = value
        return out

    async def call(self, call_id: int, name: str, given: dict[str, Any]) -> None:
        """Run one call and answer it."""
        try:
            if name.startswith("_"):
                raise AttributeError(f"no public method {name!r}")
            method = getattr(self.host, name)
            result = method(**self.arguments(name, method, given))
            if inspect.isawaitable(result):
                result = await result
            self.send({"id": call_id, "result": to_jsonable_python(result)})
        except Exception as exc:  # every failure is answered, the worker goes on
            if not isinstance(exc, DomainError):
                log.exception("media worker: %s failed", name)
            self.send({"id": call_id, "error": error_data(exc)})

    def dispatch(self, message: dict[str, Any]) -> None:
        """Start a call in its own task: a slow negotiation does not hold the others."""
        task = asyncio.create_task(self.call(int(message["id"]), str(message["method"]), message["kwargs"]))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


async def serve(fd: int) -> None:
    """Set up from the first message, then serve calls until the socket closes."""
    from media.internals import include_loopback_candidates, install_passthrough
    from remote_check.settings import Settings

    reader, writer = await asyncio.open_connection(sock=socket.socket(fileno=fd))
    hello = await read_message(reader)
    if hello is None:
        return
    settings = Settings(**hello["settings"])
    # the same process-wide setup as the web process gives an in-process host
    install_passthrough()
    if settings.rooms_loopback_candidates:
        include_loopback_candidates()
    host = load_factory(str(hello["factory"]))(settings)
    worker = Worker(host, writer)
    worker.send({"ready": os.getpid()})
    try:
        while (message := await read_message(reader)) is not None:
            worker.dispatch(message)
    finally:
        # the web process is gone or done: end every call before exiting
        for task in list(worker.tasks):
            task.cancel()
        await host.close()
        writer.close()


def main() -> None:
    """Entry point: ``python -m media.worker FD``."""
    for stop in STOP_SIGNALS:
        signal.signal(stop, signal.SIG_IGN)  # the web process stops the worker (see the module)
    logging.basicConfig(level=logging.WARNING, format="media worker %(process)d: %(levelname)s %(message)s")
    asyncio.run(serve(int(sys.argv[1])))


if __name__ == "__main__":
    main()
