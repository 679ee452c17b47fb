import math

import pytest
import torch

from spatialnet.config import ScheduleConfig
from spatialnet.errors import RecipeError
from spatialnet.training.schedule import LRSchedule


def test_linear_warmup_then_cosine_to_floor():
    schedule = LRSchedule(
        ScheduleConfig(type="cosine", warmup_epochs=1, warmup_start_factor=0.2, min_lr_factor=0.1),
        steps_per_epoch=10,
        epochs=3,
    )
    assert schedule.factor(0) == pytest.approx(0.2)
    assert schedule.factor(5) == pytest.approx(0.2 + 0.8 * 0.5)
    assert schedule.factor(10) == pytest.approx(1.0)
    assert schedule.factor(20) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert schedule.factor(30) == pytest.approx(0.1)


def test_plateau_halves_after_patience_and_resumes_from_state():
    schedule = LRSchedule(
        ScheduleConfig(type="plateau", plateau_patience=1, plateau_factor=0.5), 10, 5, mode="max"
    )
    for value in (0.5, 0.6, 0.6, 0.55):
        schedule.on_validation(value)
    assert schedule.factor(100) == 0.5
    clone = LRSchedule(
        ScheduleConfig(type="plateau", plateau_patience=1, plateau_factor=0.5), 10, 5, mode="max"
    )
    clone.load_state_dict(schedule.state_dict())
    assert clone.factor(100) == 0.5 and clone.best == 0.6


def test_apply_sets_every_group_from_its_initial_lr():
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([{"params": [param], "lr": 0.1}, {"params": [], "lr": 0.01}])
    for group in optimizer.param_groups:
        group["initial_lr"] = group["lr"]
    LRSchedule(ScheduleConfig(type="constant", warmup_epochs=1, warmup_start_factor=0.5), 4, 2).apply(
        optimizer, 0
    )
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([0.05, 0.005])


def test_unknown_schedule_is_refused():
    with pytest.raises(RecipeError, match="train.schedule.type"):
        LRSchedule(ScheduleConfig(type="step"), 1, 1)
