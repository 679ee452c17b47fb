"""RSIVQA's question files, read and joined to a UCM-captions folder, without torch.

Each line of a question file (``ucm_res.txt``, ``ucm_vqa.txt``) is ``N.tif:QUESTION?ANSWER``:
the UC Merced image N, the question up to its first ``?`` and the answer after it. The images and
the train/val/test split come from a UCM-captions folder (``dataset.json`` + ``imgs/``): image N
is the record whose file name has the number N, whatever its extension (``N.tif`` originally,
``N.jpg`` re-encoded). Lines about images the folder does not hold (a held-out split) are skipped
and counted. A question's id is its line's position in the file (0-based), plus
``FILE_ID_STRIDE`` times the file's position in the list of files read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from spatialnet.data.rsivqa.questions import QUESTION_TYPES, normalize_answer, rsivqa_type
from spatialnet.data.rsvqa.files import VQAQuestion
from spatialnet.data.ucm.karpathy import CaptionRecord, read_records
from spatialnet.errors import DataError

FOLDER_NAME = "rsivqa_ucm"
QUESTIONS_FILE = "ucm_res.txt"  # theme, presence, count and location questions
THEME_FILE = "ucm_vqa.txt"  # one theme question per image
FILE_ID_STRIDE = 1_000_000  # question ids of the k-th file read start at k × this
WHERE = "RSIVQA (Zheng et al., TGRS 2021), its UC Merced part: lines 'N.tif:QUESTION?ANSWER'"


@dataclass(frozen=True)
class QuestionLine:
    """One line of a question file: image number, question (with its '?'), answer as written, type."""

    id: int
    image: int
    question: str
    answer: str
    type: str


@dataclass(frozen=True)
class RSIVQASplit:
    """The questions of one split joined to their UCM images, in image order.

    ``records`` are the UCM-captions records of the split that have questions, ``questions`` each
    one's questions; ``skipped_lines`` counts the lines about images outside the folder.
    """

    split: str
    records: list[CaptionRecord]
    questions: list[list[VQAQuestion]]
    skipped_lines: int = 0
    files: tuple[Path, ...] = field(default_factory=tuple)

    @property
    def num_questions(self) -> int:
        """Questions in the split."""
        return sum(len(qs) for qs in self.questions)


def read_question_lines(path: Path, first_id: int = 0) -> list[QuestionLine]:
    """Every line of an RSIVQA question file, checked; errors name the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise DataError(
            f"{path}: no such file (expected RSIVQA question lines 'N.tif:QUESTION?ANSWER')"
        ) from err
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not UTF-8 text (expected RSIVQA question lines)") from err
    lines: list[QuestionLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        lines.append(parse_line(raw, f"{path}:{number}", first_id + number - 1))
    if not lines:
        raise DataError(f"{path}: no question lines (expected 'N.tif:QUESTION?ANSWER' per line)")
    return lines


def parse_line(raw: str, where: str, line_id: int) -> QuestionLine:
    """One ``N.tif:QUESTION?ANSWER`` line (``where`` names it in errors)."""
    name, colon, rest = raw.partition(":")
    question, mark, answer = rest.partition("?")
    shown = raw if len(raw) <= 80 else raw[:77] + "..."
    if not colon or not mark:
        raise DataError(f"{where}: {shown!r}; expected 'N.tif:QUESTION?ANSWER'")
    stem = Path(name.strip()).stem
    if not stem.isdigit():
        raise DataError(f"{where}: image {name.strip()!r}; expected a UC Merced image 'N.tif' (N a number)")
    if not question.strip() or not answer.strip():
        raise DataError(f"{where}: {shown!r}; expected a question before the '?' and an answer after it")
    kind = rsivqa_type(question)
    if kind is None:
        raise DataError(
            f"{where}: question {question.strip() + '?'!r} fits no RSIVQA type; expected a theme ('What "
            "is the theme of ...'), presence ('Does this picture contain ...'), count ('How many ...') or "
            "location ('What is the location of ...') question"
        )
    return QuestionLine(line_id, int(stem), question.strip() + "?", normalize_answer(answer), kind)


def read_split(
    files: Sequence[Path], annotations: Path, split: str, extra_files: Sequence[Path] = ()
) -> RSIVQASplit:
    """The questions of ``files`` (and, for training, ``extra_files``) about the images of ``split``.

    ``annotations`` is the UCM-captions ``dataset.json`` whose records give the images and splits.
    """
    records = read_records(annotations)
    splits = {r.split for r in records}
    if split not in splits:
        raise DataError(f"{annotations}: no image has split {split!r} (found: {', '.join(sorted(splits))})")
    by_number: dict[int, CaptionRecord] = {}
    for record in records:
        stem = Path(record.filename).stem
        if stem.isdigit():
            by_number[int(stem)] = record
    read = [*files, *extra_files]
    lines = [line for k, path in enumerate(read) for line in read_question_lines(path, k * FILE_ID_STRIDE)]
    skipped = sum(line.image not in by_number for line in lines)
    grouped: dict[int, list[VQAQuestion]] = {}
    for line in lines:
        found = by_number.get(line.image)
        if found is None or found.split != split:
            continue
        record = found
        question = VQAQuestion(line.id, record.imgid, line.type, line.question, line.answer, line.answer)
        grouped.setdefault(line.image, []).append(question)
    numbers = sorted(grouped)
    return RSIVQASplit(
        split=split,
        records=[by_number[n] for n in numbers],
        questions=[grouped[n] for n in numbers],
        skipped_lines=skipped,
        files=tuple(Path(p) for p in read),
    )


def type_counts(questions: Sequence[VQAQuestion]) -> dict[str, int]:
    """Questions per type, in QUESTION_TYPES order."""
    return {kind: sum(q.type == kind for q in questions) for kind in QUESTION_TYPES}
