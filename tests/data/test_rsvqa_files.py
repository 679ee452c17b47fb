import importlib.util
import json
import re
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from spatialnet.data.rsvqa.answers import COUNT_BINS, LR_ANSWERS
from spatialnet.data.rsvqa.files import (
    DATE_ADDED,
    VQAImage,
    VQAQuestion,
    image_file,
    read_answers,
    read_images,
    read_qa_text,
    read_questions,
    read_questions_and_answers,
    read_split,
    split_files,
    write_split,
)
from spatialnet.errors import DataError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def real_rsvqa(shared_data: Path) -> Path:
    """The real RSVQA-LR files kept in ../shared/data (never copied into the repository)."""
    root = shared_data / "rsvqa_lr"
    if not (root / "LR_split_test_images.json").is_file():
        pytest.skip(f"../shared/data absent: {root} not found (real RSVQA-LR split files)")
    return root


def _world(root: Path) -> tuple[list[VQAImage], list[VQAQuestion]]:
    """Two images (ids 2 and 5) and questions with gaps in their ids, counts at every bin edge."""
    raw = [
        (3, 2, "rural_urban", "Is it a rural or an urban area", "rural"),
        (4, 2, "presence", "Is there a road?", "yes"),
        (6, 2, "comp", "Are there more roads than water areas?", "no"),
        (7, 2, "count", "How many buildings are there?", "0"),
        (8, 2, "count", "How many roads are there?", "1"),
        (9, 5, "count", "How many grass areas are there?", "10"),
        (10, 5, "count", "What is the number of forests?", "11"),
        (12, 5, "count", "How many water areas are there?", "100"),
        (13, 5, "count", "How many parkings are there?", "101"),
        (14, 5, "count", "How many residential buildings are there?", "1000"),
        (15, 5, "count", "How many buildings are there?", "1001"),
        (16, 5, "rural_urban", "Is it a rural or an urban area", "urban"),
    ]
    questions = [VQAQuestion.from_raw(*row) for row in raw]
    images = [
        VQAImage(
            image_id,
            image_file(root, image_id),
            tuple(q.id for q in questions if q.image_id == image_id),
            original_name=f"S2A_tile_{image_id}.tif",
        )
        for image_id in (2, 5)
    ]
    return images, questions


def _write_world(
    root: Path, split: str = "test", tiles: bool = True
) -> tuple[list[VQAImage], list[VQAQuestion]]:
    images, questions = _world(root)
    write_split(root, split, images, questions)
    if tiles:
        (root / "Images_LR").mkdir(parents=True, exist_ok=True)
        for image in images:
            image.path.write_bytes(b"tile")
    return images, questions


def _edit(path: Path, key: str, position: int, **changes: Any) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    data[key][position].update(changes)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_count_binning_edges() -> None:
    expected = {
        "0": "0",
        "1": "between 0 and 10",
        "10": "between 0 and 10",
        "11": "between 10 and 100",
        "100": "between 10 and 100",
        "101": "between 100 and 1000",
        "1000": "between 100 and 1000",
        "1001": "more than 1000",
    }
    for raw, binned in expected.items():
        q = VQAQuestion.from_raw(1, 0, "count", "How many roads are there?", raw)
        assert (q.answer, q.raw_answer, q.count) == (binned, raw, int(raw))
    already_binned = VQAQuestion.from_raw(1, 0, "count", "How many roads?", "between 10 and 100")
    assert already_binned.count is None and already_binned.answer == "between 10 and 100"
    assert VQAQuestion.from_raw(2, 0, "presence", "Is there a road?", "Yes").answer == "yes"


def test_round_trip_with_inactive_rows(tmp_path: Path) -> None:
    images, questions = _write_world(tmp_path)
    split = read_split(tmp_path, "test")
    assert split.images == images
    assert split.questions == questions
    assert split.type_counts() == {"count": 8, "presence": 1, "comp": 1, "rural_urban": 2}
    binned = [q.answer for q in split.questions if q.type == "count"]
    assert binned == ["0", *[b for b in COUNT_BINS[1:4] for _ in range(2)], COUNT_BINS[4]]
    files = split_files(tmp_path, "test")
    image_rows = json.loads(files["images"].read_text())["images"]
    assert len(image_rows) == 6 and image_rows[0] == {"id": 0, "active": False}
    assert image_rows[5]["questions_ids"] == [9, 10, 12, 13, 14, 15, 16]
    assert {"people_id", "date_added", "original_name", "sensor", "type"} <= set(image_rows[2])
    question_rows = json.loads(files["questions"].read_text())["questions"]
    assert len(question_rows) == 17 and question_rows[11] == {"id": 11, "active": False}
    assert question_rows[15] == {
        "id": 15, "date_added": DATE_ADDED, "img_id": 5, "people_id": 0, "type": "count",
        "question": "How many buildings are there?", "answers_ids": [15], "active": True,
    }  # fmt: skip
    answer_rows = json.loads(files["answers"].read_text())["answers"]
    assert answer_rows[15] == {
        "id": 15, "date_added": DATE_ADDED, "question_id": 15, "people_id": 0, "answer": "1001",
        "active": True,
    }  # fmt: skip
    # Deterministic: writing again gives the same bytes.
    before = {k: p.read_bytes() for k, p in files.items()}
    write_split(tmp_path, "test", images, questions)
    assert {k: p.read_bytes() for k, p in files.items()} == before


