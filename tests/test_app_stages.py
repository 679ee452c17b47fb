"""The app's stage log says where each caption/answer request's time went; Forest maps are sampled."""

from __future__ import annotations

from pathlib import Path

import pytest

from spatialnet.app.stage_log import StageLog, read_stage_log
from spatialnet.app.tasks import PREVIEW_SIDE_CPU, AppTasks
from spatialnet.predictor import Predictor


@pytest.fixture(scope="module")
def tasks(joint_run: Path, tmp_path_factory: pytest.TempPathFactory) -> AppTasks:
    log = StageLog(tmp_path_factory.mktemp("stages") / "stages.jsonl")
    return AppTasks(Predictor.from_run(joint_run, "cpu"), stage_log=log)


def test_each_request_logs_its_stages(tasks: AppTasks, tiny_world: Path):
    image = sorted((tiny_world / "ucm_captions" / "imgs").iterdir())[0]
    tile = sorted((tiny_world / "rsvqa_lr" / "Images_LR").iterdir())[0]
    tasks.caption(str(image))
    tasks.ask(str(tile), "Is there a road?")
    assert tasks.stage_log is not None
    rows = read_stage_log(tasks.stage_log.path)
    assert [row["endpoint"] for row in rows] == ["caption", "ask"]
    for row in rows:
        assert row["batch_size"] == 1
        assert 0 < row["decode"] and 0 < row["batch_run"] and 0 <= row["batch_wait"]
        assert row["decode"] + row["batch_wait"] + row["batch_run"] <= row["in_app"] + 1e-6
    assert read_stage_log(tasks.stage_log.path, since=rows[-1]["finished"] + 1) == []


def test_forest_maps_on_the_cpu_are_sampled_to_a_few_hundred_windows(tasks: AppTasks):
    assert tasks.preview_stride(16) == 1
    assert tasks.preview_stride(PREVIEW_SIDE_CPU) == 1
    assert tasks.preview_stride(96) == 4
    for side in (25, 96, 200, 256):
        assert len(range(0, side, tasks.preview_stride(side))) <= PREVIEW_SIDE_CPU
