"""Shared fixtures: offline environment, a tiny synthetic world and a tiny recipe."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from spatialnet.cli.main import main
from spatialnet.data.synthetic.forest import synthesize_forest
from tests.helpers import FOREST_BANDS, REPO, TINY_RECIPE, tiny_forest_recipe, tiny_joint_recipe  # noqa: F401

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")  # Hugging Face datasets are built locally, never fetched
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


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


@pytest.fixture(scope="session")
def hf_world(tmp_path_factory: pytest.TempPathFactory, tiny_world: Path) -> Path:
    """The tiny world exported as Hugging Face datasets (save_to_disk): ``ucm_captions/``, ``rsvqa_lr/``."""
    from spatialnet.data.hf.export import export

    out = tmp_path_factory.mktemp("hf") / "world"
    export(tiny_world, out, "disk", progress=False)
    return out


@pytest.fixture
def tiny_recipe(tmp_path: Path, tiny_world: Path) -> Path:
    """A recipe file for a seconds-long training run on the tiny world."""
    data = {**TINY_RECIPE, "data": {**TINY_RECIPE["data"], "root": str(tiny_world)}}
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


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
    from tests.helpers import free_port

    demo, url = launch(joint_run, "127.0.0.1", free_port(), "cpu", block=False)
    try:
        yield Client(url, verbose=False)
    finally:
        demo.close()
