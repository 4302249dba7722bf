"""Benchmark the photo face path on toy photos: find (toy backend), align, compare with the truth.

Prints: found rate; landmark NME (mean distance / eye distance) against the exact landmarks; the
aligned eye and mouth centres' mean distance to `template_points` (toy ratio) in crop widths; the
same against where the *true* landmarks land in the crop (the alignment's own error); the eye-line
angle; seconds per photo.  Usage: python scripts/bench_photos_align.py [--seeds 50] [--size 256]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from tqdm import tqdm

from autodrag.landmarks.detection import inter_ocular
from autodrag.photos.align import align_face, face_anchor_points, template_points
from autodrag.photos.faces import FaceError, find_faces
from autodrag.toyfaces.photos import TOY_EYE_TO_MOUTH_RATIO, render_toy_photo


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=50)
    ap.add_argument("--size", type=int, default=256)
    args = ap.parse_args()
    template = template_points(args.size, TOY_EYE_TO_MOUTH_RATIO)
    found, nme, tmpl, truth, angle, secs = 0, [], [], [], [], []
    for seed in tqdm(range(args.seeds), desc="toy photos"):
        tp = render_toy_photo(seed)
        t0 = time.perf_counter()
        try:
            face = find_faces(tp.rgb, "toy")[0]
        except FaceError:
            continue
        secs.append(time.perf_counter() - t0)
        found += 1
        nme.append(np.linalg.norm(face.landmarks - tp.landmarks, axis=1).mean() / inter_ocular(tp.landmarks))
        al = align_face(tp.rgb, face.landmarks, args.size)
        pts = face_anchor_points(al.landmarks_crop)
        tmpl.append(np.linalg.norm(pts - template, axis=1).mean() / args.size)
        true_pts = face_anchor_points(al.transform.to_crop(tp.landmarks))
        truth.append(np.linalg.norm(pts - true_pts, axis=1).mean() / args.size)
        d = true_pts[1] - true_pts[0]
        angle.append(abs(np.degrees(np.arctan2(d[1], d[0]))))
    n = args.seeds
    print(f"found {found}/{n} ({100 * found / n:.0f}%)")
    print(f"landmark NME (/eye distance): mean {np.mean(nme):.4f}, max {np.max(nme):.4f}")
    print(
        f"anchors vs template (crop widths): mean {np.mean(tmpl):.4f}, max {np.max(tmpl):.4f}, "
        f"<= 2%: {np.mean(np.array(tmpl) <= 0.02) * 100:.0f}%"
    )
    print(f"anchors vs true landmarks in the crop: mean {np.mean(truth):.4f}, max {np.max(truth):.4f}")
    print(f"true eye line angle in the crop: mean {np.mean(angle):.2f} deg, max {np.max(angle):.2f} deg")
    print(f"seconds per photo (find_faces toy): mean {np.mean(secs):.2f}")


if __name__ == "__main__":
    main()
