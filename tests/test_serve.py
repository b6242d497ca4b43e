"""``remote-check serve`` as a user runs it: a real process, over HTTPS with a self-signed pair."""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import stat
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
        *CLI,
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        umask=0o022,  # as a login shell starts it: the program itself must keep its files private
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
            assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
            assert response.headers["Server"] == "RemoteCheck"  # no name or version of what runs it
            assert "script-src 'self';" in response.headers["Content-Security-Policy"]
    finally:
        proc.terminate()
        await proc.wait()
    assert (tmp_path / "tls" / "key.pem").stat().st_mode & 0o077 == 0


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_data_folder_database_and_keys_are_the_owners_alone(tmp_path: Path) -> None:
    data = tmp_path / "var"
    env = {**os.environ, "RC_DATA_DIR": str(data)}
    for command in (("db", "upgrade"), ("demo", "--seed", "1", "--scale", "small")):
        code, out = await _run(*command, env=env)
        assert code == 0, out
    assert _mode(data) == 0o700
    created = [p for p in data.rglob("*")]
    assert data / "remote-check.sqlite3" in created
    assert data / "secret.key" in created
    for path in created:  # the owner's alone: stored files (filed reports) are read-only, 0o400
        if path.is_dir():
            assert _mode(path) == 0o700, path
        else:
            assert _mode(path) in (0o600, 0o400), path
