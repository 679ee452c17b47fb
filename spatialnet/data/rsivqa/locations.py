"""RSIVQA's location answers rewritten for a flipped or turned photo, so locations train on every view.

A location answer names parts of the photo: "lower left", "left and right", "up, center and
bottom", "main diagonal", or nothing that turns ("center", "everywhere", "diagonal", "i cannot see
it"). Each part is read as the cells it covers of a 3 × 3 grid over the photo ("left" is the left
column, "upper right" one corner cell), the grid is flipped and turned exactly as the image is, and
the answer whose parts cover the moved cells is looked up among the answers written in training
data (the most frequent spelling: the files write both "up and bottom" and "top and bottom"). An
answer that cannot be read ("lower left diagonal and upper right") or whose moved form nobody wrote
gives None: that question is left out of that view, as before.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import cache

from spatialnet.data.question_sets import AnswerRewriter

Cell = tuple[int, int]
# One part of an answer: the cells it covers, or its words when no flip or turn changes it.
Part = frozenset[Cell] | str
Key = frozenset[Part]

_UP, _DOWN = frozenset({"up", "top", "upper"}), frozenset({"bottom", "lower", "down"})
_LEFT, _RIGHT = frozenset({"left"}), frozenset({"right"})
_SIDE_WORDS = _UP | _DOWN | _LEFT | _RIGHT
_FILLER = frozenset({"corner", "side", "part", "the", "of"})
_DIAGONALS: dict[str, frozenset[Cell]] = {
    "main diagonal": frozenset({(0, 0), (1, 1), (2, 2)}),
    "minor diagonal": frozenset({(0, 2), (1, 1), (2, 0)}),
}
_PART_SPLIT = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+")


def _part(text: str) -> Part | None:
    """The cells one part names, its words when it names no side, None when it cannot be read."""
    if text in _DIAGONALS:
        return _DIAGONALS[text]
    words = set(text.split())
    if not words & _SIDE_WORDS:
        return text
    if words - _SIDE_WORDS - _FILLER:
        return None  # "up center", "lower left diagonal": more than one place in one part
    rows = [r for r, side in ((0, _UP), (2, _DOWN)) if words & side]
    cols = [c for c, side in ((0, _LEFT), (2, _RIGHT)) if words & side]
    if len(rows) > 1 or len(cols) > 1:
        return None
    row_range = rows or [0, 1, 2]
    col_range = cols or [0, 1, 2]
    return frozenset((r, c) for r in row_range for c in col_range)


@cache  # answers repeat across items and epochs: each spelling is read once
def location_key(answer: str) -> Key | None:
    """An answer as the set of its parts, None when one of them cannot be read."""
    parts = [_part(p) for p in _PART_SPLIT.split(" ".join(answer.lower().split())) if p]
    if not parts or any(p is None for p in parts):
        return None
    return frozenset(p for p in parts if p is not None)


@cache
def _cell_moves(hflip: bool, vflip: bool, quarter_turns: int) -> dict[Cell, Cell]:
    """Where each cell of the 3 × 3 grid lands when the image is flipped and turned (the same function)."""
    import torch  # reading and scoring answers needs no torch

    from spatialnet.data.transforms import flip_and_turn

    grid = torch.arange(9).view(1, 3, 3)
    moved = flip_and_turn(grid, hflip, vflip, quarter_turns)[0]
    return {divmod(int(moved[r, c]), 3): (r, c) for r in range(3) for c in range(3)}


def move_key(key: Key, hflip: bool, vflip: bool, quarter_turns: int) -> Key:
    """The parts of an answer after the view's flips and turns."""
    moves = _cell_moves(hflip, vflip, quarter_turns % 4)
    return frozenset(p if isinstance(p, str) else frozenset(moves[c] for c in p) for p in key)


def location_rewriter(answers: Iterable[str]) -> AnswerRewriter:
    """A function giving an answer as it reads on a flipped/turned view, spelled as ``answers`` spell it.

    ``answers`` are the training split's location answers (with repeats: the most frequent
    spelling of each set of parts wins).
    """
    spellings: dict[Key, Counter[str]] = {}
    for answer in answers:
        key = location_key(answer)
        if key is not None:
            spellings.setdefault(key, Counter())[answer] += 1
    written = {key: counts.most_common(1)[0][0] for key, counts in spellings.items()}

    def rewrite(answer: str, hflip: bool, vflip: bool, quarter_turns: int) -> str | None:
        key = location_key(answer)
        if key is None:
            return None
        moved = move_key(key, hflip, vflip, quarter_turns)
        return answer if moved == key else written.get(moved)

    return rewrite
