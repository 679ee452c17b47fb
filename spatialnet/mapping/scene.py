"""``map_scene``: a trained forest model over a whole hyperspectral cube, strip by strip, resumable.

Each strip's pixels (its windows' rows and columns, the model's bands) are read from the file
once, into memory (not through the memory map, see ``EnviImage.read_box``); each output pixel's
window is cut from a normalised column chunk of it, so neighbouring windows share one read.
Windows go through the model's inference form in batches of one shape, channels-last, prepared
as ``predict --pixel`` prepares one (same preprocessing, same numbers). Resident memory stays
about one strip whatever the scene size. A background thread prepares the next chunk while the
model runs on the current one.
"""

from __future__ import annotations

import ctypes
import queue
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import torch
from numpy.lib.stride_tricks import sliding_window_view

from spatialnet.checkpoint import WEIGHTS_FILE
from spatialnet.data.taiga.envi import EnviImage
from spatialnet.errors import DataError
from spatialnet.files import file_digest
from spatialnet.mapping.grid import MapGrid, Region
from spatialnet.mapping.layers import Layer
from spatialnet.mapping.quicklook import MapRasters, save_quicklooks
from spatialnet.mapping.rasters import COORDINATE_SYSTEM, RasterSet, georeferencing, output_layers
from spatialnet.mapping.resume import MapProgress
from spatialnet.mapping.settings import DEFAULT_SETTINGS, FORMATS, MapSettings
from spatialnet.predictor import Predictor
from spatialnet.processors import HyperspectralProcessor
from spatialnet.progress import make_progress

T = TypeVar("T")
PAD_MULTIPLE = 64  # a strip's last batch is padded to a multiple of this many windows (few batch shapes)
WORK_DIR = "partial"  # a GeoTIFF map's ENVI strips while it is computed (removed once copied)


@dataclass
class MapSummary:
    """What a call of :func:`map_scene` did, for the CLI, the manifest and benchmarks."""

    out: str
    shape: tuple[int, int]
    stride: int
    strips: int
    strips_reused: int
    windows: int  # windows predicted by this call
    valid_pixels: int  # pixels with a prediction in the whole map
    seconds: float
    windows_per_second: float
    raster_format: str = "envi"
    georeferenced: bool = True  # False: the cube's header has no map info, the rasters none either
    files: list[str] = field(default_factory=list)


@dataclass
class _Chunk:
    """One column chunk of a strip: its normalised cube block and where its valid windows sit.

    Windows are cut from ``windows`` one batch at a time, so a chunk costs its block, not
    (N, bands, P, P) copies of overlapping windows.
    """

    rows: npt.NDArray[np.int64]  # output rows within the strip of each valid window
    cols: npt.NDArray[np.int64]  # output columns of each valid window
    tops: npt.NDArray[np.int64]  # top-left of each window in the block
    lefts: npt.NDArray[np.int64]
    windows: npt.NDArray[np.float32]  # every window of the block: a (h, w, P, P, bands) view, no copy

    def __len__(self) -> int:
        return len(self.rows)

    def batch(self, start: int, stop: int) -> torch.Tensor:
        """Windows ``start:stop`` as a (B, bands, P, P) tensor in channels-last memory (one copy)."""
        picked = self.windows[self.tops[start:stop], self.lefts[start:stop]]
        return torch.from_numpy(picked).permute(0, 3, 1, 2)


