"""Run the app in a background thread on a free loopback port (for tests, benchmarks and notebooks)."""

from __future__ import annotations

import socket
import threading
import time

from autodrag.web.app import WebConfig, create_app

__all__ = ["BackgroundServer", "free_port"]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class BackgroundServer:
    """`with BackgroundServer(config) as server: server.url ...`; uvicorn stops on exit."""

    def __init__(self, config: WebConfig | None = None, start_timeout_s: float = 30.0) -> None:
        import uvicorn

        self.config = config or WebConfig()
        if not self.config.port:
            self.config.port = free_port(self.config.host)
        self.app = create_app(self.config)
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host=self.config.host,
                port=self.config.port,
                log_level="warning",
                ws_max_size=2 * 2**20,
            )
        )
        self._thread = threading.Thread(target=self._server.run, name="autodrag-web-server", daemon=True)
        self._start_timeout_s = start_timeout_s

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.config.port}/"

    def __enter__(self) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + self._start_timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the web server did not start on {self.url}")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self._server.should_exit = True
        self._thread.join(15)
