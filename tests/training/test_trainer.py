"""Trainer behaviour: checkpoints, resume after SIGKILL, and DDP equivalence (2 gloo processes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from spatialnet import checkpoint as ckpt
from spatialnet.config import load_recipe
from spatialnet.errors import CheckpointError
from spatialnet.training.sampler import epoch_sampler
from spatialnet.training.trainer import Trainer
from tests.helpers import ENV, free_port


def spatialnet(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "spatialnet", *args], env=ENV, **kwargs)


def final_history(run: Path) -> list[dict]:
    return json.loads((run / "history.json").read_text())


def test_training_writes_best_and_last_checkpoints(tiny_recipe, tmp_path):
    recipe = load_recipe(str(tiny_recipe), ["train.threads=1"])
    result = Trainer(recipe, tmp_path / "run", show_progress=False, log=lambda _: None).fit()
    assert result["select_metric"] == "landuse/accuracy" and 1 <= result["best_epoch"] <= 3
    for name in ("best", "last"):
        files = {p.name for p in (tmp_path / "run" / name).iterdir()}
        assert {"config.json", "model.safetensors", "metrics.json"} <= files
    assert (tmp_path / "run" / "last" / "training_state.pt").exists()
    history = final_history(tmp_path / "run")
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert history[-1]["train_loss"] < history[0]["train_loss"]


def test_existing_run_is_not_overwritten_without_resume(tiny_recipe, tmp_path):
    recipe = load_recipe(str(tiny_recipe), ["train.epochs=1", "train.threads=1"])
    Trainer(recipe, tmp_path / "run", show_progress=False, log=lambda _: None).fit()
    with pytest.raises(Exception, match="already holds a run; pass --resume"):
        Trainer(recipe, tmp_path / "run", show_progress=False, log=lambda _: None).fit()


def test_resume_accepts_the_same_data_root_spelled_differently(
    tiny_recipe, tiny_world, tmp_path, monkeypatch
):
    run = tmp_path / "run"
    first = load_recipe(str(tiny_recipe), ["train.epochs=1", "train.threads=1", f"data.root={tiny_world}"])
    Trainer(first, run, show_progress=False, log=lambda _: None).fit()
    monkeypatch.chdir(tmp_path)
    relative = os.path.relpath(tiny_world, tmp_path)  # e.g. ../../tiny_world0: the same folder
    more = load_recipe(str(tiny_recipe), ["train.epochs=2", "train.threads=1", f"data.root={relative}"])
    Trainer(more, run, resume=True, show_progress=False, log=lambda _: None).fit()
    assert [h["epoch"] for h in final_history(run)] == [1, 2]
    changed = load_recipe(str(tiny_recipe), ["train.epochs=3", "train.threads=1", "train.lr=0.002"])
    with pytest.raises(
        CheckpointError, match=r"cannot resume with a different recipe \(was → now: train\.lr: "
    ):
        Trainer(changed, run, resume=True, show_progress=False, log=lambda _: None).fit()


@pytest.mark.slow
def test_sigkill_then_resume_matches_uninterrupted_run(tiny_recipe, tmp_path):
    args = ["train", str(tiny_recipe), "--no-progress", "--set", "train.epochs=4", "--set", "train.threads=1"]
    reference = spatialnet(*args, "--out", str(tmp_path / "ref"))
    victim = spatialnet(*args, "--out", str(tmp_path / "run"), stdout=subprocess.DEVNULL)
    history = tmp_path / "run" / "history.json"
    deadline = time.time() + 120
    while not (history.exists() and len(json.loads(history.read_text())) >= 2):
        assert victim.poll() is None, "training ended before it could be killed"
        assert time.time() < deadline
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert len(json.loads(history.read_text())) < 4, "killed too late to test resuming"
    assert ckpt.resolve_checkpoint(tmp_path / "run" / "last")  # a complete checkpoint survived the kill
    assert spatialnet(*args, "--out", str(tmp_path / "run"), "--resume").wait() == 0
    assert reference.wait() == 0

    ours, theirs = final_history(tmp_path / "run"), final_history(tmp_path / "ref")
    assert [h["epoch"] for h in ours] == [1, 2, 3, 4]
    for a, b in zip(ours, theirs, strict=True):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-5, abs=1e-6)
        assert a["val"] == pytest.approx(b["val"], rel=1e-5, abs=1e-6)
    weights_a = load_file(str(tmp_path / "run" / "last" / "model.safetensors"))
    weights_b = load_file(str(tmp_path / "ref" / "last" / "model.safetensors"))
    for key in weights_a:
        torch.testing.assert_close(weights_a[key], weights_b[key], rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_kills_at_random_moments_never_leave_a_broken_checkpoint(tiny_recipe, tmp_path):
    args = [
        "train",
        str(tiny_recipe),
        "--no-progress",
        "--set",
        "train.epochs=30",
        "--set",
        "train.threads=1",
    ]
    run = tmp_path / "run"
    process = spatialnet(*args, "--out", str(run), stdout=subprocess.DEVNULL)
    while not (run / "last" / "model.safetensors").exists():
        assert process.poll() is None
        time.sleep(0.02)
    for delay in (0.0, 0.13, 0.31, 0.07):
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        folder = ckpt.resolve_checkpoint(run / "last")
        assert ckpt.load_training_state(folder)["epoch"] >= 0
        load_file(str(folder / "model.safetensors"))
        process = spatialnet(*args, "--out", str(run), "--resume", stdout=subprocess.DEVNULL)
    process.send_signal(signal.SIGKILL)
    process.wait()


@pytest.mark.slow
def test_two_gloo_processes_match_one_process_on_the_same_global_batch(tiny_recipe, tmp_path):
    args = ["train", str(tiny_recipe), "--no-progress", "--set", "train.epochs=2", "--set", "train.threads=1"]
    single = spatialnet(*args, "--out", str(tmp_path / "one"))
    launcher = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nnodes",
        "1",
        "--nproc-per-node",
        "2",
        "--master-addr",
        "127.0.0.1",
        "--master-port",
        str(free_port()),
        "-m",
        "spatialnet",
    ]
    double = subprocess.Popen([*launcher, *args, "--out", str(tmp_path / "two")], env=ENV)
    assert single.wait() == 0 and double.wait() == 0
    assert ckpt.read_metrics(tmp_path / "two" / "last")["world_size"] == 2
    one, two = final_history(tmp_path / "one"), final_history(tmp_path / "two")
    for a, b in zip(one, two, strict=True):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4)
    weights_one = load_file(str(tmp_path / "one" / "last" / "model.safetensors"))
    weights_two = load_file(str(tmp_path / "two" / "last" / "model.safetensors"))
    for key in weights_one:
        torch.testing.assert_close(weights_one[key], weights_two[key], rtol=1e-3, atol=1e-4)


def test_sampler_shards_the_same_global_batches():
    single = list(epoch_sampler(10, seed=3))
    ranks = [list(epoch_sampler(10, seed=3, rank=r, world_size=2)) for r in range(2)]
    assert sorted(single) == list(range(10))
    assert ranks[0] == single[0::2] and ranks[1] == single[1::2]
    sampler = epoch_sampler(10, seed=3)
    sampler.set_epoch(1)
    assert list(sampler) != single


@pytest.mark.parametrize("balancing", ["uncertainty", "gradnorm"])
def test_learned_balancing_runs_through_the_trainer(tiny_recipe, tmp_path, balancing):
    """Two heads on the same labels: the learned task weights move and are saved for resuming."""
    recipe = load_recipe(
        str(tiny_recipe),
        [
            "train.epochs=2",
            "train.threads=1",
            f"loss.balancing={balancing}",
            "heads.aux={type: classification, num_classes: 21, target: landuse, label_smoothing: 0.3}",
        ],
    )
    Trainer(recipe, tmp_path / "run", show_progress=False, log=lambda _: None).fit()
    history = final_history(tmp_path / "run")
    weights = [h["task_weights"] for h in history]
    assert set(weights[0]) == {"landuse", "aux"}
    assert weights[-1] != weights[0]
    if balancing == "gradnorm":
        assert sum(weights[-1].values()) == pytest.approx(2.0, rel=1e-3)  # renormalised to T
        assert min(weights[-1].values()) > 0
    state = ckpt.load_training_state(tmp_path / "run" / "last")
    assert state["balancer"], "balancer state must be checkpointed"
