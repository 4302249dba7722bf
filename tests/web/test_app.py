"""The app through Starlette's TestClient: the protocol, bad input, sessions, the token and models-dir rules."""

from __future__ import annotations

import contextlib
import io
import time

import numpy as np
import pytest
from PIL import Image
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from autodrag.networks import save_generator
from autodrag.networks.default import random_generator
from autodrag.web.app import WebConfig, create_app
from tests.web.conftest import is_error, png_header, receive_until, state

BASE, WS = "http://127.0.0.1", "ws://127.0.0.1/ws"


@pytest.fixture()
def models_dir(tmp_path):
    folder = tmp_path / "models"
    save_generator(random_generator(64), folder / "g64.safetensors")
    (tmp_path / "secret.pkl").write_bytes(b"not for the browser")
    return folder


@pytest.fixture()
def client(models_dir):
    with TestClient(create_app(WebConfig(models_dir=models_dir, idle_timeout_s=600)), base_url=BASE) as c:
        yield c


@contextlib.contextmanager
def _open(client, model="g64.safetensors"):
    """Connect a tab and load a model; yields (ws, hello)."""
    with client.websocket_connect(WS) as ws:
        hello = ws.receive_json()
        assert hello["type"] == "hello" and "g64.safetensors" in hello["models"]
        ws.send_json({"action": "load_model", "name": model})
        receive_until(ws, state(lambda m: m["loaded"] and "image" in m))
        yield ws, hello


def test_page_and_static_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and '<canvas id="canvas"' in page.text and "cdn" not in page.text.lower()
    js = client.get("/static/app.js")
    assert js.status_code == 200 and "new WebSocket" in js.text
    assert client.get("/static/../app.py").status_code == 404


def test_drag_streams_progress_then_downloads(client):
    with _open(client) as (ws, hello):
        labels = {p["name"]: p["label"] for p in hello["presets"]}
        assert labels["raise_brows"] == "Raise brows (experimental)" and labels["close_eyes"] == "Close eyes"
        ws.send_json({"action": "set_options", "max_steps": 6})
        ws.send_json({"action": "click", "row": 30, "col": 20})
        ws.send_json({"action": "click", "row": 30, "col": 28})
        receive_until(ws, state(lambda m: m["targets"] == [[30.0, 28.0]] and m["distances"] == [8.0]))
        ws.send_json({"action": "start"})
        progress = receive_until(ws, state(lambda m: m["busy"] and m["step"] >= 1))
        assert len(progress["distances"]) == 1
        done = receive_until(ws, state(lambda m: not m["busy"] and m["step"] >= 1))
        assert "after" in done["status"] and done["frames"] >= 2 and done["can_undo"]
        sid = hello["session"]
        png = client.get(f"/api/download/{sid}/png")
        assert png.status_code == 200 and Image.open(io.BytesIO(png.content)).size == (64, 64)
        latent = np.load(io.BytesIO(client.get(f"/api/download/{sid}/latent").content))
        assert "ws" in latent.files
        gif, mp4 = client.get(f"/api/download/{sid}/gif"), client.get(f"/api/download/{sid}/mp4")
        assert gif.content[:6] == b"GIF89a" and mp4.content[4:8] == b"ftyp"
        assert client.get(f"/api/download/{sid}/..%2F..%2Fetc%2Fpasswd").status_code == 404
        assert client.get("/api/download/not-a-session/png").status_code == 404
        ws.send_json({"action": "undo"})
        assert receive_until(ws, state(lambda m: m["status"] == "undo"))["can_redo"]


