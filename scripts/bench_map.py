"""Whole-scene mapping on the CPU: peak memory vs scene size, throughput, exactness and resuming.

Builds synthetic cubes of the requested sizes (default ~1 GiB and 4 GiB of int16, 128 bands, BSQ)
by mirroring the synthetic TAIGA mosaic the run was trained on, then maps each with
``spatialnet map`` in a fresh process that reports its own peak resident memory (VmHWM,
and the same after loading the model, before mapping). For each cube: peak RSS, windows (output
pixels) per second, cube pixels covered per second (× stride²), and that throughput's FLOP rate
as a fraction of the machine's fp32 matmul peak (median of timed 2048² ``torch.mm``, same
process and thread count, measured just before and after the map) for the model's FLOPs per
window (``FlopCounterMode``: 2·MAC of convs/matmuls). The smallest cube is also mapped with the
model in its trained form (BatchNorm layers, NCHW: how ``map`` ran before its inference form), for
the speed-up side by side. Then ``--check-pixels`` random mapped pixels are
compared with ``Predictor.predict_pixel`` (classes equal; probabilities and values bit-identical,
or how far apart), and on the smallest cube a map killed (SIGKILL) after its first finished strip
is resumed and compared byte for byte with the uninterrupted one. With ``--formats envi gtiff
cog`` each cube is also mapped into GeoTIFFs (and COGs) in fresh processes: peak RSS, seconds and
bytes on disk beside the ENVI map's, and every pixel compared with it.

    python scripts/bench_map.py --run runs/taiga-tiny --out runs/bench/map.json
    python scripts/bench_map.py --run runs/taiga-tiny --sizes-gib 1 --formats envi gtiff cog
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from bench_common import machine, matmul_peak_gflops, write_report

from spatialnet.checkpoint import read_fitted, read_recipe, resolve_checkpoint
from spatialnet.data.taiga.envi import open_envi
from spatialnet.data.taiga.split import CUBE_NAME, resolve_taiga_root
from spatialnet.mapping.resume import DONE_FILE
from spatialnet.mapping.scene import map_scene
from spatialnet.mapping.settings import FORMATS, MapSettings
from spatialnet.model import load_run
from spatialnet.predictor import Predictor

GIB = 1 << 30
RSS_LIMIT = 1.2e9  # issue 19: peak resident memory of a map, bytes


def mirrored_cube(source: Path, side: int, out_hdr: Path) -> Path:
    """A side × side copy of the source cube's extent, mirrored at its edges, written band by band."""
    cube = open_envi(source)
    lines, samples, bands = cube.shape
    data_path = out_hdr.with_suffix("")
    rows = np.arange(side) % (2 * lines)
    rows = np.where(rows < lines, rows, 2 * lines - 1 - rows)
    cols = np.arange(side) % (2 * samples)
    cols = np.where(cols < samples, cols, 2 * samples - 1 - cols)
    view = cube.memmap()
    with open(data_path, "wb") as data:
        for band in range(bands):
            plane = np.asarray(view[:, :, band])
            data.write(np.ascontiguousarray(plane[rows][:, cols], dtype=cube.dtype).tobytes())
    header = cube.path.read_text(encoding="utf-8")
    for key, value in (("samples", side), ("lines", side), ("interleave", "bsq")):
        header = "\n".join(
            f"{key} = {value}" if line.split("=")[0].strip() == key else line for line in header.splitlines()
        )
    out_hdr.write_text(header + "\n", encoding="utf-8")
    return out_hdr


