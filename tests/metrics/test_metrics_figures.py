from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from PIL import Image

from spatialnet.data.ucm.classes import UCM_CLASSES
from spatialnet.metrics.figures import (
    pearson_r,
    save_confusion_matrix,
    save_error_histogram,
    save_prediction_scatter,
)


@pytest.mark.parametrize("normalize", [True, False])
def test_confusion_png_written(tmp_path: Path, normalize: bool) -> None:
    rng = np.random.default_rng(0)
    matrix = rng.integers(0, 5, (21, 21)) + np.eye(21, dtype=int) * 10
    matrix[3] = 0  # a class with no samples must not break normalisation
    path = save_confusion_matrix(matrix, UCM_CLASSES, tmp_path / "sub" / "cm.png", normalize=normalize)
    assert path.is_file()
    with Image.open(path) as image:
        assert image.format == "PNG" and min(image.size) > 500


def test_shape_mismatch(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"expected \(3, 3\)"):
        save_confusion_matrix(np.zeros((2, 2)), ["a", "b", "c"], tmp_path / "x.png")


def _assert_png(path: Path) -> None:
    assert path.is_file()
    assert path.read_bytes()[:4] == b"\x89PNG"
    pixels = matplotlib.image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[2] in (3, 4)
    assert min(pixels.shape[:2]) > 300


def test_pearson_r_matches_corrcoef() -> None:
    rng = np.random.default_rng(1)
    target = rng.normal(size=500)
    predicted = 0.7 * target + rng.normal(scale=0.5, size=500)
    r = pearson_r(predicted, target)
    assert r is not None
    assert r == pytest.approx(np.corrcoef(predicted, target)[0, 1], abs=1e-12)


def test_pearson_r_ignores_non_finite_pairs() -> None:
    rng = np.random.default_rng(2)
    target = rng.normal(size=200)
    predicted = target + rng.normal(scale=0.3, size=200)
    predicted_gaps, target_gaps = predicted.copy(), target.copy()
    predicted_gaps[::7] = np.nan
    target_gaps[3::11] = np.inf
    keep = np.isfinite(predicted_gaps) & np.isfinite(target_gaps)
    expected = np.corrcoef(predicted[keep], target[keep])[0, 1]
    assert pearson_r(predicted_gaps, target_gaps) == pytest.approx(expected, abs=1e-12)


def test_pearson_r_undefined() -> None:
    assert pearson_r(np.full(10, 3.0), np.arange(10.0)) is None
    assert pearson_r(np.arange(10.0), np.full(10, -1.0)) is None
    assert pearson_r([1.0], [2.0]) is None
    assert pearson_r([1.0, np.nan], [2.0, 3.0]) is None


def test_scatter_png(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    target = rng.uniform(0, 30, size=(40, 50))  # 2-D maps are flattened
    predicted = target + rng.normal(scale=2.0, size=target.shape)
    path = save_prediction_scatter(predicted, target, tmp_path / "sub" / "scatter.png", "height", unit="m")
    assert path == tmp_path / "sub" / "scatter.png"
    _assert_png(path)


def test_scatter_png_with_nans(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    target = rng.normal(size=1000)
    predicted = target + rng.normal(scale=0.2, size=1000)
    predicted[::5] = np.nan
    target[1::9] = np.inf
    _assert_png(save_prediction_scatter(predicted, target, tmp_path / "nan.png", "with gaps"))


def test_scatter_png_constant_prediction(tmp_path: Path) -> None:
    target = np.random.default_rng(5).uniform(0, 1, size=300)
    _assert_png(save_prediction_scatter(np.full(300, 0.5), target, tmp_path / "const.png", "constant"))
    _assert_png(save_prediction_scatter([2.0], [1.0], tmp_path / "one.png", "single pair"))


def test_scatter_png_subsampled(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    target = rng.normal(size=5000)
    predicted = target + rng.normal(size=5000)
    first = save_prediction_scatter(predicted, target, tmp_path / "a.png", "many", max_points=500, seed=7)
    second = save_prediction_scatter(predicted, target, tmp_path / "b.png", "many", max_points=500, seed=7)
    _assert_png(first)
    assert np.array_equal(matplotlib.image.imread(first), matplotlib.image.imread(second))


def test_scatter_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no finite"):
        save_prediction_scatter(np.full(5, np.nan), np.arange(5.0), tmp_path / "x.png", "t")
    with pytest.raises(ValueError, match="4 values but target has 5"):
        save_prediction_scatter(np.zeros(4), np.zeros(5), tmp_path / "x.png", "t")
    with pytest.raises(ValueError, match="4 values but target has 5"):
        pearson_r(np.zeros(4), np.zeros(5))
    assert not (tmp_path / "x.png").exists()


def test_error_histogram_png(tmp_path: Path) -> None:
    errors = np.random.default_rng(8).normal(scale=3.0, size=2000)  # signed: plotted as |error|
    errors[::10] = np.nan
    path = save_error_histogram(errors, tmp_path / "sub" / "hist.png", "errors", unit="m")
    assert path == tmp_path / "sub" / "hist.png"
    _assert_png(path)
    _assert_png(save_error_histogram(np.full(10, 1.5), tmp_path / "flat.png", "flat", bins=10))


def test_error_histogram_all_nan(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no finite"):
        save_error_histogram(np.full(7, np.nan), tmp_path / "x.png", "t")
