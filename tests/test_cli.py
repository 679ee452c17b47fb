"""The console script as a user meets it: help, the main job, and one-line errors on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch
import yaml
from PIL import Image

from spatialnet.cli.main import build_parser, main
from tests.helpers import REPO


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, tiny_world):
    from tests.helpers import TINY_RECIPE

    folder = tmp_path_factory.mktemp("cli")
    recipe = {**TINY_RECIPE, "data": {**TINY_RECIPE["data"], "root": str(tiny_world)}}
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(recipe))
    assert (
        main(
            [
                "train",
                str(path),
                "--out",
                str(folder / "run"),
                "--no-progress",
                "--set",
                "train.epochs=2",
                "--set",
                "train.threads=1",
            ]
        )
        == 0
    )
    return folder / "run"


def one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_every_subcommand_has_complete_help():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    assert set(subparsers.choices) >= {"quickstart", "synth", "export", "train", "evaluate", "predict"}
    for name, sub in subparsers.choices.items():
        text = sub.format_help()
        assert sub.description, name
        for action in sub._actions:
            if action.dest != "help":
                assert action.help, f"{name} {action.dest} has no help"
        assert "usage:" in text


def test_evaluate_writes_metrics_and_confusion_png(trained_run, tiny_world, capsys):
    out = trained_run.parent / "val.json"
    assert (
        main(["evaluate", str(trained_run), "--data", str(tiny_world), "--split", "val", "--out", str(out)])
        == 0
    )
    report = json.loads(out.read_text())
    metrics = report["metrics"]["landuse"]
    assert report["split"] == "val"
    assert {"accuracy", "mean_class_accuracy", "macro_f1", "confusion_matrix"} <= set(metrics)
    assert sum(map(sum, metrics["confusion_matrix"])) == metrics["num_samples"] == 4
    assert (out.parent / "val_landuse_confusion.png").stat().st_size > 1000


def test_evaluate_with_test_views_averages_the_eight_symmetries(trained_run, tiny_world):
    """--tta scores the mean probability over flips and quarter turns, computed here by hand."""
    from spatialnet.data.registry import build_dataset
    from spatialnet.data.views import dihedral_views
    from spatialnet.model import load_run

    out = trained_run.parent / "val_tta.json"
    args = ["evaluate", str(trained_run), "--data", str(tiny_world), "--split", "val", "--out", str(out)]
    assert main([*args, "--tta"]) == 0
    report = json.loads(out.read_text())
    assert report["test_views"] == 8
    model, recipe, _, _ = load_run(trained_run, "cpu")
    recipe.data.root = str(tiny_world)
    items = list(build_dataset(recipe.data, "val", train=False))
    images = torch.stack([item["image"] for item in items])
    with torch.no_grad():
        views = [model.predict({"image": view}, ["landuse"])["landuse"] for view in dihedral_views(images)]
        plain = model.predict({"image": images}, ["landuse"])["landuse"]
    mean = torch.stack(views).mean(0)
    assert not torch.allclose(mean, plain)  # the views do change what a small model sees
    labels = torch.tensor([item["landuse"] for item in items])
    expected = (mean.argmax(1) == labels).float().mean().item()
    assert report["metrics"]["landuse"]["accuracy"] == pytest.approx(expected)


def test_predict_prints_top5_probabilities(trained_run, tiny_world, capsys):
    image = sorted((tiny_world / "ucm_captions" / "imgs").iterdir())[0]
    assert main(["predict", str(trained_run), "--image", str(image), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)["landuse"]
    assert len(result) == 5
    probabilities = [item["probability"] for item in result]
    assert probabilities == sorted(probabilities, reverse=True) and 0 < sum(probabilities) <= 1 + 1e-6


def test_a_question_to_a_model_without_a_vqa_head_says_so(trained_run, tiny_world, capsys):
    """A question is refused in one line naming the heads, not silently dropped."""
    image = sorted((tiny_world / "ucm_captions" / "imgs").iterdir())[0]
    err = one_line_error(
        capsys, ["predict", str(trained_run), "--image", str(image), "--question", "Is there a road?"]
    )
    assert "this model (test-tiny) answers no questions: it has no VQA head (its heads: landuse)" in err
    err = one_line_error(
        capsys, ["predict", str(trained_run), "--image", str(image), "--question-set", "rsivqa"]
    )
    assert "--question-set needs --question" in err


def test_missing_image_names_the_file(trained_run, tmp_path, capsys):
    err = one_line_error(capsys, ["predict", str(trained_run), "--image", str(tmp_path / "none.png")])
    assert "none.png: image file not found" in err


def test_corrupt_image_names_the_file(trained_run, tmp_path, capsys):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 not really a jpeg")
    assert "bad.jpg: not a readable image" in one_line_error(
        capsys, ["predict", str(trained_run), "--image", str(bad)]
    )


def test_wrong_band_count_names_file_and_expectation(trained_run, tmp_path, capsys):
    cube = tmp_path / "cube.tif"
    tifffile.imwrite(cube, np.zeros((5, 40, 40), np.uint8), photometric="minisblack", planarconfig="separate")
    err = one_line_error(capsys, ["predict", str(trained_run), "--image", str(cube)])
    assert "cube.tif" in err and "expected 3" in err


def test_grayscale_and_odd_sized_images_are_accepted(trained_run, tmp_path, capsys):
    gray = tmp_path / "gray.png"
    Image.fromarray(np.full((250, 257), 128, np.uint8)).save(gray)
    assert main(["predict", str(trained_run), "--image", str(gray)]) == 0
    assert "landuse:" in capsys.readouterr().out


def test_wrong_recipe_key_names_the_key(tmp_path, capsys):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("backbone:\n  depht: 3\n")
    err = one_line_error(capsys, ["train", str(recipe), "--out", str(tmp_path / "run")])
    assert "r.yaml: unknown key 'backbone.depht'" in err


def test_negative_epochs_are_refused_in_one_line(tmp_path, capsys):
    err = one_line_error(
        capsys, ["train", "ucm_landuse-tiny", "--out", str(tmp_path / "run"), "--set", "train.epochs=-3"]
    )
    assert "'train.epochs' is -3; expected an integer ≥ 1" in err
    assert not (tmp_path / "run").exists()


def test_missing_dataset_lists_what_is_missing(tmp_path, capsys):
    err = one_line_error(
        capsys,
        ["train", "ucm_landuse-tiny", "--out", str(tmp_path / "run"), "--set", f"data.root={tmp_path}"],
    )
    assert "dataset.json" in err


# the installed package, not a source tree a PYTHONPATH may point at
WITHOUT_PYTHONPATH = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}


@pytest.fixture(scope="module")
def installed_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Python of a venv holding a plain (non-editable) ``pip install`` of the repository.

    The venv sees the machine's packages (torch …), so only spatialnet itself is installed.
    """
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", str(REPO)], capture_output=True, text=True
    )
    if install.returncode != 0:
        pytest.skip(f"pip could not build the package here: {install.stderr.strip()[-300:]}")
    return python