def test_inactive_rows_are_skipped_whatever_they_hold(tmp_path: Path) -> None:
    _write_world(tmp_path)
    path = split_files(tmp_path, "test")["questions"]
    _edit(path, "questions", 0, type="nonsense", question=None)
    assert [q.id for q in read_questions(path)] == [3, 4, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16]


def test_ids_must_be_distinct_non_negative_integers(tmp_path: Path) -> None:
    _write_world(tmp_path)
    files = split_files(tmp_path, "test")
    _edit(files["images"], "images", 3, id=4)
    with pytest.raises(
        DataError, match=rf"^{files['images']}: images\[4\]: id 4 appears again \(first at images\[3\]\)"
    ):
        read_images(files["images"])
    _edit(files["answers"], "answers", 2, id=True)
    with pytest.raises(
        DataError, match=rf"^{files['answers']}: answers\[2\]: 'id' is True; expected a non-neg"
    ):
        read_answers(files["answers"])


def _keep_rows(path: Path, key: str, ids: set[int], shuffle: bool = True) -> None:
    """Rewrite ``path`` as a subset: the rows of ``ids`` only, out of id order (as public copies are)."""
    rows = [row for row in json.loads(path.read_text(encoding="utf-8"))[key] if row["id"] in ids]
    path.write_text(json.dumps({key: rows[::-1] if shuffle else rows}), encoding="utf-8")


def test_subset_files_are_read_by_id(tmp_path: Path) -> None:
    """Rows of a subset are found by their id, whatever their list position; images may list more."""
    _, questions = _write_world(tmp_path)
    files = split_files(tmp_path, "test")
    kept = {4, 9, 16}
    _keep_rows(files["questions"], "questions", kept)
    _keep_rows(files["answers"], "answers", kept)
    split = read_split(tmp_path, "test")
    assert [q.id for q in split.questions] == [4, 9, 16]
    assert [q for q in questions if q.id in kept] == split.questions
    assert split.subset and split.unlisted_questions == len(questions) - 3
    assert "a subset: 9 questions listed by the images are not in the file" in split.describe_skipped()
    # a complete question file must still hold every question its images list
    _write_world(tmp_path)
    _keep_rows(files["questions"], "questions", set(range(17)), shuffle=False)  # unchanged: complete
    assert not read_split(tmp_path, "test").subset


def test_absent_tiles_are_skipped_and_counted(tmp_path: Path) -> None:
    _write_world(tmp_path)
    (tmp_path / "Images_LR" / "5.tif").unlink()
    with pytest.raises(DataError, match=r"1 of 2 image files missing \(1 image \[5\]\)"):
        read_split(tmp_path, "test")
    split = read_split(tmp_path, "test", skip_absent=True)
    assert [image.id for image in split.images] == [2] and {q.image_id for q in split.questions} == {2}
    assert split.absent_images == (5,) and split.skipped_questions == 7
    assert (
        split.describe_skipped() == "RSVQA-LR test: 1 tiles absent from Images_LR/, their 7 questions skipped"
    )


@pytest.mark.parametrize(
    ("key", "position", "changes", "pattern"),
    [
        ("questions", 4, {"type": "color"}, r"questions\[4\]: 'type' is 'color'; expected one of count"),
        ("questions", 4, {"answers_ids": []}, r"questions\[4\]: 'answers_ids' must be a non-empty list"),
        ("questions", 4, {"img_id": "2"}, r"questions\[4\]: 'img_id' must be an integer"),
        ("questions", 4, {"active": 1}, r"questions\[4\]: 'active' must be true or false"),
        ("answers", 4, {"answer": 3}, r"answers\[4\]: 'answer' must be a string"),
        ("answers", 4, {"answer": "rural"}, r"answers\[4\]: answer 'rural' to a presence question"),
        ("answers", 7, {"answer": "many"}, r"answers\[7\]: answer 'many' to a count question"),
        ("answers", 4, {"question_id": 3}, r"answers\[4\]: 'question_id' is 3, but question 4 .* expected 4"),
    ],
)
def test_bad_rows_are_named(
    tmp_path: Path, key: str, position: int, changes: dict[str, Any], pattern: str
) -> None:
    _write_world(tmp_path)
    files = split_files(tmp_path, "test")
    _edit(files[key], key, position, **changes)
    with pytest.raises(DataError, match=f"^{files[key]}: {pattern}"):
        read_questions_and_answers(files["questions"], files["answers"])


