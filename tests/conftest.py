"""Shared fixtures: offline environment, a tiny synthetic world and a tiny recipe."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from spatialnet.cli.main import main
from spatialnet.config import load_recipe, to_dict
from spatialnet.data.synthetic.forest import synthesize_forest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

REPO = Path(__file__).resolve().parents[1]

TINY_RECIPE = {
    "name": "test-tiny",
    "seed": 0,
    "data": {
        "dataset": "ucm_landuse",
        "image_size": 32,
        "augment": {"hflip": True, "vflip": True, "rot90": True},
    },
    "backbone": {
        "preset": "tiny",
        "img_size": 32,
        "patch_size": 8,
        "embed_dim": 32,
        "depth": 2,
        "num_heads": 2,
    },
    "heads": {"landuse": {"type": "classification", "num_classes": 21}},
    "train": {
        "epochs": 3,
        "batch_size": 8,
        "eval_batch_size": 16,
        "lr": 1.0e-3,
        "schedule": {"type": "cosine", "warmup_epochs": 1},
        "select_metric": "landuse/accuracy",
        "grad_clip": 1.0,
    },
}


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the repository (may be absent: tests using it skip with a reason)."""
    return REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 42-image synthetic world (2 scenes per class), generated once per session."""
    from spatialnet.data.synthetic import synthesize

    root = tmp_path_factory.mktemp("world")
    synthesize(root, seed=0, num_images=42, progress=False)
    return root


@pytest.fixture
def tiny_recipe(tmp_path: Path, tiny_world: Path) -> Path:
    """A recipe file for a seconds-long training run on the tiny world."""
    data = {**TINY_RECIPE, "data": {**TINY_RECIPE["data"], "root": str(tiny_world)}}
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


FOREST_BANDS = 24  # bands of the tiny synthetic forest


def tiny_forest_recipe(name: str, root: str, **backbone: object) -> dict:
    """A shipped CPU recipe shrunk for tests: 24 bands, 2 epochs, small batches."""
    recipe = to_dict(load_recipe(name))
    recipe["data"].update(root=root, bands=list(range(FOREST_BANDS)), block=5, num_workers=0)
    recipe["backbone"].update(in_chans=FOREST_BANDS, **backbone)
    recipe["train"].update(epochs=2, batch_size=16, eval_batch_size=64)
    return recipe


@pytest.fixture(scope="session")
def forest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 256×256 synthetic TAIGA forest with 24 bands, generated once per session."""
    out = tmp_path_factory.mktemp("forest")
    synthesize_forest(out, seed=3, size=(256, 256), bands=FOREST_BANDS, stand_size=40.0, spectra=None)
    return out


@pytest.fixture(scope="session")
def forest_run(tmp_path_factory: pytest.TempPathFactory, forest: Path) -> Path:
    """taiga-tiny (width 8, 2 epochs) trained on ``forest``: a forest checkpoint for CLI tests."""
    folder = tmp_path_factory.mktemp("taiga_run")
    recipe = tiny_forest_recipe("taiga-tiny", str(forest))
    recipe["backbone"]["options"].update(width=8, decoder_width=8)
    path = folder / "taiga.yaml"
    path.write_text(yaml.safe_dump(recipe))
    run = folder / "run"
    assert main(["train", str(path), "--out", str(run), "--no-progress"]) == 0
    return run


def tiny_joint_recipe(world: str, forest_root: str) -> dict:
    """A joint SpatialNet-ViT recipe shrunk for tests: captions + land-use, VQA and two forest heads.

    RGB datasets come from the tiny world (VQA tiles at 48 px, beside 32 px caption images, so the
    RGB stem resamples its position embeddings), the forest from the 24-band tiny forest.
    """
    small_text = {"hidden_size": 32, "layers": 1, "attention_heads": 2}
    return {
        "name": "test-joint",
        "seed": 0,
        "datasets": {
            "ucm_captions": {
                "tasks": ["captions", "landuse"],
                "modality": "rgb",
                "batch_size": 8,
                "data": {"dataset": "ucm_captions", "root": world, "image_size": 32},
            },
            "rsvqa_lr": {
                "tasks": ["vqa"],
                "modality": "rgb",
                "batch_size": 4,
                "data": {
                    "dataset": "rsvqa_lr",
                    "root": world,
                    "image_size": 48,
                    "questions_per_image": 3,
                    "augment": {"random_resized_crop": None},
                },
            },
            "taiga": {
                "tasks": ["fertility", "lai"],
                "modality": "hyperspectral",
                "batch_size": 8,
                "data": {
                    "dataset": "taiga",
                    "root": forest_root,
                    "image_size": 9,
                    "bands": list(range(FOREST_BANDS)),
                    "block": 5,
                    "dense_targets": True,
                },
            },
        },
        "backbone": {
            "type": "shared_vit",
            "embed_dim": 32,
            "depth": 2,
            "num_heads": 2,
            "options": {
                "modalities": {
                    "rgb": {"in_chans": 3, "img_size": 32, "patch_size": 8},
                    "hyperspectral": {"in_chans": FOREST_BANDS, "img_size": 9, "patch_size": 3},
                }
            },
        },
        "heads": {
            "captions": {"type": "caption", **small_text, "max_length": 20, "num_beams": 2},
            "landuse": {"type": "classification", "num_classes": 21, "weight": 0.5},
            "vqa": {"type": "vqa", "target": "answer", **small_text, "fusion_layers": 1},
            "fertility": {"type": "pixel_classification", "class_weighting": "median_frequency"},
            "lai": {"type": "pixel_regression", "loss": "mae"},
        },
        "train": {
            "epochs": 2,
            "steps_per_epoch": 6,
            "eval_batch_size": 32,
            "lr": 1.0e-3,
            "schedule": {"type": "constant"},
            "select_metric": "joint",
            "select_weights": {"landuse/accuracy": 1.0, "vqa/AA": 1.0, "taiga/mean_rmse": -1.0},
            "threads": 1,
        },
    }


@pytest.fixture(scope="session")
def joint_recipe(tmp_path_factory: pytest.TempPathFactory, tiny_world: Path, forest: Path) -> Path:
    """The tiny joint recipe as a YAML file."""
    path = tmp_path_factory.mktemp("joint") / "joint.yaml"
    path.write_text(yaml.safe_dump(tiny_joint_recipe(str(tiny_world), str(forest))), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def joint_run(tmp_path_factory: pytest.TempPathFactory, joint_recipe: Path) -> Path:
    """The tiny joint model trained for 2 × 6 steps: one checkpoint for every task."""
    run = tmp_path_factory.mktemp("joint_run") / "run"
    assert main(["train", str(joint_recipe), "--out", str(run), "--no-progress"]) == 0
    return run


@pytest.fixture(scope="module")
def app_client(joint_run: Path):  # type: ignore[no-untyped-def]
    """The app on the tiny joint checkpoint, on a free localhost port, and a gradio_client for it."""
    from gradio_client import Client

    from spatialnet.app.build import launch
    from tests.training.test_trainer import free_port

    demo, url = launch(joint_run, "127.0.0.1", free_port(), "cpu", block=False)
    try:
        yield Client(url, verbose=False)
    finally:
        demo.close()
