"""Prediction files must cover a split exactly: one shared check and its messages.

Scores over a subset are not comparable (CIDEr's IDF and every accuracy depend on the set), so
the caption and VQA evaluators refuse missing, extra and duplicated ids, listing them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from typing import TypeGuard

from spatialnet.errors import DataError

MAX_LISTED = 10


def check_same_ids(expected: Collection[int], given: Iterable[int], source: str, what: str) -> None:
    """Raise DataError unless ``given`` holds each id of ``expected`` exactly once.

    ``what`` names the ids in the message, e.g. "image ids must match the 210 reference images".
    """
    seen = Counter(given)
    problems = [
        f"{label} {listed(ids)}"
        for label, ids in (
            ("missing", sorted(set(expected) - set(seen))),
            ("extra", sorted(set(seen) - set(expected))),
            ("duplicated", sorted(i for i, n in seen.items() if n > 1)),
        )
        if ids
    ]
    if problems:
        raise DataError(f"{source}: {what} exactly; " + "; ".join(problems))


def listed(ids: Sequence[int]) -> str:
    """A count and the first few ids: "3 ids [4, 7, 9]"."""
    shown = ", ".join(str(i) for i in ids[:MAX_LISTED])
    return f"{len(ids)} id{'s' if len(ids) != 1 else ''} [{shown}{', ...' if len(ids) > MAX_LISTED else ''}]"


def is_int(value: object) -> TypeGuard[int]:
    """An integer that is not a bool (JSON true would otherwise pass as id 1)."""
    return isinstance(value, int) and not isinstance(value, bool)