def map_scene(
    predictor: Predictor,
    image: Path,
    out: Path,
    settings: MapSettings = DEFAULT_SETTINGS,
    progress: bool = True,
    stop_after_strips: int | None = None,
) -> MapSummary:
    """Map ``image`` (an ENVI cube) with a forest model into ``out``; resumes a stopped map there.

    ``stop_after_strips`` stops early after computing that many strips (for tests of resuming).
    """
    started = time.perf_counter()
    if settings.batch_size < 1:
        raise DataError(f"--batch-size {settings.batch_size}: expected at least 1")
    if settings.raster_format not in FORMATS:
        raise DataError(f"--format {settings.raster_format!r}: expected one of {', '.join(FORMATS)}")
    processor = predictor.cube_processor()
    cube = predictor.open_cube(image)
    lines, samples, _ = cube.shape
    region = (Region(*settings.region) if settings.region else Region.whole(lines, samples)).checked(
        lines, samples, str(cube.path)
    )
    grid = MapGrid(lines, samples, predictor.window, settings.stride, region)
    layers = output_layers(predictor.model)
    if len(layers) == 1:
        raise DataError(f"this model ({predictor.recipe.name}) has no per-pixel forest heads to map")
    strips = grid.strips
    run_settings = _settings(predictor, cube, grid, settings)
    state = MapProgress.start(out, run_settings, len(strips), settings.overwrite)
    geotiff = settings.raster_format != "envi"
    copied = geotiff and state.geotiffs_written()
    files, needed, listed = _files(layers, geotiff, copied)
    done = state.done()
    if any(done) and not all((out / name).is_file() for name in needed):
        raise DataError(f"{out}: finished strips are recorded but output files are missing; use --overwrite")
    state.record_files(listed)
    georeference = georeferencing(grid.map_info(cube.map_info), cube.metadata.get(COORDINATE_SYSTEM))
    work = out / WORK_DIR if geotiff else out
    rasters = RasterSet(work, layers, grid.shape)
    if not copied:
        rasters = RasterSet.create(work, layers, grid.shape, georeference, cube.path.name)
    todo = [k for k, finished in enumerate(done) if not finished]
    if stop_after_strips is not None:
        todo = todo[:stop_after_strips]
    windows = _run(predictor, cube, processor, grid, rasters, state, todo, settings.batch_size, progress)
    seconds = time.perf_counter() - started
    summary = MapSummary(
        out=str(out),
        shape=grid.shape,
        stride=grid.stride,
        strips=len(strips),
        strips_reused=sum(done),
        windows=windows,
        valid_pixels=0,
        seconds=seconds,
        windows_per_second=windows / seconds if seconds > 0 else 0.0,
        raster_format=settings.raster_format,
        georeferenced=bool(georeference),
        files=files,
    )
    if all(state.done()):
        maps = _geotiffs(rasters, state, out, cube.path.name, settings.raster_format) if geotiff else rasters
        summary.valid_pixels = int(maps.read(layers[-1]).sum())
        summary.files = [name for name in files if (out / name).is_file()]
        if settings.quicklooks:
            summary.files += save_quicklooks(maps, cube.path.name, grid.stride)
        state.finish(asdict(summary))
    return summary


def _files(layers: list[Layer], geotiff: bool, copied: bool) -> tuple[list[str], list[str], list[str]]:
    """The map's files, those a resumed map needs, and every file it may write (for ``--overwrite``).

    An ENVI map's files are its strips; a GeoTIFF map's strips sit in :data:`WORK_DIR` (with a
    COG's intermediate GeoTIFFs) until the GeoTIFFs are copied from them.
    """
    envi = [name for layer in layers for name in (layer.header, layer.data_file)]
    if not geotiff:
        return envi, envi, envi
    from spatialnet.mapping.geotiff import geotiff_files, tiff_name  # deferred: GDAL, only for GeoTIFF maps

    files = geotiff_files(layers)
    work = [f"{WORK_DIR}/{name}" for name in [*envi, *files]]
    needed = [tiff_name(layer) for layer in layers] if copied else work[: len(envi)]
    return files, needed, [*files, *work]


def _geotiffs(
    rasters: RasterSet, state: MapProgress, out: Path, source: str, raster_format: str
) -> MapRasters:
    """The finished map's GeoTIFFs, copied from its ENVI strips unless an earlier run did; strips removed."""
    from spatialnet.mapping.geotiff import GeoTiffSet, write_geotiffs

    if not state.geotiffs_written():
        write_geotiffs(rasters, out, source, cog=raster_format == "cog")
        state.mark_geotiffs_written()
    shutil.rmtree(rasters.folder, ignore_errors=True)
    return GeoTiffSet(out, rasters.layers, rasters.shape)


