"""Land-use labels of UCM-captions images: the UC Merced numbering, or ``scenes.jsonl`` of a world.

Torch-free, so the dataset and the exporter (``spatialnet export``) label images the same way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from spatialnet.data.ucm.classes import IMAGES_PER_CLASS, UCM_CLASSES
from spatialnet.errors import DataError

SCENES_FILE = "scenes.jsonl"
LabelSource = Literal["auto", "filename", "scenes"]


def scenes_path(root: Path) -> Path:
    """The optional ``scenes.jsonl`` beside the ``ucm_captions`` folder ``root``."""
    return root.parent / SCENES_FILE


def pick_label_source(root: Path, requested: LabelSource) -> Literal["filename", "scenes"]:
    """Resolve ``auto`` to scenes.jsonl when present, else the filename rule."""
    if requested not in ("auto", "filename", "scenes"):
        raise DataError(f"label_source must be 'auto', 'filename' or 'scenes', got {requested!r}")
    path = scenes_path(root)
    if requested == "scenes" and not path.is_file():
        raise DataError(f"{path}: not found (label_source='scenes' needs it)")
    if requested == "auto":
        return "scenes" if path.is_file() else "filename"
    return requested


def landuse_labels(
    root: Path, filenames: Sequence[str], source: Literal["filename", "scenes"], annotation_path: Path
) -> list[int]:
    """The class index of each file: by its UC Merced number, or by its ``scenes.jsonl`` row."""
    if source == "scenes":
        return labels_from_scenes(scenes_path(root), filenames, annotation_path)
    return [label_from_filename(name, annotation_path) for name in filenames]


def labels_from_scenes(path: Path, filenames: Sequence[str], annotation_path: Path) -> list[int]:
    """``landuse_index`` of the scenes.jsonl row whose file name matches each record."""
    by_name: dict[str, int] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(f"{path}:{lineno}: not valid JSON ({err})") from err
        if not isinstance(row, dict) or not isinstance(row.get("filename"), str):
            raise DataError(f"{path}:{lineno}: expected an object with a 'filename' string")
        index = row.get("landuse_index")
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(UCM_CLASSES):
            raise DataError(
                f"{path}:{lineno}: 'landuse_index' must be an integer in 0..{len(UCM_CLASSES) - 1}, "
                f"got {index!r}"
            )
        name = row.get("landuse")
        if name is not None and name != UCM_CLASSES[index]:
            raise DataError(
                f"{path}:{lineno}: 'landuse' is {name!r} but landuse_index {index} is {UCM_CLASSES[index]!r}"
            )
        by_name[Path(row["filename"]).name] = index
    labels: list[int] = []
    for filename in filenames:
        key = Path(filename).name
        if key not in by_name:
            raise DataError(f"{path}: no row with filename '{key}' (listed in {annotation_path})")
        labels.append(by_name[key])
    return labels


def label_from_filename(filename: str, source: Path | str = "dataset.json") -> int:
    """UC Merced class index of ``N.ext`` ((N − 1) // 100); DataError naming the file otherwise."""
    stem = Path(filename).stem
    total = IMAGES_PER_CLASS * len(UCM_CLASSES)
    number = int(stem) if stem.isdigit() else 0
    if not 1 <= number <= total:
        raise DataError(
            f"{source}: cannot infer the land-use class of '{filename}' from its name "
            f"(expected N.<ext> with N in 1..{total}); put a scenes.jsonl beside the ucm_captions folder"
        )
    return (number - 1) // IMAGES_PER_CLASS
