"""Evaluation scores the forward pass that gave the loss: each head runs once per batch."""

import torch

from spatialnet.config import BackboneConfig, Recipe
from spatialnet.heads.classification import ClassificationHead
from spatialnet.model import SpatialNet
from spatialnet.training.evaluation import collect_predictions


def test_each_head_runs_once_per_batch_and_predictions_match_predict(monkeypatch):
    torch.manual_seed(0)
    backbone = BackboneConfig(img_size=32, patch_size=8, embed_dim=32, depth=1, num_heads=2, act="gelu")
    model = SpatialNet.from_recipe(
        Recipe(backbone=backbone, heads={"scene": {"type": "classification", "num_classes": 3}})
    )
    samples = [{"image": torch.randn(3, 32, 32), "scene": i % 3} for i in range(10)]
    calls = []
    forward = ClassificationHead.forward
    monkeypatch.setattr(ClassificationHead, "forward", lambda self, *a: calls.append(1) or forward(self, *a))

    predictions, targets, losses = collect_predictions(
        model, samples, batch_size=4, device=torch.device("cpu")
    )

    assert len(calls) == 3  # 10 samples in batches of 4: one forward per batch, none for predict
    monkeypatch.setattr(ClassificationHead, "forward", forward)
    with torch.no_grad():
        expected = model.predict({"image": torch.stack([s["image"] for s in samples])})["scene"]
    assert torch.allclose(predictions["scene"], expected, atol=1e-6)
    assert targets["scene"].tolist() == [i % 3 for i in range(10)] and losses["scene"] > 0
