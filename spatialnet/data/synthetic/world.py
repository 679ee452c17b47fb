"""``synthesize``: write a synthetic UCM-captions-style dataset with exact scene graphs.

Output under ``out``: ``ucm_captions/dataset.json`` (Karpathy format, as the real UCM-captions
file), ``ucm_captions/imgs/N.jpg``, ``scenes.jsonl`` (one scene graph per image, sorted keys) and,
unless switched off, ``rsvqa_lr/`` (the same images and scenes as RSVQA-LR; see rsvqa_world.py) and
``rsivqa_ucm/ucm_res.txt`` (RSIVQA's questions on the same images; see rsivqa_world.py).

Determinism: every random draw comes from ``numpy.random.default_rng`` seeded by a
``SeedSequence(seed, spawn_key=...)``: image ``i`` uses the key ``(IMAGE_STREAM, i)`` and its
class comes from a per-block permutation keyed ``(CLASS_STREAM, i // 21)``, its RSVQA questions from
``(QUESTION_STREAM, i)`` and its RSIVQA questions from ``(RSIVQA_STREAM, i)``, so an image does not
depend on how many others are generated, switching one question set off leaves every other file as
it is, and the same seed gives byte-identical files, however many worker processes draw them.
"""

from __future__ import annotations

import io
import json
import math
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from spatialnet.data.synthetic.captions import captions, tokens
from spatialnet.data.synthetic.defaults import DEFAULT_QUESTIONS_PER_IMAGE
from spatialnet.data.synthetic.layouts import layout
from spatialnet.data.synthetic.questions import Question
from spatialnet.data.synthetic.render import render
from spatialnet.data.synthetic.rsivqa_world import RsivqaSummary, RsivqaWriter, draw_rsivqa_questions
from spatialnet.data.synthetic.rsvqa_world import RsvqaSummary, RsvqaWriter, draw_questions
from spatialnet.data.synthetic.scene_graph import Scene
from spatialnet.data.ucm.classes import UCM_CLASSES
from spatialnet.progress import progress_bar

JPEG_QUALITY = 95  # as the re-encoded real UCM images
JPEG_SUBSAMPLING = 0  # 4:4:4, as the real images
SPLIT_FRACTIONS: dict[str, float] = {"val": 0.1, "test": 0.1}  # the rest is train (80/10/10)
SPLITS: tuple[str, ...] = ("train", "val", "test")
DRAWS_PER_TASK = 8  # images per job sent to a worker process (amortises pickling)
IMAGES_PER_WORKER = 32  # below this a worker's start (~1 s: a fresh interpreter) costs more than it draws
# Independent random streams under one seed.
CLASS_STREAM, IMAGE_STREAM, SPLIT_STREAM, QUESTION_STREAM, RSIVQA_STREAM = 0, 1, 2, 3, 4


@dataclass
class SynthSummary:
    """What ``synthesize`` wrote: root folder, image count, counts per split and class, VQA questions."""

    root: Path
    num_images: int
    split_counts: dict[str, int] = field(default_factory=dict)
    class_counts: dict[str, int] = field(default_factory=dict)
    rsvqa: RsvqaSummary | None = None
    rsivqa: RsivqaSummary | None = None


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def assign_classes(seed: int, num_images: int) -> list[str]:
    """Class of each image: consecutive blocks of 21 images are shuffled permutations of all classes."""
    n_cls = len(UCM_CLASSES)
    out: list[str] = []
    for block in range((num_images + n_cls - 1) // n_cls):
        perm = _rng(seed, CLASS_STREAM, block).permutation(n_cls)
        out += [UCM_CLASSES[int(i)] for i in perm]
    return out[:num_images]


def assign_splits(seed: int, classes: list[str]) -> list[str]:
    """Stratified 80/10/10 split of the images, deterministic in ``seed``.

    Each class gives floor(10 %) of its images to val and to test; the images still missing from a
    split's total round(10 % of all) come one each from classes that keep at least one train image,
    in a seeded class order. With 10 images per class this is exactly 8/1/1 in every class.
    """
    rng = _rng(seed, SPLIT_STREAM)
    members = {c: [i for i, x in enumerate(classes) if x == c] for c in UCM_CLASSES}
    orders = {c: [members[c][int(j)] for j in rng.permutation(len(members[c]))] for c in UCM_CLASSES}
    splits = ["train"] * len(classes)
    for split, frac in SPLIT_FRACTIONS.items():
        quota = int(np.floor(len(classes) * frac + 0.5))
        for c in UCM_CLASSES:
            for _ in range(int(np.floor(len(members[c]) * frac))):
                splits[orders[c].pop()] = split
                quota -= 1
        for ci in rng.permutation(len(UCM_CLASSES)):
            if quota <= 0:
                break
            c = UCM_CLASSES[int(ci)]
            if len(orders[c]) >= 2:
                splits[orders[c].pop()] = split
                quota -= 1
    return splits


def make_image(seed: int, index: int, landuse: str, image_size: int) -> tuple[Scene, np.ndarray, list[str]]:
    """Scene graph, RGB pixels and five captions of image ``index`` (independent of all others)."""
    rng = _rng(seed, IMAGE_STREAM, index)
    scene = layout(landuse, rng, image_size)
    pixels = render(scene, rng)
    return scene, pixels, captions(scene, rng)


@dataclass(frozen=True)
class _Drawn:
    """Everything random about one image, drawn in a worker process; the writing stays in order."""

    scene: Scene
    pixels: np.ndarray
    jpeg: bytes
    captions: list[str]
    questions: list[Question] | None


def _draw(seed: int, index: int, landuse: str, image_size: int, questions_per_image: int | None) -> _Drawn:
    scene, pixels, caps = make_image(seed, index, landuse, image_size)
    questions = (
        None
        if questions_per_image is None
        else draw_questions(scene, _rng(seed, QUESTION_STREAM, index), questions_per_image)
    )
    return _Drawn(scene, pixels, _jpeg_bytes(pixels), caps, questions)


def _drawn_images(
    seed: int, classes: list[str], image_size: int, questions_per_image: int | None, workers: int
) -> Iterator[_Drawn]:
    """Image after image in id order, drawn by ``workers`` processes (1: in this one)."""
    jobs = (
        [seed] * len(classes),
        range(len(classes)),
        classes,
        [image_size] * len(classes),
        [questions_per_image] * len(classes),
    )
    if workers <= 1:
        yield from map(_draw, *jobs)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=_worker_context()) as pool:
        yield from pool.map(_draw, *jobs, chunksize=DRAWS_PER_TASK)


