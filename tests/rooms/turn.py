"""A real TURN server for browser tests: Debian's coturn (``turnserver``), run on 127.0.0.1.

It is not our code (the edge we do not own), so it runs for real; ``scripts/system-deps`` installs
it. :meth:`TurnServer.restart` kills it and starts a new one on the same port: every relay
allocation is gone, so a browser that sent its media through it has lost its network path for
real and must find a new one (an ICE restart).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import secrets
import shutil
import socket
from pathlib import Path

from aioice import stun

TURNSERVER = "turnserver"
READY_SECONDS = 10.0


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class TurnServer:
    """One coturn process: UDP on 127.0.0.1, relays on 127.0.0.1, time-limited credentials made
    from a shared secret (``use-auth-secret``, as the README's set-up)."""

    def __init__(self, folder: Path) -> None:
        if shutil.which(TURNSERVER) is None:
            raise RuntimeError("coturn is missing (turnserver): run scripts/system-deps")
        self.folder = folder
        self.port = free_udp_port()
        self.secret = secrets.token_hex(16)  # shared with the rooms server (turn_secret)
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        """The ``turn:`` URL browsers are given."""
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    async def start(self) -> None:
        """Start coturn and return once it answers a STUN binding request.

        The port was free when it was chosen, but the rooms' ICE agents open UDP sockets on
        ephemeral ports all the time: one can take it before coturn binds it, and coturn then runs
        without answering. A first start therefore moves to another port (at most twice); a restart
        keeps its port, which browsers were given."""
        first = self.starts == 0
        for _ in range(3 if first else 1):
            await self._spawn()
            try:
                await self._until_ready()
                return
            except TimeoutError:
                await self.stop()
                if not first:
                    raise
                self.port = free_udp_port()
        raise TimeoutError(f"coturn did not answer on three ports; see {self.folder}")

    async def _spawn(self) -> None:
        self.starts += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        log = (self.folder / f"turnserver-{self.starts}.log").open("wb")
        try:
            self.process = await asyncio.create_subprocess_exec(
                TURNSERVER,
                "-n",  # no configuration file: everything is given here
                "--listening-ip=127.0.0.1",
                f"--listening-port={self.port}",
                "--relay-ip=127.0.0.1",
                "--allow-loopback-peers",  # the rooms server's candidates are on this machine too
                "--use-auth-secret",
                f"--static-auth-secret={self.secret}",
                "--realm=remote-check",
                f"--userdb={self.folder / 'turndb'}",
                f"--pidfile={self.folder / 'turnserver.pid'}",
                "--no-tls",
                "--no-dtls",
                "--no-tcp-relay",
                "--no-cli",
                "--log-file=stdout",
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        finally:
            log.close()

    async def _until_ready(self) -> None:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(READY_SECONDS):
            while True:
                assert self.process is not None
                if self.process.returncode is not None:
                    raise RuntimeError(f"turnserver exited with {self.process.returncode}; see {self.folder}")
                answered: asyncio.Future[bytes] = loop.create_future()
                transport, _ = await loop.create_datagram_endpoint(
                    functools.partial(_Answer, answered), remote_addr=("127.0.0.1", self.port)
                )
                try:
                    request = stun.Message(
                        message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST
                    )
                    transport.sendto(bytes(request))
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(
                            0.2
                        ):  # one try; coturn answers within milliseconds once up
                            await answered
                            return
                finally:
                    transport.close()

    async def stop(self) -> None:
        """Kill coturn (its allocations vanish with it)."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        self.process = None

    async def restart(self) -> None:
        """A new coturn on the same port, without the old one's allocations."""
        await self.stop()
        await self.start()


class _Answer(asyncio.DatagramProtocol):
    def __init__(self, answered: asyncio.Future[bytes]) -> None:
        self.answered = answered

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        if not self.answered.done():
            self.answered.set_result(data)
