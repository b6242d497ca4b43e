"""Time-limited TURN credentials: the "TURN REST API" that coturn checks with ``use-auth-secret``.

The user name is the expiry time (Unix seconds) and a label, the password the base64 HMAC-SHA1 of
that user name under the secret shared with the TURN server. A browser's credentials stop working
when they expire, and no password of the TURN server itself is ever handed out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def rest_credentials(secret: str, label: str, expires_at: int) -> tuple[str, str]:
    """The user name and password a TURN server with ``static-auth-secret=secret`` accepts until
    ``expires_at`` (Unix seconds); ``label`` names the holder in the TURN server's logs."""
    username = f"{expires_at}:{label}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()
