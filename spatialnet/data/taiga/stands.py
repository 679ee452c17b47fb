"""The TAIGA stand tables: the official training/holdout set of each stand, and the excluded stands.

``taiga_forest_stand_data.csv`` has one row per stand (``standid``, stand-level variables and
``set`` = ``training`` | ``holdout``; 624 + 120 in the release); the split is stand-disjoint, so
this table decides which label pixels may be trained on. ``bad_stands_updated_15092020.csv``
(one ``standid`` column) lists stands the baseline excluded from the labels.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from spatialnet.errors import DataError

STANDS_CSV = "taiga_forest_stand_data.csv"
BAD_STANDS_CSV = "bad_stands_updated_15092020.csv"
STAND_SETS: tuple[str, ...] = ("training", "holdout")
WHERE = "the TAIGA release, DOI 10.23729/fe7ce882-8125-44e7-b0cf-ae652d7ed0d5"


@dataclass(frozen=True)
class StandSplit:
    """Stand ids of the official training and holdout sets."""

    training: frozenset[int]
    holdout: frozenset[int]

    def without(self, excluded: Iterable[int]) -> StandSplit:
        """The split with ``excluded`` stands (e.g. the bad stands) removed from both sets."""
        drop = frozenset(excluded)
        return StandSplit(self.training - drop, self.holdout - drop)


def _rows(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """The CSV's rows with their line numbers, after checking the file and its required columns."""
    if not path.is_file():
        raise DataError(f"{path}: file not found (from {WHERE})")
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        columns = [c.strip() for c in reader.fieldnames or []]
        missing = [c for c in required if c not in columns]
        if missing:
            raise DataError(f"{path}: missing column(s) {missing}; found {columns}")
        return [
            (reader.line_num, {k.strip(): (v or "").strip() for k, v in row.items() if k is not None})
            for row in reader
        ]


def _stand_id(path: Path, line: int, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise DataError(f"{path}, line {line}: standid {text!r} is not an integer") from None


def read_stand_split(path: str | os.PathLike[str]) -> StandSplit:
    """Read the official stand split from ``taiga_forest_stand_data.csv``."""
    p = Path(path)
    sets: dict[str, set[int]] = {name: set() for name in STAND_SETS}
    seen: set[int] = set()
    for line, row in _rows(p, ("standid", "set")):
        stand = _stand_id(p, line, row["standid"])
        if row["set"] not in sets:
            raise DataError(f"{p}, line {line}: set {row['set']!r}, expected one of {STAND_SETS}")
        if stand in seen:
            raise DataError(f"{p}, line {line}: stand {stand} is listed twice")
        seen.add(stand)
        sets[row["set"]].add(stand)
    return StandSplit(training=frozenset(sets["training"]), holdout=frozenset(sets["holdout"]))


def read_bad_stands(path: str | os.PathLike[str]) -> frozenset[int]:
    """Read the ids of the stands excluded from the labels."""
    p = Path(path)
    return frozenset(_stand_id(p, line, row["standid"]) for line, row in _rows(p, ("standid",)))
