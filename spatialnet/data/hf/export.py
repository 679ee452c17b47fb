"""UCM-captions, RSVQA-LR and synthetic worlds written as Hugging Face datasets (``spatialnet export``).

Each image is stored as its file's bytes (a ``datasets.Image`` column whose ``path`` is the file
name), never re-encoded, so pixels round-trip exactly. Column names are the ones the ``hf_*``
readers look for, so an export trains with ``data.dataset: hf_captions`` / ``hf_vqa`` and no
column options. Splits are a ``DatasetDict`` saved with ``save_to_disk``, or one
``<split>.parquet`` file each.

- UCM-captions, one row per image: ``image, filename, imgid, sentids, sentences`` (the ``raw``
  strings), ``tokens`` (as annotated, typos included), ``label`` (a ``ClassLabel`` of the 21
  classes, by file number or ``scenes.jsonl``, unless labels are turned off).
- RSVQA-LR, one row per image (a tile is stored once, not once per question): ``image, image_id,
  original_name`` and the lists ``question_id, question, question_type, answer`` (answers as
  stored: counts raw). Questions whose tile is absent are skipped and counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import datasets

from spatialnet.data.rsvqa.files import (
    IMAGES_DIR,
    SPLITS,
    VQAImage,
    VQAQuestion,
    read_images,
    read_qa_text,
    read_split,
    split_files,
)
from spatialnet.data.ucm.classes import UCM_CLASSES
from spatialnet.data.ucm.karpathy import parse_records, read_karpathy
from spatialnet.data.ucm.landuse import landuse_labels, pick_label_source
from spatialnet.errors import DataError

KINDS = ("ucm_captions", "rsvqa_lr")  # the datasets a world folder holds, by folder name
Format = Literal["disk", "parquet"]
Labels = Literal["auto", "filename", "scenes", "none"]
QUESTIONS_TEXT = (
    "questions_text"  # derivative question files (answers binned), used when the official ones are absent
)

UCM_FEATURES = datasets.Features(
    {
        "image": datasets.Image(),
        "filename": datasets.Value("string"),
        "imgid": datasets.Value("int64"),
        "sentids": datasets.List(datasets.Value("int64")),
        "sentences": datasets.List(datasets.Value("string")),
        "tokens": datasets.List(datasets.List(datasets.Value("string"))),
        "label": datasets.ClassLabel(names=list(UCM_CLASSES)),
    }
)
RSVQA_FEATURES = datasets.Features(
    {
        "image": datasets.Image(),
        "image_id": datasets.Value("int64"),
        "original_name": datasets.Value("string"),
        "question_id": datasets.List(datasets.Value("int64")),
        "question": datasets.List(datasets.Value("string")),
        "question_type": datasets.List(datasets.Value("string")),
        "answer": datasets.List(datasets.Value("string")),
    }
)


@dataclass
class SplitCounts:
    """What one split of an export holds, and what it left out for want of image files."""

    images: int = 0
    questions: int = 0
    skipped_questions: int = 0  # RSVQA: questions whose tile is absent
    absent_images: int = 0  # RSVQA: active images of the split without a tile


@dataclass
class ExportSummary:
    """One exported dataset: where it went and its counts by split."""

    kind: str
    out: Path
    splits: dict[str, SplitCounts] = field(default_factory=dict)


# -- UCM-captions -----------------------------------------------------------------------------------
def ucm_dataset(root: Path, labels: Labels = "auto") -> datasets.DatasetDict:
    """The ``ucm_captions`` folder ``root`` (dataset.json + imgs/) as a DatasetDict, splits in file order."""
    path = root / "dataset.json"
    data = read_karpathy(path)
    records = parse_records(data, path)
    raw = data["images"]
    filenames = [r.filename for r in records]
    missing = [name for name in filenames if not (root / "imgs" / name).is_file()]
    if missing:
        raise DataError(
            f"{root / 'imgs'}: {len(missing)} of {len(filenames)} images listed in {path} are missing "
            f"({', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''})"
        )
    classes: list[int | None] = [None] * len(records)
    if labels != "none":
        source = pick_label_source(root, labels)
        classes = list(landuse_labels(root, filenames, source, path))
    features = UCM_FEATURES if labels != "none" else _without(UCM_FEATURES, "label")
    rows: dict[str, list[dict[str, Any]]] = {}
    for record, entry, label in zip(records, raw, classes, strict=True):
        sentences = entry.get("sentences", [])
        row: dict[str, Any] = {
            "image": {"bytes": (root / "imgs" / record.filename).read_bytes(), "path": record.filename},
            "filename": record.filename,
            "imgid": record.imgid,
            "sentids": _ints(entry.get("sentids", [s.get("sentid") for s in sentences])),
            "sentences": record.captions,
            "tokens": [list(s.get("tokens") or []) for s in sentences],
        }
        if label is not None:
            row["label"] = label
        rows.setdefault(record.split, []).append(row)
    return datasets.DatasetDict({split: _table(split_rows, features) for split, split_rows in rows.items()})


def _table(rows: list[dict[str, Any]], features: datasets.Features) -> datasets.Dataset:
    """Rows as a table with every column of ``features``, even without rows (a split of absent tiles)."""
    return datasets.Dataset.from_dict(
        {name: [row[name] for row in rows] for name in features}, features=features
    )


def _ints(values: Any) -> list[int]:
    """Sentence ids when every one is an integer, else none (they are optional in the format)."""
    ok = isinstance(values, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in values)
    return list(values) if ok else []


def _without(features: datasets.Features, name: str) -> datasets.Features:
    return datasets.Features({key: value for key, value in features.items() if key != name})


# -- RSVQA-LR ---------------------------------------------------------------------------------------
def rsvqa_dataset(
    root: Path, require_images: bool = False
) -> tuple[datasets.DatasetDict, dict[str, SplitCounts]]:
    """The ``rsvqa_lr`` folder ``root`` as a DatasetDict (the splits whose images file exists) and counts.

    Questions come from the official split files, or from ``questions_text/<split>_qa.json`` where
    those are absent. A question whose tile is not in ``Images_LR/`` is skipped and counted (with
    ``require_images``, refused).
    """
    splits: dict[str, datasets.Dataset] = {}
    counts: dict[str, SplitCounts] = {}
    for split in SPLITS:
        if not split_files(root, split)["images"].is_file():
            continue
        images, questions = _split_questions(root, split)
        by_image: dict[int, list[VQAQuestion]] = {image.id: [] for image in images}
        for question in questions:
            by_image[question.image_id].append(question)
        absent = [image for image in images if not image.path.is_file()]
        if require_images and absent:
            ids = [image.id for image in absent]
            raise DataError(
                f"{root / IMAGES_DIR}: {len(ids)} of {len(images)} '{split}' tiles missing (ids "
                f"{ids[:10]}{' ...' if len(ids) > 10 else ''}); without --require-images their "
                "questions are skipped"
            )
        rows = [_vqa_row(image, by_image[image.id]) for image in images if image.path.is_file()]
        counts[split] = SplitCounts(
            images=len(rows),
            questions=sum(len(row["question"]) for row in rows),
            skipped_questions=sum(len(by_image[image.id]) for image in absent),
            absent_images=len(absent),
        )
        splits[split] = _table(rows, RSVQA_FEATURES)
    if not splits:
        raise DataError(f"{root}: no LR_split_<split>_images.json; expected an RSVQA-LR folder")
    return datasets.DatasetDict(splits), counts


def _split_questions(root: Path, split: str) -> tuple[list[VQAImage], list[VQAQuestion]]:
    """Active images of the split and their questions (official files, else the derivative text file)."""
    files = split_files(root, split)
    if files["questions"].is_file() and files["answers"].is_file():
        data = read_split(root, split, require_images=False)
        return data.images, data.questions
    images = read_images(files["images"])
    text = root / QUESTIONS_TEXT / f"{split}_qa.json"
    if not text.is_file():
        return images, []
    active = {image.id for image in images}
    questions = []
    for row in read_qa_text(text):
        if row.image_id not in active:
            raise DataError(
                f"{text}: question {row.question_id} is about image {row.image_id}, which is not an active "
                f"image of {files['images'].name}"
            )
        questions.append(
            VQAQuestion.from_raw(row.question_id, row.image_id, row.type, row.question, row.answer)
        )
    return images, sorted(questions, key=lambda q: q.id)


def _vqa_row(image: VQAImage, questions: Sequence[VQAQuestion]) -> dict[str, Any]:
    return {
        "image": {"bytes": image.path.read_bytes(), "path": image.path.name},
        "image_id": image.id,
        "original_name": image.original_name,
        "question_id": [q.id for q in questions],
        "question": [q.question for q in questions],
        "question_type": [q.type for q in questions],
        "answer": [q.raw_answer for q in questions],
    }


# -- writing ----------------------------------------------------------------------------------------
def write_dataset(dataset: datasets.DatasetDict, out: Path, format: Format) -> None:
    """``save_to_disk`` into ``out``, or ``out/<split>.parquet`` per split; ``out`` must be new or empty."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DataError(f"{out}: exists and is not an empty folder; export into a new folder")
    if format == "disk":  # an empty split needs its one (empty) shard, or load_from_disk fails on it
        dataset.save_to_disk(
            str(out), num_shards={split: 1 if len(t) == 0 else None for split, t in dataset.items()}
        )
        return
    if format != "parquet":
        raise DataError(f"export format {format!r}; expected 'disk' or 'parquet'")
    out.mkdir(parents=True, exist_ok=True)
    for split, table in dataset.items():
        table.to_parquet(str(out / f"{split}.parquet"))


