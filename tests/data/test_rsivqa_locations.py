"""RSIVQA's location answers rewritten for flipped and turned views of the photo."""

from __future__ import annotations

import itertools

import pytest
import torch

from spatialnet.data.rsivqa.locations import location_key, location_rewriter
from spatialnet.data.transforms import flip_and_turn

VIEWS = list(itertools.product([False, True], [False, True], range(4)))
CORNERS = {"upper left": (0, 0), "upper right": (0, 2), "lower left": (2, 0), "lower right": (2, 2)}
SIDES = {"up": (0, 1), "bottom": (2, 1), "left": (1, 0), "right": (1, 2)}


def _where_it_lands(cell: tuple[int, int], view: tuple[bool, bool, int]) -> tuple[int, int]:
    """The 3 × 3 cell a marker at ``cell`` of a 30 px image lands in after the view."""
    image = torch.zeros(1, 30, 30)
    image[0, cell[0] * 10 + 5, cell[1] * 10 + 5] = 1
    row, col = (int(i) for i in torch.nonzero(flip_and_turn(image, *view)[0])[0])
    return row // 10, col // 10


@pytest.mark.parametrize("view", VIEWS)
def test_corners_and_sides_follow_the_image(view: tuple[bool, bool, int]) -> None:
    for names in (CORNERS, SIDES):
        rewrite = location_rewriter(names)
        for answer, cell in names.items():
            landed = _where_it_lands(cell, view)
            assert rewrite(answer, *view) == next(a for a, c in names.items() if c == landed)


@pytest.mark.parametrize("view", VIEWS)
def test_answers_that_no_view_changes_stay_as_written(view: tuple[bool, bool, int]) -> None:
    rewrite = location_rewriter([])
    for answer in ("center", "i cannot see it", "everywhere", "diagonal", "four corners", "middle of road"):
        assert rewrite(answer, *view) == answer


def test_a_moved_answer_takes_the_most_frequent_spelling_of_the_training_answers() -> None:
    rewrite = location_rewriter(["up and bottom", "up and bottom", "top and bottom", "left and right"])
    assert rewrite("left and right", False, False, 1) == "up and bottom"
    assert rewrite("top and bottom", False, True, 0) == "top and bottom"  # in place: as written
    assert rewrite("lower left and upper right", True, False, 0) is None  # nobody wrote where it went
    rewrite = location_rewriter(["upper left and lower right", "lower left and upper right"])
    assert rewrite("lower left and upper right", True, False, 0) == "upper left and lower right"
    assert location_rewriter(["minor diagonal"])("main diagonal", True, False, 0) == "minor diagonal"


@pytest.mark.parametrize(
    ("answer", "readable"),
    [
        ("up, center and bottom", True),
        ("Lower  Left", True),
        ("top left corner", True),
        ("up center and bottom", False),  # two places in one part
        ("lower left diagonal and upper right", False),
        ("left and right side", True),
    ],
)
def test_answers_are_read_part_by_part(answer: str, readable: bool) -> None:
    assert (location_key(answer) is not None) == readable
    assert location_key("top left corner") == location_key("upper left")
    assert location_key("left, center and right") == location_key("center and left and right")