def test_bad_messages_get_clear_errors_and_the_server_keeps_serving(client):
    with _open(client) as (ws, _):
        ws.send_text("{not json")
        receive_until(ws, is_error("malformed message (not JSON"))
        ws.send_text("[1, 2]")
        receive_until(ws, is_error('expected an object like {"action": "start"}'))
        ws.send_json({"action": "explode"})
        receive_until(ws, is_error("unknown action 'explode'"))
        ws.send_json({"action": "click", "row": 500, "col": 3})
        receive_until(ws, is_error("(500, 3) is outside the 64x64 image"))
        ws.send_json({"action": "click", "row": "a", "col": 3})
        receive_until(ws, is_error("'row' must be a number"))
        ws.send_json({"action": "paint", "mode": "movable", "points": [[10, 10], [10, 900]]})
        receive_until(ws, is_error("outside the 64x64 image"))
        ws.send_json({"action": "preset", "name": "frown"})
        receive_until(ws, is_error("unknown preset 'frown'"))
        ws.send_json({"action": "apply"})
        receive_until(ws, is_error("press a Face Adjustments button first"))
        ws.send_json({"action": "start"})
        receive_until(ws, is_error("place a handle and a target first"))
        ws.send_json({"action": "click", "row": 5, "col": 6})  # still serving, state intact
        assert receive_until(ws, state(lambda m: m["handles"]))["handles"] == [[5.0, 6.0]]


def test_uploads_refuse_non_images_and_huge_images(client):
    with _open(client) as (ws, hello):
        sid = hello["session"]
        reply = client.post(f"/api/upload/{sid}/photo?name=notes.txt", content=b"just text")
        assert reply.status_code == 400 and reply.json()["error"].startswith("notes.txt: not an image")
        reply = client.post(f"/api/upload/{sid}/photo?name=huge.png", content=png_header(20000, 20000))
        assert reply.status_code == 400 and "huge.png: too large to decode safely" in reply.json()["error"]
        big = client.post(f"/api/upload/{sid}/photo?name=big.bin", content=b"\0" * (21 * 2**20))
        assert big.status_code == 413 and "over the 20 MB limit" in big.json()["error"]
        reply = client.post(f"/api/upload/{sid}/latent?name=bad.npz", content=b"garbage")
        assert reply.status_code == 400 and reply.json()["error"].startswith("bad.npz: ")
        # a real latent round-trips through the download and the upload
        latent = client.get(f"/api/download/{sid}/latent").content
        assert client.post(f"/api/upload/{sid}/latent?name=w.npz", content=latent).status_code == 200
        assert client.get("/api/models").json()["models"] == ["bundled", "g64.safetensors"]  # still serving
        ws.send_json({"action": "state"})
        assert receive_until(ws, state())["loaded"]


def test_models_only_by_name_from_the_models_dir(client):
    with _open(client) as (ws, _):
        for name, why in [
            ("../secret.pkl", "not a path"),
            ("/etc/passwd", "not a path"),
            ("secret.pkl", "no such file"),
            ("g64.json", "only .pkl and .safetensors"),
        ]:
            ws.send_json({"action": "load_model", "name": name})
            receive_until(ws, is_error(why))
        ws.send_json({"action": "load_model", "name": "bundled"})
        assert receive_until(ws, state(lambda m: m["model"] == "bundled"))["resolution"] == 128


def test_two_sessions_keep_separate_state(client):
    with _open(client) as (a, hello_a), _open(client) as (b, hello_b):
        assert hello_a["session"] != hello_b["session"]
        a.send_json({"action": "click", "row": 10, "col": 11})
        receive_until(a, state(lambda m: m["handles"] == [[10.0, 11.0]]))
        b.send_json({"action": "set_latent", "seed": 5})
        seeded = receive_until(b, state(lambda m: m["seed"] == 5))
        assert seeded["handles"] == []
        a.send_json({"action": "state"})
        assert receive_until(a, state())["seed"] == 0
        server = client.app.state.server
        ca, cb = (server.store.sessions[h["session"]].controller for h in (hello_a, hello_b))
        assert ca is not cb and not np.array_equal(ca.image, cb.image) and cb.view.handles == []


def test_mask_stroke_reaches_the_controller(client):
    with _open(client) as (ws, hello):
        ws.send_json({"action": "paint", "mode": "movable", "radius": 3, "points": [[32, 10], [32, 50]]})
        painted = receive_until(ws, state(lambda m: m["mask_movable"] is not None))
        assert painted["mask"].startswith("data:image/png;base64,")
        mask = client.app.state.server.store.sessions[hello["session"]].controller.mask
        assert (
            mask[32, 10] and mask[32, 30] and mask[32, 50] and not mask[10, 30]
        )  # the gap between points is filled
        assert 0.05 < painted["mask_movable"] < 0.2


