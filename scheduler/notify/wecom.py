"""A city's WeCom (企业微信) group robot: a JSON POST of a markdown message to its webhook."""

from __future__ import annotations

import aiohttp


class WebhookFailed(Exception):
    """The robot refused the message (an HTTP error, or an ``errcode`` other than 0)."""


async def post_markdown(client: aiohttp.ClientSession, url: str, content: str, seconds: float) -> None:
    """Send ``content`` to the robot at ``url``; raises :class:`WebhookFailed` or a network error."""
    body = {"msgtype": "markdown", "markdown": {"content": content}}
    async with client.post(url, json=body, timeout=aiohttp.ClientTimeout(total=seconds)) as response:
        if response.status != 200:
            raise WebhookFailed(f"HTTP {response.status}")
        try:
            answer = await response.json(content_type=None)
        except ValueError:
            answer = {}
        code = answer.get("errcode", 0) if isinstance(answer, dict) else 0
        if code != 0:
            raise WebhookFailed(f"errcode {code}: {answer.get('errmsg', '')}")
