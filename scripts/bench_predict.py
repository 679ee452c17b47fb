"""Batch prediction over a folder (``predict --images``) against the bare batched forward of the same model.

``--images`` 256×256 JPEGs are written to a temporary folder; ``predict_files`` reads, decodes,
prepares, predicts and writes them into a JSONL table in batches of ``--batch-size``; the bare
forward runs ``model.predict`` on the same images already prepared as tensors (no file reading,
decoding or writing), batch by batch as ``predict_arrays`` does. Both in this process: one
warm-up each, then ``--trials`` of each, alternating, and their medians. The ratio of their
images/s says what the file work costs beside the model (goal ≥ 0.9). Without ``--run``, the
quickstart's tiny joint model is built from its recipe with random weights (nothing is trained).

    python scripts/bench_predict.py --out runs/bench/predict.json [--run RUN] [--threads 1] \\
        [--question "Is there a road?"]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from bench_common import machine, median, write_report
from PIL import Image

from spatialnet.batch_prediction import find_images, predict_files
from spatialnet.cli.quickstart import RECIPE
from spatialnet.config import load_recipe
from spatialnet.data.base import Fitted
from spatialnet.data.registry import dataset_input
from spatialnet.heads.fitting import Sentences, fit_heads
from spatialnet.inference_form import inference_form
from spatialnet.model import SpatialNet
from spatialnet.predictor import Predictor
from spatialnet.processors import ImageProcessor

WORDS = "a the there is are many some green buildings trees cars road river houses area forest field near"


def random_predictor(recipe_name: str, device: str) -> Predictor:
    """``recipe_name``'s model with random weights, vocabularies fitted on random words, recipe processors."""
    torch.manual_seed(0)
    recipe = load_recipe(recipe_name)
    rng = np.random.default_rng(0)
    sentences = [" ".join(rng.choice(WORDS.split(), size=int(rng.integers(5, 12)))) for _ in range(200)]
    texts = {name: Sentences(sentences) for name in ("captions", "vqa") if name in recipe.heads}
    model = SpatialNet.from_recipe(recipe, fits=fit_heads(recipe, texts)).eval()
    fitted = {
        name: Fitted(ImageProcessor.from_config(source.data))
        for name, source in recipe.sources().items()
        if dataset_input(source.data.dataset) == "image"
    }
    return Predictor(inference_form(model).to(device), recipe, fitted)


def write_images(folder: Path, count: int, size: int) -> None:
    """``count`` smooth random ``size``² JPEGs (quality 90), as tiles of a survey would be."""
    rng = np.random.default_rng(0)
    for index in range(count):
        blobs = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
        image = Image.fromarray(blobs).resize((size, size), Image.Resampling.BICUBIC)
        image.save(folder / f"tile_{index:05d}.jpg", quality=90)


def bare_batches(
    predictor: Predictor, files: list[Path], batch_size: int, question: str | None
) -> list[tuple[dict[str, Any], list[str]]]:
    """``files`` prepared as model inputs (batch, heads to run) per batch and dataset, as predict_files."""
    datasets = predictor.datasets_run(question is not None)
    images = [predictor.prepare(predictor.load(path), datasets) for path in files]
    chosen = predictor.answering_set(None) if question is not None else None
    batches = []
    for start in range(0, len(images), batch_size):
        chunk = images[start : start + batch_size]
        for name in datasets:
            source = predictor.image_sources()[name]
            batch: dict[str, Any] = {"modality": source.modality} if source.modality else {}
            if question is not None:
                batch.update(question=[[question]] * len(chunk), question_set=chosen)
            names = [task for task in source.tasks if predictor.model.head(task).can_predict(batch)]
            batch["image"] = torch.stack([image[name] for image in chunk]).to(predictor.device)
            batches.append((batch, names))
    return batches


def interleaved_seconds(
    first: Callable[[], None], second: Callable[[], None], trials: int
) -> tuple[list[float], list[float]]:
    """Wall seconds of ``trials`` calls of each step, alternating (a busy neighbour slows both alike).

    Each step is run once untimed first.
    """
    seconds: tuple[list[float], list[float]] = ([], [])
    for step in (first, second):
        step()
    for _ in range(trials):
        for step, times in zip((first, second), seconds, strict=True):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help=f"a trained run (default: {RECIPE} with random weights)")
    parser.add_argument("--images", type=int, default=128, help="JPEGs to predict")
    parser.add_argument("--size", type=int, default=256, help="side of the JPEGs, pixels")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--question", help="a question asked of every image (VQA heads); default none")
    parser.add_argument("--trials", type=int, default=9, help="timed trials of each, alternating")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--out", type=Path, default=Path("runs/bench/predict.json"))
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    predictor = (
        Predictor.from_run(args.run, args.device) if args.run else random_predictor(RECIPE, args.device)
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "images"
        folder.mkdir()
        write_images(folder, args.images, args.size)
        files = find_images([str(folder)])
        table = Path(tmp) / "preds.jsonl"

        def files_step() -> None:
            table.unlink(missing_ok=True)  # every trial predicts every file
            predict_files(predictor, files, table, args.batch_size, question=args.question, progress=False)

        batches = bare_batches(predictor, files, args.batch_size, args.question)

        @torch.inference_mode()
        def bare_step() -> None:
            for batch, names in batches:
                for output in predictor.model.predict(batch, names).values():
                    if isinstance(output, torch.Tensor):
                        output.cpu()

        files_seconds, bare_seconds = interleaved_seconds(files_step, bare_step, args.trials)
        rows = len(table.read_text().splitlines())
    files_rate = args.images / median(files_seconds)
    bare_rate = args.images / median(bare_seconds)
    best_ratio = min(bare_seconds) / min(files_seconds)  # the least disturbed trials, beside the medians
    report = {
        "benchmark": "predict",
        **machine(),
        "device": str(predictor.device),
        "model": str(args.run) if args.run else f"{RECIPE} (random weights)",
        "images": args.images,
        "image_size": args.size,
        "batch_size": args.batch_size,
        "question": args.question,
        "rows_written": rows,
        "predict_files": {"images_per_s": files_rate, "trial_seconds": files_seconds},
        "bare_forward": {"images_per_s": bare_rate, "trial_seconds": bare_seconds},
        "ratio": files_rate / bare_rate,
        "ratio_of_fastest_trials": best_ratio,
        "goal_ratio": 0.9,
    }
    write_report(report, args.out)
    print(
        f"bench_predict {report['model']}, {args.images} images, batch {args.batch_size}: predict_files "
        f"{files_rate:.1f} images/s, bare forward {bare_rate:.1f} images/s, ratio {report['ratio']:.3f} "
        f"-> {args.out}"
    )


if __name__ == "__main__":
    main()
