"""A new head is one class and one recipe entry: this file's head trains, is scored, predicts, and
shows in `evaluate`'s summary, the app's model card and quickstart's table, and no other file of the
project names it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import pytest
import torch
import yaml
from torch import Tensor, nn

from spatialnet.app.tasks import AppTasks
from spatialnet.backbones.output import BackboneOutput
from spatialnet.cli.main import main
from spatialnet.cli.quickstart import headline_table
from spatialnet.config import load_recipe
from spatialnet.heads.base import HEAD_REGISTRY, Batch, HeadConfig, HeadContext, Headline, TaskHead
from spatialnet.heads.headlines import head_types
from spatialnet.predictor import Predictor
from tests.helpers import TINY_RECIPE


class BrightnessHead(TaskHead):
    """Mean brightness of the (normalised) image from the pooled features: needs no labels."""

    config_class = HeadConfig
    headlines: ClassVar[tuple[Headline, ...]] = (Headline("rmse", "brightness RMSE", False, False),)

    def __init__(self, config: HeadConfig, context: HeadContext) -> None:
        super().__init__(config, context)
        self.fc = nn.Linear(context.embed_dim, 1)

    def has_targets(self, batch: Batch) -> bool:
        return "image" in batch

    def forward(self, features: BackboneOutput, batch: Batch) -> Tensor:
        return self.fc(features.pooled)[:, 0]

    def loss(self, output: Tensor, batch: Batch) -> Tensor:
        return torch.nn.functional.mse_loss(output, self.evaluation_targets(batch))

    def evaluation_targets(self, batch: Batch) -> Tensor:
        return batch["image"].mean(dim=(1, 2, 3))

    def score(self, predictions: Tensor, targets: Tensor, detailed: bool = False) -> dict[str, Any]:
        return {"rmse": float((predictions - targets).square().mean().sqrt())}

    def summarize(
        self,
        output: Tensor,
        index: int,
        top_k: int = 5,
        question: str | None = None,
        question_set: str | None = None,
    ) -> Any:
        return {"brightness": round(float(output[index]), 4)}


@pytest.fixture
def brightness_type():
    """The head registered for this test only (the registry is shared by the whole session)."""
    HEAD_REGISTRY["example_brightness"] = BrightnessHead
    yield "example_brightness"
    del HEAD_REGISTRY["example_brightness"]


def test_a_head_in_one_file_goes_through_the_whole_system(brightness_type, tiny_world, tmp_path, capsys):
    recipe = {
        **TINY_RECIPE,
        "data": {**TINY_RECIPE["data"], "root": str(tiny_world)},
        "heads": {**TINY_RECIPE["heads"], "brightness": {"type": brightness_type}},  # the one recipe entry
        "train": {**TINY_RECIPE["train"], "epochs": 2},
    }
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    run = tmp_path / "run"

    assert main(["train", str(path), "--out", str(run), "--no-progress"]) == 0
    history = json.loads((run / "history.json").read_text())
    assert "brightness/rmse" in history[-1]["val"]

    out = tmp_path / "eval.json"
    capsys.readouterr()
    assert main(["evaluate", str(run), "--split", "val", "--out", str(out)]) == 0
    assert "brightness RMSE" in capsys.readouterr().out
    metrics = json.loads(out.read_text())["metrics"]
    assert metrics["brightness"]["rmse"] >= 0.0

    image = next((tiny_world / "ucm_captions" / "imgs").iterdir())
    assert main(["predict", str(run), "--image", str(image), "--json"]) == 0
    predicted = json.loads(capsys.readouterr().out)
    assert set(predicted["brightness"]) == {"brightness"}

    card = AppTasks(Predictor.from_run(run, "cpu")).about()
    assert "brightness RMSE" in card

    table = headline_table(metrics, head_types(load_recipe(str(path)).heads), "quickstart")
    assert "brightness" in table.columns[0]._cells and "brightness RMSE" in table.columns[1]._cells


def test_no_other_file_names_the_example_head():
    repo = Path(__file__).resolve().parents[2]
    files = (*repo.glob("spatialnet/**/*.py"), *repo.glob("spatialnet/**/*.yaml"))
    mentions = [
        p for p in files if "BrightnessHead" in p.read_text() or "example_brightness" in p.read_text()
    ]
    assert mentions == []