def test_bad_top_level(tmp_path: Path) -> None:
    path = tmp_path / "LR_split_test_images.json"
    path.write_text('{"questions": []}', encoding="utf-8")
    with pytest.raises(
        DataError,
        match=f'^{path}: expected a top-level {{"images": \\[rows\\]}} object, '
        "got an object with keys questions$",
    ):
        read_images(path)
    path.write_bytes(b'{"images": [')
    with pytest.raises(DataError, match=f"^{path}: invalid JSON"):
        read_images(path)


def test_missing_split_files_are_listed_in_one_error(tmp_path: Path) -> None:
    _write_world(tmp_path)
    files = split_files(tmp_path, "test")
    files["questions"].unlink()
    with pytest.raises(
        DataError,
        match=r"LR_split_test_questions\.json: missing; expected the official split files "
        r"LR_split_test_\{images,questions,answers\}\.json and Images_LR/ \(Zenodo record 6344334",
    ):
        read_split(tmp_path, "test")
    files["answers"].unlink()
    shutil.rmtree(tmp_path / "Images_LR")
    with pytest.raises(
        DataError,
        match=f"^{tmp_path}: missing LR_split_test_questions.json, LR_split_test_answers.json, Images_LR/;",
    ):
        read_split(tmp_path, "test")
    with pytest.raises(DataError, match="split 'dev' is not an RSVQA-LR split"):
        read_split(tmp_path, "dev")


def test_missing_images_and_answers_are_listed(tmp_path: Path) -> None:
    images, _ = _write_world(tmp_path)
    images[1].path.unlink()
    with pytest.raises(DataError, match=r"Images_LR: 1 of 2 image files missing \(1 image \[5\]\); expected"):
        read_split(tmp_path, "test")
    assert len(read_split(tmp_path, "test", require_images=False).questions) == 12

    files = split_files(tmp_path, "test")
    for position in (9, 10):
        _edit(files["answers"], "answers", position, active=False)
    with pytest.raises(
        DataError, match=r"no active answer row for 2 questions \[9, 10\] of the 12 questions"
    ):
        read_split(tmp_path, "test", require_images=False)


def test_cross_file_references_are_checked(tmp_path: Path) -> None:
    _write_world(tmp_path)
    files = split_files(tmp_path, "test")
    _edit(files["images"], "images", 5, active=False)
    with pytest.raises(DataError, match=r"1 image \[5\] named by questions of LR_split_test_questions.json"):
        read_split(tmp_path, "test")
    _write_world(tmp_path)
    _edit(files["images"], "images", 5, questions_ids=[9, 10, 11, 40])
    with pytest.raises(DataError, match=r"2 questions \[11, 40\] listed in LR_split_test_images.json"):
        read_split(tmp_path, "test")


def test_writer_refuses_what_the_reader_would_not_return(tmp_path: Path) -> None:
    images, questions = _world(tmp_path)
    inconsistent = VQAQuestion(1, 2, "count", "How many roads?", "0", "12", 12)
    with pytest.raises(
        ValueError, match="question 1: answer '0' / count 12 do not follow from raw answer '12'"
    ):
        write_split(tmp_path, "test", images, [*questions, inconsistent])
    with pytest.raises(ValueError, match=r"question ids must be distinct .*\[3\]"):
        write_split(tmp_path, "test", images, [*questions, questions[0]])


def test_read_qa_text(tmp_path: Path) -> None:
    rows = [
        {"question": "Is there a road?", "answer": "yes", "image": "7.tif", "question_id": 70,
         "type": "presence"},
        {"question": "How many roads?", "answer": "between 0 and 10", "image": "7.tif", "question_id": 71,
         "type": "count"},
    ]  # fmt: skip
    path = tmp_path / "test_qa.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    parsed = read_qa_text(path)
    assert [(r.question_id, r.image_id, r.type, r.answer) for r in parsed] == [
        (70, 7, "presence", "yes"),
        (71, 7, "count", "between 0 and 10"),
    ]
    rows[1]["image"] = "seven.tif"
    path.write_text(json.dumps(rows), encoding="utf-8")
    with pytest.raises(
        DataError, match=rf"^{path}: row 1: 'image' must name a tile '<id>.tif', got 'seven.tif'"
    ):
        read_qa_text(path)


