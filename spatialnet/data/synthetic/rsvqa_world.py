"""The synthetic world as RSVQA-LR: the same scenes and pixels, written in the official file format.

Layout under ``DIR/rsvqa_lr`` (as Zenodo record 6344334): ``Images_LR/{id}.tif`` (uncompressed
RGB uint8 TIFF of the rendered pixels, before the UCM JPEG step) and
``LR_split_{train,val,test}_{images,questions,answers}.json``. Every split file lists all rows
with the row at position ``i`` having id ``i``; rows of other splits are ``{"id": i, "active":
false}``. Image ``i`` is UCM image ``{i + 1}.jpg`` and keeps its split. Question and answer ids
are shared (answer ``i`` answers question ``i``), numbered in image order. Fields that are
timestamps in the real files hold the fixed DATE_ADDED so the same seed gives the same bytes.
Questions come from :mod:`spatialnet.data.synthetic.questions`; each image's contrast scene and
questions are drawn from the generator the caller passes in (world.py: its QUESTION_STREAM).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from spatialnet.data.rsvqa.answers import QUESTION_TYPES
from spatialnet.data.synthetic.defaults import DEFAULT_QUESTIONS_PER_IMAGE
from spatialnet.data.synthetic.layouts import layout
from spatialnet.data.synthetic.questions import Question, generate_questions, question_quotas
from spatialnet.data.synthetic.scene_graph import Scene
from spatialnet.data.ucm.classes import UCM_CLASSES

RSVQA_DIR = "rsvqa_lr"
IMAGES_DIR = "Images_LR"
SPLITS: tuple[str, ...] = ("train", "val", "test")
DATE_ADDED = 0.0  # the real files hold creation times; a constant keeps the output reproducible
PEOPLE_ID = 0  # the real files use 0 for generated questions
SENSOR = "synthetic"
UCM_METRES_PER_PX = 0.3048  # layouts use UCM's 1 ft/px at 256 px


@dataclass
class RsvqaSummary:
    """What was written: folder, questions per split and type, and the questions of each split."""

    root: Path
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    questions: dict[str, list[Question]] = field(default_factory=dict)

    @property
    def num_questions(self) -> int:
        """All questions over all splits."""
        return sum(sum(c.values()) for c in self.counts.values())


def draw_questions(scene: Scene, rng: np.random.Generator, questions_per_image: int) -> list[Question]:
    """The questions of ``scene``, balanced against a contrast scene drawn from ``rng``."""
    return generate_questions(scene, contrast_scene(scene, rng), rng, questions_per_image)


def contrast_scene(scene: Scene, rng: np.random.Generator) -> Scene:
    """An independent scene of a uniformly drawn other class, at the same size.

    Images have uniformly distributed classes, so (image class, contrast class) is a uniform ordered
    pair of distinct classes and the two scenes are exchangeable, which the balance rule of
    questions.py needs. Another class, not any class: two scenes of one class often differ in
    nothing a question can state, which would leave the image without questions.
    """
    others = [c for c in UCM_CLASSES if c != scene.landuse]
    return layout(others[int(rng.integers(len(others)))], rng, scene.image_size)


class RsvqaWriter:
    """Collects scenes one at a time (writing each TIFF at once) and writes the split files on close."""

    def __init__(self, out: Path, questions_per_image: int = DEFAULT_QUESTIONS_PER_IMAGE) -> None:
        question_quotas(questions_per_image)  # fail before any file is written
        self.root = Path(out) / RSVQA_DIR
        self.questions_per_image = questions_per_image
        (self.root / IMAGES_DIR).mkdir(parents=True, exist_ok=True)
        self._images: list[tuple[Scene, list[int]]] = []
        self._questions: list[tuple[int, Question]] = []  # (image id, question), position = id

    def add(self, scene: Scene, pixels: np.ndarray, questions: list[Question]) -> None:
        """Write image ``scene.image_id`` (ids must come in order 0, 1, ...) with its questions."""
        if scene.image_id != len(self._images):
            raise ValueError(
                f"RSVQA images must be added in id order: got {scene.image_id}, expected {len(self._images)}"
            )
        if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
            raise ValueError(f"pixels must be H×W×3 uint8, got {pixels.shape} {pixels.dtype}")
        tifffile.imwrite(
            self.root / IMAGES_DIR / f"{scene.image_id}.tif", pixels, photometric="rgb", metadata=None
        )
        first = len(self._questions)
        self._questions += [(scene.image_id, q) for q in questions]
        self._images.append((scene, list(range(first, len(self._questions)))))

    def close(self) -> RsvqaSummary:
        """Write the nine split files and summarise them."""
        summary = RsvqaSummary(root=self.root)
        image_split = [scene.split for scene, _ in self._images]
        for split in SPLITS:
            images = [
                self._image_row(scene, ids) if scene.split == split else _inactive(scene.image_id)
                for scene, ids in self._images
            ]
            active = [image_split[img] == split for img, _ in self._questions]
            questions = [
                self._question_row(i, img, q) if on else _inactive(i)
                for i, ((img, q), on) in enumerate(zip(self._questions, active, strict=True))
            ]
            answers = [
                _row(i, question_id=i, people_id=PEOPLE_ID, answer=q.answer) if on else _inactive(i)
                for i, ((_, q), on) in enumerate(zip(self._questions, active, strict=True))
            ]
            for kind, rows in (("images", images), ("questions", questions), ("answers", answers)):
                _write_rows(self.root / f"LR_split_{split}_{kind}.json", kind, rows)
            chosen = [q for (_, q), on in zip(self._questions, active, strict=True) if on]
            summary.questions[split] = chosen
            found = Counter(q.type for q in chosen)
            summary.counts[split] = {t: found.get(t, 0) for t in QUESTION_TYPES}
        return summary

    @staticmethod
    def _image_row(scene: Scene, question_ids: list[int]) -> dict[str, Any]:
        res = f"{round(UCM_METRES_PER_PX * 256 / scene.image_size, 2):g}m"
        return _row(
            scene.image_id,
            original_name=scene.filename,
            sensor=SENSOR,
            res_x=res,
            res_y=res,
            people_id=PEOPLE_ID,
            type="RGB",
            questions_ids=question_ids,
        )

    @staticmethod
    def _question_row(qid: int, image_id: int, q: Question) -> dict[str, Any]:
        return _row(
            qid, img_id=image_id, people_id=PEOPLE_ID, type=q.type, question=q.question, answers_ids=[qid]
        )


def _row(row_id: int, **fields: Any) -> dict[str, Any]:
    """An active row in the real files' key order: id, date_added, fields..., active."""
    return {"id": row_id, "date_added": DATE_ADDED, **fields, "active": True}


def _inactive(row_id: int) -> dict[str, Any]:
    return {"id": row_id, "active": False}


def _write_rows(path: Path, key: str, rows: list[dict[str, Any]]) -> None:
    # Indented and without a final newline, like the real files.
    path.write_text(json.dumps({key: rows}, indent=4), encoding="utf-8")