def peak_rss_bytes() -> int:
    """This process's peak resident memory: VmHWM of its own address space.

    Not ``ru_maxrss``: Linux carries the forking parent's peak over into a child's, which would
    make every mapping process look as large as this (model-loaded) benchmark process.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def trained_form_predictor(run: Path) -> Predictor:
    """The run as it was trained (BatchNorm layers, NCHW): how ``map`` ran before the inference form."""
    model, recipe, _, folder = load_run(run, "cpu")
    return Predictor(model, recipe, read_fitted(folder, recipe), folder)


def child_map(args: argparse.Namespace) -> None:
    """Run one map in this (fresh) process and print its summary, peak RSS and the matmul peak.

    The peak is measured in this process just before and after the map (mean of the two), so the
    fraction of it compares rates taken under the same load of this shared machine.
    """
    predictor = trained_form_predictor(args.run) if args.trained_form else Predictor.from_run(args.run, "cpu")
    loaded = peak_rss_bytes()
    before = matmul_peak_gflops()
    settings = MapSettings(stride=args.stride, batch_size=args.batch_size, raster_format=args.child_format)
    summary = map_scene(predictor, args.child_image, args.child_out, settings, progress=False)
    after = matmul_peak_gflops()
    peak = peak_rss_bytes()
    print(
        json.dumps(
            {
                "summary": summary.__dict__,
                "peak_rss_bytes": peak,
                "loaded_rss_bytes": loaded,
                "matmul_peak_gflops": (before + after) / 2,
            }
        )
    )


def run_child(
    args: argparse.Namespace, image: Path, out: Path, trained_form: bool = False, raster_format: str = "envi"
) -> dict[str, Any]:
    """Map ``image`` into ``out`` (as ``raster_format``) in a new process; its summary and peak RSS."""
    command = [sys.executable, __file__, "--child-image", str(image), "--child-out", str(out)]
    command += ["--child-format", raster_format]
    command += ["--run", str(args.run), "--stride", str(args.stride), "--batch-size", str(args.batch_size)]
    command += ["--trained-form"] if trained_form else []
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def killed_and_resumed(args: argparse.Namespace, image: Path, out: Path) -> dict[str, Any]:
    """Kill a map after its first finished strip, then resume it to the end."""
    command = [sys.executable, "-m", "spatialnet", "map", str(args.run), "--image", str(image)]
    command += ["--out", str(out), "--stride", str(args.stride), "--batch-size", str(args.batch_size)]
    process = subprocess.Popen([*command, "--no-progress"], stdout=subprocess.DEVNULL)
    done_file = out / DONE_FILE
    while process.poll() is None:
        if done_file.is_file() and any(done_file.read_bytes()):
            os.kill(process.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    process.wait()
    finished = sum(done_file.read_bytes())
    resumed = run_child(args, image, out)
    return {
        "killed": process.returncode == -signal.SIGKILL,
        "strips_done_when_killed": finished,
        "strips": resumed["summary"]["strips"],
        "strips_reused": resumed["summary"]["strips_reused"],
    }


def same_files(a: Path, b: Path) -> bool:
    """Every raster, header and quicklook of map ``a`` equals map ``b``'s, byte for byte."""
    names = sorted(p.name for p in a.iterdir() if p.suffix in (".img", ".hdr", ".png"))
    return bool(names) and all((a / n).read_bytes() == (b / n).read_bytes() for n in names)


def geotiff_vs_envi(args: argparse.Namespace, image: Path, envi: Path, raster_format: str) -> dict[str, Any]:
    """Map ``image`` as GeoTIFFs in a fresh process: peak RSS, time, size, and pixels vs the ENVI map."""
    import rasterio

    out = envi.with_name(f"{envi.name}_{raster_format}")
    result = run_child(args, image, out, raster_format=raster_format)
    equal = True
    for header in sorted(envi.glob("*.hdr")):
        expected = np.asarray(open_envi(header).memmap()).transpose(2, 0, 1)
        with rasterio.open(out / f"{header.stem}.tif") as tif:
            equal &= bool(np.array_equal(tif.read(), expected, equal_nan=True))
    return {
        "peak_rss_bytes": result["peak_rss_bytes"],
        "seconds": result["summary"]["seconds"],
        "raster_bytes": sum(p.stat().st_size for p in out.iterdir() if ".tif" in p.name),
        "pixels_equal_envi": equal,
    }


