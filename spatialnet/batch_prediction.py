"""Predicting many image files into one table (JSONL or CSV): ``spatialnet predict RUN --images DIR``.

Files are read and prepared (resized, normalised) a batch ahead on a few threads while the model
runs, so the calling thread is left only the forward. Each batch's rows are appended and flushed,
so a killed run keeps what it finished and a re-run with the same output skips the files already
there (rows with an ``error`` are tried again). Under torchrun each
process predicts every ``world``-th file into ``OUT.partRANK``; rank 0 then merges the parts.
Whatever the history, rank 0 leaves the table with one row per file, in file order.
"""

from __future__ import annotations

import csv
import glob
import io
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from spatialnet.errors import DataError
from spatialnet.progress import make_progress

if TYPE_CHECKING:
    import torch

    from spatialnet.predictor import Predictor

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp")
GEO_SUFFIXES = (".tif", ".tiff")  # files whose CRS and centre are read (GeoTIFFs)
GEO_COLUMNS = ("crs", "center_x", "center_y")
FIXED_COLUMNS = ("file", *GEO_COLUMNS, "error")  # every CSV has them, around the prediction columns
FORMATS = (".jsonl", ".csv")
READERS = min(4, os.cpu_count() or 1)  # decoding threads; with one batch ahead they hide decoding


@dataclass
class BatchSummary:
    """What a call of :func:`predict_files` did (under torchrun: by all processes; errors on rank 0 only)."""

    out: str
    images: int  # image files found
    predicted: int  # files given a row by this call, errors included
    errors: int  # of those predicted (another process than rank 0 counts only its own)
    skipped: int  # already in the table from an earlier run
    seconds: float
    images_per_second: float


def find_images(inputs: list[str]) -> list[Path]:
    """The image files named by ``inputs`` (folders searched recursively, glob patterns, files), sorted.

    An input naming no image file is a DataError: a typo should not pass as an empty folder.
    """
    found: set[Path] = set()
    for given in inputs:
        matches = [Path(match) for match in glob.glob(given, recursive=True)] or [Path(given)]
        images = [
            path
            for match in matches
            for path in (match.rglob("*") if match.is_dir() else [match])
            if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()
        ]
        if not images:
            raise DataError(f"{given}: no image files ({' '.join(IMAGE_SUFFIXES)}) found there")
        found.update(images)
    return sorted(found)


def table_format(out: Path) -> str:
    """The format of output table ``out`` by its suffix (``.jsonl`` or ``.csv``; DataError otherwise)."""
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise DataError(f"{out}: unknown table format {suffix or '(no suffix)'!r}; expected .jsonl or .csv")
    return suffix


def prediction_fields(summaries: dict[str, Any]) -> dict[str, Any]:
    """One image's head summaries as flat table fields, named by what the summary holds.

    Text is ``caption``, an answer ``answer``/``answer_probability``/``question_type``; ranked labels
    and other values keep their head's name. A second head of one kind is prefixed by its name.
    """
    row: dict[str, Any] = {}
    for head, value in summaries.items():
        fields = {head: value}
        if isinstance(value, str):
            fields = {"caption": value}
        elif isinstance(value, dict) and "answer" in value:
            fields = {
                "answer": value["answer"],
                "answer_probability": value["probability"],
                "question_type": value["type"],
            }
        row.update({key if key not in row else f"{head}_{key}": item for key, item in fields.items()})
    return row


def geo_fields(path: Path) -> dict[str, Any]:
    """A GeoTIFF's CRS and the coordinates of its centre in that CRS (None where it has none).

    Only TIFFs with GeoTIFF tags are opened with GDAL: it warns about any other, and silencing
    warnings is not thread-safe (files are read on several threads).
    """
    import rasterio  # deferred: GDAL loads in ~0.2 s, and only GeoTIFFs need it
    import tifffile
    from rasterio.errors import RasterioError
    from rasterio.transform import xy

    empty: dict[str, Any] = dict.fromkeys(GEO_COLUMNS)
    try:
        with tifffile.TiffFile(path) as tiff:
            if not tiff.pages.first.is_geotiff:
                return empty
        with rasterio.open(path) as dataset:
            crs, transform, height, width = dataset.crs, dataset.transform, dataset.height, dataset.width
    except (OSError, ValueError, RasterioError):  # readable as an image, not as a GeoTIFF: no coordinates
        return empty
    if crs is None and transform.is_identity:  # tags without a transform (ground control points only)
        return empty
    x, y = xy(transform, height / 2, width / 2, offset="ul")  # the corner at half the rows and columns
    return {"crs": crs.to_string() if crs is not None else None, "center_x": float(x), "center_y": float(y)}


