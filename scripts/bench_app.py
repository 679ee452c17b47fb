"""Latency of the app's endpoints under 1 and 16 concurrent clients, for a tiny and a small checkpoint.

Each checkpoint is served by ``spatialnet app`` in its own process (as a person would run it);
client threads, each with its own ``gradio_client.Client``, call one endpoint in a loop for
``--duration`` seconds (requests still in flight at the deadline are waited for and counted).
Reported per task and client count: p50/p95/mean latency, requests, requests/s and every error.
``--batching`` adds the 16-client caption and answer throughput with the app's micro-batching
off (``--max-batch 1``) beside the default (8). Without ``--tiny``/``--small`` runs, both are
trained here for ``--epochs`` short epochs on a small synthetic world (the latency of a model
does not depend on how long it trained, except for caption length, which the report gives).

    python scripts/bench_app.py --out runs/bench/app.json \\
        [--tiny runs/quickstart/model --small RUN --world runs/quickstart/world] [--device cpu]
"""

from __future__ import annotations

import argparse
import itertools
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_common import machine, small_world, write_report
from gradio_client import Client, handle_file

from spatialnet.app.stage_log import read_stage_log
from spatialnet.config import load_recipe
from spatialnet.data.taiga.envi import open_envi
from spatialnet.training.trainer import Trainer

QUESTIONS = [
    "How many buildings are there?",
    "Is there a road?",
    "Are there more buildings than water areas?",
    "Is it a rural or an urban area?",
]
FOREST_SIDE = 16  # pixels per side of the mapped area of a /forest request (the app's smallest)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(run: Path, device: str, max_batch: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``spatialnet app`` on a free port, once it answers; its output goes to ``log``.

    The app writes its per-request stage log (``--profile``) beside ``log`` (:func:`stage_file`).
    """
    port = free_port()
    command = [sys.executable, "-m", "spatialnet", "app", "--checkpoint", str(run), "--port", str(port)]
    command += ["--profile", str(stage_file(log))]
    with log.open("ab") as sink:
        server = subprocess.Popen(
            [*command, "--device", device, "--max-batch", str(max_batch)], stdout=sink, stderr=sink
        )
    return server, wait_for(server, f"http://127.0.0.1:{port}/", log)


def stage_file(log: Path) -> Path:
    """Where the app started with server log ``log`` records its requests' stages."""
    return log.with_suffix(".stages.jsonl")


def stage_profile(rows: list[dict[str, Any]], client_mean_s: float) -> dict[str, Any]:
    """Mean seconds per stage of the requests in ``rows``, and what the serving stack adds around them.

    ``serving`` is the clients' mean latency minus the mean time inside the app: upload, Gradio's
    queue and the response (client and server requests are not matched one to one, so means).
    """
    if not rows:
        return {}
    means = {
        stage: round(statistics.fmean(row[stage] for row in rows), 4)
        for stage in ("decode", "batch_wait", "batch_run", "in_app", "batch_size")
    }
    in_app = means["in_app"]
    return {
        "requests_logged": len(rows),
        "mean_s": {k: v for k, v in means.items() if k != "batch_size"},
        "mean_batch_size": means["batch_size"],
        "serving_mean_s": round(client_mean_s - in_app, 4),
        "share_of_latency": {
            "in_app": round(in_app / client_mean_s, 3),
            "serving": round(1 - in_app / client_mean_s, 3),
        },
    }


def wait_for(server: subprocess.Popen[bytes], url: str, log: Path) -> str:
    """``url`` once the server answers there (RuntimeError with its log when it exits or stalls)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the app exited:\n{log.read_text()[-3000:]}")
        try:
            Client(url, verbose=False)
            return url
        except Exception:
            time.sleep(1)
    server.kill()
    raise RuntimeError(f"the app did not answer on {url} within 300 s")


# The serving stack alone: the app's image upload, queue and concurrency settings, and endpoints
# named as the app's that return at once without reading the file or running a model.
FLOOR_APP = """
import sys
import gradio as gr
from spatialnet.app.build import _image_upload

with gr.Blocks() as demo:
    image, question = _image_upload(), gr.Textbox()
    text, label, kind = gr.Textbox(), gr.Label(), gr.Textbox()
    gr.Button().click(lambda image: ("", {}), [image], [text, label], api_name="caption",
                      concurrency_id="caption", concurrency_limit=8)
    gr.Button().click(lambda image, question: ("", {}, ""), [image, question], [text, label, kind],
                      api_name="ask", concurrency_id="ask", concurrency_limit=8)
