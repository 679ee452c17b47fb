"""What each tab of the app does, as plain functions of typed inputs (testable without a browser).

Every input is checked the way ``spatialnet predict`` checks it (the same image loader with its
decompression-bomb limit, the same question check, the same ENVI reader), and failures become one
readable message. Images and questions that pass are answered in batches with whatever else is
waiting (:mod:`spatialnet.app.batching`).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spatialnet.app.batching import BatchTiming, MicroBatcher
from spatialnet.app.set_notes import set_label
from spatialnet.app.stage_log import StageLog
from spatialnet.checkpoint import read_metrics
from spatialnet.errors import SpatialNetError
from spatialnet.heads.caption import CaptionConfig
from spatialnet.heads.headlines import formatted, headline_values
from spatialnet.mapping.scene import map_scene
from spatialnet.mapping.settings import MapSettings
from spatialnet.predictor import Predictor, checked_question

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # an image; refused before decoding: no aerial tile needs more
MAX_CUBE_BYTES = 512 * 1024 * 1024  # an uploaded ENVI data file (the app maps at most 256² pixels of it)
MAX_HEADER_BYTES = 1024 * 1024  # an ENVI header is a page of text
MAX_BEAMS = 8
MAX_MAP_SIDE = 256
PREVIEW_SIDE_CPU = 24  # windows per side of a Forest-tab map on the CPU: larger areas are sampled coarser
KEPT_MAPS = 16  # map folders of earlier requests kept on disk (Gradio copies what it shows)
UPLOADED_CUBE = "uploaded cube"


class TaskError(Exception):
    """An input the app refuses, with the message shown to the person."""


@dataclass
class AppTasks:
    """The loaded model and the functions behind the Caption, Ask, Forest and About tabs."""

    predictor: Predictor
    max_batch: int = 8  # requests answered in one forward pass
    scratch: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="spatialnet_app_")))
    stage_log: StageLog | None = None  # per-request stage seconds (``spatialnet app --profile``)
    _model_lock: threading.Lock = field(default_factory=threading.Lock)
    _uploads: dict[tuple[str, str], Path] = field(default_factory=dict)  # Gradio's paths → private copy
    _bundled: dict[str, Path] | None = None  # found once: the model's data folder does not change

    def __post_init__(self) -> None:
        self.captioner: MicroBatcher[tuple[np.ndarray, int], dict[str, Any]] = MicroBatcher(
            self._caption_batch, self.max_batch, key=lambda item: item[1], lock=self._model_lock
        )
        # questions of one set go through the model together: a batch is answered in one set
        self.answerer: MicroBatcher[tuple[np.ndarray, str, str | None], dict[str, Any]] = MicroBatcher(
            self._answer_batch, self.max_batch, key=lambda item: item[2], lock=self._model_lock
        )
        self._image_tasks = {t for source in self.predictor.image_sources().values() for t in source.tasks}
        # the head that answers (found by what heads do, whatever their names)
        self._answering = [h for h in self.predictor.answering_heads() if h in self._image_tasks]

    # -- images ------------------------------------------------------------------------------------
    def _checked_image(self, path: str | None) -> np.ndarray:
        """The upload decoded by the project's loader (size, format and bomb checks), or a TaskError."""
        if not path:
            raise TaskError("Upload an image first (PNG, JPEG or TIFF).")
        file = Path(path)
        if not file.is_file():
            raise TaskError("The upload did not arrive; please upload the image again.")
        if file.stat().st_size > MAX_UPLOAD_BYTES:
            raise TaskError(
                f"The image is larger than {MAX_UPLOAD_BYTES // 2**20} MB; please upload a smaller one."
            )
        try:
            return self.predictor.load(file)
        except SpatialNetError as err:
            raise TaskError(_readable(str(err))) from err

    def preview(self, image: str | None) -> Any:
        """The upload as the model reads it (decoded by the project's loader), or nothing."""
        return self._checked_image(image) if image else None

    def default_beams(self) -> int:
        """The caption head's beam width from its recipe (1 when the model has no caption head)."""
        for name in self._image_tasks:
            config = self.predictor.model.head(name).config
            if isinstance(config, CaptionConfig):
                return config.num_beams
        return 1

    def caption(self, image: str | None, beams: float | None = None) -> tuple[str, dict[str, float]]:
        """The generated caption (beam search of ``beams`` width) and land-use classes with probabilities."""
        if not self._image_tasks & {"captions", "landuse"}:
            raise TaskError("This model has no caption or land-use head.")
        width = self.default_beams() if beams is None else beams
        if not isinstance(width, int | float) or not 1 <= width <= MAX_BEAMS or width != int(width):
            raise TaskError(f"Beams must be a whole number from 1 to {MAX_BEAMS}.")
        started = time.perf_counter()
        array = self._checked_image(image)
        decoded = time.perf_counter()
        result, timing = self.captioner.submit_timed((array, int(width)))
        classes = {item["label"]: item["probability"] for item in result.get("landuse", [])}
        self._log("caption", started, decoded, timing)
        return str(result.get("captions", "")), classes

    def _log(self, endpoint: str, started: float, decoded: float, timing: BatchTiming) -> None:
        """One request's stages into the stage log, when the app keeps one."""
        if self.stage_log is not None:
            self.stage_log.record(
                endpoint,
                decode=decoded - started,
                batch_wait=timing.wait_s,
                batch_run=timing.run_s,
                batch_size=timing.batch_size,
                in_app=time.perf_counter() - started,
            )

    def _caption_batch(self, items: list[tuple[np.ndarray, int]]) -> list[dict[str, Any]]:
        return self.predictor.predict_arrays(
            [array for array, _ in items], top_k=5, tasks={"captions", "landuse"}, num_beams=items[0][1]
        )

    def question_sets(self) -> list[str]:
        """The question sets the model answers in, its default first (none without a VQA head)."""
        return self.predictor.question_sets() if self._answering else []

    def set_choices(self) -> list[tuple[str, str]]:
        """The question sets as (label, name) pairs, for the Ask tab's "answer as" choice."""
        return [(set_label(name), name) for name in self.question_sets()]

    def ask(
        self, image: str | None, question: str | None, question_set: str | None = None
    ) -> tuple[str, dict[str, float], str]:
        """The answer, the top answers with probabilities and the question type (the ``/ask`` endpoint).

        ``question_set`` is one of :meth:`question_sets` (default: the model's first).
        """
        answer = self._answer(image, question, question_set)
        return str(answer["answer"]), _top(answer), str(answer["type"])

    def ask_shown(
        self, image: str | None, question: str | None, question_set: str | None = None
    ) -> tuple[str, dict[str, float], str, str]:
        """:meth:`ask` for the Ask tab, with the question set the answer was given in (its label)."""
        answer = self._answer(image, question, question_set)
        return str(answer["answer"]), _top(answer), str(answer["type"]), set_label(answer["question_set"])

    def _answer(self, image: str | None, question: str | None, question_set: str | None) -> dict[str, Any]:
        """The answering head's summary of ``question`` about ``image`` (checked) in the chosen set."""
        if not self._answering:
            raise TaskError("This model has no question-answering head.")
        if not isinstance(question, str) or not question.strip():
            raise TaskError("Type a question, e.g. 'How many buildings are there?'")
        try:
            text = checked_question(question)
        except SpatialNetError as err:
            raise TaskError(f"The question is too long: {str(err).partition('; ')[2]}.") from err
        chosen = self._chosen_set(question_set)
        started = time.perf_counter()
        array = self._checked_image(image)
        decoded = time.perf_counter()
        result, timing = self.answerer.submit_timed((array, text, chosen))
        self._log("ask", started, decoded, timing)
        summary: dict[str, Any] = result[self._answering[0]]
        return summary

    def _chosen_set(self, question_set: str | None) -> str | None:
        """``question_set`` when the model answers in it, the default when none is given; else a TaskError."""
        known = self.question_sets()
        if question_set is None or question_set == "":
            return known[0] if known else None
        if question_set not in known:
            choices = "; ".join(f"{name} ({set_label(name)})" for name in known)
            raise TaskError(
                f"Unknown question set {repr(question_set)[:40]}; this model answers as: {choices}."
            )
        return question_set

    def _answer_batch(self, items: list[tuple[np.ndarray, str, str | None]]) -> list[dict[str, Any]]:
        return self.predictor.predict_arrays(
            [array for array, _, _ in items],
            questions=[question for _, question, _ in items],
            tasks={self._answering[0]},
            question_set=items[0][2],  # the batcher groups requests by set
        )

    # -- hyperspectral cubes -----------------------------------------------------------------------
    def has_forest(self) -> bool:
        """Whether the model predicts forest variables from hyperspectral cubes."""
        try:
            self.predictor.cube_source()
        except SpatialNetError:
            return False
        return True

    def bundled_cubes(self) -> dict[str, Path]:
        """ENVI cubes of the model's own hyperspectral dataset on this machine, by file name.

        The Forest tab offers only these and uploads: the app never opens a path a person types.
        """
        if self._bundled is None:
            self._bundled = self._find_bundled_cubes() if self.has_forest() else {}
        return self._bundled

    def _find_bundled_cubes(self) -> dict[str, Path]:
        _, source = self.predictor.cube_source()
        root = Path(str(source.data.root or ""))
        folders = [root / "taiga", root]
        found = [h for folder in folders if folder.is_dir() for h in sorted(folder.glob("*.hdr"))]
        cubes = {}
        for header in found:
            try:
                cube = self.predictor.open_cube(header)
            except (SpatialNetError, OSError):
                continue  # label rasters and other headers the model cannot read
            if cube.shape[2] > 3:
                cubes[header.name] = header
        return cubes

    def stored_upload(self, files: list[str] | None) -> Path:
        """An uploaded ENVI header and data file, copied side by side into a private folder.

        Returns the header path; the names a person's files carry are never used as paths.
        """
        paths = [Path(f) for f in files or [] if f]
        headers = [p for p in paths if p.suffix.lower() == ".hdr"]
        data = [p for p in paths if p.suffix.lower() != ".hdr"]
        if len(headers) != 1 or len(data) != 1:
            raise TaskError(
                "Upload two files: the ENVI header (.hdr) and its data file (.img, .dat, .bsq, … or no "
                f"extension); got {len(headers)} header(s) and {len(data)} other file(s)."
            )
        limits = ((headers[0], MAX_HEADER_BYTES, "header"), (data[0], MAX_CUBE_BYTES, "data"))
        for path, limit, what in limits:
            if not path.is_file():
                raise TaskError("The upload did not arrive; please upload the cube again.")
            if path.stat().st_size > limit:
                raise TaskError(f"The {what} file is larger than {limit // 2**20} MB.")
        key = (str(headers[0]), str(data[0]))  # Gradio gives every upload its own path
        stored = self._uploads.get(key)
        if stored is None or not stored.is_file():
            folder = self._fresh_folder("upload")
            shutil.copyfile(headers[0], folder / "cube.hdr")
            shutil.copyfile(data[0], folder / "cube.img")
            stored = self._uploads[key] = folder / "cube.hdr"
        return stored

    def describe_cube(self, cube: str | None, files: list[str] | None = None) -> tuple[int, int, str]:
        """The chosen cube's centre pixel and a line on its size, to fill in the Forest tab."""
        header = self._cube_header(cube, files)
        lines, samples, bands = self._opened(header).shape
        half = self.predictor.window // 2
        info = (
            f"{lines} lines × {samples} samples × {bands} bands; pixels with row {half}–{lines - half - 1} "
            f"and column {half}–{samples - half - 1} have a full {self.predictor.window}² window."
        )
        return lines // 2, samples // 2, info

    def _cube_header(self, cube: str | None, files: list[str] | None) -> Path:
        if not self.has_forest():
            raise TaskError("This model has no forest heads.")
        if cube == UPLOADED_CUBE:
            return self.stored_upload(files)
        cubes = self.bundled_cubes()
        if not cube or cube not in cubes:
            choices = ", ".join([*cubes, UPLOADED_CUBE])
            raise TaskError(f"Pick one of: {choices} (with a header and data file uploaded).")
        return cubes[cube]

    def _opened(self, header: Path) -> Any:
        try:
            return self.predictor.open_cube(header)
        except SpatialNetError as err:
            raise TaskError(_readable_cube(str(err))) from err

    def forest(
        self, cube: str | None, files: list[str] | None, row: float, col: float, size: float
    ) -> tuple[list[str], dict[str, Any]]:
        """Quicklook maps of a ``size``² area centred on (row, col) and the forest variables of that pixel."""
        header = self._cube_header(cube, files)
        lines, samples, _ = self._opened(header).shape
        half = self.predictor.window // 2
        numbers = (row, col, size)
        if not all(isinstance(v, int | float) and np.isfinite(v) for v in numbers):
            raise TaskError("Row, column and map side must be numbers.")
        if not (half <= row < lines - half and half <= col < samples - half):
            raise TaskError(
                f"Pick a pixel with row {half}–{lines - half - 1} and column {half}–{samples - half - 1}."
            )
        side = int(min(max(size, 16), MAX_MAP_SIDE, lines, samples))
        top = int(min(max(row - side // 2, 0), lines - side))
        left = int(min(max(col - side // 2, 0), samples - side))
        out = self._fresh_folder("map")
        region = (top, left, side, side)
        settings = MapSettings(self.preview_stride(side), region, device=str(self.predictor.device))
        try:
            with self._model_lock:  # the pixel first: a no-data pixel is refused before the map is drawn
                readout = self.predictor.predict_pixel(header, int(row), int(col), top_k=3)
                map_scene(self.predictor, header, out, settings, progress=False)
        except SpatialNetError as err:
            raise TaskError(_readable_cube(str(err))) from err
        return [str(p) for p in sorted(out.glob("*.png"))], readout

    def preview_stride(self, side: int) -> int:
        """The map step of a ``side``² area: on the CPU at most PREVIEW_SIDE_CPU² windows (a few seconds).

        A 96² area is mapped at every 4th pixel; ``spatialnet map`` draws any area at full resolution.
        """
        if self.predictor.device.type != "cpu":
            return 1
        return max(1, -(-side // PREVIEW_SIDE_CPU))

    def _fresh_folder(self, kind: str) -> Path:
        """A new folder under the scratch space; the oldest of this kind go beyond KEPT_MAPS."""
        folders = sorted(self.scratch.glob(f"{kind}_*"), key=lambda p: p.stat().st_mtime)
        for old in folders[: max(len(folders) - KEPT_MAPS + 1, 0)]:
            shutil.rmtree(old, ignore_errors=True)
        folder = self.scratch / f"{kind}_{uuid.uuid4().hex}"
        folder.mkdir(parents=True)
        return folder

    # -- the model card ----------------------------------------------------------------------------
    def about(self) -> str:
        """A model card: recipe, datasets and tasks, size, and the checkpoint's validation headlines."""
        recipe = self.predictor.recipe
        parameters = sum(p.numel() for p in self.predictor.model.parameters())
        lines = [
            f"### {recipe.name}",
            "",
            f"Checkpoint `{self.predictor.checkpoint}` · {parameters / 1e6:.2f} M parameters · "
            f"running on {self.predictor.device}",
            "",
            "| dataset | format | data | tasks |",
            "|---|---|---|---|",
        ]
        for name, source in recipe.sources().items():
            data = source.data
            lines.append(f"| {name} | `{data.dataset}` | `{data.root}` | {', '.join(source.tasks)} |")
        sets = self.question_sets()
        if sets:
            lines += ["", "Answers questions in these question sets (the Ask tab's “answer as”):", ""]
            default = dict.fromkeys(sets[:1], ", the default")
            lines += [f"- {set_label(name)} (`{name}`{default.get(name, '')})" for name in sets]
        metrics = read_metrics(self.predictor.checkpoint) if self.predictor.checkpoint else {}
        headlines = headline_values(metrics.get("val", {}), self.predictor.model.task_heads())
        if headlines:
            lines += [
                "",
                f"Validation metrics of this checkpoint (best epoch {metrics.get('best_epoch')} by "
                f"`{metrics.get('select_metric')}`):",
                "",
                "| task | metric | value |",
                "|---|---|---|",
                *(f"| {h.task} | {h.label} | {formatted(h, v)} |" for h, v in headlines),
            ]
        card = self.predictor.checkpoint / "README.md" if self.predictor.checkpoint else None
        if card is not None and card.is_file():  # a shipped model's card, without its YAML metadata
            text = card.read_text(encoding="utf-8")
            body = text.split("---", 2)[2] if text.startswith("---") and text.count("---") >= 2 else text
            lines += ["", "---", "", body.strip()]
        return "\n".join(lines)


def _top(answer: dict[str, Any]) -> dict[str, float]:
    """The top answers of a VQA summary with their probabilities."""
    return {item["answer"]: item["probability"] for item in answer["top"]}


def _readable(message: str) -> str:
    """An error for a person: the uploaded file's temporary path replaced by 'the image'."""
    head, _, rest = message.partition(": ")
    if not rest or not ("/" in head or "\\" in head):
        return message
    return f"The image is {rest}" if rest.startswith("not ") else f"The image {rest}"


def _readable_cube(message: str) -> str:
    """An ENVI error for a person: the private copy's path replaced by which file it was."""
    head, _, rest = message.partition(": ")
    if not rest or not ("/" in head or "\\" in head):
        return message
    return f"The cube: {rest}"