def _worker_context() -> multiprocessing.context.BaseContext:
    """Fork where there is fork, as torch's DataLoader does.

    The children only run numpy and PIL; spawn would re-run the caller's main module (impossible for
    a script read from stdin).
    """
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def default_workers(num_images: int) -> int:
    """One drawing process per core this process may use, each with at least IMAGES_PER_WORKER images."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, math.ceil(num_images / IMAGES_PER_WORKER)))


def _jpeg_bytes(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels, mode="RGB").save(
        buf, format="JPEG", quality=JPEG_QUALITY, subsampling=JPEG_SUBSAMPLING
    )
    return buf.getvalue()


def synthesize(
    out: Path,
    seed: int = 0,
    num_images: int = 210,
    image_size: int = 256,
    progress: bool = True,
    rsvqa: bool = True,
    questions_per_image: int = DEFAULT_QUESTIONS_PER_IMAGE,
    workers: int | None = None,
    rsivqa: bool = True,
) -> SynthSummary:
    """Generate ``num_images`` scenes: dataset.json, images, scenes.jsonl (and rsvqa_lr/, rsivqa_ucm/).

    Any ``num_images >= 21`` covers every class; ``num_images >= 210`` puts every class in every split.
    The scenes are drawn by ``workers`` processes (default: one per core, for 32+ images each); the
    files do not depend on it.
    """
    if num_images < 1:
        raise ValueError(f"num_images must be >= 1, got {num_images}")
    if image_size < 32:
        raise ValueError(f"image_size must be >= 32 px, got {image_size}")
    out = Path(out)
    img_dir = out / "ucm_captions" / "imgs"
    img_dir.mkdir(parents=True, exist_ok=True)
    classes = assign_classes(seed, num_images)
    splits = assign_splits(seed, classes)
    vqa = RsvqaWriter(out, questions_per_image) if rsvqa else None
    ivqa = RsivqaWriter(out) if rsivqa else None

    records: list[dict[str, Any]] = []
    scene_lines: list[str] = []
    sentid = 0
    drawn = _drawn_images(
        seed,
        classes,
        image_size,
        questions_per_image if rsvqa else None,
        default_workers(num_images) if workers is None else workers,
    )
    for i, image in enumerate(
        progress_bar(drawn, f"synthesising {num_images} scenes", enabled=progress, total=num_images)
    ):
        scene = image.scene
        filename = f"{i + 1}.jpg"
        scene.image_id, scene.filename, scene.split = i, filename, splits[i]
        (img_dir / filename).write_bytes(image.jpeg)
        sentences = []
        for raw in image.captions:
            sentences.append({"tokens": tokens(raw), "raw": raw, "imgid": i, "sentid": sentid})
            sentid += 1
        records.append(
            {
                "filename": filename,
                "imgid": i,
                "split": splits[i],
                "sentids": [s["sentid"] for s in sentences],
                "sentences": sentences,
            }
        )
        scene_lines.append(json.dumps(scene.to_dict(), sort_keys=True))
        if vqa is not None and image.questions is not None:
            vqa.add(scene, image.pixels, image.questions)
        if ivqa is not None:  # drawn here, not in the workers: a few lookups in the scene graph
            ivqa.add(scene, draw_rsivqa_questions(scene, _rng(seed, RSIVQA_STREAM, i)))

    ucm = out / "ucm_captions"
    (ucm / "dataset.json").write_text(json.dumps({"images": records, "dataset": "UCM"}), encoding="utf-8")
    (out / "scenes.jsonl").write_text("\n".join(scene_lines) + "\n", encoding="utf-8")
    return SynthSummary(
        root=out,
        num_images=num_images,
        split_counts={s: splits.count(s) for s in SPLITS},
        class_counts={c: classes.count(c) for c in UCM_CLASSES},
        rsvqa=vqa.close() if vqa is not None else None,
        rsivqa=ivqa.close() if ivqa is not None else None,
    )