def _return_freed_memory() -> None:
    """Give the heap's free pages back to the system (glibc ``malloc_trim``; a no-op elsewhere).

    glibc raises its mmap threshold after large frees and then serves the chunk arrays from the
    heap, whose freed pages stay resident: without a trim after each strip, resident memory crept
    up strip after strip.
    """
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _settings(predictor: Predictor, cube: EnviImage, grid: MapGrid, settings: MapSettings) -> dict[str, Any]:
    """Everything the output depends on: a resumed map must match all of it."""
    weights = predictor.checkpoint / WEIGHTS_FILE if predictor.checkpoint else None
    stat = cube.data_path.stat()
    run: dict[str, Any] = {
        "model": predictor.recipe.name,
        "weights_sha256": file_digest(weights) if weights and weights.is_file() else None,
        "image": str(cube.path.resolve()),
        "image_bytes": stat.st_size,
        "image_mtime_ns": stat.st_mtime_ns,
        "window": grid.window,
        "stride": grid.stride,
        "region": list(grid.region.as_tuple()),
        "strip_rows": grid.strip_rows,
        "chunk_cols": grid.chunk_cols,
        "batch_size": settings.batch_size,
        "device": predictor.device.type,
    }
    if settings.raster_format != "envi":  # only then: ENVI maps made before --format still resume
        run["format"] = settings.raster_format
    return run


def _run(
    predictor: Predictor,
    cube: EnviImage,
    processor: HyperspectralProcessor,
    grid: MapGrid,
    rasters: RasterSet,
    state: MapProgress,
    todo: list[int],
    batch_size: int,
    show: bool,
) -> int:
    """Compute and write the strips in ``todo``; returns the number of windows predicted."""
    if not todo:  # nothing to open: a GeoTIFF map's strips may be gone
        return 0
    strips = grid.strips
    total = sum((strips[k][1] - strips[k][0]) * grid.shape[1] for k in todo)
    count = finished = 0  # windows predicted; output pixels of the strips written
    width = grid.shape[1]
    with rasters.opened(), make_progress() as bar:
        task = bar.add_task("mapping", total=total, status="", visible=show)
        for k in todo:
            first, end = strips[k]
            arrays = _empty_strip(rasters.layers, end - first, width)
            chunks = _prefetch(_chunks(cube, processor, grid, first, end))
            for c0, batch in _batches(chunks, batch_size):
                count += len(batch)
                _fill(arrays, rasters.layers, batch, predictor)
                bar.update(task, completed=finished + (end - first) * min(c0 + grid.chunk_cols, width))
            rasters.write_strip(first, arrays)
            finished += (end - first) * width
            bar.update(task, completed=finished)
            state.mark_done(k)
            _return_freed_memory()
            rate = count / max(bar.tasks[0].elapsed or 1e-9, 1e-9)
            bar.update(task, status=f"{rate:,.0f} windows/s")
    return count


def _empty_strip(layers: list[Layer], rows: int, cols: int) -> dict[str, npt.NDArray[Any]]:
    return {
        layer.name: np.full((len(layer.band_names), rows, cols), layer.fill, dtype=layer.dtype)
        for layer in layers
    }


def _chunks(
    cube: EnviImage, processor: HyperspectralProcessor, grid: MapGrid, first: int, end: int
) -> Iterator[tuple[int, _Chunk]]:
    """(first output column, windows) of each column chunk of the strip [first, end) with a valid pixel.

    The strip's pixels (its windows' rows and columns, the model's bands) are read from the file
    once; each chunk normalises its part.
    """
    half = grid.window // 2
    rows = grid.centre_rows(first, end)
    every_col = grid.centre_cols(0, grid.shape[1])
    inside = grid.inside(rows, every_col)
    if not inside.any():
        return
    top, bottom = rows[inside.any(1)][[0, -1]] + (-half, half + 1)
    left, right = every_col[inside.any(0)][[0, -1]] + (-half, half + 1)
    strip = processor.read_box(cube, range(top, bottom), range(left, right))
    for c0, c1 in grid.chunks():
        cols = grid.centre_cols(c0, c1)
        inside = grid.inside(rows, cols)
        if not inside.any():
            continue
        r_lo, r_hi = rows[inside.any(1)][[0, -1]] + (-half, half + 1)
        c_lo, c_hi = cols[inside.any(0)][[0, -1]] + (-half, half + 1)
        raw = strip[r_lo - top : r_hi - top, c_lo - left : c_hi - left]
        out_rows, out_cols = np.nonzero(inside)
        centre_r, centre_c = rows[out_rows] - r_lo, cols[out_cols] - c_lo
        has_data = ~cube.no_data(raw[centre_r, centre_c])
        out_rows, out_cols = out_rows[has_data], out_cols[has_data]
        if not len(out_rows):
            continue
        view = sliding_window_view(processor.normalise(raw), (grid.window, grid.window), axis=(0, 1))
        view = view.transpose(0, 1, 3, 4, 2)  # (h, w, P, P, bands): a window's copy reads the block in order
        tops, lefts = centre_r[has_data] - half, centre_c[has_data] - half
        yield c0, _Chunk(out_rows, out_cols + c0, tops, lefts, view)


