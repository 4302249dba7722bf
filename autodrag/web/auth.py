"""The access-token rule: 127.0.0.1 needs none; any other bind needs a token (URL ?token=..., then a cookie)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping

__all__ = ["COOKIE", "LOCAL_HOSTS", "host_ok", "is_local", "new_token", "token_ok"]

COOKIE = "autodrag_token"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def is_local(host: str) -> bool:
    """True when the server binds a loopback address only."""
    return host in LOCAL_HOSTS


def new_token() -> str:
    return secrets.token_urlsafe(24)


def token_ok(
    expected: str | None, query: Mapping[str, str], cookies: Mapping[str, str], headers: Mapping[str, str]
) -> bool:
    """No token configured, or the request carries it (query, cookie or `Authorization: Bearer`)."""
    if expected is None:
        return True
    auth = headers.get("authorization", "")
    candidates = [
        query.get("token"),
        cookies.get(COOKIE),
        auth[7:] if auth.lower().startswith("bearer ") else None,
    ]
    return any(c is not None and secrets.compare_digest(c.encode(), expected.encode()) for c in candidates)


def host_ok(host_header: str | None, allowed: tuple[str, ...]) -> bool:
    """The Host header names an allowed host (stops DNS-rebinding pages from reaching a loopback server)."""
    if not allowed:
        return True
    if not host_header:
        return False
    host = host_header.rsplit(":", 1)[0] if not host_header.endswith("]") else host_header
    return host.strip("[]") in allowed
