"""Schemathesis against the real server (``remote-check serve`` over the demo data), through the
OpenAPI document it serves: signed in as the province administrator and anonymously, no request
may answer 5xx and every answer must match its documented schema. Fixed seed, bounded examples."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.test_serve import CLI, _free_port, _run

pytestmark = pytest.mark.schemathesis

SCHEMATHESIS = Path(sys.executable).with_name("st")
CHECKS = "not_a_server_error,response_schema_conformance"


@pytest.fixture
async def demo_server(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    """The base URL of a real server over a fresh demo, and the file its output goes to."""
    env = {**os.environ, "RC_DATA_DIR": str(tmp_path / "var")}
    for command in (("db", "upgrade"), ("demo", "--seed", "1", "--scale", "small")):
        code, out = await _run(*command, env=env)
        assert code == 0, out
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        proc = await asyncio.create_subprocess_exec(
            *CLI, "serve", "--port", str(port), env=env, stdout=output, stderr=asyncio.subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as client, asyncio.timeout(30):
            while True:
                try:
                    await client.get(f"{base}/api/openapi.json")
                    break
                except aiohttp.ClientConnectionError:
                    assert proc.returncode is None, log.read_text()
                    await asyncio.sleep(0.1)  # polling for the port to open, not standing in for a result
        yield base, log
    finally:
        proc.terminate()
        await proc.wait()


async def _schemathesis(base: str, *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        str(SCHEMATHESIS),
        "run",
        f"{base}/api/openapi.json",
        "--checks",
        CHECKS,
        "--seed",
        "1",
        "--workers",
        "1",
        "--no-color",
        "--request-timeout",
        "30",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def test_no_request_makes_the_server_fail_or_break_its_schema(demo_server: tuple[str, Path]) -> None:
    base, log = demo_server
    async with aiohttp.ClientSession() as client:
        login = await client.post(
            f"{base}/api/login", json={"username": "province.admin", "password": "demo-password-2020"}
        )
        assert login.status == 200
        csrf = (await login.json())["csrf_token"]
        cookie = login.cookies["rc_session"].value
    signed_in = (
        "--max-examples",
        "8",
        "--header",
        f"Cookie: rc_session={cookie}",
        "--header",
        f"X-CSRF-Token: {csrf}",
        "--exclude-operation-id",
        "logout",  # it would end the run's own session
    )
    code, out = await _schemathesis(base, *signed_in)
    assert code == 0, out[-6000:]
    assert "Authentication failed" not in out, "the signed-in run was signed out"
    code, out = await _schemathesis(base, "--max-examples", "5")
    assert code == 0, out[-6000:]
    server_output = log.read_text()
    assert "Traceback" not in server_output, server_output[-6000:]
