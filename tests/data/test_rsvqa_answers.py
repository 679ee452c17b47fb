"""Question typing, side-word remapping under flips/turns, and relational-question detection."""

import itertools
import json

import pytest
import torch

from spatialnet.data.rsvqa.answers import is_relational, normalize_answer, question_type, remap_sides
from spatialnet.data.synthetic.scene_graph import SceneObject, direction

SIZE = 100.0


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Is it a rural or an urban area", "rural_urban"),
        ("How many rectangular residential buildings are there in the image?", "count"),
        ("What is the amount of roads at the bottom of a circular grass area?", "count"),
        ("What is the number of roads next to a water area?", "count"),
        ("Are there more forests than residential buildings?", "comp"),
        ("Are there less buildings than grass areas?", "comp"),
        ("Is the number of water areas equal to the number of roads?", "comp"),
        ("Is there a small heath?", "presence"),
        ("Is a circular residential building present?", "presence"),
    ],
)
def test_question_type_of_the_dataset_templates(question, kind):
    assert question_type(question) == kind


def test_question_type_matches_every_real_question(shared_data):
    folder = shared_data / "rsvqa_lr" / "questions_text"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent (real RSVQA-LR question texts)")
    rows = [
        row for name in ("val_qa.json", "test_qa.json") for row in json.loads((folder / name).read_text())
    ]
    assert len(rows) > 20_000
    assert [r["question"] for r in rows if question_type(r["question"]) != r["type"]] == []


def test_normalize_answer_bins_raw_numbers():
    assert [normalize_answer(a) for a in ("0", " 7 ", "403", "Yes", "between 0 and 10")] == [
        "0",
        "between 0 and 10",
        "between 100 and 1000",
        "yes",
        "between 0 and 10",
    ]


def test_relational_questions_are_detected_by_whole_words():
    assert is_relational("What is the number of roads at the left of a water area?")
    assert is_relational("Is there a building at the Top of a road?")
    assert not is_relational("Is there a bottomland?")  # not a side word
    assert not is_relational("How many buildings are there?")


def test_remap_sides_examples():
    question = "Are there roads at the left of a forest and at the top of a water area?"
    assert remap_sides(question, hflip=True, vflip=False, quarter_turns=0) == (
        "Are there roads at the right of a forest and at the top of a water area?"
    )
    assert remap_sides(question, hflip=False, vflip=True, quarter_turns=0) == (
        "Are there roads at the left of a forest and at the bottom of a water area?"
    )
    assert remap_sides(question, hflip=False, vflip=False, quarter_turns=1) == (
        "Are there roads at the bottom of a forest and at the left of a water area?"
    )
    assert remap_sides("How many roads?", True, True, 3) == "How many roads?"


def _square(ident: int, x: float, y: float, side: float = 10.0) -> SceneObject:
    polygon = [(x, y), (x + side, y), (x + side, y + side), (x, y + side)]
    return SceneObject(
        id=ident, kind="building", polygon=polygon, shape="square", size="small", rgb=(0, 0, 0)
    )


def _transform(obj: SceneObject, hflip: bool, vflip: bool, turns: int) -> SceneObject:
    """The object's polygon moved as the image pixels move (flip x, flip y, then torch.rot90 turns)."""

    def move(point):
        x, y = point
        if hflip:
            x = SIZE - x
        if vflip:
            y = SIZE - y
        for _ in range(turns):  # torch.rot90(k=1, dims=(-2, -1)): column x becomes row SIZE - x
            x, y = y, SIZE - x
        return (x, y)

    return SceneObject(obj.id, obj.kind, [move(p) for p in obj.polygon], obj.shape, obj.size, obj.rgb)


def test_rot90_convention_matches_the_coordinate_transform():
    image = torch.zeros(1, 100, 100)
    image[0, 45:55, 0:10] = 1  # a block at the left edge
    turned = torch.rot90(image, 1, dims=(-2, -1))
    rows, cols = torch.nonzero(turned[0], as_tuple=True)
    moved = _transform(_square(0, 0, 45), False, False, 1)
    xs = [p[0] for p in moved.polygon]
    ys = [p[1] for p in moved.polygon]
    assert (int(cols.min()), int(cols.max()) + 1) == (round(min(xs)), round(max(xs)))
    assert (int(rows.min()), int(rows.max()) + 1) == (round(min(ys)), round(max(ys)))


@pytest.mark.parametrize(
    ("hflip", "vflip", "turns"), list(itertools.product([False, True], [False, True], range(4)))
)
def test_remapped_sides_stay_true_after_every_flip_and_turn(hflip, vflip, turns):
    anchor = _square(0, 45, 45)
    others = [
        _square(i + 1, x, y)
        for i, (x, y) in enumerate([(5, 45), (80, 45), (45, 5), (45, 80), (5, 5), (80, 80)])
    ]
    moved_anchor = _transform(anchor, hflip, vflip, turns)
    for other in others:
        sides = direction(other, anchor)
        remapped = {remap_sides(side, hflip, vflip, turns) for side in sides}
        assert remapped == direction(_transform(other, hflip, vflip, turns), moved_anchor)
