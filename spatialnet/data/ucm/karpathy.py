"""Karpathy-style caption annotations (``dataset.json``), read once for the dataset and the evaluator.

Format: ``{"images": [{"filename", "imgid", "split", "sentences": [{"raw", "tokens"}, ...]}]}``.
Only ``raw`` is used: UCM's ``tokens`` lists carry typos absent from ``raw``, and the reference
tokenizer (PTB) must see what the annotators wrote. Torch-free, so the caption evaluator stays light.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spatialnet.errors import DataError


@dataclass(frozen=True)
class CaptionRecord:
    """One image of the annotation file."""

    filename: str
    imgid: int
    split: str
    captions: list[str]


def read_json(path: Path, expected: str) -> Any:
    """Parse a UTF-8 JSON file; errors name the file, the place and what was expected."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise DataError(f"{path}: no such file (expected {expected})") from err
    except IsADirectoryError as err:
        raise DataError(f"{path}: is a directory (expected a JSON file holding {expected})") from err
    except UnicodeDecodeError as err:
        raise DataError(
            f"{path}: not UTF-8 text (byte 0x{err.object[err.start]:02x} at offset {err.start}); "
            f"expected a JSON file holding {expected}"
        ) from err
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(
            f"{path}: invalid JSON at line {err.lineno} column {err.colno} ({err.msg}); expected {expected}"
        ) from err


def read_records(path: Path) -> list[CaptionRecord]:
    """Every image record of ``dataset.json``, validated (filename, integer imgid, split, raw sentences)."""
    return parse_records(read_karpathy(path), path)


def read_karpathy(path: Path) -> Any:
    """The parsed ``dataset.json`` (validate it with :func:`parse_records`)."""
    return read_json(path, 'a Karpathy-style {"images": [...]} object')


def parse_records(data: Any, path: Path) -> list[CaptionRecord]:
    """The image records of parsed ``dataset.json`` content ``data`` (``path`` names it in errors)."""
    images = data.get("images") if isinstance(data, dict) else None
    if not isinstance(images, list):
        raise DataError(f"{path}: expected a top-level object with an 'images' list (Karpathy format)")
    records: list[CaptionRecord] = []
    for i, raw in enumerate(images):
        where = f"{path}: images[{i}]"
        if not isinstance(raw, dict):
            raise DataError(f"{where} must be an object, got {type(raw).__name__}")
        for key in ("filename", "split"):
            if not isinstance(raw.get(key), str) or not raw[key]:
                raise DataError(f"{where} has no '{key}' string (got {raw.get(key)!r})")
        imgid = raw.get("imgid")
        if not isinstance(imgid, int) or isinstance(imgid, bool):
            raise DataError(f"{where} ({raw['filename']}) has no integer 'imgid' (got {imgid!r})")
        records.append(
            CaptionRecord(
                raw["filename"], imgid, raw["split"], raw_sentences(raw.get("sentences", []), where)
            )
        )
    return records


def split_records(records: list[CaptionRecord], split: str, path: Path) -> list[CaptionRecord]:
    """Records of ``split``; an unknown split lists the available ones."""
    chosen = [r for r in records if r.split == split]
    if not chosen:
        available = sorted({r.split for r in records})
        raise DataError(
            f"{path}: no images in split '{split}'; available splits: {', '.join(available) or 'none'}"
        )
    return chosen


def raw_sentences(sentences: Any, where: str) -> list[str]:
    """The ``raw`` strings of a record's ``sentences`` list."""
    if not isinstance(sentences, list):
        raise DataError(f"{where}: 'sentences' must be a list")
    captions: list[str] = []
    for j, sentence in enumerate(sentences):
        raw = sentence.get("raw") if isinstance(sentence, dict) else None
        if not isinstance(raw, str):
            raise DataError(f"{where}: sentences[{j}] has no 'raw' string")
        captions.append(raw)
    return captions
