"""Images and their questions from a Hugging Face dataset, as RSVQA-LR gives them.

Two row shapes are read (``data.hf`` names the columns):

- one row per question: ``image, question, answer[, question_type][, question_id][, image_id]``
  — the common hub form. Rows of the same image are gathered by the image id column, or by
  identical image bytes (paths) when there is none;
- one row per image, the question columns holding lists (what ``spatialnet export`` writes: an
  image is stored once, not once per question).

Answers are RSVQA-LR answers (raw counts are binned, so ``count`` keeps the number); a missing
question type column is filled from the question text (:func:`question_type`).
"""

from __future__ import annotations

import hashlib
from typing import Any

from spatialnet.config import HFConfig
from spatialnet.data.hf.table import HFTable, open_split
from spatialnet.data.images import EncodedImage, ImageSource
from spatialnet.data.preload import preload_images
from spatialnet.data.rsvqa.answers import question_type
from spatialnet.data.rsvqa.files import VQAQuestion
from spatialnet.data.transforms import TrainAugment
from spatialnet.data.vqa_images import VQAImages, check_vqa_options
from spatialnet.errors import DataError
from spatialnet.processors.image import ImageProcessor

TYPE_COLUMNS = ("question_type", "type")
QUESTION_ID_COLUMNS = ("question_id",)
IMAGE_ID_COLUMNS = ("image_id", "img_id")


class HFVQA(VQAImages):
    """A VQA dataset in Hugging Face form: the items of :class:`~spatialnet.data.rsvqa.dataset.RSVQALR`.

    Image ids come from the image id column, else number the images in order of first
    appearance; question ids from the question id column, else number the questions in row order.
    Images without questions are left out.
    """

    def __init__(
        self,
        root: str,
        split: str,
        config: HFConfig,
        processor: ImageProcessor,
        augment: TrainAugment | None = None,
        questions_per_image: int = 0,
        progress: bool = True,
    ) -> None:
        check_vqa_options(augment, questions_per_image)
        self.root = root
        table = open_split(root, split, config)
        self.where = table.where
        sources, image_ids, questions = _gather(table, config)
        kept = [i for i, qs in enumerate(questions) if qs]
        if not kept:
            raise DataError(f"{table.where}: no questions")
        pixels = preload_images([sources[i] for i in kept], processor, f"{split}", progress)
        super().__init__(
            split,
            processor,
            augment,
            pixels,
            [image_ids[i] for i in kept],
            [questions[i] for i in kept],
            questions_per_image,
        )

    def __repr__(self) -> str:
        return (
            f"HFVQA(source={self.where!r}, images={len(self)}, questions={self.num_questions}, "
            f"image_size={self.processor.image_size}, augment={self.augment!r})"
        )


Cell = tuple[Any, Any, Any, Any]  # one question as stored: text, answer, type, id (None: absent)


def _gather(table: HFTable, config: HFConfig) -> tuple[list[ImageSource], list[int], list[list[VQAQuestion]]]:
    """The split's images, their ids and each image's questions, from either row shape."""
    images = table.images(config.image, "data.hf.image")
    per_image, cells = _cells(table, config)
    image_column = table.find(config.image_id, IMAGE_ID_COLUMNS, "data.hf.image_id")
    keys: list[Any]
    if image_column is not None:
        where = f"{table.where}: column '{image_column}'"
        keys = [_integer(v, f"{where}, row {row}") for row, v in enumerate(table.values(image_column))]
    elif per_image:
        keys = list(range(len(table)))
    else:  # one row per question and no image id: the same bytes are the same image
        keys = [_digest(source) for source in images]
    rows_of: dict[Any, list[int]] = {}
    for row, key in enumerate(keys):
        rows_of.setdefault(key, []).append(row)
    first_number = [0]  # questions without an id are numbered in row order
    for row_cells in cells:
        first_number.append(first_number[-1] + len(row_cells))
    sources, ids, questions = [], [], []
    for position, (key, rows) in enumerate(rows_of.items()):
        image_id = key if image_column is not None else position
        asked = []
        for row in rows:
            where = f"{table.where} row {row}"
            for k, (text, answer, kind, qid) in enumerate(cells[row]):
                number = first_number[row] + k if qid is None else _integer(qid, f"{where}: question id")
                asked.append(_question(number, image_id, text, answer, kind, where))
        sources.append(images[rows[0]])
        ids.append(image_id)
        questions.append(asked)
    _check_distinct([q.id for qs in questions for q in qs], table.where)
    return sources, ids, questions


def _cells(table: HFTable, config: HFConfig) -> tuple[bool, list[list[Cell]]]:
    """Whether rows are images (list cells), and each row's questions as stored."""
    texts = table.values(table.require(config.question, "data.hf.question"))
    columns = [texts, table.values(table.require(config.answer, "data.hf.answer"))]
    for given, conventional, option in (
        (config.question_type, TYPE_COLUMNS, "data.hf.question_type"),
        (config.question_id, QUESTION_ID_COLUMNS, "data.hf.question_id"),
    ):
        found = table.find(given, conventional, option)
        columns.append(table.values(found) if found is not None else [None] * len(table))
    per_image = any(isinstance(text, list) for text in texts)
    if not per_image:
        return False, [[cell] for cell in zip(*columns, strict=True)]
    cells: list[list[Cell]] = []
    for row, values in enumerate(zip(*columns, strict=True)):
        filled = [[] if v is None and i < 2 else v for i, v in enumerate(values)]  # no questions
        count = len(filled[0]) if isinstance(filled[0], list) else -1
        filled = [[None] * max(count, 0) if v is None else v for v in filled]  # an absent type or id
        if count < 0 or any(not isinstance(v, list) or len(v) != count for v in filled):
            raise DataError(
                f"{table.where} row {row}: with one row per image, the question, answer, type and id "
                "columns hold lists of the same length"
            )
        cells.append(list(zip(*filled, strict=True)))
    return True, cells


def _check_distinct(ids: list[int], where: str) -> None:
    """Question ids key the answers file: each must be used once."""
    seen: set[int] = set()
    for question_id in ids:
        if question_id in seen:
            raise DataError(f"{where}: question id {question_id} appears twice; each question needs its own")
        seen.add(question_id)


def _question(question_id: int, image_id: int, text: Any, answer: Any, kind: Any, where: str) -> VQAQuestion:
    """A checked question: a non-empty text, an RSVQA-LR answer of its type (raw counts binned)."""
    if not isinstance(text, str) or not text.strip():
        raise DataError(f"{where}: the question must be a non-empty string, got {text!r}")
    if isinstance(answer, int) and not isinstance(answer, bool):
        answer = str(answer)  # a count stored as a number
    try:
        return VQAQuestion.from_raw(
            question_id, image_id, question_type(text) if kind is None else kind, text, answer
        )
    except DataError as err:
        raise DataError(f"{where}, {err}") from err


def _integer(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise DataError(f"{where} must be an integer id, got {value!r}")
    return value


def _digest(source: ImageSource) -> str:
    """What identifies an image without an id: its bytes (or its file path)."""
    if isinstance(source, EncodedImage):
        return hashlib.sha256(source.data).hexdigest()
    return str(source)
