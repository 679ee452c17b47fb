"""Latency of the app's Forest tab for one client, by stage, at the app's 16² and a 96² map area.

Runs what the ``/forest`` endpoint runs (``AppTasks.forest``: the pixel's forest variables, the
map of the area at the app's preview step, its PNG quicklooks) in-process on a trained checkpoint,
``--repeats`` times per area after one warm-up, and reports the median total and its parts: the
pixel readout, the map without quicklooks (with the model in its inference form, as the app
runs it, and in its trained form: BatchNorm layers, contiguous NCHW), and the quicklooks drawn by
the project's renderer (numpy look-up tables + PIL) beside matplotlib figures of the same rasters
(the renderer used before).

    python scripts/bench_forest_tab.py --run runs/quickstart/model --out runs/bench/forest_tab.json
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from bench_common import machine, matmul_peak_gflops, write_report

from spatialnet.app.tasks import AppTasks
from spatialnet.checkpoint import read_fitted
from spatialnet.data.taiga.envi import open_envi
from spatialnet.mapping.quicklook import class_colours, save_class_map, save_value_map
from spatialnet.mapping.scene import map_scene
from spatialnet.mapping.settings import MapSettings
from spatialnet.model import load_run
from spatialnet.predictor import Predictor


def matplotlib_quicklooks(rasters: list[tuple[str, np.ndarray]], folder: Path) -> None:
    """The same PNGs drawn as matplotlib figures (Agg canvas), as quicklooks were before."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    for name, data in rasters:
        figure = Figure(figsize=(8.4, 7.6), dpi=110)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        image = axes.imshow(
            data, cmap="viridis" if data.dtype.kind == "f" else "tab10", interpolation="nearest"
        )
        figure.colorbar(image, ax=axes)
        axes.set_title(name)
        figure.savefig(folder / f"{name}.png", bbox_inches="tight")


def project_quicklooks(rasters: list[tuple[str, np.ndarray]], folder: Path) -> None:
    """The quicklooks as ``spatialnet map`` draws them now."""
    colours = class_colours(8)
    for name, data in rasters:
        if data.dtype.kind == "f":
            save_value_map(data, name, folder / f"{name}.png", name)
        else:
            save_class_map(data, [str(k) for k in range(8)], colours, folder / f"{name}.png", name)


def window_flops(predictor: Predictor) -> int:
    """Matmul/conv FLOPs (2·MAC, ``FlopCounterMode``) of the model's forward on one window."""
    from torch.utils.flop_counter import FlopCounterMode

    bands, side = len(predictor.cube_processor().bands), predictor.window
    counter = FlopCounterMode(display=False)
    with counter:
        predictor.predict_windows(torch.zeros(2, bands, side, side))  # predict_windows' batch of 2
    return int(counter.get_total_flops()) // 2


def timed(function: Any, repeats: int) -> float:
    function()  # warm-up: first-call imports and caches are not what a person waits for each time
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_area(tasks: AppTasks, trained: Predictor, cube: Path, side: int, repeats: int) -> dict[str, Any]:
    lines, samples = open_envi(cube).shape[:2]
    row, col = lines // 2, samples // 2
    name = cube.name
    total = timed(lambda: tasks.forest(name, None, row, col, side), repeats)
    pixel = timed(lambda: tasks.predictor.predict_pixel(cube, row, col, top_k=3), repeats)
    region = (row - side // 2, col - side // 2, side, side)
    folder = Path(tempfile.mkdtemp())
    stride = tasks.preview_stride(side)

    def plain_map(predictor: Predictor) -> None:
        settings = MapSettings(stride=stride, region=region, quicklooks=False, overwrite=True)
        map_scene(predictor, cube, folder / "map", settings, progress=False)

    trained_form = timed(lambda: plain_map(trained), repeats)
    peak_before = matmul_peak_gflops()
    mapping = timed(lambda: plain_map(tasks.predictor), repeats)
    peak = (peak_before + matmul_peak_gflops()) / 2
    windows = len(range(0, side, stride)) ** 2
    flops = window_flops(tasks.predictor)
    rasters = []
    for header in sorted((folder / "map").glob("*.hdr")):
        data = np.asarray(open_envi(header).memmap()[:, :, 0])
        rasters.append((header.stem, data.astype(np.float32) if data.dtype.kind == "f" else data))
    ours = timed(lambda: project_quicklooks(rasters, folder), repeats)
    theirs = timed(lambda: matplotlib_quicklooks(rasters, folder), repeats)
    return {
        "area_px": side * side,
        "map_stride": stride,
        "windows": windows,
        "flops_per_window": flops,
        "matmul_peak_gflops": peak,
        "map_fraction_of_matmul_peak": windows * flops / mapping / (peak * 1e9),
        "total_s": total,
        "pixel_s": pixel,
        "map_without_quicklooks_s": mapping,
        "map_trained_form_s": trained_form,
        "inference_form_speedup": trained_form / mapping,
        "quicklooks": len(rasters),
        "quicklooks_s": ours,
        "quicklooks_matplotlib_s": theirs,
        "quicklook_speedup": theirs / ours,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--run", type=Path, required=True, help="checkpoint with forest heads (e.g. quickstart's)"
    )
    parser.add_argument("--out", type=Path, default=Path("runs/bench/forest_tab.json"))
    parser.add_argument("--sides", type=int, nargs="+", default=[16, 96])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    tasks = AppTasks(Predictor.from_run(args.run, args.device))
    model, recipe, _, folder = load_run(args.run, args.device)
    trained = Predictor(model, recipe, read_fitted(folder, recipe), folder)
    cubes = tasks.bundled_cubes()
    if not cubes:
        raise SystemExit(f"{args.run}: no hyperspectral cube of the model's dataset on this machine")
    cube = next(iter(cubes.values()))
    report = {
        "benchmark": "forest_tab",
        "machine": machine(),
        "run": str(args.run),
        "cube": str(cube),
        "areas": {str(side): bench_area(tasks, trained, cube, side, args.repeats) for side in args.sides},
    }
    write_report(report, args.out)


if __name__ == "__main__":
    main()