@pytest.mark.slow
def test_quickstart_runs_end_to_end_from_a_plain_install(tmp_path, installed_python):
    """The README's main job, shrunk, from an empty directory with a non-editable install:
    synthesise, train the joint model briefly (its recipe ships inside the package), evaluate."""
    where = subprocess.run(
        [str(installed_python), "-c", "import spatialnet; print(spatialnet.__file__)"],
        cwd=tmp_path,
        env=WITHOUT_PYTHONPATH,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(installed_python.parents[1]), where.stdout
    out = tmp_path / "qs"
    result = subprocess.run(
        [
            str(installed_python),
            "-m",
            "spatialnet",
            "quickstart",
            "--out",
            str(out),
            "--num-images",
            "42",
            "--no-progress",
            "--forest-size",
            "512",
            "--set",
            "train.epochs=1",
            "--set",
            "train.steps_per_epoch=6",
            "--set",
            "train.threads=1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=WITHOUT_PYTHONPATH,
    )
    assert result.returncode == 0, result.stderr
    for row in ("BLEU-4", "CIDEr", "accuracy (%)", "AA (%)", "rural/urban (%)", "mean RMSE"):
        assert row in result.stdout, row
    report = json.loads((out / "model" / "eval_test.json").read_text())
    metrics = report["metrics"]
    assert metrics["landuse"]["num_samples"] == 4
    assert {"Bleu_4", "METEOR", "ROUGE_L", "CIDEr"} <= set(metrics["captions"])
    generated = json.loads((out / "model" / metrics["captions"]["predictions_file"]).read_text())
    assert len(generated) == 4 and all(isinstance(row["caption"], str) for row in generated)
    vqa = metrics["vqa"]
    assert {"count", "presence", "comp", "rural_urban", "AA", "OA", "mean3"} <= set(vqa)
    answers = json.loads((out / "model" / vqa["predictions_file"]).read_text())
    assert len(answers) == vqa["num_questions"] > 0
    assert {"fertility", "soil", "species", "lai", "taiga", "ucm_captions"} <= set(metrics)
    best = out / "model" / "best"
    for path in ("captions/tokenizer.json", "vqa/tokenizer.json", "model.safetensors", "processors.json"):
        assert (best / path).is_file(), path
    timing = json.loads((out / "timing.json").read_text())  # where the main job's time went
    assert set(timing) == {"scenes", "forest", "training", "evaluation", "total"}
    assert timing["total"] >= sum(v for k, v in timing.items() if k != "total") > 0
