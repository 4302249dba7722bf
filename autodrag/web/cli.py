"""`autodrag web [CKPT] [--host 127.0.0.1] [--port 7860] [--models-dir DIR]`: serve the browser front end."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["web"]


@click.command()
@click.argument("ckpt", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind; anything but loopback requires the printed access token.",
)
@click.option("--port", default=7860, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--models-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder whose .pkl/.safetensors files the page may load (by name).",
)
@click.option(
    "--idle-timeout",
    default=1800.0,
    show_default=True,
    type=click.FloatRange(min=1),
    help="Seconds before an idle tab's session is dropped and its memory freed.",
)
@click.option(
    "--token", envvar="AUTODRAG_WEB_TOKEN", help="Access token (default: a random one when needed)."
)
@click.option("--device", default="cpu", show_default=True)
def web(
    ckpt: Path | None,
    host: str,
    port: int,
    models_dir: Path | None,
    idle_timeout: float,
    token: str | None,
    device: str,
) -> None:
    """Serve the visualizer in a browser: one page, one session per tab."""
    import uvicorn

    from autodrag.web import auth
    from autodrag.web.app import WebConfig, create_app

    if token is None and not auth.is_local(host):
        token = auth.new_token()
    config = WebConfig(
        host=host,
        port=port,
        ckpt=ckpt,
        models_dir=models_dir,
        token=token,
        idle_timeout_s=idle_timeout,
        device=device,
    )
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}/" + (
        f"?token={token}" if token else ""
    )
    click.echo(f"AutoDrag web: open {url}")
    if not auth.is_local(host):
        click.echo("  (the page asks for this token once, then keeps it in a cookie)")
    uvicorn.run(create_app(config), host=host, port=port, log_level="warning", ws_max_size=2 * 2**20)
