"""Reading uploads in child processes of their own, with memory and CPU limits.

An uploaded file is untrusted input whose parsing can be made to cost far more than its size
(:mod:`remote_check.imports.limits`). :class:`UploadReader` therefore never parses in the
server's process or its thread pools: each file is read and validated by a fresh
``python -m remote_check.imports.sandbox`` child, which first limits its own address space
(``RLIMIT_AS``), CPU time (``RLIMIT_CPU``) and file writes and lowers its priority, then reads
the file from its standard input and answers with JSON (:mod:`remote_check.imports.wire`).
At most ``workers`` children run at once; further uploads wait their turn, so imports never
hold anything log-ins or other requests need. A child that runs out of memory, CPU or time is
refused as a 422; whatever it did, the server's own memory is untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import resource
import signal
import sys
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar

from remote_check.errors import DomainError, Message
from remote_check.imports.limits import Limits, bad_file, check_size
from remote_check.imports.validate import Validation

log = logging.getLogger(__name__)
T = TypeVar("T")
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


class OffLoop(Protocol):
    """Runs CPU-bound work off the event loop, on a thread that is not the default executor's."""

    def __call__(self, work: Callable[[], T]) -> Awaitable[T]: ...


@dataclass(frozen=True)
class Upload:
    """What a child read from a file: its SHA-256 and its validation."""

    digest: str
    validation: Validation


def _out_of_memory() -> DomainError:
    return bad_file(
        "文件解析所需内存超过上限，请拆分后分批导入",
        "Reading the file needs more memory than allowed; split it and import the parts",
    )


def _out_of_time() -> DomainError:
    return bad_file(
        "文件解析超时，请检查文件或拆分后分批导入",
        "Reading the file took too long; check it, or split it and import the parts",
    )


class UploadReader:
    """Reads and validates uploads in limited child processes, ``workers`` at a time.

    ``started``, when set, is called with each child's process id as it starts (tests use it to
    hold children while they watch the rest of the server).
    """

    def __init__(self, limits: Limits | None = None, *, workers: int = 2) -> None:
        self.limits = limits or Limits()
        self.workers = workers
        self.started: Callable[[int], None] | None = None
        self._slots = asyncio.Semaphore(workers)
        self._children: dict[int, asyncio.subprocess.Process] = {}
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-work")

    async def read(self, filename: str, source: bytes | IO[bytes]) -> Upload:
        """Read and validate ``source`` (bytes, or a file with a descriptor) named ``filename``.

        Raises :class:`DomainError`: 413 for a file too large, 422 for one that cannot be read
        within the limits.
        """
        if isinstance(source, bytes):
            check_size(len(source), self.limits)
        else:
            source.seek(0)
            check_size(os.fstat(source.fileno()).st_size, self.limits)
        request = json.dumps({"filename": filename, "limits": dataclasses.asdict(self.limits)})
        async with self._slots:
            out = await self._run(request, source)
        answer = await self.off_loop(lambda: _decode(out))
        if isinstance(answer, DomainError):
            raise answer
        return answer

    async def _run(self, request: str, source: bytes | IO[bytes]) -> bytes:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            __name__,
            request,
            stdin=asyncio.subprocess.PIPE if isinstance(source, bytes) else source,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join([_PACKAGE_ROOT, os.environ.get("PYTHONPATH", "")]),
            },
        )
        self._children[child.pid] = child
        try:
            if self.started is not None:
                self.started(child.pid)
            async with asyncio.timeout(self.limits.wall_seconds):
                out, err = await child.communicate(source if isinstance(source, bytes) else None)
        except TimeoutError:
            raise _out_of_time() from None
        finally:
            del self._children[child.pid]
            if child.returncode is None:
                child.kill()
                await child.wait()
        if child.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
            raise _out_of_time()
        if child.returncode != 0:
            log.warning(
                "import reader exited with %s: %s", child.returncode, err[-2000:].decode(errors="replace")
            )
            raise (
                _out_of_memory()
                if b"MemoryError" in err
                else bad_file("无法读取该文件", "The file could not be read")
            )
        return out

    def off_loop(self, work: Callable[[], T]) -> Awaitable[T]:
        """Run ``work`` (decoding a child's answer, planning, preparing rows) on the reader's own
        thread, so that imports never take the threads the rest of the server needs."""
        return asyncio.get_running_loop().run_in_executor(self._worker, work)

    async def close(self) -> None:
        """End every child still reading, and the reader's thread."""
        for child in list(self._children.values()):
            with contextlib.suppress(ProcessLookupError):
                child.kill()
        self._worker.shutdown(wait=False, cancel_futures=True)


def _decode(out: bytes) -> Upload | DomainError:
    """The child's JSON answer (off the loop: 20,000 records take a while)."""
    from remote_check.imports.wire import decode

    answer = json.loads(out)
    if "error" in answer:
        status, code, zh, en = answer["error"]
        return DomainError(Message(zh, en), int(status), code)
    return Upload(answer["digest"], decode(answer["validation"]))


def _confine(limits: Limits) -> None:
    """Limit this process's address space, CPU time and file writes; give way to the server."""

    def lower(kind: int, soft: int, hard: int) -> None:
        _, current = resource.getrlimit(kind)
        if current != resource.RLIM_INFINITY:
            soft, hard = min(soft, current), min(hard, current)
        resource.setrlimit(kind, (soft, hard))

    lower(resource.RLIMIT_AS, limits.memory_bytes, limits.memory_bytes)
    lower(resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 5)
    lower(resource.RLIMIT_FSIZE, 0, 0)
    lower(resource.RLIMIT_CORE, 0, 0)
    os.nice(10)


def _answer(filename: str, data: bytes, limits: Limits) -> dict[str, Any]:
    from remote_check.imports.readers import parse
    from remote_check.imports.validate import validate
    from remote_check.imports.wire import encode

    try:
        validation = validate(parse(filename, data, limits))
    except DomainError as exc:
        return {"error": [exc.status, exc.code, exc.message.zh, exc.message.en]}
    except (MemoryError, RecursionError):
        error = _out_of_memory()
        return {"error": [error.status, error.code, error.message.zh, error.message.en]}
    return {"digest": hashlib.sha256(data).hexdigest(), "validation": encode(validation)}


def main() -> None:
    """The child: ``python -m remote_check.imports.sandbox '{"filename": …, "limits": {…}}'``,
    the file on standard input, the JSON answer on standard output."""
    request = json.loads(sys.argv[1])
    limits = Limits(**request["limits"])
    _confine(limits)
    data = sys.stdin.buffer.read(limits.max_file_bytes + 1)
    answer = _answer(request["filename"], data, limits)
    del data
    sys.stdout.write(json.dumps(answer, ensure_ascii=False))


if __name__ == "__main__":
    main()
