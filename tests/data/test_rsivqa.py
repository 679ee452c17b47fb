"""RSIVQA's UC Merced part: question lines, the join to UCM-captions' splits, the torch dataset."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from spatialnet.data.rsivqa.dataset import RSIVQA
from spatialnet.data.rsivqa.files import FILE_ID_STRIDE, read_question_lines, read_split, type_counts
from spatialnet.data.rsivqa.questions import rsivqa_type
from spatialnet.data.transforms import TrainAugment, flip_and_turn
from spatialnet.errors import DataError
from spatialnet.processors import ImageProcessor

# Image N, split, imgid of the fixture's dataset.json (image 4: a test photo nobody asks about).
PHOTOS = ((1, "train", 0), (2, "train", 1), (3, "val", 2), (4, "test", 3), (5, "train", 4))
LINES = (
    "1.tif:What is the theme of this picture?farmland",  # id 0
    "1.tif:Does this picture contain an airplane?no",  # 1
    "1.tif:How many cars in the picture?Two",  # 2: answers compared in lower case
    "1.tif:What is the location of the trees in this picture?top left corner",  # 3
    "2.tif:What is the theme of this picture?harbor",  # 4
    "2.tif:How many  boats in the picture?fourteen",  # 5
    "99.tif:What is the theme of this picture?beach",  # 6: no such photo in dataset.json, skipped
    "",  # blank: no question, but it keeps its place in the ids
    "3.tif:Does this picture contain trees?yes",  # 8
    "3.tif:What is the location of the boats in this picture?i cannot see it",  # 9
    "5.tif:What is the location of the boats in this picture?center",  # 10: asked only a location
)


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """``rsivqa_ucm/`` (ucm_res.txt + extra.txt) beside ``ucm_captions/`` (dataset.json + 5 photos)."""
    rng = np.random.default_rng(0)
    imgs = tmp_path / "ucm_captions" / "imgs"
    imgs.mkdir(parents=True)
    records = []
    for number, split, imgid in PHOTOS:
        Image.fromarray(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)).save(imgs / f"{number}.png")
        records.append({"filename": f"{number}.png", "imgid": imgid, "split": split, "sentences": []})
    (tmp_path / "ucm_captions" / "dataset.json").write_text(json.dumps({"images": records}))
    questions = tmp_path / "rsivqa_ucm"
    questions.mkdir()
    (questions / "ucm_res.txt").write_text("\n".join(LINES) + "\n")
    (questions / "extra.txt").write_text("2.tif:what is the theme of this picture?harbor\n")
    return tmp_path


def _ids(split) -> list[list[int]]:  # type: ignore[no-untyped-def]
    return [[q.id for q in qs] for qs in split.questions]


# ---- question lines ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What is the theme of this picture?", "theme"),
        ("Does this picture contain an airplane?", "presence"),
        ("Is there a car?", "presence"),
        ("How many  in the picture?", "count"),  # the real file's empty object
        ("What is the number of cars?", "count"),
        ("What is the location of the trees in this picture?", "location"),
        ("Where are the boats?", "location"),
        ("Why is the sky blue?", None),
    ],
)
def test_type_from_the_question_form(question: str, kind: str | None) -> None:
    assert rsivqa_type(question) == kind


def test_lines_are_read_with_their_types_answers_and_ids(world: Path) -> None:
    lines = read_question_lines(world / "rsivqa_ucm" / "ucm_res.txt")
    assert [line.id for line in lines] == [0, 1, 2, 3, 4, 5, 6, 8, 9, 10]
    assert [line.image for line in lines] == [1, 1, 1, 1, 2, 2, 99, 3, 3, 5]
    assert [line.type for line in lines[:4]] == ["theme", "presence", "count", "location"]
    first = lines[2]
    assert (first.question, first.answer) == ("How many cars in the picture?", "two")
    assert read_question_lines(world / "rsivqa_ucm" / "extra.txt", first_id=7)[0].id == 7


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("1.tif What is the theme of this picture?farmland", "expected 'N.tif:QUESTION\\?ANSWER'"),
        ("1.tif:What is the theme of this picture farmland", "expected 'N.tif:QUESTION\\?ANSWER'"),
        ("1.tif:What is the theme of this picture?  ", "expected a question before the '\\?' and an answer"),
        ("one.tif:What is the theme of this picture?farmland", "expected a UC Merced image 'N.tif'"),
        ("1.tif:Why is the sky blue?because", "fits no RSIVQA type"),
    ],
)
def test_a_malformed_line_is_named_by_file_and_line(tmp_path: Path, line: str, expected: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(f"1.tif:What is the theme of this picture?farmland\n{line}\n")
    with pytest.raises(DataError, match=f"bad.txt:2: .*{expected}"):
        read_question_lines(path)


def test_missing_or_empty_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nothing.txt: no such file"):
        read_question_lines(tmp_path / "nothing.txt")
    (tmp_path / "empty.txt").write_text("\n\n")
    with pytest.raises(DataError, match="empty.txt: no question lines"):
        read_question_lines(tmp_path / "empty.txt")


# ---- the join to UCM-captions --------------------------------------------------------------------


def test_split_join_skips_and_counts_lines_about_unknown_photos(world: Path) -> None:
    files, annotations = [world / "rsivqa_ucm" / "ucm_res.txt"], world / "ucm_captions" / "dataset.json"
    train = read_split(files, annotations, "train")
    assert [r.filename for r in train.records] == ["1.png", "2.png", "5.png"]
    assert _ids(train) == [[0, 1, 2, 3], [4, 5], [10]]
    assert [q.image_id for q in train.questions[1]] == [1, 1]  # the photo's imgid, not its number
    assert train.skipped_lines == 1 and train.num_questions == 7
    val = read_split(files, annotations, "val")
    assert [r.imgid for r in val.records] == [2] and _ids(val) == [[8, 9]]
    assert type_counts(val.questions[0]) == {"theme": 0, "presence": 1, "count": 0, "location": 1}
    assert read_split(files, annotations, "test").records == []  # photo 4 has no questions
    with pytest.raises(DataError, match="no image has split 'dev'"):
        read_split(files, annotations, "dev")


def test_extra_training_files_count_their_ids_from_a_million(world: Path) -> None:
    annotations = world / "ucm_captions" / "dataset.json"
    extra = [world / "rsivqa_ucm" / "extra.txt"]
    train = read_split([world / "rsivqa_ucm" / "ucm_res.txt"], annotations, "train", extra)
    assert _ids(train) == [[0, 1, 2, 3], [4, 5, FILE_ID_STRIDE], [10]] and FILE_ID_STRIDE == 1_000_000
    assert train.questions[1][-1].answer == "harbor"


# ---- the torch dataset -----------------------------------------------------------------------------


def test_items_carry_every_question_of_a_photo_in_the_rsivqa_set(world: Path) -> None:
    data = RSIVQA(world, "train", ImageProcessor(16), progress=False)
    assert len(data) == 3 and data.num_questions == 7 and data.filenames == ["1.png", "2.png", "5.png"]
    item = data[0]
    assert item["image"].shape == (3, 16, 16) and item["image"].dtype == torch.float32
    assert int(item["image_id"]) == 0 and item["question_set"] == "rsivqa"
    assert item["question"] == [
        "What is the theme of this picture?",
        "Does this picture contain an airplane?",
        "How many cars in the picture?",
        "What is the location of the trees in this picture?",
    ]
    assert item["answer"] == ["farmland", "no", "two", "top left corner"]
    assert item["question_type"] == ["theme", "presence", "count", "location"]
    assert item["question_id"] == [0, 1, 2, 3]
    val = RSIVQA(world / "rsivqa_ucm", "val", ImageProcessor(16), progress=False)  # the questions' folder
    assert len(val) == 1 and val[0]["answer"] == ["yes", "i cannot see it"]
    extra = RSIVQA(world, "train", ImageProcessor(16), extra_files=["extra.txt"], progress=False)
    assert extra[1]["question_id"] == [4, 5, FILE_ID_STRIDE]


def test_head_settings_give_each_type_its_answers(world: Path) -> None:
    settings = RSIVQA(world, "train", ImageProcessor(16), progress=False).head_settings()["answer"]
    assert settings["answer_sets"] == {
        "rsivqa": {
            "theme": ["farmland", "harbor"],
            "presence": ["yes", "no"],  # fixed by the set, whatever the split holds
            "count": ["fourteen", "two"],  # most frequent first, ties alphabetical
            "location": ["center", "top left corner"],
        }
    }
    assert settings["answers"] == [
        "farmland",
        "harbor",
        "yes",
        "no",
        "fourteen",
        "two",
        "center",
        "top left corner",
    ]


def test_location_answers_follow_the_view_or_leave_it(world: Path) -> None:
    """Training locations are "top left corner" and "center": the corner has nowhere to go but back."""
    plain = RSIVQA(world, "train", ImageProcessor(16), progress=False)
    data = RSIVQA(world, "train", ImageProcessor(16), augment=TrainAugment(), progress=False)
    views = {
        view: flip_and_turn(plain[0]["image"], *view)
        for view in itertools.product([False, True], [False, True], range(4))
    }
    seen = set()
    for epoch in range(24):
        data.set_epoch(epoch)
        item = data[0]
        view = next(v for v, image in views.items() if torch.equal(item["image"], image))
        corner_stays = flip_and_turn(torch.arange(9).view(1, 3, 3), *view)[0, 0, 0] == 0
        seen.add(bool(corner_stays))
        if corner_stays:  # identity, or the flip across the main diagonal
            assert item["question_type"] == ["theme", "presence", "count", "location"]
            assert item["answer"][-1] == "top left corner"
        else:  # no training answer names the corner it moved to
            assert item["question_type"] == ["theme", "presence", "count"]
        centre = data[2]  # "center" reads the same on every view: the photo turns with its question
        assert centre["question_type"] == ["location"] and centre["answer"] == ["center"]
    assert seen == {True, False}


def test_missing_pieces_are_named(world: Path) -> None:
    with pytest.raises(DataError, match="dataset.json: missing; RSIVQA's questions need the UCM-captions"):
        RSIVQA(world, "train", images=world / "elsewhere", progress=False)
    with pytest.raises(DataError, match=r"nope.txt: missing; .*\(data.question_files\)"):
        RSIVQA(world, "train", files=["nope.txt"], progress=False)
    with pytest.raises(DataError, match="no question of ucm_res.txt is about a 'test' photo"):
        RSIVQA(world, "test", progress=False)
    (world / "ucm_captions" / "imgs" / "5.png").unlink()
    with pytest.raises(DataError, match=r"imgs: 1 photos missing \(5.png"):
        RSIVQA(world, "train", progress=False)


# ---- the real files ----------------------------------------------------------------------------------


def _real(shared_data: Path) -> tuple[Path, Path]:
    questions = shared_data / "rsivqa_ucm" / "ucm_res.txt"
    annotations = shared_data / "ucm_captions" / "dataset.json"
    if not (questions.is_file() and annotations.is_file()):
        pytest.skip(f"real RSIVQA absent: {questions} and {annotations} are both needed (../shared/data)")
    return questions, annotations


def test_real_splits_have_the_documented_sizes(shared_data: Path) -> None:
    questions, annotations = _real(shared_data)
    train = read_split([questions], annotations, "train")
    val = read_split([questions], annotations, "val")
    assert (len(train.records), train.num_questions) == (459, 2295)
    assert (len(val.records), val.num_questions) == (49, 245)
    assert train.skipped_lines == val.skipped_lines == 0
    every_val = [q for qs in val.questions for q in qs]
    assert type_counts(every_val) == {"theme": 49, "presence": 98, "count": 49, "location": 49}


def test_real_val_as_a_dataset(shared_data: Path) -> None:
    _real(shared_data)
    val = RSIVQA(shared_data, "val", ImageProcessor(32), progress=False)
    assert len(val) == 49 and val.num_questions == 245
    assert val[0]["question_set"] == "rsivqa" and len(val[0]["question"]) == 5
    answer_sets = val.head_settings()["answer"]["answer_sets"]["rsivqa"]
    assert answer_sets["presence"] == ["yes", "no"] and "zero" in answer_sets["count"]
