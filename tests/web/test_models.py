"""The --models-dir rule and the token rule, as functions."""

from __future__ import annotations

import pytest

from autodrag.web import auth
from autodrag.web.models import ModelNameError, list_models, resolve_model


def test_models_dir_lists_and_resolves_names_only(tmp_path):
    (tmp_path / "a.pkl").write_bytes(b"x")
    (tmp_path / "b.safetensors").write_bytes(b"x")
    (tmp_path / "b.json").write_text("{}")
    (tmp_path / ".hidden.pkl").write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.pkl").write_bytes(b"x")
    assert list_models(tmp_path) == ["bundled", "a.pkl", "b.safetensors"]
    assert resolve_model("a.pkl", tmp_path) == tmp_path / "a.pkl"
    assert resolve_model("bundled", tmp_path) is None and resolve_model(None, tmp_path) is None
    for bad, why in [
        ("../a.pkl", "not a path"),
        ("sub/c.pkl", "not a path"),
        ("/etc/passwd", "not a path"),
        ("..\\a.pkl", "not a path"),
        ("b.json", "only .pkl"),
        ("zz.pkl", "no such file"),
        (".hidden.pkl", "not a path"),
        (3, "expected a file name"),
    ]:
        with pytest.raises(ModelNameError, match=why):
            resolve_model(bad, tmp_path)
    with pytest.raises(ModelNameError, match="without --models-dir"):
        resolve_model("a.pkl", None)


def test_symlink_out_of_the_folder_is_refused(tmp_path):
    outside = tmp_path / "outside.pkl"
    outside.write_bytes(b"x")
    models = tmp_path / "models"
    models.mkdir()
    (models / "link.pkl").symlink_to(outside)
    with pytest.raises(ModelNameError, match="no such file"):
        resolve_model("link.pkl", models)


def test_token_and_host_rules():
    assert auth.token_ok(None, {}, {}, {})
    assert not auth.token_ok("s3cret", {}, {}, {})
    assert not auth.token_ok("s3cret", {"token": "wrong"}, {}, {})
    assert auth.token_ok("s3cret", {"token": "s3cret"}, {}, {})
    assert auth.token_ok("s3cret", {}, {auth.COOKIE: "s3cret"}, {})
    assert auth.token_ok("s3cret", {}, {}, {"authorization": "Bearer s3cret"})
    local = auth.LOCAL_HOSTS
    assert (
        auth.host_ok("127.0.0.1:7860", local)
        and auth.host_ok("[::1]:80", local)
        and auth.host_ok("localhost", local)
    )
    assert not auth.host_ok("evil.example:7860", local) and not auth.host_ok(None, local)
    assert auth.host_ok("anything", ())