def export(
    source: Path,
    out: Path,
    format: Format = "disk",
    labels: Labels = "auto",
    require_images: bool = False,
    progress: bool = True,
) -> list[ExportSummary]:
    """Export a ``ucm_captions`` or ``rsvqa_lr`` folder to ``out``, or each of a world's to ``out/<name>``."""
    if not progress:
        datasets.disable_progress_bars()
    kind = dataset_kind(source)
    if kind is not None:
        targets = {kind: (source, out)}
    else:
        targets = {name: (source / name, out / name) for name in KINDS if dataset_kind(source / name) == name}
    if not targets:
        raise DataError(
            f"{source}: nothing to export; expected a UCM-captions folder (dataset.json + imgs/), an "
            "RSVQA-LR folder (LR_split_*_images.json + Images_LR/) or a world holding ucm_captions/ "
            "and rsvqa_lr/"
        )
    summaries = []
    for name, (root, target) in targets.items():
        summary = ExportSummary(name, target)
        if name == "ucm_captions":
            dataset = ucm_dataset(root, labels)
            summary.splits = {split: SplitCounts(images=len(table)) for split, table in dataset.items()}
        else:
            dataset, summary.splits = rsvqa_dataset(root, require_images)
        write_dataset(dataset, target, format)
        summaries.append(summary)
    return summaries


def dataset_kind(folder: Path) -> str | None:
    """``ucm_captions`` (a dataset.json), ``rsvqa_lr`` (an LR_split_*_images.json) or None."""
    if (folder / "dataset.json").is_file():
        return "ucm_captions"
    if any(split_files(folder, split)["images"].is_file() for split in SPLITS):
        return "rsvqa_lr"
    return None
