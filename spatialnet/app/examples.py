"""The app's examples: real validation images and questions from the model's own data folders.

Only the folders the recipe's data roots name are read (a joint recipe's datasets may each have
their own root, or inherit ``data.root``); nothing else on the machine is. Each dataset format
that has a validation split the app can show is listed in :data:`FINDERS`: UCM-captions photos for
the Caption tab, and for the Ask tab RSIVQA's questions on their UC Merced photos and RSVQA-LR's
on their Sentinel-2 tiles, one per question type of the set. Where a set finds none, its template
questions go with a few images of the data folders, as before real examples existed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from spatialnet.app.set_notes import TEMPLATE_QUESTIONS
from spatialnet.config import DataConfig, SourceConfig
from spatialnet.data.question_sets import question_set
from spatialnet.data.registry import dataset_question_set
from spatialnet.errors import SpatialNetError

LOG = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Found:
    """What one dataset folder offers: images to describe and (image, question) pairs to ask."""

    images: list[Path] = field(default_factory=list)
    questions: list[tuple[Path, str]] = field(default_factory=list)


@dataclass(frozen=True)
class AppExamples:
    """Examples for the tabs: Caption images, and per question set (image, question) rows.

    ``real`` names the question sets whose rows are real questions of a validation split.
    """

    images: list[str]
    questions: dict[str, list[tuple[str | None, str]]]
    real: frozenset[str] = frozenset()


def spread(items: Sequence[T], count: int) -> list[T]:
    """``count`` items evenly spread over ``items`` (all of them when there are fewer)."""
    if len(items) <= count:
        return list(items)
    return [items[i * len(items) // count] for i in range(count)]


def ucm_photos(config: DataConfig, limit: int) -> Found:
    """Photos of the UCM-captions validation split (one spread over the land-use classes)."""
    from spatialnet.data.ucm.dataset import resolve_root
    from spatialnet.data.ucm.karpathy import read_records

    root = resolve_root(str(config.root))
    annotations = root / "dataset.json"
    if not annotations.is_file():
        return Found()
    records = [r for r in read_records(annotations) if r.split == config.val_split]
    photos = [root / "imgs" / r.filename for r in records]
    return Found(images=spread([p for p in photos if p.is_file()], limit))


def rsivqa_questions(config: DataConfig, limit: int) -> Found:
    """RSIVQA questions of validation photos, one per question type, each with its photo."""
    from spatialnet.data.rsivqa.dataset import UCM_FOLDER, resolve_root
    from spatialnet.data.rsivqa.files import read_split
    from spatialnet.data.ucm.dataset import resolve_root as resolve_ucm_root

    root = resolve_root(str(config.root))
    images = resolve_ucm_root(config.images if config.images is not None else root.parent / UCM_FOLDER)
    files = [root / name for name in config.question_files if (root / name).is_file()]
    annotations = images / "dataset.json"
    if not files or not annotations.is_file():
        return Found()
    split = read_split(files, annotations, config.val_split)
    asked = [
        (images / "imgs" / record.filename, question)
        for record, questions in zip(split.records, split.questions, strict=True)
        for question in questions
    ]
    return Found(questions=_one_per_type("rsivqa", asked, limit))


def rsvqa_questions(config: DataConfig, limit: int) -> Found:
    """RSVQA-LR questions of validation tiles on this machine, one per question type."""
    from spatialnet.data.rsvqa.dataset import resolve_root
    from spatialnet.data.rsvqa.files import image_file, read_questions, split_files

    root = resolve_root(str(config.root))
    path = split_files(root, config.val_split)["questions"]
    if not path.is_file():
        return Found()
    asked = [(image_file(root, row.image_id), row) for row in read_questions(path)]
    return Found(questions=_one_per_type("rsvqa_lr", asked, limit))


class _Question(Protocol):
    """A question row as both readers give it: its text and its type."""

    @property
    def question(self) -> str: ...  # noqa: D102

    @property
    def type(self) -> str: ...  # noqa: D102


def _one_per_type(name: str, asked: Sequence[tuple[Path, _Question]], limit: int) -> list[tuple[Path, str]]:
    """Up to ``limit`` questions in set ``name``'s type order, on images that are here, spread apart."""
    here = [(image, row) for image, row in asked if image.is_file()]
    chosen: list[tuple[Path, str]] = []
    types = question_set(name).types
    for position, kind in enumerate(types):
        of_type = [(image, row.question) for image, row in here if row.type == kind]
        if of_type:  # a different stretch of the split for each type: other images
            chosen.append(of_type[position * len(of_type) // len(types)])
    return chosen[:limit]


# dataset format (``data.dataset``) -> what its validation split offers the app
FINDERS: dict[str, Callable[[DataConfig, int], Found]] = {
    "ucm_captions": ucm_photos,
    "ucm_landuse": ucm_photos,
    "rsivqa": rsivqa_questions,
    "rsvqa_lr": rsvqa_questions,
}


def find_examples(sources: dict[str, SourceConfig], sets: Sequence[str], limit: int = 4) -> AppExamples:
    """Examples from ``sources``' data folders for the Caption tab and each question set in ``sets``."""
    images: list[str] = []
    questions: dict[str, list[tuple[str | None, str]]] = {}
    for source in sources.values():
        data = source.data
        finder = FINDERS.get(data.dataset)
        if finder is None or data.root is None:
            continue
        try:
            found = finder(data, limit)
        except (SpatialNetError, OSError, ValueError) as err:  # a damaged file costs its examples only
            LOG.warning("no examples from %s (%s): %s", data.dataset, data.root, err)
            continue
        images += [str(p) for p in found.images]
        asked = dataset_question_set(data.dataset)
        if asked is not None and asked in sets and found.questions:
            questions.setdefault(asked, []).extend((str(p), q) for p, q in found.questions)
    real = frozenset(questions)
    fallback = folder_images(sources)
    for name in sets:
        if name not in questions:
            image = fallback[-1] if fallback else None
            questions[name] = [(image, q) for q in TEMPLATE_QUESTIONS.get(name, ())]
    ordered = {name: questions[name] for name in sets}
    return AppExamples(list(dict.fromkeys(images)) or fallback, ordered, real)


def folder_images(sources: dict[str, SourceConfig], limit: int = 3) -> list[str]:
    """The first few images of each data folder's image directory, when it is on this machine."""
    found: list[str] = []
    for source in sources.values():
        if source.data.root is None:
            continue
        root = Path(source.data.root)
        for folder in (
            root / "ucm_captions" / "imgs",
            root / "imgs",
            root / "rsvqa_lr" / "Images_LR",
            root / "Images_LR",
        ):
            if folder.is_dir():
                found += [str(p) for p in sorted(folder.iterdir())[:limit]]
                break
    return list(dict.fromkeys(found))[: 2 * limit]