@dataclass
class _Batch:
    """Windows for one forward pass, gathered from one or more chunks, and where their outputs go."""

    rows: npt.NDArray[np.int64]
    cols: npt.NDArray[np.int64]
    windows: torch.Tensor  # (N, bands, P, P), channels-last; N may exceed len(rows) (padding)

    def __len__(self) -> int:
        return len(self.rows)


def _batches(chunks: Iterator[tuple[int, _Chunk]], size: int) -> Iterator[tuple[int, _Batch]]:
    """(first column of the latest chunk, batch) for the windows of a strip's chunks, ``size`` at a time.

    Batches run across chunk boundaries, and a strip's last batch is padded (with its last window)
    to a multiple of :data:`PAD_MULTIPLE`: the model sees full batches and a handful of batch
    shapes (oneDNN creates and caches kernels per shape) instead of every chunk's leftover size.
    """
    pieces: list[tuple[_Chunk, int, int]] = []
    waiting = c0 = 0
    for c0, chunk in chunks:
        start = 0
        while start < len(chunk):
            stop = min(start + size - waiting, len(chunk))
            pieces.append((chunk, start, stop))
            waiting += stop - start
            start = stop
            if waiting == size:
                yield c0, _joined(pieces, size)
                pieces, waiting = [], 0
    if pieces:
        yield c0, _joined(pieces, min(size, -(-waiting // PAD_MULTIPLE) * PAD_MULTIPLE))


def _joined(pieces: list[tuple[_Chunk, int, int]], size: int) -> _Batch:
    """One batch of the ``pieces`` (chunk, start, stop), padded to ``size`` windows."""
    rows = np.concatenate([chunk.rows[a:b] for chunk, a, b in pieces])
    cols = np.concatenate([chunk.cols[a:b] for chunk, a, b in pieces])
    parts = [chunk.batch(a, b) for chunk, a, b in pieces]
    if len(rows) < size:
        parts.append(parts[-1][-1:].expand(size - len(rows), -1, -1, -1))
    windows = parts[0] if len(parts) == 1 else torch.cat(parts).contiguous(memory_format=torch.channels_last)
    return _Batch(rows, cols, windows)


def _fill(
    arrays: dict[str, npt.NDArray[Any]], layers: list[Layer], batch: _Batch, predictor: Predictor
) -> None:
    """Predict a batch of windows and write each head's outputs into the strip arrays."""
    outputs = predictor.predict_windows(batch.windows)
    rows, cols, n = batch.rows, batch.cols, len(batch)
    for layer in layers:
        target = arrays[layer.name]
        if layer.kind == "valid":
            target[0, rows, cols] = 1
            continue
        values = outputs[layer.head][:n].numpy()
        if layer.kind == "class":
            target[0, rows, cols] = values.argmax(axis=1) + 1
        elif layer.kind == "probability":
            target[:, rows, cols] = values.T
        else:
            target[0, rows, cols] = values


def _prefetch(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """Iterate ``items`` produced by a background thread, ``depth`` ahead (reading overlaps compute)."""
    buffer: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                buffer.put((True, item))
            buffer.put((False, None))
        except BaseException as err:  # handed to the consumer, which re-raises it
            buffer.put((False, err))

    worker = threading.Thread(target=produce, daemon=True)
    worker.start()
    try:
        while True:
            more, item = buffer.get()
            if not more:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full buffer
            try:
                buffer.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.05)
