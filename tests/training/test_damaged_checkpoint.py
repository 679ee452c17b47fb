"""A damaged checkpoint file ends a command with one line naming that file, never a traceback."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from spatialnet.cli.main import main


def truncate(path: Path) -> None:
    """Keep the first third of the file, as an interrupted copy would."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def scramble(path: Path) -> None:
    """Same length, random bytes: a corrupt disk or a wrong file under the right name."""
    path.write_bytes(np.random.default_rng(0).integers(0, 256, path.stat().st_size, dtype=np.uint8).tobytes())


DAMAGES: dict[str, Callable[[Path], None]] = {"truncated": truncate, "scrambled": scramble}


@pytest.fixture
def checkpoint(joint_run: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny joint run's resumable checkpoint (captions with a vocabulary, VQA)."""
    copy = tmp_path / "run"
    shutil.copytree(joint_run, copy)
    return copy / "last"


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "scene.png"
    Image.fromarray(np.full((32, 32, 3), 120, dtype=np.uint8)).save(path)
    return path


@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize(
    "name",
    ["model.safetensors", "config.json", "captions/tokenizer.json", "processors.json", "data_state.json"],
)
def test_predict_names_the_damaged_file(checkpoint, image, name, damage, capsys):
    DAMAGES[damage](checkpoint / name)
    assert main(["predict", str(checkpoint), "--image", str(image)]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "Traceback" not in error
    assert str(checkpoint / name) in error


@pytest.mark.parametrize("damage", DAMAGES)
def test_resume_names_the_damaged_training_state(checkpoint, joint_recipe, damage, capsys):
    DAMAGES[damage](checkpoint / "training_state.pt")
    run = checkpoint.parent
    assert main(["train", str(joint_recipe), "--out", str(run), "--resume", "--no-progress"]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "Traceback" not in error
    assert str(checkpoint / "training_state.pt") in error
