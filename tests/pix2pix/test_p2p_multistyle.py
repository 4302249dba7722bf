"""Multi-style model: style embedding at the bottleneck, AC discriminator, constant loss,
weight schedule, pre-train then fine-tune (frozen encoder), resume, interpolation strip and GIF."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader

from autodrag.images import save_gif
from autodrag.pix2pix.checkpoint import load_checkpoint
from autodrag.pix2pix.handwriting.demo import scriptify
from autodrag.pix2pix.handwriting.fonts import available_fonts, render_text
from autodrag.pix2pix.handwriting.interpolate import interpolate_styles, save_strip, style_index
from autodrag.pix2pix.handwriting.multistyle import (
    MultiStyleConfig,
    StyleDiscriminator,
    StyleUnet,
    WeightSchedule,
    constant_loss,
)
from autodrag.pix2pix.handwriting.multistyle_train import (
    MultiStyleTrainConfig,
    load_multistyle,
    train_multistyle,
)
from autodrag.pix2pix.handwriting.styles_data import StyleDataset, make_font_styles_dataset
from autodrag.pix2pix.images import load_image, to_pil, to_tensor

STYLES = {
    "back": {"slant": -0.4, "wave": 0.0},
    "slant": {"slant": 0.4, "wave": 0.0},
    "wave": {"slant": 0.0, "wave": 0.12},
}
GLYPHS = "ABCDEFGHKLMNPRSTUVXZ"


def _make_styles(root: Path, styles: list[str], glyphs: str) -> Path:
    """Glyphs in Pillow's bundled font (A) and synthetic "handwriting" styles of them (B/<style>)."""
    (root / "A").mkdir(parents=True)
    for i, glyph in enumerate(glyphs):
        plain, _ = render_text(glyph, "default", (32, 32), height_fraction=0.7)
        plain.save(root / "A" / f"{i:02d}.png")
        for style in styles:
            (root / "B" / style).mkdir(parents=True, exist_ok=True)
            scriptify(plain, periods=1.0, **STYLES[style]).save(root / "B" / style / f"{i:02d}.png")
    return root


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    base = tmp_path_factory.mktemp("styles")
    root = _make_styles(base / "data", ["back", "slant"], GLYPHS)
    cfg = MultiStyleTrainConfig(
        model=MultiStyleConfig(depth=5, ngf=16, ndf=16, embed_dim=16, d_layers=2),
        dataroot=str(root), batch_size=8, epochs=14, lr=1e-3, progress=False,
        schedule=WeightSchedule(((0, 100.0, 15.0), (10, 200.0, 50.0))),
    )  # fmt: skip
    train_multistyle(base / "run", cfg)
    return base


def _style_errors(net: StyleUnet, root: Path, styles) -> tuple[float, float]:
    ds = StyleDataset(root, styles)
    batch = next(iter(DataLoader(ds, batch_size=len(ds))))
    n = len(styles)
    with torch.no_grad():
        right = F.l1_loss(net(batch["A"], batch["label"]), batch["B"]).item()
        wrong = F.l1_loss(net(batch["A"], (batch["label"] + 1) % n), batch["B"]).item()
    return right, wrong


def test_architecture_shapes() -> None:
    cfg = MultiStyleConfig(num_styles=5, embed_dim=7, depth=3, ngf=4, ndf=4, d_layers=2)
    g, d = StyleUnet(cfg).eval(), StyleDiscriminator(cfg)
    assert g.up[0].block[1].in_channels == 4 * 4 + 7  # bottleneck features + style vector
    x, labels = torch.randn(3, 1, 20, 36), torch.tensor([0, 4, 2])
    y = g(x, labels)
    assert y.shape == (3, 1, 20, 36)
    assert torch.equal(g.forward_with_style(x, g.style_vectors(labels)), y)
    out = d(x, y)
    assert out.adv.dim() == 4 and out.style.shape == (3, 5)
    g.grow_styles(7)
    d.grow_styles(7)
    assert g.embedding.num_embeddings == 7 and d.style_head.out_features == 7
    assert torch.allclose(g.embedding.weight[5], g.embedding.weight[:5].mean(0))


def test_constant_loss_moves_the_output_not_the_encoder() -> None:
    """The second encoder pass (of the output) is a fixed judge: its weights get no gradient."""
    g = StyleUnet(MultiStyleConfig(num_styles=2, embed_dim=4, depth=3, ngf=4))
    x = torch.randn(2, 1, 16, 16)
    fake = torch.randn(2, 1, 16, 16, requires_grad=True)
    constant_loss(g, x, fake).backward()
    assert all(p.grad is None for p in g.parameters())
    assert fake.grad is not None and fake.grad.abs().sum() > 0
    assert all(p.requires_grad for p in g.down.parameters())  # restored afterwards


def test_weight_schedule() -> None:
    s = WeightSchedule()
    assert (
        s.weights_at(0) == (100.0, 15.0)
        and s.weights_at(29) == (100.0, 15.0)
        and s.weights_at(30) == (500.0, 1000.0)
    )