demo.queue(default_concurrency_limit=1)
demo.launch(server_name="127.0.0.1", server_port=int(sys.argv[1]), share=False, prevent_thread_lock=False)
"""


def serve_floor(log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The no-op app of :data:`FLOOR_APP` on a free port, once it answers."""
    port = free_port()
    with log.open("ab") as sink:
        server = subprocess.Popen([sys.executable, "-c", FLOOR_APP, str(port)], stdout=sink, stderr=sink)
    return server, wait_for(server, f"http://127.0.0.1:{port}/", log)


def bench_floor(world: Path, args: argparse.Namespace) -> dict[str, Any]:
    """16-client throughput and latency of the no-op endpoints: what the serving stack costs alone."""
    server, url = serve_floor(args.out.with_suffix(".floor.log"))
    out: dict[str, Any] = {}
    try:
        for task in ("caption", "ask"):
            args_of = requests_for(task, world)
            load(url, task, args_of, 1, 3)
            out[task] = load(url, task, args_of, max(args.clients), args.duration)
            print(f"floor {task}: {out[task]}", file=sys.stderr)
    finally:
        server.terminate()
        server.wait(30)
    return out


def requests_for(task: str, world: Path) -> Callable[[int], tuple[Any, ...]]:
    """The i-th request's arguments for ``task``, cycling over the world's images and questions."""
    images = sorted((world / "ucm_captions" / "imgs").iterdir())[:16]
    tiles = sorted((world / "rsvqa_lr" / "Images_LR").iterdir())[:16]
    if task == "caption":
        return lambda i: (handle_file(str(images[i % len(images)])),)
    if task == "ask":
        return lambda i: (handle_file(str(tiles[i % len(tiles)])), QUESTIONS[i % len(QUESTIONS)])
    header = sorted((world / "taiga").glob("*reflectance*.hdr"))[0]
    lines, samples, _ = open_envi(header).shape  # pixels on an 8 × 8 grid of 24-px steps round the centre
    return lambda i: (
        header.name,
        None,
        lines // 2 + 24 * (i % 8 - 4),
        samples // 2 + 24 * (i // 8 % 8 - 4),
        FOREST_SIDE,
    )