def predict_files(
    predictor: Predictor,
    files: list[Path],
    out: Path,
    batch_size: int = 16,
    top_k: int = 5,
    question: str | None = None,
    question_set: str | None = None,
    num_beams: int | None = None,
    rank: int = 0,
    world: int = 1,
    progress: bool = True,
) -> BatchSummary:
    """Predict ``files`` into the table ``out``, skipping those it already holds; what was done.

    With ``world`` > 1 (torchrun, a process group joined) this process takes ``files[rank::world]``
    and writes ``OUT.partRANK``; every process must call it, and rank 0 merges the parts.
    """
    started = time.perf_counter()
    if batch_size < 1:
        raise DataError(f"batch size {batch_size}; expected ≥ 1")
    is_csv = table_format(out) == ".csv"
    target = out if world == 1 else out.with_name(f"{out.name}.part{rank}")
    done = _succeeded(_table_rows(out, is_csv))
    _barrier(world)  # every process has read the table before any writes to it
    todo = [path for path in files[rank::world] if str(path) not in done]
    errors = 0
    columns = partial(_columns, predictor, top_k, question, question_set, num_beams)  # for a CSV, if needed
    with (
        _TableWriter(target, is_csv, columns) as table,
        _progress(len(todo), progress and rank == 0) as advance,
        ThreadPoolExecutor(READERS) as readers,
    ):
        datasets = predictor.datasets_run(question is not None, question_set=question_set)
        for batch in _read_ahead(predictor, datasets, todo, batch_size, readers):
            images = [read.image for read in batch if read.image is not None]
            asked: list[str | None] | None = [question] * len(images) if question is not None else None
            results = iter(
                predictor.predict_prepared(
                    images, top_k, asked, num_beams=num_beams, question_set=question_set
                )
                if images
                else []
            )
            rows = [read.row(next(results) if read.image is not None else None) for read in batch]
            table.write(rows)
            errors += sum(_failed(row) for row in rows)
            advance(len(rows))
    _barrier(world)  # every part is complete
    fresh = {str(path) for path in files} - done  # what the processes predicted together
    if rank == 0:
        errors = sum(_failed(row) for row in _merge(out, is_csv) if row["file"] in fresh)
    seconds = time.perf_counter() - started
    predicted = len(fresh)
    return BatchSummary(
        str(out), len(files), predicted, errors, len(files) - predicted, seconds, predicted / seconds
    )


@dataclass
class _Read:
    """One file as read for prediction: its pixels prepared per dataset and coordinates, or why not."""

    path: Path
    image: dict[str, torch.Tensor] | None = None
    geo: dict[str, Any] | None = None  # GeoTIFFs only
    error: str | None = None

    def row(self, summaries: dict[str, Any] | None) -> dict[str, Any]:
        """The table row of this file given its predictions (None for a file that failed)."""
        row: dict[str, Any] = {"file": str(self.path)}
        row.update(prediction_fields(summaries or {}))
        row.update(self.geo or {})
        if self.error is not None:
            row["error"] = self.error
        return row


def _read(predictor: Predictor, datasets: list[str], path: Path) -> _Read:
    """Read ``path`` and prepare it for ``datasets``; a broken file gives its error (naming it)."""
    try:
        image = predictor.prepare(predictor.load(path), datasets)
    except (DataError, OSError) as err:
        message = str(err)
        return _Read(path, error=message if str(path) in message else f"{path}: {message}")
    return _Read(path, image, geo_fields(path) if path.suffix.lower() in GEO_SUFFIXES else None)


def _read_ahead(
    predictor: Predictor,
    datasets: list[str],
    files: list[Path],
    batch_size: int,
    readers: ThreadPoolExecutor,
) -> Iterator[list[_Read]]:
    """``files`` read and prepared in batches; the next batch on ``readers`` while the caller predicts one."""
    batches = [files[i : i + batch_size] for i in range(0, len(files), batch_size)]

    def submit(index: int) -> list[Future[_Read]]:
        return (
            [readers.submit(_read, predictor, datasets, path) for path in batches[index]]
            if index < len(batches)
            else []
        )

    ahead = submit(0)
    for index in range(len(batches)):
        current, ahead = ahead, submit(index + 1)
        yield [future.result() for future in current]


@contextmanager
def _progress(total: int, show: bool) -> Iterator[Callable[[int], None]]:
    """A bar advanced by the images done, with their rate; nothing at all (no output) when not shown."""
    if not show:
        yield lambda count: None
        return
    started = time.perf_counter()
    with make_progress() as bar:
        task = bar.add_task("predicting", total=total, status="")

        def advance(count: int) -> None:
            bar.advance(task, count)
            rate = bar.tasks[0].completed / (time.perf_counter() - started)
            bar.update(task, status=f"{rate:.1f} images/s")

        yield advance


def _columns(
    predictor: Predictor, top_k: int, question: str | None, question_set: str | None, num_beams: int | None
) -> list[str]:
    """The prediction columns of this run, from a blank image (for a CSV whose first rows are all errors)."""
    blank = np.zeros((8, 8, 3), dtype=np.uint8)
    asked: list[str | None] | None = [question] if question is not None else None
    summaries = predictor.predict_arrays(
        [blank], top_k, asked, num_beams=num_beams, question_set=question_set
    )
    return list(prediction_fields(summaries[0]))


def _failed(row: dict[str, Any]) -> bool:
    return bool(row.get("error"))


