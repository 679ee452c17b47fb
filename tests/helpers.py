"""Helpers the tests share: the repository, tiny recipes, free ports, subprocess settings."""

from __future__ import annotations

import importlib
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import numpy as np

from spatialnet.config import load_recipe, to_dict

REPO = Path(__file__).resolve().parents[1]


@contextmanager
def eval_script(name: str) -> Iterator[ModuleType]:
    """``eval/NAME.py`` as a module, its sibling modules importable as when it runs as a script."""
    sys.path.insert(0, str(REPO / "eval"))
    try:
        yield importlib.import_module(name)
    finally:
        sys.path.remove(str(REPO / "eval"))


# subprocesses: one thread each, output unbuffered
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}

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

FOREST_BANDS = 24  # bands of the tiny synthetic forest


def tiny_vqa_spec(**settings: object) -> dict:
    """A VQA head entry small enough for tests (32 wide, one encoder and one fusion layer)."""
    return {
        "type": "vqa",
        "target": "answer",
        "hidden_size": 32,
        "layers": 1,
        "attention_heads": 2,
        "fusion_layers": 1,
        **settings,
    }


def tiny_forest_recipe(name: str, root: str, **backbone: object) -> dict:
    """A shipped CPU recipe shrunk for tests: 24 bands, 2 epochs, small batches."""
    recipe = to_dict(load_recipe(name))
    recipe["data"].update(root=root, bands=list(range(FOREST_BANDS)), block=5, num_workers=0)
    recipe["backbone"].update(in_chans=FOREST_BANDS, **backbone)
    recipe["train"].update(epochs=2, batch_size=16, eval_batch_size=64)
    return recipe


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
            "vqa": tiny_vqa_spec(),
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def uploaded_cube(forest, tmp_path, lines=40):
    """The first ``lines`` lines of the bundled cube as a header + data file pair named like a person's."""
    from spatialnet.data.taiga.envi import open_envi, write_envi

    cube = open_envi(forest / "taiga" / "20170615_reflectance_mosaic_128b.hdr")
    header = tmp_path / "my scene.hdr"
    write_envi(header, np.asarray(cube.memmap()[:lines]), interleave=cube.interleave, metadata=cube.metadata)
    data = [p for p in tmp_path.iterdir() if p.stem == "my scene" and p.suffix != ".hdr"]
    return header, data[0]
