from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from spatialnet.data.ucm import UCM_CLASSES
from spatialnet.metrics.figures import save_confusion_matrix


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
