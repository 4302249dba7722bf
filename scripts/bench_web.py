"""Benchmark `autodrag web` on the bundled model: frames per second during a drag, latency from Start to
the first updated image, and the server's memory (RSS) with 5 idle sessions.

    .venv/bin/python scripts/bench_web.py [--steps 40] [--sessions 5]

Runs the server in this process (a background thread) and talks to it over a real WebSocket, as the page
does; "frames" are the state messages that carry a new image (what the page draws).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import time

import psutil
import websockets

from autodrag.web.app import WebConfig
from autodrag.web.background import BackgroundServer


async def _until(ws, predicate, timeout_s: float = 300.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic())))
        if predicate(msg):
            return msg


async def _tab(url: str) -> tuple:
    ws = await websockets.connect(url, max_size=2**24)
    hello = json.loads(await ws.recv())
    await ws.send(json.dumps({"action": "load_model", "name": "bundled"}))
    await _until(ws, lambda m: m.get("type") == "state" and m.get("loaded") and "image" in m)
    return ws, hello


async def _drag(url: str, steps: int) -> dict:
    ws, _ = await _tab(url)
    figures = {}
    for run in ("cold", "warm"):
        await ws.send(json.dumps({"action": "reset_latent"}))
        await ws.send(json.dumps({"action": "set_options", "max_steps": steps, "lr": 0.01}))
        await ws.send(json.dumps({"action": "click", "row": 70, "col": 48}))
        await ws.send(json.dumps({"action": "click", "row": 70, "col": 58}))
        await _until(ws, lambda m: m.get("type") == "state" and len(m.get("targets", [])) == 1)
        t0 = time.monotonic()
        await ws.send(json.dumps({"action": "start"}))
        first = await _until(ws, lambda m: m.get("type") == "state" and "image" in m and m["step"] >= 1)
        t_first = time.monotonic()
        frames = 1
        while True:
            msg = await _until(ws, lambda m: m.get("type") == "state")
            frames += "image" in msg
            if not msg["busy"]:
                break
        t_end = time.monotonic()
        figures[run] = {
            "latency_s": t_first - t0,
            "fps": (frames - 1) / max(t_end - t_first, 1e-9),
            "frames": frames,
            "steps": msg["step"],
            "drag_s": t_end - t0,
            "distance": f"{10.0:.1f} -> {msg['distances'][0]:.1f} px",
            "first_step": first["step"],
        }
    await ws.close()
    return figures


async def _idle(url: str, sessions: int) -> float:
    process = psutil.Process()
    gc.collect()
    before = process.memory_info().rss
    tabs = [await _tab(url) for _ in range(sessions)]
    gc.collect()
    rss = process.memory_info().rss
    for ws, _ in tabs:
        await ws.close()
    return before, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--sessions", type=int, default=5)
    args = parser.parse_args()
    with BackgroundServer(WebConfig(port=0)) as server:
        url = server.url.replace("http", "ws") + "ws"
        base = psutil.Process().memory_info().rss
        figures = asyncio.run(_drag(url, args.steps))
        store = server.app.state.server.store
        for sid in list(store.sessions):  # the drag's session gone: measure idle sessions alone
            store.drop(sid)
        before, rss = asyncio.run(_idle(url, args.sessions))
    for run, f in figures.items():
        print(
            f"{run} drag ({f['steps']} steps, {f['distance']}): {f['fps']:.1f} frames/s shown "
            f"({f['frames']} frames in {f['drag_s']:.1f} s), Start -> first updated image {f['latency_s']:.2f} s"
        )
    print(
        f"server RSS: {base / 2**20:.0f} MiB at start, {before / 2**20:.0f} MiB before the idle sessions, "
        f"{rss / 2**20:.0f} MiB with {args.sessions} idle sessions (bundled model loaded in each): "
        f"{(rss - before) / args.sessions / 2**20:.1f} MiB per session"
    )


if __name__ == "__main__":
    main()