def matches_predict(predictor: Predictor, image: Path, out: Path, stride: int, count: int) -> dict[str, Any]:
    """Compare ``count`` random mapped pixels with ``predict_pixel``, output by output.

    Classes must be identical; probabilities and values are counted as bit-identical or not, with
    the largest relative difference (oneDNN picks convolution kernels by batch size, so a window
    in a batch of 256 and the same window alone may differ in the last bit).
    """
    from spatialnet.heads.pixel import PixelClassificationConfig

    valid = np.asarray(open_envi(out / "valid.hdr").memmap()[:, :, 0])
    pixels = np.argwhere(valid == 1)
    picks = pixels[np.random.default_rng(0).choice(len(pixels), min(count, len(pixels)), replace=False)]
    outputs = identical = class_mismatches = 0
    largest = 0.0
    for i, j in picks.tolist():
        result = predictor.predict_pixel(image, i * stride + stride // 2, j * stride + stride // 2, top_k=99)
        for name in predictor.model.heads:
            config = predictor.model.head(name).config
            if isinstance(config, PixelClassificationConfig):
                by_label = {item["label"]: item["probability"] for item in result[name]}
                expected = np.asarray([by_label[label] for label in config.class_names or []], np.float32)
                mapped = np.asarray(open_envi(out / f"{name}_probability.hdr").memmap()[i, j])
                label = open_envi(out / f"{name}_class.hdr").memmap()[i, j, 0]
                class_mismatches += int(label != expected.argmax() + 1)
            else:
                expected = np.asarray([result[name]["value"]], np.float32)
                mapped = np.asarray(open_envi(out / f"{name}.hdr").memmap()[i, j])
            outputs += 1
            identical += int(np.array_equal(mapped, expected))
            scale = np.maximum(np.abs(expected), 1e-6)
            largest = max(largest, float((np.abs(mapped - expected) / scale).max()))
    return {
        "pixels_checked": len(picks),
        "outputs_checked": outputs,
        "bit_identical_outputs": identical,
        "class_mismatches": class_mismatches,
        "max_relative_difference": largest,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--run",
        type=Path,
        required=True,
        help="a trained forest run, e.g. runs/taiga-tiny (spatialnet train taiga-tiny, see the README)",
    )
    parser.add_argument("--sizes-gib", type=float, nargs="+", default=[1.0, 4.0], help="cube sizes to map")
    parser.add_argument(
        "--stride", type=int, default=8, help="map every N-th pixel (8: a 4 GiB cube in minutes)"
    )
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--check-pixels", type=int, default=200)
    parser.add_argument(
        "--formats",
        nargs="+",
        choices=FORMATS,
        default=["envi"],
        help="also map each cube into these formats",
    )
    parser.add_argument("--workdir", type=Path, default=Path("runs/bench/map_work"))
    parser.add_argument("--keep", action="store_true", help="keep the cubes and maps")
    parser.add_argument("--out", type=Path, default=Path("runs/bench/map.json"))
    parser.add_argument("--child-image", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--trained-form", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-format", default="envi", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_image is not None:
        child_map(args)
        return

    from bench_taiga import forward_flops  # the parent's tools stay out of the measured child processes

    recipe = read_recipe(resolve_checkpoint(args.run))
    if recipe.data.root is None:
        parser.error(f"{args.run}: its recipe names no data.root to build the cubes from")
    source = resolve_taiga_root(recipe.data.root) / f"{CUBE_NAME}.hdr"
    predictor = Predictor.from_run(args.run, "cpu")
    flops = forward_flops(trained_form_predictor(args.run).model, predictor.recipe)
    bands = open_envi(source).shape[2]
    work = args.workdir
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    cubes: list[dict[str, Any]] = []
    try:
        for gib in sorted(args.sizes_gib):
            side = math.ceil(math.sqrt(gib * GIB / (bands * 2)))
            image = mirrored_cube(source, side, work / f"cube_{side}.hdr")
            result = run_child(args, image, work / f"map_{side}")
            summary = result["summary"]
            rate = summary["windows_per_second"]
            peak = result["matmul_peak_gflops"]
            entry: dict[str, Any] = {
                "cube_bytes": open_envi(image).data_path.stat().st_size,
                "cube_shape": [side, side, bands],
                "map_shape": summary["shape"],
                "windows": summary["windows"],
                "seconds": summary["seconds"],
                "windows_per_second": rate,
                "cube_pixels_per_second": rate * args.stride**2,
                "matmul_peak_gflops": peak,
                "fraction_of_matmul_peak": rate * flops / (peak * 1e9),
                "peak_rss_bytes": result["peak_rss_bytes"],
                "rss_after_loading_model_bytes": result["loaded_rss_bytes"],
            }
            entry["raster_bytes"] = sum(p.stat().st_size for p in (work / f"map_{side}").glob("*.img"))
            for raster_format in (f for f in args.formats if f != "envi"):
                entry[raster_format] = geotiff_vs_envi(args, image, work / f"map_{side}", raster_format)
            entry["matches_predict"] = matches_predict(
                predictor, image, work / f"map_{side}", args.stride, args.check_pixels
            )
            if not cubes:
                before = run_child(args, image, work / f"trained_form_{side}", trained_form=True)
                before_rate = before["summary"]["windows_per_second"]
                entry["trained_form"] = {
                    "windows_per_second": before_rate,
                    "matmul_peak_gflops": before["matmul_peak_gflops"],
                    "fraction_of_matmul_peak": before_rate * flops / (before["matmul_peak_gflops"] * 1e9),
                    "peak_rss_bytes": before["peak_rss_bytes"],
                    "inference_form_speedup": rate / before_rate,
                }
                resumed = killed_and_resumed(args, image, work / f"resumed_{side}")
                resumed["identical_to_uninterrupted"] = same_files(
                    work / f"map_{side}", work / f"resumed_{side}"
                )
                entry["resume"] = resumed
            cubes.append(entry)
            print(json.dumps(entry), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    rss = [c["peak_rss_bytes"] for c in cubes]
    report = {
        "benchmark": "map",
        "machine": machine(),
        "run": str(args.run),
        "model": recipe.name,
        "stride": args.stride,
        "batch_size": args.batch_size,
        "flops_per_window": flops,
        "cubes": cubes,
        "peak_rss_max_bytes": max(rss),
        "rss_within_1_2_gb": max(rss) <= RSS_LIMIT,
        "rss_growth_largest_vs_smallest": rss[-1] / rss[0],
        "classes_match_predict": all(c["matches_predict"]["class_mismatches"] == 0 for c in cubes),
        "values_match_predict_to_1e-5": all(
            c["matches_predict"]["max_relative_difference"] <= 1e-5 for c in cubes
        ),
        "resume_identical": bool(cubes and cubes[0]["resume"]["identical_to_uninterrupted"]),
    }
    for raster_format in (f for f in args.formats if f != "envi"):
        report[f"{raster_format}_peak_rss_vs_envi"] = [
            c[raster_format]["peak_rss_bytes"] / c["peak_rss_bytes"] for c in cubes
        ]
        report[f"{raster_format}_pixels_equal_envi"] = all(
            c[raster_format]["pixels_equal_envi"] for c in cubes
        )
    write_report(report, args.out)


if __name__ == "__main__":
    main()