def _succeeded(rows: list[dict[str, Any]]) -> set[str]:
    """The files with a row that is not an error."""
    return {str(row["file"]) for row in _resolved(rows) if not _failed(row)}


def _resolved(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per file in file order: a success wins over an error, otherwise the later row."""
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:
        old = latest.get(row["file"])
        if old is None or _failed(old) or not _failed(row):
            latest[row["file"]] = row
    return sorted(latest.values(), key=lambda row: Path(row["file"]))


def _parts(out: Path) -> list[Path]:
    """The per-process tables ``OUT.partRANK`` beside ``out`` (also those a killed run left)."""
    pattern = re.compile(re.escape(out.name) + r"\.part\d+")
    return sorted(p for p in out.parent.glob(glob.escape(out.name) + ".part*") if pattern.fullmatch(p.name))


def _table_rows(out: Path, is_csv: bool) -> list[dict[str, Any]]:
    """The rows of ``out`` then those of its parts."""
    return [row for path in [out, *_parts(out)] for row in _read_rows(path, is_csv)]


def _merge(out: Path, is_csv: bool) -> list[dict[str, Any]]:
    """Rewrite ``out`` with one row per file in file order, taking in and removing the parts; its rows."""
    parts = _parts(out)
    rows = _read_rows(out, is_csv)
    merged = _resolved([*rows, *(row for part in parts for row in _read_rows(part, is_csv))])
    if merged and (parts or merged != rows):
        temporary = out.with_name(f".{out.name}.tmp-{os.getpid()}")
        with _TableWriter(temporary, is_csv, lambda: _prediction_keys(merged[0])) as table:
            table.write(merged)
        os.replace(temporary, out)
    for part in parts:
        part.unlink()
    return merged


def _barrier(world: int) -> None:
    """Wait for every process of the group (none to wait for in one process).

    Barriers only: a collective on a tensor made here could outlive the interpreter in a gloo
    worker thread and abort the process at exit (pytorch/pytorch#179291).
    """
    if world > 1:
        import torch.distributed as dist

        dist.barrier()


def _complete_text(path: Path) -> str:
    """``path``'s text up to its last line end (a line cut by a kill is left out); "" when absent."""
    if not path.is_file():
        return ""
    with path.open(encoding="utf-8", newline="") as file:  # untranslated: "\r\n" ends CSV lines
        text = file.read()
    return text[: text.rfind("\n") + 1]


def _read_rows(path: Path, is_csv: bool) -> list[dict[str, Any]]:
    """The complete rows of a table file; unreadable lines (a half-written row) are left out."""
    text = _complete_text(path)
    if is_csv:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        return [row for row in reader if row.get("file") and None not in row and None not in row.values()]
    rows = []
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and row.get("file"):
            rows.append(row)
    return rows


def _cell(value: Any) -> Any:
    """A value as one CSV cell: ranked labels as ``label:probability;…``, other lists as JSON."""
    if isinstance(value, list) and all(isinstance(item, dict) and "label" in item for item in value):
        return ";".join(f"{item['label']}:{item['probability']:.4f}" for item in value)
    return json.dumps(value) if isinstance(value, list | dict) else value


def _prediction_keys(row: dict[str, Any]) -> list[str]:
    return [key for key in row if key not in FIXED_COLUMNS]


class _TableWriter:
    """Appends rows to a table file, each batch flushed; a line cut by a kill is dropped first.

    A CSV keeps the header it has. A new one takes its prediction columns from the first rows
    written, or from ``columns()`` when those are all errors.
    """

    def __init__(self, path: Path, is_csv: bool, columns: Callable[[], list[str]]) -> None:
        self.path, self.is_csv, self.columns = path, is_csv, columns
        self._file: IO[str] | None = None
        self._csv: csv.DictWriter[str] | None = None

    def __enter__(self) -> _TableWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = _complete_text(self.path)
        if self.path.is_file() and len(text) < self.path.stat().st_size:
            os.truncate(self.path, len(text.encode("utf-8")))
        self._file = self.path.open("a", encoding="utf-8", newline="")
        header = next(csv.reader(io.StringIO(text, newline="")), None)
        if self.is_csv and header is not None:
            self._csv = csv.DictWriter(self._file, header)
        return self

    def write(self, rows: list[dict[str, Any]]) -> None:
        """Append ``rows`` and flush them to the file."""
        assert self._file is not None, "write inside `with`"
        if self.is_csv and self._csv is None:
            named = next((row for row in rows if not _failed(row)), None)
            fields = _prediction_keys(named) if named is not None else self.columns()
            self._csv = csv.DictWriter(self._file, ["file", *fields, *GEO_COLUMNS, "error"])
            self._csv.writeheader()
        for row in rows:
            if self._csv is None:
                self._file.write(json.dumps(row) + "\n")
                continue
            unknown = set(row) - set(self._csv.fieldnames)
            if unknown:
                raise DataError(
                    f"{self.path}: no column for {', '.join(sorted(unknown))}: written with other options "
                    "or another model; write to another --out"
                )
            self._csv.writerow({key: _cell(value) for key, value in row.items()})
        self._file.flush()

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