# -- real data ------------------------------------------------------------------------------------
def test_real_image_splits(real_rsvqa: Path) -> None:
    sizes = {
        split: read_images(real_rsvqa / f"LR_split_{split}_images.json") for split in ("train", "val", "test")
    }
    assert {split: len(images) for split, images in sizes.items()} == {"train": 572, "val": 100, "test": 100}
    ids = [{image.id for image in images} for images in sizes.values()]
    assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])
    assert sum(len(image.question_ids) for image in sizes["test"]) == 10_004
    first = sizes["test"][0]
    assert first.id == 232 and first.path == real_rsvqa / "Images_LR" / "232.tif"
    assert first.original_name.startswith("S2A_MSIL1C_")
    on_disk = {int(p.stem) for p in (real_rsvqa / "Images_LR").glob("*.tif")}
    assert on_disk and on_disk <= ids[0] | ids[1]  # the tiles kept here: train and val, never test
    assert on_disk & ids[1] == {
        475,
        479,
        491,
        496,
        507,
        509,
        514,
        526,
        530,
        540,
        541,
        543,
        551,
        555,
        568,
        571,
    }


def test_real_subsets_of_train_and_val(real_rsvqa: Path) -> None:
    """The real train and val question files are subsets (rows by id) whose tiles are all here."""
    expected = {"train": (71, 7102, 149), "val": (16, 1601, 16)}
    for split, (tiles, questions, images) in expected.items():
        data = read_split(real_rsvqa, split, skip_absent=True)
        assert data.subset and data.skipped_questions == 0
        assert len({q.image_id for q in data.questions}) == tiles and len(data.questions) == questions
        assert len(data.images) == images
        assert all(q.id in {i for image in data.images for i in image.question_ids} for q in data.questions)
    first = read_split(real_rsvqa, "val", skip_absent=True).questions[0]
    assert (first.id, first.image_id, first.type, first.answer) == (47518, 475, "rural_urban", "rural")


def test_real_test_answers(real_rsvqa: Path) -> None:
    answers = read_answers(real_rsvqa / "LR_split_test_answers.json")
    assert len(answers) == 10_004
    assert all(row.question_id == row.id for row in answers)
    raw_counts = [int(row.answer) for row in answers if row.answer.isdigit()]
    assert len(raw_counts) == 2_947 and min(raw_counts) == 0
    assert {row.answer for row in answers if not row.answer.isdigit()} == {"yes", "no", "rural", "urban"}


def test_real_qa_text_uses_lr_answers(real_rsvqa: Path) -> None:
    rows = read_qa_text(real_rsvqa / "questions_text" / "test_qa.json")
    assert len(rows) == 10_004 and {r.answer for r in rows} == set(LR_ANSWERS)


def test_real_split_without_questions_says_what_is_missing(real_rsvqa: Path) -> None:
    questions = real_rsvqa / "LR_split_test_questions.json"
    if questions.exists():
        pytest.skip(f"{questions} is present, so the split is complete")
    with pytest.raises(
        DataError, match=f"^{re.escape(str(questions))}: missing; expected the official split files"
    ):
        read_split(real_rsvqa, "test")


# -- scripts/get_rsvqa_lr.py ------------------------------------------------------------------------
def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("get_rsvqa_lr", REPO / "scripts" / "get_rsvqa_lr.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_script_unpacks_archive_and_json_files_then_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "download"
    _write_world(source, split="val")
    archive = shutil.make_archive(str(tmp_path / "Images_LR"), "zip", root_dir=source, base_dir="Images_LR")
    jsons = sorted(str(p) for p in source.glob("LR_split_val_*.json"))
    out = tmp_path / "data"
    script = _script()
    assert script.main(["--archive", archive, *jsons, "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "val: 2 images, 12 questions (count 8, presence 1, comp 1, rural_urban 2)" in said
    assert "train: not checked, missing LR_split_train_images.json" in said
    root = out / "rsvqa_lr"
    assert sorted(p.name for p in (root / "Images_LR").iterdir()) == ["2.tif", "5.tif"]
    assert read_split(root, "val").questions == read_split(source, "val").questions
    # From a folder again: identical files are kept, not an error.
    assert script.main(["--archive", str(source), "--out", str(out)]) == 0
    assert "0 files copied, 5 identical ones already there" in capsys.readouterr().out
    assert script.main(["--check", str(root)]) == 0


def test_script_errors_say_where_to_get_the_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = _script()
    (tmp_path / "empty").mkdir()
    assert script.main(["--check", str(tmp_path / "empty")]) == 2
    assert "no complete split" in capsys.readouterr().err
    # An unreachable address (nothing listens on port 9 here) fails offline-style, with the way out.
    assert script.main(["--url", "http://127.0.0.1:9/files", "--out", str(tmp_path / "data")]) == 2
    err = capsys.readouterr().err
    assert "could not download http://127.0.0.1:9/files/Images_LR.zip" in err
    assert "https://zenodo.org/records/6344334" in err and "--archive" in err
    assert script.main(["--archive", str(tmp_path / "empty"), "--out", str(tmp_path / "data")]) == 2
    assert "holds no RSVQA-LR split files" in capsys.readouterr().err
