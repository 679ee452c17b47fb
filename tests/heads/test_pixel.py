"""Per-pixel forest heads: centre sampling, dense vs centre losses, physical units, class weights."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from spatialnet.backbones.output import BackboneOutput
from spatialnet.errors import RecipeError
from spatialnet.heads.base import HeadContext
from spatialnet.heads.losses import class_weights_of
from spatialnet.heads.pixel import (
    PixelClassificationConfig,
    PixelClassificationHead,
    PixelRegressionConfig,
    PixelRegressionHead,
    centre_values,
)
from spatialnet.losses.classification import inverse_median_frequency
from spatialnet.metrics.forest_scores import forest_class_metrics, forest_value_metrics


@pytest.mark.parametrize(("low", "size"), [(4, 17), (7, 35), (1, 45), (17, 17), (12, 45)])
def test_centre_values_are_the_centre_of_the_upsampled_map(low: int, size: int) -> None:
    torch.manual_seed(0)
    maps = torch.randn(2, 3, low, low)
    up = F.interpolate(maps, size=(size, size), mode="bilinear", align_corners=False) if low != size else maps
    torch.testing.assert_close(centre_values(maps), up[:, :, size // 2, size // 2])


def _features(channels: int = 8, low: int = 5) -> BackboneOutput:
    torch.manual_seed(1)
    tokens = torch.randn(2, low * low, channels)
    return BackboneOutput(tokens, tokens[:, :0], tokens.mean(1), (low, low), 3)


def test_dense_loss_with_only_the_centre_labelled_equals_the_centre_loss() -> None:
    context = HeadContext(embed_dim=8, img_size=15, patch_size=3, in_chans=4)
    head = PixelRegressionHead(PixelRegressionConfig(target="lai", loss="mae", scale=9.66), context)
    features = _features()
    centre = torch.tensor([0.2, 0.7])
    dense = torch.full((2, 15, 15), float("nan"))
    dense[:, 7, 7] = centre
    output = head(features, {})
    torch.testing.assert_close(head.loss(output, {"lai": dense}), head.loss(output, {"lai": centre}))
    predicted = head.predict(features, {})
    torch.testing.assert_close(predicted, centre_values(output)[:, 0] * 9.66)  # physical units
    assert head.predict_map(features, (15, 15)).shape == (2, 15, 15)


def test_classification_head_dense_and_centre_targets() -> None:
    context = HeadContext(embed_dim=8, img_size=15, patch_size=3, in_chans=4, map_channels={"shared": 8})
    config = PixelClassificationConfig(target="species", num_classes=3, hidden_dim=4)
    head = PixelClassificationHead(config, context)
    features = _features()
    output = head(features, {})
    assert output.shape == (2, 3, 5, 5)
    dense = torch.full((2, 15, 15), -100, dtype=torch.int64)
    dense[:, 7, 7] = torch.tensor([1, 2])
    torch.testing.assert_close(
        head.loss(output, {"species": dense}), head.loss(output, {"species": torch.tensor([1, 2])})
    )
    probabilities = head.predict(features, {})
    assert probabilities.shape == (2, 3)
    torch.testing.assert_close(probabilities.sum(1), torch.ones(2))
    targets = head.evaluation_targets({"species": dense, "stand_id": torch.tensor([4, 5])})
    assert targets["target"].tolist() == [1, 2] and targets["stand_id"].tolist() == [4, 5]


def test_median_frequency_weights_come_from_the_class_frequencies() -> None:
    config = PixelClassificationConfig(num_classes=3, class_weighting="median_frequency")
    with pytest.raises(RecipeError, match="needs class_frequencies"):
        class_weights_of(config)
    config.class_frequencies = [60.0, 30.0, 10.0]
    expected = inverse_median_frequency(torch.tensor([60.0, 30.0, 10.0])).tolist()
    assert class_weights_of(config) == pytest.approx(expected)
    assert expected == pytest.approx([0.5, 1.0, 3.0])
    config.class_weights = [1.0, 2.0, 3.0]  # explicit weights win
    assert class_weights_of(config) == [1.0, 2.0, 3.0]
    with pytest.raises(RecipeError, match="class_weighting 'inverse'"):
        class_weights_of(PixelClassificationConfig(class_weighting="inverse"))


def test_forest_scoring_at_pixel_and_stand_level() -> None:
    # stand 1: truth 0 everywhere, pixels 0.6/0.4 and 0.3/0.7 -> summed 0.9/1.1 -> stand says 1 (wrong)
    # stand 2: truth 1, both pixels right
    probs = torch.tensor([[0.6, 0.4], [0.3, 0.7], [0.2, 0.8], [0.1, 0.9]])
    targets = {"target": torch.tensor([0, 0, 1, 1]), "stand_id": torch.tensor([1, 1, 2, 2])}
    result = forest_class_metrics(probs, targets, ["a", "b"])
    assert result["accuracy"] == pytest.approx(0.75)
    assert result["stand"]["accuracy"] == pytest.approx(0.5)
    assert result["roc_auc_ovr"] == pytest.approx(1.0)
    # regression: predictions come in physical units (scale 10), targets normalised
    values = torch.tensor([2.0, 4.0, 6.0, 8.0])
    truth = {"target": torch.tensor([0.1, 0.5, 0.6, float("nan")]), "stand_id": torch.tensor([1, 1, 2, 2])}
    metrics = forest_value_metrics(values, truth, "lai", 10.0)
    residuals = np.array([0.2 - 0.1, 0.4 - 0.5, 0.6 - 0.6])
    assert metrics["rmse"] == pytest.approx(float(np.sqrt((residuals**2).mean())))
    assert metrics["rmse_physical"] == pytest.approx(10 * metrics["rmse"])
    assert metrics["num_samples"] == 3
    # stands: 1 -> pred 0.3 vs 0.3, 2 -> pred 0.7 vs 0.6
    assert metrics["stand"]["rmse"] == pytest.approx(float(np.sqrt((0.0**2 + 0.1**2) / 2)))