def load(
    url: str,
    task: str,
    args_of: Callable[[int], tuple[Any, ...]],
    clients: int,
    seconds: float,
    stages: Path | None = None,
) -> dict[str, Any]:
    """``clients`` threads calling ``task`` for ``seconds``: latency percentiles and errors.

    With ``stages`` (the app's stage log), also where the time of these requests went.
    """
    since = time.time()
    latencies: list[float] = []
    errors: list[str] = []
    lengths: list[int] = []
    counter = itertools.count()
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        api = Client(url, verbose=False)
        while time.monotonic() < stop:
            i = next(counter)
            start = time.perf_counter()
            try:
                result = api.predict(*args_of(i), api_name=f"/{task}")
            except Exception as err:
                with lock:
                    errors.append(f"{type(err).__name__}: {err}"[:300])
                continue
            with lock:
                latencies.append(time.perf_counter() - start)
                if task == "caption":
                    lengths.append(len(str(result[0]).split()))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    ordered = sorted(latencies)
    report: dict[str, Any] = {
        "clients": clients,
        "requests": len(latencies),
        "errors": len(errors),
        "error_messages": sorted(set(errors))[:5],
        "wall_s": round(wall, 2),
        "requests_per_s": round(len(latencies) / wall, 3),
    }
    if ordered:
        report |= {
            "p50_s": round(ordered[len(ordered) // 2], 4),
            "p95_s": round(ordered[min(int(0.95 * len(ordered)), len(ordered) - 1)], 4),
            "mean_s": round(statistics.fmean(ordered), 4),
        }
    if lengths:
        report["mean_caption_words"] = round(statistics.fmean(lengths), 2)
    if stages is not None and ordered:
        rows = [r for r in read_stage_log(stages, since) if r["endpoint"] == task]
        report["stages"] = stage_profile(rows, statistics.fmean(ordered))
    return report


def bench_checkpoint(run: Path, world: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Every task at every client count against one server."""
    server, url = serve(run, args.device, 8, args.out.with_suffix(".server.log"))
    results: dict[str, Any] = {"checkpoint": str(run), "tasks": {}}
    try:
        for task in args.tasks:
            args_of = requests_for(task, world)
            load(url, task, args_of, 1, 3)  # warm-up: first calls allocate
            stages = stage_file(args.out.with_suffix(".server.log"))
            results["tasks"][task] = [
                load(
                    url,
                    task,
                    args_of,
                    clients,
                    args.duration if clients > 1 else args.single_duration,
                    stages,
                )
                for clients in args.clients
            ]
            print(f"{run.name} {task}: {results['tasks'][task]}", file=sys.stderr)
    finally:
        server.terminate()
        server.wait(30)
    return results


def bench_batching(run: Path, world: Path, args: argparse.Namespace) -> dict[str, Any]:
    """16-client throughput of caption and ask with micro-batching off and on."""
    out: dict[str, Any] = {}
    for max_batch in (1, 8):
        server, url = serve(run, args.device, max_batch, args.out.with_suffix(".server.log"))
        try:
            for task in ("caption", "ask"):
                args_of = requests_for(task, world)
                load(url, task, args_of, 1, 3)
                out.setdefault(task, {})[f"max_batch_{max_batch}"] = load(
                    url, task, args_of, max(args.clients), args.batching_duration
                )
        finally:
            server.terminate()
            server.wait(30)
    for pair in out.values():
        pair["speedup"] = round(
            pair["max_batch_8"]["requests_per_s"] / max(pair["max_batch_1"]["requests_per_s"], 1e-9), 3
        )
    return out


def floor_report(world: Path, args: argparse.Namespace, tiny: Path) -> dict[str, Any]:
    """The no-op floor beside the tiny model's /caption and /ask at 16 clients, measured in one run."""
    floor = bench_floor(world, args)
    args.tasks, args.clients = ["caption", "ask"], [max(args.clients)]
    model = bench_checkpoint(tiny, world, args)["tasks"]
    ratios = {
        task: round(model[task][0]["requests_per_s"] / max(floor[task]["requests_per_s"], 1e-9), 3)
        for task in ("caption", "ask")
    }
    return {
        "benchmark": "app vs the serving stack's no-op floor (16 clients)",
        "machine": machine() | {"device": args.device},
        "duration_s": args.duration,
        "floor": floor,
        "tiny": model,
        "throughput_vs_floor": ratios,
    }


def trained(name: str, preset: str, world: Path, epochs: int, folder: Path) -> Path:
    """The joint recipe with ``preset`` backbone trained for ``epochs`` short epochs on ``world``."""
    schedule = [f"train.epochs={epochs}", "train.steps_per_epoch=40", f"train.val_every={epochs}"]
    recipe = load_recipe(
        "spatialnet_vit-tiny", [f"data.root={world}", f"backbone.preset={preset}", *schedule]
    )
    run = folder / name
    Trainer(recipe, run, show_progress=False, log=lambda _message: None).fit()
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", type=Path, help="a trained tiny run (default: trained here)")
    parser.add_argument("--small", type=Path, help="a trained small run (default: trained here)")
    parser.add_argument("--world", type=Path, help="the world the runs read (default: a small one is made)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs of 40 steps when training here")
    parser.add_argument("--tasks", nargs="+", default=["caption", "ask", "forest"])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load per concurrent run")
    parser.add_argument("--single-duration", type=float, default=20.0, help="seconds for one client")
    parser.add_argument("--batching", action="store_true", help="also compare max-batch 1 and 8")
    parser.add_argument(
        "--floor-only",
        action="store_true",
        help="only the no-op app's 16-client figures and the tiny model's caption/ask beside them",
    )
    parser.add_argument("--batching-duration", type=float, default=30.0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=Path("runs/bench/app.json"))
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="bench_app_") as scratch:
        world = args.world or small_world(Path(scratch))
        if args.floor_only:
            write_report(
                floor_report(world, args, args.tiny or trained("tiny", "tiny", world, 2, Path(scratch))),
                args.out,
            )
            return
        tiny = args.tiny or trained("tiny", "tiny", world, args.epochs, Path(scratch))
        small = args.small or trained("small", "small", world, args.epochs, Path(scratch))
        report: dict[str, Any] = {
            "benchmark": "app latency (spatialnet app, gradio_client threads)",
            "machine": machine() | {"device": args.device},
            "duration_s": args.duration,
            "forest_area_px": FOREST_SIDE**2,
            "checkpoints": {
                "tiny": bench_checkpoint(tiny, world, args),
                "small": bench_checkpoint(small, world, args),
            },
        }
        if args.batching:
            report["batching_tiny"] = bench_batching(tiny, world, args)
    report["errors_total"] = sum(
        run["errors"]
        for checkpoint in report["checkpoints"].values()
        for runs in checkpoint["tasks"].values()
        for run in runs
    )
    write_report(report, args.out)


if __name__ == "__main__":
    main()
