"""Input processors: fitted once, saved with checkpoints, the same pixels everywhere they are used."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from spatialnet.checkpoint import PROCESSORS_FILE, read_fitted, read_recipe
from spatialnet.config import DataConfig
from spatialnet.data.images import load_image
from spatialnet.data.registry import build_dataset
from spatialnet.data.taiga.split import CUBE_NAME, resolve_taiga_root
from spatialnet.errors import CheckpointError, DataError
from spatialnet.predictor import Predictor
from spatialnet.processors import (
    HyperspectralProcessor,
    ImageProcessor,
    processor_from_dict,
    processor_to_dict,
)


def test_image_processor_gives_the_dataset_items_from_the_raw_file(tiny_world):
    config = DataConfig(dataset="ucm_landuse", root=str(tiny_world), image_size=24, mean=[0.4, 0.5, 0.6])
    dataset = build_dataset(config, "val", train=False)
    processor = ImageProcessor.from_config(config)
    assert dataset.processor == processor
    path = tiny_world / "ucm_captions" / "imgs" / dataset.filenames[0]  # type: ignore[attr-defined]
    torch.testing.assert_close(processor(load_image(path)), dataset[0]["image"], rtol=0, atol=0)


def test_image_processor_checks_its_settings_and_round_trips():
    processor = ImageProcessor(32, (0.1, 0.2, 0.3), (0.5, 0.5, 0.5))
    assert processor_from_dict(json.loads(json.dumps(processor_to_dict(processor)))) == processor
    with pytest.raises(DataError, match="image_size"):
        ImageProcessor(0)
    with pytest.raises(DataError, match="std"):
        ImageProcessor(8, (0.5,), (0.0,))
    with pytest.raises(DataError, match="channels"):
        processor.normalize(torch.zeros(4, 8, 8, dtype=torch.uint8))


def test_hyperspectral_processor_fits_band_statistics():
    rng = np.random.default_rng(0)
    spectra = rng.integers(0, 5000, size=(50, 3)).astype(np.int16)
    processor = HyperspectralProcessor.fit(spectra, bands=(4, 7, 9), reflectance_scale=1000.0)
    reflectance = spectra / 1000.0
    np.testing.assert_allclose(processor.band_mean, reflectance.mean(0))
    np.testing.assert_allclose(processor.band_std, reflectance.std(0))
    window = spectra[:9].reshape(3, 3, 3)
    expected = (window / 1000.0 - reflectance.mean(0)) / reflectance.std(0)
    np.testing.assert_allclose(processor(window).numpy(), expected.transpose(2, 0, 1), rtol=1e-5)
    minmax = HyperspectralProcessor.fit(spectra, (4, 7, 9), "minmax", 1000.0)
    assert minmax.normalise(spectra).min() == 0.0 and minmax.normalise(spectra).max() == 1.0
    assert processor_from_dict(processor_to_dict(minmax)) == minmax
    with pytest.raises(DataError, match="training spectra"):
        HyperspectralProcessor.fit(spectra, bands=(1, 2))


def test_a_damaged_processors_file_is_refused_by_name():
    with pytest.raises(CheckpointError, match=r"processors.json.*kind 'radar'"):
        processor_from_dict({"kind": "radar"})
    with pytest.raises(CheckpointError, match=r"x.json: malformed image processor"):
        processor_from_dict({"kind": "image", "mean": [0.5]}, "x.json")


def test_checkpoints_store_each_datasets_processor_and_old_ones_still_load(forest_run, forest, tmp_path):
    best = forest_run / "best"
    stored = json.loads((best / PROCESSORS_FILE).read_text())
    assert stored["taiga"]["kind"] == "hyperspectral"
    fitted = read_fitted(best, read_recipe(best))
    assert isinstance(fitted["taiga"].processor, HyperspectralProcessor)
    assert set(fitted["taiga"].state or {}) == {"class_maps", "scaling"}

    # a checkpoint from before processors.json: the processor's fields sat in data_state.json
    old = tmp_path / "old"
    shutil.copytree(best, old)
    (old / PROCESSORS_FILE).unlink()
    states = json.loads((old / "data_state.json").read_text())
    states["taiga"].update(fitted["taiga"].processor.to_dict())
    (old / "data_state.json").write_text(json.dumps(states))
    cube = resolve_taiga_root(forest) / f"{CUBE_NAME}.hdr"
    new_answer = Predictor.from_run(best, "cpu").predict_pixel(cube, 60, 60)
    assert Predictor.from_run(old, "cpu").predict_pixel(cube, 60, 60) == new_answer


def test_normalize_formula_image_and_batch() -> None:
    image = torch.tensor([[[0, 255]], [[51, 102]]], dtype=torch.uint8)  # (2, 1, 2)
    out = ImageProcessor(2, (0.5, 0.2), (0.5, 0.1)).normalize(image)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, torch.tensor([[[-1.0, 1.0]], [[0.0, 2.0]]]))
    batch = ImageProcessor(2, (0.5, 0.2), (0.5, 0.1)).normalize(torch.stack([image, image]))
    assert batch.shape == (2, 2, 1, 2)
    torch.testing.assert_close(batch[1], out)
    floats = image.to(torch.float32) / 255
    kept = floats.clone()
    assert torch.equal(ImageProcessor(2, (0.5, 0.2), (0.5, 0.1)).normalize(floats), out)
    assert torch.equal(floats, kept)  # normalised in place, but on its own copy


def test_normalize_channel_mismatch() -> None:
    with pytest.raises(DataError, match="3 channels but mean has 2"):
        ImageProcessor(4, (0.5, 0.5), (0.2, 0.2)).normalize(torch.zeros(3, 4, 4, dtype=torch.uint8))