def test_pretraining_learns_distinct_styles(pretrained: Path) -> None:
    net, cfg = load_multistyle(pretrained / "run")
    assert cfg.style_names == ("back", "slant") and cfg.model.num_styles == 2
    right, wrong = _style_errors(net, pretrained / "data", cfg.style_names)
    print(f"pre-trained: L1 with the right style {right:.4f}, with the other style {wrong:.4f}")
    assert right < 0.8 * wrong
    rows = load_checkpoint(pretrained / "run")["trainer"]["step"]
    assert rows == 14 * 5
    csv_text = (pretrained / "run" / "losses.csv").read_text().splitlines()
    assert csv_text[0].startswith("epoch,step,D_adv,D_style") and csv_text[-1].endswith(",200,50")
    assert (pretrained / "run" / "samples" / "epoch_0014.png").is_file() and (
        pretrained / "run" / "index.html"
    ).is_file()


def test_finetune_new_style_with_frozen_encoder(pretrained: Path, tmp_path: Path) -> None:
    few = _make_styles(tmp_path / "few", ["wave"], GLYPHS[:6])
    before, _ = load_multistyle(pretrained / "run")
    cfg = MultiStyleTrainConfig(
        dataroot=str(few), pretrained=str(pretrained / "run"), freeze_encoder=True, batch_size=6, epochs=15,
        lr=1e-3, progress=False, schedule=WeightSchedule(((0, 200.0, 50.0),)),
    )  # fmt: skip
    trainer = train_multistyle(tmp_path / "tuned", cfg)
    assert trainer.cfg.style_names == ("back", "slant", "wave")
    after, _ = load_multistyle(tmp_path / "tuned")
    for (name, p0), p1 in zip(before.down.named_parameters(), after.down.parameters()):
        assert torch.equal(p0, p1), name  # the encoder did not move
    ds = StyleDataset(few, trainer.cfg.style_names)
    batch = next(iter(DataLoader(ds, batch_size=len(ds))))
    before.grow_styles(3)  # the new style starts at the mean of the pre-trained ones
    with torch.no_grad():
        err_before = F.l1_loss(before(batch["A"], batch["label"]), batch["B"]).item()
        err_after = F.l1_loss(after(batch["A"], batch["label"]), batch["B"]).item()
    print(f"fine-tuning on 6 samples: L1 {err_before:.4f} -> {err_after:.4f}")
    assert err_after < 0.7 * err_before


def test_multistyle_resume_is_exact(tmp_path: Path) -> None:
    root = _make_styles(tmp_path / "data", ["back", "wave"], GLYPHS[:8])
    cfg = lambda epochs: MultiStyleTrainConfig(
        model=MultiStyleConfig(depth=3, ngf=4, ndf=4, embed_dim=4, d_layers=1), dataroot=str(root), batch_size=8,
        epochs=epochs, progress=False,
    )  # fmt: skip
    train_multistyle(tmp_path / "straight", cfg(3))
    train_multistyle(tmp_path / "resumed", cfg(2))
    options = json.loads((tmp_path / "resumed" / "options.json").read_text())
    options["epochs"] = 3
    (tmp_path / "resumed" / "options.json").write_text(json.dumps(options))
    train_multistyle(tmp_path / "resumed", resume=True)
    a, b = load_checkpoint(tmp_path / "straight")["trainer"], load_checkpoint(tmp_path / "resumed")["trainer"]
    for key in ("netG", "netD"):
        assert all(torch.equal(a[key][k], b[key][k]) for k in a[key])


def test_interpolation_strip_and_gif(pretrained: Path, tmp_path: Path) -> None:
    net, cfg = load_multistyle(pretrained / "run")
    source = pretrained / "data" / "A" / "00.png"
    frames = interpolate_styles(
        net, source, style_index("back", cfg.style_names), style_index("1", cfg.style_names), steps=5
    )
    assert len(frames) == 5 and frames[0].size == (32, 32)
    with torch.no_grad():
        end = to_pil(net(to_tensor(load_image(source, 1))[None], torch.tensor([1]))[0])
    assert np.array_equal(np.asarray(frames[-1]), np.asarray(end))  # the last frame is the pure style
    strip = Image.open(save_strip(frames, tmp_path / "strip.png"))
    assert strip.size == (5 * 32 + 4 * 2, 32)
    gif = Image.open(save_gif(tmp_path / "strip.gif", frames, frame_ms=120, hold_last_ms=None, bounce=True))
    assert gif.n_frames == 8  # there and back
    with pytest.raises(ValueError, match="unknown style 'cursive'; known: 0=back, 1=slant"):
        style_index("cursive", cfg.style_names)


def test_font_styles_dataset(tmp_path: Path) -> None:
    fonts = [f for f in available_fonts() if f.suffix.lower() == ".ttf"][:2]
    if len(fonts) < 2:
        pytest.skip(reason="needs two .ttf fonts in the standard font folders (install fonts-dejavu-core)")
    report = make_font_styles_dataset(
        tmp_path / "ds", ["A", "b", "张"], "default", [str(f) for f in fonts], (32, 32)
    )
    assert report.texts == 2 and "张" in report.skipped
    assert sorted(p.name for p in (tmp_path / "ds" / "B").iterdir()) == sorted(f.stem for f in fonts)
    assert len(StyleDataset(tmp_path / "ds", report.styles)) == 4
