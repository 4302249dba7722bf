"""Shared helpers for the web front end's tests."""

from __future__ import annotations

import struct
import zlib

import pytest

pytest.importorskip("starlette", reason="the web front end needs starlette (pip install starlette httpx)")


def png_header(width: int, height: int) -> bytes:
    """A tiny PNG file whose header claims width x height (its data is a few rows: a decompression bomb probe)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    rows = zlib.compress(b"\0" * (1 + 3 * width) * 4)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", rows)
        + chunk(b"IEND", b"")
    )


def receive_until(ws, predicate, limit: int = 400) -> dict:
    """Read messages until one satisfies `predicate` (each action is answered, so this cannot wait forever)."""
    seen = []
    for _ in range(limit):
        msg = ws.receive_json()
        if predicate(msg):
            return msg
        seen.append(msg.get("status") or msg.get("message"))
    raise AssertionError(f"no matching message in {limit}: last {seen[-5:]}")


def is_error(text: str):
    return lambda m: m.get("type") == "error" and text in m["message"]


def state(predicate=lambda m: True):
    return lambda m: m.get("type") == "state" and predicate(m)
