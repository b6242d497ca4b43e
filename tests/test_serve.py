"""``remote-check serve`` as a user runs it: a real process, over HTTPS with a self-signed pair."""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import sys
from pathlib import Path

import aiohttp

CLI = [sys.executable, "-m", "remote_check"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _run(*args: str, env: dict[str, str]) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *CLI, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def test_serve_over_https_with_a_self_signed_certificate(tmp_path: Path) -> None:
    env = {**os.environ, "RC_DATA_DIR": str(tmp_path)}
    code, out = await _run("db", "upgrade", env=env)
    assert code == 0, out
    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        *CLI,
        "serve",
        "--port",
        str(port),
        "--self-signed",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(30):
            while b"serving on" not in (line := await proc.stdout.readline()):
                assert line, "the server stopped before serving"
        assert f"https://127.0.0.1:{port}/".encode() in line
        trust = ssl.create_default_context(cafile=tmp_path / "tls" / "cert.pem")
        async with aiohttp.ClientSession() as client:
            response = await client.get(f"https://127.0.0.1:{port}/login", ssl=trust)
            assert response.status == 200
            assert "登录" in await response.text()
    finally:
        proc.terminate()
        await proc.wait()
    assert (tmp_path / "tls" / "key.pem").stat().st_mode & 0o077 == 0
