"""Bundled models by name, their reference predictions, half precision, and hub ids from an offline cache."""

import json
import shutil
from pathlib import Path

import pytest
from safetensors import safe_open

from spatialnet import checkpoint as ckpt
from spatialnet.backbones.vit import read_state_dict
from spatialnet.cli.main import main
from spatialnet.errors import CheckpointError
from spatialnet.predictor import Predictor
from spatialnet.pretrained import DEFAULT_MODEL, bundled_models, locate
from spatialnet.pretrained.bundle import write_bundle
from spatialnet.pretrained.reference import REFERENCE_FILE, reference_predictions


def assert_same_predictions(found: object, stored: object, tolerance: float = 1e-4) -> None:
    """Equal text and labels everywhere; probabilities within ``tolerance``."""
    if isinstance(stored, dict):
        assert isinstance(found, dict) and set(found) == set(stored)
        for key in stored:
            assert_same_predictions(found[key], stored[key], tolerance)
    elif isinstance(stored, list):
        assert isinstance(found, list) and len(found) == len(stored)
        for a, b in zip(found, stored, strict=True):
            assert_same_predictions(a, b, tolerance)
    elif isinstance(stored, float):
        assert found == pytest.approx(stored, abs=tolerance)
    else:
        assert found == stored


def test_the_default_model_ships_with_the_package() -> None:
    names = [model.name for model in bundled_models()]
    assert DEFAULT_MODEL in names
    for model in bundled_models():
        assert model.card.is_file() and (model.folder / REFERENCE_FILE).is_file()


@pytest.mark.parametrize("model", bundled_models(), ids=lambda m: m.name)
def test_bundled_model_loads_by_name_and_reproduces_its_reference_predictions(model) -> None:  # type: ignore[no-untyped-def]
    """What the half-precision model predicted when it was bundled, for images drawn from a seed."""
    predictor = Predictor.from_run(Path(model.name), "cpu")
    assert predictor.checkpoint == model.folder
    stored = json.loads((model.folder / REFERENCE_FILE).read_text())
    assert_same_predictions(json.loads(json.dumps(reference_predictions(predictor))), stored)


@pytest.mark.parametrize("model", bundled_models(), ids=lambda m: m.name)
def test_bundled_weights_are_half_precision_kernels(model) -> None:  # type: ignore[no-untyped-def]
    with safe_open(str(model.folder / ckpt.WEIGHTS_FILE), "pt") as weights:
        slices = [weights.get_slice(key) for key in weights.keys()]  # noqa: SIM118
        kinds = {part.get_dtype() for part in slices if len(part.get_shape()) > 1}
    assert "F16" in kinds


def test_half_bundle_predicts_like_the_float_run(joint_run: Path, tmp_path: Path) -> None:
    """Captions and top answers identical, probabilities within 1e-3, on the reference images."""
    out = tmp_path / "bundled"
    write_bundle(joint_run, out, None)
    half = json.loads((out / REFERENCE_FILE).read_text())
    full = json.loads(json.dumps(reference_predictions(Predictor.from_run(joint_run, "cpu"))))
    assert_same_predictions(half, full, tolerance=1e-3)
    assert (out / ckpt.CONFIG_FILE).is_file() and not (out / "training_state.pt").exists()


def test_a_backbone_starts_from_a_bundled_model_by_name() -> None:
    state = read_state_dict(DEFAULT_MODEL)
    assert any(key.startswith("backbone.vit.") for key in state)


def test_hub_ids_resolve_from_an_offline_cache(
    joint_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pre-filled Hugging Face cache serves ``owner/name`` with HF_HUB_OFFLINE=1; a missing one is named."""
    import huggingface_hub.constants as hub

    cache = tmp_path / "hub"
    repo = cache / "models--someone--spatialnet-tiny"
    snapshot = repo / "snapshots" / ("0" * 40)
    shutil.copytree(ckpt.resolve_checkpoint(joint_run), snapshot)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0" * 40)
    monkeypatch.setattr(hub, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", True)
    assert locate("someone/spatialnet-tiny") == snapshot
    assert Predictor.from_run(Path("someone/spatialnet-tiny"), "cpu").checkpoint == snapshot
    with pytest.raises(CheckpointError, match="someone/absent: no such folder or bundled model .* cache"):
        ckpt.resolve_checkpoint("someone/absent")


def test_models_lists_every_bundled_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    printed = capsys.readouterr().out
    assert f"{DEFAULT_MODEL} (default)" in printed and "CIDEr" in printed


def test_the_app_about_tab_shows_the_model_card() -> None:
    from spatialnet.app.tasks import AppTasks

    card = AppTasks(Predictor.from_run(Path(DEFAULT_MODEL), "cpu")).about()
    assert "Known failure modes" in card and "model-index" not in card  # the card, without its metadata


def test_predict_with_no_model_named_uses_the_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A caption, land use and an answer for a generated photo, from the bundled model alone."""
    from PIL import Image

    from spatialnet.pretrained.reference import reference_images

    photo = tmp_path / "photo.jpg"
    Image.fromarray(reference_images(1)[0]).save(photo)
    assert main(["predict", "--image", str(photo), "--question", "What is the theme of this picture?"]) == 0
    printed = capsys.readouterr().out
    assert "captions: " in printed and "landuse:" in printed and "[theme question, rsivqa]" in printed
