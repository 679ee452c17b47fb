"""The official RSVQA-LR split files, read and written without torch.

Lobry et al., "RSVQA: Visual Question Answering for Remote Sensing Data", TGRS 2020; data on
Zenodo, record 6344334.

Layout of a split ``S`` under one folder: ``Images_LR/{id}.tif`` and
``LR_split_S_{images,questions,answers}.json``, each ``{"images"|"questions"|"answers": [rows]}``.
In the complete official files the row at list position ``i`` has id ``i`` and inactive rows
(``{"id", "active": false}``) only fill the positions of other splits; a *subset* of the rows (what
public copies of parts of the dataset hold) is read by each row's ``id`` instead, and an image may
then list questions the subset lacks. A question's answer is ``answers_ids[0]``. Counts are
stored raw ("403") and binned here with the official encoder, so every consumer sees the 9 classes.
The writer is the reader's inverse: the synthetic world and the tests produce the real format.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from spatialnet.data.rsvqa.answers import COUNT_BINS, LR_ANSWERS, QUESTION_TYPES, bin_count, normalize_answer
from spatialnet.data.ucm.karpathy import read_json
from spatialnet.errors import DataError

SPLITS: tuple[str, ...] = ("train", "val", "test")
FILE_KINDS: tuple[str, ...] = ("images", "questions", "answers")
FOLDER_NAME = "rsvqa_lr"
IMAGES_DIR = "Images_LR"
WHERE = "Zenodo record 6344334, https://zenodo.org/records/6344334; see scripts/get_rsvqa_lr.py"
# The real files carry 2018 timestamps; written files use this fixed one so they are byte-reproducible.
DATE_ADDED = 1543613025.0
# The answers each question type may have (after binning); a mismatch means a broken join.
TYPE_ANSWERS: dict[str, tuple[str, ...]] = {
    "count": COUNT_BINS,
    "presence": ("yes", "no"),
    "comp": ("yes", "no"),
    "rural_urban": ("rural", "urban"),
}
_MAX_LISTED = 10


@dataclass(frozen=True)
class VQAImage:
    """An active row of ``LR_split_*_images.json``; ``path`` is where its tile must be."""

    id: int
    path: Path
    question_ids: tuple[int, ...]
    original_name: str = ""


@dataclass(frozen=True)
class QuestionRow:
    """An active row of ``LR_split_*_questions.json`` before its answer is joined."""

    id: int
    image_id: int
    type: str
    question: str
    answer_ids: tuple[int, ...]


@dataclass(frozen=True)
class AnswerRow:
    """An active row of ``LR_split_*_answers.json``; ``answer`` as stored (counts raw)."""

    id: int
    question_id: int
    answer: str


@dataclass(frozen=True)
class VQAQuestion:
    """A question with its answer: ``answer`` binned (one of LR_ANSWERS), ``raw_answer`` as stored.

    ``count`` is the raw integer of a count question (None for other types, or when the stored
    answer is already a bin).
    """

    id: int
    image_id: int
    type: str
    question: str
    answer: str
    raw_answer: str
    count: int | None = None

    @classmethod
    def from_raw(cls, id: int, image_id: int, type: str, question: str, raw_answer: str) -> VQAQuestion:
        """Bin ``raw_answer`` and check it suits ``type`` (raises DataError otherwise)."""
        return _make_question(id, image_id, type, question, raw_answer, f"question {id}")


@dataclass(frozen=True)
class QAText:
    """A row of the derivative ``questions_text/*_qa.json`` (answers already binned)."""

    question_id: int
    image_id: int
    type: str
    question: str
    answer: str


@dataclass(frozen=True)
class VQASplit:
    """One split, joined and checked: active images and their questions, in id order.

    ``absent_images`` are active images whose tile is missing (read with ``skip_absent``): they and
    their ``skipped_questions`` are left out of ``images`` and ``questions``. ``subset`` says the
    question file held only some of the rows its images list (``unlisted_questions`` of them missing).
    """

    root: Path
    split: str
    images: list[VQAImage]
    questions: list[VQAQuestion]
    absent_images: tuple[int, ...] = ()
    skipped_questions: int = 0
    subset: bool = False
    unlisted_questions: int = 0

    def describe_skipped(self) -> str:
        """One line on what was left out ("" when nothing was)."""
        parts = []
        if self.skipped_questions:
            parts.append(
                f"{len(self.absent_images)} tiles absent from {IMAGES_DIR}/, their {self.skipped_questions} "
                "questions skipped"
            )
        if self.subset and self.unlisted_questions:
            parts.append(
                f"a subset: {self.unlisted_questions} questions listed by the images are not in the file"
            )
        return f"RSVQA-LR {self.split}: " + "; ".join(parts) if parts else ""

    def type_counts(self) -> dict[str, int]:
        """Questions per type, in QUESTION_TYPES order."""
        counts = Counter(q.type for q in self.questions)
        return {t: counts[t] for t in QUESTION_TYPES}


def split_files(root: Path, split: str) -> dict[str, Path]:
    """``{"images"|"questions"|"answers": root/LR_split_{split}_{kind}.json}``."""
    return {kind: Path(root) / f"LR_split_{split}_{kind}.json" for kind in FILE_KINDS}


def image_file(root: Path, image_id: int) -> Path:
    """Where the tile of image ``image_id`` lives: ``root/Images_LR/{id}.tif``."""
    return Path(root) / IMAGES_DIR / f"{image_id}.tif"


# -- reading ----------------------------------------------------------------------------------------
def read_images(path: Path) -> list[VQAImage]:
    """Active image rows; each ``path`` points into ``Images_LR/`` beside the JSON file."""
    path = Path(path)
    images: list[VQAImage] = []
    for image_id, row, where in _active_rows(path, "images")[0]:
        question_ids = _int_list(row, "questions_ids", where, allow_empty=True)
        name = row.get("original_name")
        images.append(
            VQAImage(
                id=image_id,
                path=image_file(path.parent, image_id),
                question_ids=question_ids,
                original_name=name if isinstance(name, str) else "",
            )
        )
    return images


def read_questions(path: Path) -> list[QuestionRow]:
    """Active question rows: image id, a known type, the text and at least one answer id."""
    path = Path(path)
    rows: list[QuestionRow] = []
    for question_id, row, where in _active_rows(path, "questions")[0]:
        kind = row.get("type")
        if kind not in QUESTION_TYPES:
            raise DataError(f"{where}: 'type' is {kind!r}; expected one of {', '.join(QUESTION_TYPES)}")
        question = row.get("question")
        if not isinstance(question, str) or not question.strip():
            raise DataError(f"{where}: 'question' must be a non-empty string, got {question!r}")
        rows.append(
            QuestionRow(
                id=question_id,
                image_id=_int_field(row, "img_id", where),
                type=kind,
                question=question,
                answer_ids=_int_list(row, "answers_ids", where, allow_empty=False),
            )
        )
    return rows


def read_answers(path: Path) -> list[AnswerRow]:
    """Active answer rows, answers kept as stored (raw counts are binned when joined)."""
    path = Path(path)
    rows: list[AnswerRow] = []
    for answer_id, row, where in _active_rows(path, "answers")[0]:
        answer = row.get("answer")
        if not isinstance(answer, str):
            raise DataError(f"{where}: 'answer' must be a string, got {answer!r}")
        rows.append(AnswerRow(answer_id, _int_field(row, "question_id", where), answer))
    return rows


def read_questions_and_answers(questions_path: Path, answers_path: Path) -> list[VQAQuestion]:
    """Join each question to the answer row ``answers_ids[0]``; every question must find its answer.

    Complete files and subsets alike (rows by id): what ``score-vqa`` reads as the truth.
    """
    questions = read_questions(questions_path)
    answers = {row.id: row for row in read_answers(answers_path)}
    missing = [q.id for q in questions if q.answer_ids[0] not in answers]
    if missing:
        raise DataError(
            f"{answers_path}: no active answer row for {_listed(missing, 'question')} of the "
            f"{len(questions)} questions of {questions_path}; expected the answers file of the same split"
        )
    joined: list[VQAQuestion] = []
    for q in questions:
        answer = answers[q.answer_ids[0]]
        where = f"{answers_path}: answers[{answer.id}]"
        if answer.question_id != q.id:
            raise DataError(
                f"{where}: 'question_id' is {answer.question_id}, but question {q.id} of "
                f"{questions_path} points to it; expected {q.id}"
            )
        joined.append(_make_question(q.id, q.image_id, q.type, q.question, answer.answer, where))
    return joined


def read_split(root: Path, split: str, require_images: bool = True, skip_absent: bool = False) -> VQASplit:
    """Read and cross-check one official split under ``root`` (the ``rsvqa_lr`` folder).

    Every question's image must be an active image of the split, and every image's
    ``questions_ids`` active questions (unless the question file is a subset of the rows). With
    ``require_images`` every tile must exist, or, with ``skip_absent``, the images whose tile is
    absent are left out with their questions and counted (:meth:`VQASplit.describe_skipped`).
    Whatever is wrong is reported in one error, so a user fixes it in one go.
    """
    root = Path(root)
    if split not in SPLITS:
        raise DataError(f"split {split!r} is not an RSVQA-LR split; expected one of {', '.join(SPLITS)}")
    files = split_files(root, split)
    absent = [p.name for p in files.values() if not p.is_file()]
    if require_images and not (root / IMAGES_DIR).is_dir():
        absent.append(f"{IMAGES_DIR}/")
    if absent:
        what = f"{root / absent[0]}: missing" if len(absent) == 1 else f"{root}: missing {', '.join(absent)}"
        raise DataError(
            f"{what}; expected the official split files LR_split_{split}_{{images,questions,answers}}.json"
            f"{f' and {IMAGES_DIR}/' if require_images else ''} ({WHERE})"
        )
    images = read_images(files["images"])
    questions = read_questions_and_answers(files["questions"], files["answers"])
    complete = _active_rows(files["questions"], "questions")[1]
    image_ids = {image.id for image in images}
    question_ids = {q.id for q in questions}
    orphans = sorted({q.image_id for q in questions} - image_ids)
    if orphans:
        raise DataError(
            f"{files['images']}: {_listed(orphans, 'image')} named by questions of {files['questions'].name} "
            "are not active images of the split; expected the images file of the same split"
        )
    unlisted = sorted({i for image in images for i in image.question_ids} - question_ids)
    if unlisted and complete:
        raise DataError(
            f"{files['questions']}: {_listed(unlisted, 'question')} listed in {files['images'].name} "
            "are not active questions; expected the questions file of the same split"
        )
    lost: list[int] = []
    if require_images:
        lost = [image.id for image in images if not image.path.is_file()]
        if lost and not skip_absent:
            raise DataError(
                f"{root / IMAGES_DIR}: {len(lost)} of {len(images)} image files missing "
                f"({_listed(lost, 'image')}); expected {IMAGES_DIR}/{{id}}.tif for every active image of "
                f"{files['images'].name} ({WHERE})"
            )
    gone = set(lost)
    kept = [q for q in questions if q.image_id not in gone]
    return VQASplit(
        root=root,
        split=split,
        images=[image for image in images if image.id not in gone],
        questions=kept,
        absent_images=tuple(lost),
        skipped_questions=len(questions) - len(kept),
        subset=not complete,
        unlisted_questions=len(unlisted),
    )


def read_qa_text(path: Path) -> list[QAText]:
    """The derivative ``questions_text/*_qa.json``, checked like the official files.

    A list of ``{question_id, question, type, answer, image: "232.tif"}`` rows; answers already binned.
    """
    path = Path(path)
    data = read_json(path, 'a list of {"question_id", "question", "type", "answer", "image"} rows')
    if not isinstance(data, list) or not data:
        raise DataError(f"{path}: expected a non-empty JSON list of question rows, got {_describe(data)}")
    rows: list[QAText] = []
    for i, row in enumerate(data):
        where = f"{path}: row {i}"
        if not isinstance(row, dict):
            raise DataError(f"{where}: expected an object, got {type(row).__name__}")
        image = row.get("image")
        stem = Path(image).stem if isinstance(image, str) else ""
        if not stem.isdigit():
            raise DataError(f"{where}: 'image' must name a tile '<id>.tif', got {image!r}")
        question = row.get("question")
        answer = row.get("answer")
        if not isinstance(question, str) or not isinstance(answer, str):
            raise DataError(f"{where}: 'question' and 'answer' must be strings")
        checked = _make_question(
            _int_field(row, "question_id", where), int(stem), row.get("type"), question, answer, where
        )
        rows.append(QAText(checked.id, checked.image_id, checked.type, checked.question, checked.answer))
    return rows


# -- writing ----------------------------------------------------------------------------------------
def write_split(
    root: Path, split: str, images: Sequence[VQAImage], questions: Sequence[VQAQuestion]
) -> dict[str, Path]:
    """Write the three official JSON files of ``split`` into ``root`` (tiles are the caller's).

    Each question's single answer row gets the question's id, as in the real LR files.
    """
    if split not in SPLITS:
        raise ValueError(f"split {split!r} is not one of {', '.join(SPLITS)}")
    files = split_files(root, split)
    Path(root).mkdir(parents=True, exist_ok=True)
    write_images(files["images"], images)
    write_questions(files["questions"], questions)
    write_answers(files["answers"], questions)
    return files


def write_images(path: Path, images: Iterable[VQAImage]) -> None:
    """``{"images": [...]}`` with the real rows' fields; positions of absent ids hold inactive rows."""
    rows = {
        image.id: {
            "id": image.id,
            "date_added": DATE_ADDED,
            "original_name": image.original_name,
            "sensor": "S2",
            "res_x": "10m",
            "res_y": "10m",
            "people_id": 0,
            "type": "RGB",
            "questions_ids": list(image.question_ids),
            "active": True,
        }
        for image in _unique(images, "image")
    }
    _write_indexed(path, "images", rows)


def write_questions(path: Path, questions: Iterable[VQAQuestion]) -> None:
    """``{"questions": [...]}``; each question's ``answers_ids`` is ``[its own id]``."""
    rows = {
        q.id: {
            "id": q.id,
            "date_added": DATE_ADDED,
            "img_id": q.image_id,
            "people_id": 0,
            "type": q.type,
            "question": q.question,
            "answers_ids": [q.id],
            "active": True,
        }
        for q in _checked_for_writing(questions)
    }
    _write_indexed(path, "questions", rows)


def write_answers(path: Path, questions: Iterable[VQAQuestion]) -> None:
    """``{"answers": [...]}`` holding each question's ``raw_answer`` (counts as raw integers)."""
    rows = {
        q.id: {
            "id": q.id,
            "date_added": DATE_ADDED,
            "question_id": q.id,
            "people_id": 0,
            "answer": q.raw_answer,
            "active": True,
        }
        for q in _checked_for_writing(questions)
    }
    _write_indexed(path, "answers", rows)


def _write_indexed(path: Path, key: str, rows: Mapping[int, dict[str, Any]]) -> None:
    """List position = id, inactive filler rows between; 4-space indent like the real files."""
    top = max(rows, default=-1)
    listed = [rows.get(i, {"id": i, "active": False}) for i in range(top + 1)]
    Path(path).write_text(json.dumps({key: listed}, indent=4) + "\n", encoding="utf-8")


def _checked_for_writing(questions: Iterable[VQAQuestion]) -> list[VQAQuestion]:
    """Refuse questions the reader would not give back unchanged."""
    checked = _unique(questions, "question")
    for q in checked:
        again = _make_question(q.id, q.image_id, q.type, q.question, q.raw_answer, f"question {q.id}")
        if again != q:
            raise ValueError(
                f"question {q.id}: answer {q.answer!r} / count {q.count!r} do not follow from raw answer "
                f"{q.raw_answer!r}; build it with VQAQuestion.from_raw"
            )
    return checked


def _unique(items: Iterable[Any], what: str) -> list[Any]:
    """Items with distinct non-negative integer ids (the id is a list position in the file)."""
    items = list(items)
    ids = Counter(item.id for item in items)
    bad = sorted((i for i, n in ids.items() if n > 1 or not _is_int(i) or i < 0), key=str)
    if bad:
        raise ValueError(f"{what} ids must be distinct non-negative integers; offending: {bad[:_MAX_LISTED]}")
    return items


# -- validation -------------------------------------------------------------------------------------
def _active_rows(path: Path, key: str) -> tuple[list[tuple[int, dict[str, Any], str]], bool]:
    """``(id, row, where)`` of the active rows and whether the file is complete.

    Complete: every row's id equals its list position (the official files). Otherwise the file is a
    subset of the rows, read by each row's own id, which must be a distinct non-negative integer.
    """
    data = read_json(path, f'an RSVQA {{"{key}": [rows]}} object')
    rows = data.get(key) if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise DataError(f'{path}: expected a top-level {{"{key}": [rows]}} object, got {_describe(data)}')
    for position, row in enumerate(rows):
        if not isinstance(row, dict):
            raise DataError(f"{path}: {key}[{position}]: expected an object, got {type(row).__name__}")
    complete = all(row.get("id") == position and _is_int(row.get("id")) for position, row in enumerate(rows))
    active: list[tuple[int, dict[str, Any], str]] = []
    seen: dict[int, int] = {}
    for position, row in enumerate(rows):
        where = f"{path}: {key}[{position}]"
        row_id = row.get("id")
        if not _is_int(row_id) or row_id < 0:
            raise DataError(f"{where}: 'id' is {row_id!r}; expected a non-negative integer")
        if row_id in seen:
            raise DataError(
                f"{where}: id {row_id} appears again (first at {key}[{seen[row_id]}]); expected each id once"
            )
        seen[row_id] = position
        flag = row.get("active")
        if not isinstance(flag, bool):
            raise DataError(f"{where}: 'active' must be true or false, got {flag!r}")
        if flag:
            active.append((row_id, row, where if complete else f"{where} (id {row_id})"))
    return sorted(active, key=lambda item: item[0]), complete


def _make_question(
    id: int, image_id: int, type: Any, question: str, raw_answer: str, where: str
) -> VQAQuestion:
    """Bin the answer and check it is an LR answer that suits the question type."""
    if type not in QUESTION_TYPES:
        raise DataError(f"{where}: question type {type!r}; expected one of {', '.join(QUESTION_TYPES)}")
    if not isinstance(raw_answer, str):
        raise DataError(f"{where}: the answer must be a string, got {raw_answer!r}")
    answer = normalize_answer(raw_answer)
    if answer not in TYPE_ANSWERS[type]:
        expected = "a count or one of the count bins" if type == "count" else " or ".join(TYPE_ANSWERS[type])
        raise DataError(f"{where}: answer {raw_answer!r} to a {type} question; expected {expected}")
    assert answer in LR_ANSWERS
    digits = raw_answer.strip()
    count = int(digits) if type == "count" and digits.isascii() and digits.isdigit() else None
    if count is not None and bin_count(count) != answer:  # normalize_answer and bin_count must agree
        raise DataError(f"{where}: count {count} bins to {bin_count(count)!r}, not {answer!r}")
    return VQAQuestion(id, image_id, type, question, answer, raw_answer, count)


def _int_field(row: Mapping[str, Any], key: str, where: str) -> int:
    value = row.get(key)
    if not _is_int(value):
        raise DataError(f"{where}: '{key}' must be an integer, got {value!r}")
    return value


def _int_list(row: Mapping[str, Any], key: str, where: str, allow_empty: bool) -> tuple[int, ...]:
    value = row.get(key)
    if not isinstance(value, list) or not all(_is_int(v) for v in value) or (not value and not allow_empty):
        need = "a list of integers" if allow_empty else "a non-empty list of integers"
        raise DataError(f"{where}: '{key}' must be {need}, got {value!r}")
    return tuple(value)


def _is_int(value: object) -> TypeGuard[int]:
    """An integer that is not a bool (JSON true would otherwise pass as id 1)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _describe(data: Any) -> str:
    """What a JSON value is, for 'expected X, got Y' messages."""
    if isinstance(data, dict):
        return f"an object with keys {', '.join(map(str, list(data)[:5])) or 'none'}"
    return f"an empty {type(data).__name__}" if data == [] else type(data).__name__


def _listed(ids: Sequence[int], noun: str) -> str:
    """``"3 images [4, 8, 9]"``: the count and the first few ids."""
    shown = ", ".join(str(i) for i in ids[:_MAX_LISTED])
    more = ", ..." if len(ids) > _MAX_LISTED else ""
    return f"{len(ids)} {noun}{'s' if len(ids) != 1 else ''} [{shown}{more}]"
