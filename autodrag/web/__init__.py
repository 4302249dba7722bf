"""`autodrag web`: the visualizer's actions in a browser (a small Starlette app over the GUI's `Controller`).

Modules: `app` (routes, WebSocket protocol), `sessions` (one `Controller` per tab, idle expiry),
`uploads` (safe image decoding, reused by photo upload), `models` (the `--models-dir` rule),
`auth` (the access-token rule), `cli` (the command), `static/` (the page: plain HTML/JS, no build step).
"""

__all__ = ["WebConfig", "create_app"]


def __getattr__(name: str):  # keep `import autodrag.web` light (Starlette loads only when used)
    if name in __all__:
        from autodrag.web import app

        return getattr(app, name)
    raise AttributeError(name)
