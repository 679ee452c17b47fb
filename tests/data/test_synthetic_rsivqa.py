"""Tests of the synthetic world's RSIVQA output (rsivqa_world.py): exact answers, determinism, format."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spatialnet.cli.main import main
from spatialnet.data.rsivqa.files import read_question_lines, read_split
from spatialnet.data.synthetic import SynthSummary, synthesize
from spatialnet.data.synthetic.rsivqa_world import (
    CELL_NAMES,
    NAMED_CELL_SETS,
    NOT_SEEN,
    OBJECT_WORDS,
    THEME_WORDS,
    draw_rsivqa_questions,
    grid_cells,
    location_phrase,
    number_words,
)
from spatialnet.data.synthetic.scene_graph import Scene, SceneObject
from spatialnet.data.ucm.classes import UCM_CLASSES

N_IMAGES = 63  # three per class
SIZE = 128
TYPES_PER_IMAGE = ["theme", "presence", "presence", "count", "location"]
PLURAL_KIND = {plural: kind for kind, (_, plural) in OBJECT_WORDS.items()}
PRESENCE_KIND = {said: kind for kind, (said, _) in OBJECT_WORDS.items()}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[SynthSummary, list[dict[str, Any]]]:
    root = tmp_path_factory.mktemp("rsivqa_world")
    summary = synthesize(root, seed=4, num_images=N_IMAGES, image_size=SIZE, progress=False, rsvqa=False)
    scenes = [json.loads(line) for line in (root / "scenes.jsonl").read_text().splitlines()]
    return summary, scenes


def _object(oid: int, kind: str, x: float, y: float) -> SceneObject:
    """A 4 px square of ``kind`` centred on (x, y)."""
    square = [(x - 2, y - 2), (x + 2, y - 2), (x + 2, y + 2), (x - 2, y + 2)]
    return SceneObject(oid, kind, square, "square", "small", (0, 0, 0))


def _scene(objects: list[SceneObject], landuse: str = "harbor", size: int = 256) -> Scene:
    return Scene(size, landuse, UCM_CLASSES.index(landuse), "water", (0, 0, 255), objects)


def _lines(root: Path) -> list[str]:
    return (root / "rsivqa_ucm" / "ucm_res.txt").read_text(encoding="utf-8").splitlines()


# ---- words ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "zero"),
        (1, "one"),
        (13, "thirteen"),
        (20, "twenty"),
        (22, "twenty-two"),
        (61, "sixty-one"),
        (99, "ninety-nine"),
        (100, "one hundred"),
        (105, "one hundred five"),
        (233, "two hundred thirty-three"),
        (1000, "one thousand"),
        (2019, "two thousand nineteen"),
        (123_456, "one hundred twenty-three thousand four hundred fifty-six"),
    ],
)
def test_number_words(n: int, words: str) -> None:
    assert number_words(n) == words


def test_number_words_refuses_what_it_cannot_say() -> None:
    for n in (-1, 1_000_000):
        with pytest.raises(ValueError, match="0 <= n < 1,000,000"):
            number_words(n)


def test_every_class_has_a_theme_word() -> None:
    assert set(THEME_WORDS) == set(UCM_CLASSES)
    assert THEME_WORDS["agricultural"] == "farmland" and THEME_WORDS["airplane"] == "airport"
    assert THEME_WORDS["mobilehomepark"] == "mobile home park"


# ---- location on the 3 × 3 grid ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("centres", "phrase"),
    [
        ([], NOT_SEEN),
        ([(10, 10)], "upper left"),
        ([(128, 128), (130, 120)], "center"),  # two objects in one cell
        ([(10, 128), (250, 128)], "left and right"),
        ([(128, 10), (128, 250)], "up and bottom"),
        ([(250, 10), (10, 250)], "lower left and upper right"),  # left to right
        ([(10, 10), (250, 250)], "upper left and lower right"),
        ([(128, 10), (128, 128), (128, 250)], "up, center and bottom"),
        ([(10, 128), (128, 128), (250, 128)], "left, center and right"),
        ([(10, 10), (250, 10), (10, 250), (250, 250)], "four corners"),
        ([(10, 10), (128, 128), (250, 250)], "main diagonal"),
        ([(250, 10), (128, 128), (10, 250)], "minor diagonal"),
        ([(x, y) for x in (10, 128, 250) for y in (10, 128, 250)], "everywhere"),
        ([(10, 10), (128, 10), (250, 10), (128, 128)], None),  # four cells, no name: never asked
    ],
)
def test_location_phrase_of_known_layouts(centres: list[tuple[float, float]], phrase: str | None) -> None:
    objects = [_object(i, "boat", x, y) for i, (x, y) in enumerate(centres)]
    assert location_phrase(grid_cells(objects, 256)) == phrase


def test_a_centre_on_a_line_between_cells_belongs_to_the_lower_right_one() -> None:
    assert grid_cells([_object(0, "car", 32, 64)], 96) == {(2, 1)}  # lines at 32 and 64 px
    assert location_phrase(frozenset({(2, 1)})) == "bottom"


def test_cell_names_are_the_real_files_words(shared_data: Path) -> None:
    path = shared_data / "rsivqa_ucm" / "ucm_res.txt"
    if not path.is_file():
        pytest.skip(f"real RSIVQA absent: {path} not found (../shared/data)")
    real = read_question_lines(path)
    locations = {line.answer for line in real if line.type == "location"}
    assert {*CELL_NAMES.values(), *NAMED_CELL_SETS.values(), NOT_SEEN} <= locations
    words = {number_words(n) for n in range(100)}
    counts = {line.answer for line in real if line.type == "count"}
    vague = ("about ", "i don't know", "several")  # "about fifty": no exact count
    assert {a for a in counts if not a.startswith(vague)} <= words
    by_class: dict[str, set[str]] = {}
    for line in real:
        if line.type == "theme":
            by_class.setdefault(UCM_CLASSES[(line.image - 1) // 100], set()).add(line.answer)
    assert len(by_class) == 7
    for landuse, answers in by_class.items():
        assert THEME_WORDS[landuse] in answers, (landuse, answers)


# ---- questions of one scene ------------------------------------------------------------------------


def test_questions_of_a_hand_made_scene_are_exact() -> None:
    boats = [_object(i, "boat", x, 200) for i, x in enumerate((20, 30, 230))]
    scene = _scene([*boats, _object(3, "car", 128, 128)])
    truth = {"boat": "lower left and lower right", "car": "center"}
    answers: Counter[tuple[str, str]] = Counter()
    for seed in range(60):
        questions = draw_rsivqa_questions(scene, np.random.default_rng(seed))
        assert [q.type for q in questions] == TYPES_PER_IMAGE
        theme, first, second, count, location = questions
        assert (theme.question, theme.answer) == ("What is the theme of this picture?", "harbor")
        assert first.template != second.template  # two different objects
        for q in (first, second):
            kind = q.template.split("/")[1]
            assert q.question == f"Does this picture contain {OBJECT_WORDS[kind][0]}?"
            assert q.answer == ("yes" if kind in ("boat", "car") else "no")
        kind = count.template.split("/")[1]
        assert count.question == f"How many {OBJECT_WORDS[kind][1]} in the picture?"
        assert count.answer == {"boat": "three", "car": "one"}.get(kind, "zero")
        kind = location.template.split("/")[1]
        assert location.question == f"What is the location of the {OBJECT_WORDS[kind][1]} in this picture?"
        assert location.answer == truth.get(kind, NOT_SEEN)
        answers.update((q.type, q.answer) for q in (first, second, count, location))
    assert answers[("presence", "yes")] > 20 and answers[("presence", "no")] > 20
    assert answers[("count", "three")] and answers[("count", "zero")]
    assert answers[("location", "center")] and answers[("location", NOT_SEEN)]


def test_objects_a_person_calls_alike_are_not_asked_about() -> None:
    forest = SceneObject(
        0, "forest", [(0, 0), (256, 0), (256, 256), (0, 256)], "irregular", "large", (0, 0, 0)
    )
    homes = [_object(i, "mobile home", 20 + 20 * i, 40) for i in range(1, 4)]
    scene = _scene([forest, *homes, _object(9, "tree", 100, 100)], "mobilehomepark")
    for seed in range(40):
        for q in draw_rsivqa_questions(scene, np.random.default_rng(seed))[1:]:
            assert "trees" not in q.question and "buildings" not in q.question, q


# ---- the world ---------------------------------------------------------------------------------------


def test_file_holds_five_lines_per_image_in_the_real_format(
    world: tuple[SynthSummary, list[dict[str, Any]]],
) -> None:
    summary, scenes = world
    lines = read_question_lines(summary.root / "rsivqa_ucm" / "ucm_res.txt")
    assert len(lines) == 5 * N_IMAGES and [line.id for line in lines] == list(range(5 * N_IMAGES))
    for scene in scenes:
        mine = lines[5 * scene["image_id"] : 5 * scene["image_id"] + 5]
        assert [line.type for line in mine] == TYPES_PER_IMAGE
        assert {f"{line.image}.jpg" for line in mine} == {scene["filename"]}
    for raw in _lines(summary.root):
        assert re.fullmatch(r"\d+\.tif:[A-Z][a-z ]+\?[a-z][a-z ,-]*", raw), raw
    assert summary.rsivqa is not None and summary.rsivqa.num_questions == 5 * N_IMAGES
    for split, count in summary.split_counts.items():
        expected = {"theme": count, "presence": 2 * count, "count": count, "location": count}
        assert summary.rsivqa.counts[split] == expected


def test_answers_agree_with_the_scene_graphs(world: tuple[SynthSummary, list[dict[str, Any]]]) -> None:
    summary, scenes = world
    lines = read_question_lines(summary.root / "rsivqa_ucm" / "ucm_res.txt")
    answers: Counter[tuple[str, str]] = Counter()
    for line in lines:
        scene = scenes[line.image - 1]
        counts: dict[str, int] = scene["counts"]
        if line.type == "theme":
            assert line.answer == THEME_WORDS[scene["landuse"]]
        elif line.type == "presence":
            kind = PRESENCE_KIND[line.question.removeprefix("Does this picture contain ").removesuffix("?")]
            assert line.answer == ("yes" if counts.get(kind, 0) else "no"), line
        elif line.type == "count":
            kind = PLURAL_KIND[line.question.removeprefix("How many ").removesuffix(" in the picture?")]
            assert line.answer == number_words(counts.get(kind, 0)), line
        else:
            plural = line.question.removeprefix("What is the location of the ")
            kind = PLURAL_KIND[plural.removesuffix(" in this picture?")]
            centres = [o["centre"] for o in scene["objects"] if o["kind"] == kind]
            objects = [_object(i, kind, x, y) for i, (x, y) in enumerate(centres)]
            assert line.answer == location_phrase(grid_cells(objects, SIZE)), line
        answers[(line.type, "none" if line.answer in ("no", "zero", NOT_SEEN) else "some")] += 1
    for kind in ("presence", "count", "location"):  # both kinds of answer occur
        assert answers[(kind, "none")] > 0 and answers[(kind, "some")] > 0, answers


def test_reader_joins_the_world_to_its_splits(world: tuple[SynthSummary, list[dict[str, Any]]]) -> None:
    summary, scenes = world
    root = summary.root
    for split in ("train", "val", "test"):
        data = read_split(
            [root / "rsivqa_ucm" / "ucm_res.txt"], root / "ucm_captions" / "dataset.json", split
        )
        assert [r.imgid for r in data.records] == [s["image_id"] for s in scenes if s["split"] == split]
        assert data.num_questions == 5 * summary.split_counts[split] and data.skipped_lines == 0


def test_same_bytes_for_a_seed_whatever_the_workers_and_the_image_count(tmp_path: Path) -> None:
    kwargs: dict[str, Any] = {"image_size": 64, "progress": False, "rsvqa": False}
    one = synthesize(tmp_path / "one", seed=7, num_images=24, workers=1, **kwargs)
    two = synthesize(tmp_path / "two", seed=7, num_images=24, workers=2, **kwargs)
    assert _lines(one.root) == _lines(two.root)
    other = synthesize(tmp_path / "other", seed=8, num_images=24, workers=1, **kwargs)
    assert _lines(other.root) != _lines(one.root)
    more = synthesize(tmp_path / "more", seed=7, num_images=30, workers=1, **kwargs)
    assert _lines(more.root)[: 5 * 24] == _lines(one.root)


def test_other_world_files_do_not_change(tmp_path: Path) -> None:
    kwargs: dict[str, Any] = {"seed": 2, "num_images": 21, "image_size": 64, "progress": False}
    on = synthesize(tmp_path / "on", **kwargs)
    off = synthesize(tmp_path / "off", **kwargs, rsivqa=False)
    assert off.rsivqa is None and not (off.root / "rsivqa_ucm").exists()
    written = sorted(p.relative_to(on.root) for p in on.root.rglob("*") if p.is_file())
    assert sorted(p.relative_to(off.root) for p in off.root.rglob("*") if p.is_file()) == [
        p for p in written if p.parts[0] != "rsivqa_ucm"
    ]
    for rel in written:
        if rel.parts[0] != "rsivqa_ucm":
            assert (on.root / rel).read_bytes() == (off.root / rel).read_bytes(), rel


def test_cli_writes_rsivqa_and_can_leave_it_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = ["--num-images", "3", "--questions-per-image", "3", "--forest-size", "0", "--no-progress"]
    assert main(["synth", "--out", str(tmp_path / "on"), *common]) == 0
    assert "wrote 15 RSIVQA questions to " in capsys.readouterr().out
    assert len(_lines(tmp_path / "on")) == 15
    assert main(["synth", "--out", str(tmp_path / "off"), *common, "--no-rsivqa"]) == 0
    assert "RSIVQA" not in capsys.readouterr().out and not (tmp_path / "off" / "rsivqa_ucm").exists()