def test_token_rule(models_dir):
    with pytest.raises(ValueError, match="needs an access token"):
        create_app(WebConfig(host="0.0.0.0"))
    app = create_app(WebConfig(host="0.0.0.0", token="s3cret", models_dir=models_dir))
    with TestClient(app, base_url="http://203.0.113.7:7860") as client:
        assert client.get("/").status_code == 403 and "access token" in client.get("/").text
        assert client.get("/?token=nope").status_code == 403
        assert client.get("/api/models").status_code == 403
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            client.websocket_connect("ws://203.0.113.7:7860/ws"),
        ):
            pass
        assert refused.value.code == 4403
        first = client.get("/?token=s3cret", follow_redirects=False)
        assert first.status_code == 303 and "autodrag_token=s3cret" in first.headers["set-cookie"]
        client.cookies.set("autodrag_token", "s3cret")
        assert client.get("/").status_code == 200 and client.get("/api/models").status_code == 200
        with client.websocket_connect("ws://203.0.113.7:7860/ws") as ws:
            assert ws.receive_json()["type"] == "hello"


def test_loopback_server_refuses_foreign_host_headers(client):
    assert client.get("/", headers={"host": "rebound.example:7860"}).status_code == 403
    assert client.get("/", headers={"host": "localhost:7860"}).status_code == 200


def test_idle_sessions_are_dropped_and_freed(models_dir):
    app = create_app(WebConfig(models_dir=models_dir, idle_timeout_s=0.4))
    with TestClient(app, base_url=BASE) as client:
        server = app.state.server
        with _open(client) as (ws, hello):
            folder = server.store.sessions[hello["session"]].folder
            assert folder.is_dir()
            receive_until(ws, is_error("session expired after 0.4 s idle"))
            deadline = time.monotonic() + 5
            while server.store.sessions and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not server.store.sessions and not folder.exists()


def test_photo_upload_inverts_and_downloads_the_pasted_photo(tmp_path):
    """A toy photo uploaded to a bundled-model tab is inverted by the controller's worker (the desktop's
    "Open photo"); the pasted-back download keeps the photo's size and leaves the background untouched."""
    from autodrag.photos.invert import InversionConfig
    from autodrag.toyfaces.photos import render_toy_photo

    photo = render_toy_photo(3)
    buf = io.BytesIO()
    Image.fromarray(photo.rgb).save(buf, format="PNG")
    tiny = InversionConfig(w_steps=3, w_plus_steps=2, tune_steps=2, w_avg_samples=64, patience=0)
    app = create_app(WebConfig(idle_timeout_s=600, photo_inversion=tiny))
    with TestClient(app, base_url=BASE) as client, client.websocket_connect(WS) as ws:
        sid = ws.receive_json()["session"]
        ws.send_json({"action": "load_model", "name": "bundled"})
        receive_until(ws, state(lambda m: m["loaded"]))
        reply = client.post(f"/api/upload/{sid}/photo?name=me.png", content=buf.getvalue())
        assert reply.status_code == 200, reply.text
        opened = receive_until(ws, state(lambda m: "opened photo" in (m.get("status") or "")), limit=4000)
        assert opened["loaded"]
        ws.send_json({"action": "preset", "name": "close_eyes"})
        receive_until(ws, state(lambda m: m["handles"]))
        ws.send_json({"action": "set_options", "max_steps": 3})
        ws.send_json({"action": "start"})
        receive_until(ws, state(lambda m: not m["busy"] and (m.get("step") or 0) >= 1), limit=4000)
        got = client.get(f"/api/download/{sid}/photo")
        assert got.status_code == 200, got.text
        out = np.asarray(Image.open(io.BytesIO(got.content)).convert("RGB"))
        assert out.shape == photo.rgb.shape
        corner = (slice(0, 8), slice(0, 8))  # the textured background far from the face
        assert np.array_equal(out[corner], photo.rgb[corner])
