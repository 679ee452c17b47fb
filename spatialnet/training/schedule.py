"""Learning-rate schedule: linear warm-up, then cosine decay, plateau reduction or constant.

One object computes the multiplier of every group's base lr per optimiser step, so the
warm-up composes with any decay and the whole state resumes from two numbers.
"""

from __future__ import annotations

import math
from typing import Any

from torch.optim import Optimizer

from spatialnet.config import ScheduleConfig
from spatialnet.errors import RecipeError


class LRSchedule:
    """Per-step lr multiplier; ``on_validation`` drives the plateau variant."""

    def __init__(self, config: ScheduleConfig, steps_per_epoch: int, epochs: int, mode: str = "max") -> None:
        if config.type not in ("cosine", "plateau", "constant"):
            raise RecipeError(
                f"'train.schedule.type' is {config.type!r}; expected cosine, plateau or constant"
            )
        self.config = config
        self.warmup_steps = round(config.warmup_epochs * steps_per_epoch)
        self.total_steps = max(1, epochs * steps_per_epoch)
        self.mode = mode
        self.plateau_factor = 1.0
        self.best: float | None = None
        self.bad_validations = 0

    def factor(self, step: int) -> float:
        """Multiplier of the base lr at optimiser step ``step`` (0-based)."""
        cfg = self.config
        if step < self.warmup_steps:
            return cfg.warmup_start_factor + (1 - cfg.warmup_start_factor) * step / self.warmup_steps
        if cfg.type == "cosine":
            progress = (step - self.warmup_steps) / max(1, self.total_steps - self.warmup_steps)
            cosine = 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
            return cfg.min_lr_factor + (1 - cfg.min_lr_factor) * cosine
        if cfg.type == "plateau":
            return self.plateau_factor
        return 1.0

    def apply(self, optimizer: Optimizer, step: int) -> None:
        """Set every param group's lr to its ``initial_lr`` × the factor at ``step``."""
        factor = self.factor(step)
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"] * factor

    def on_validation(self, value: float) -> None:
        """Reduce the lr after ``plateau_patience`` validations without improvement (plateau only)."""
        if self.config.type != "plateau":
            return
        improved = self.best is None or (value > self.best if self.mode == "max" else value < self.best)
        if improved:
            self.best, self.bad_validations = value, 0
            return
        self.bad_validations += 1
        if self.bad_validations > self.config.plateau_patience:
            self.plateau_factor *= self.config.plateau_factor
            self.bad_validations = 0

    def state_dict(self) -> dict[str, Any]:  # noqa: D102
        return {
            "plateau_factor": self.plateau_factor,
            "best": self.best,
            "bad_validations": self.bad_validations,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:  # noqa: D102
        self.plateau_factor = float(state["plateau_factor"])
        self.best = state["best"]
        self.bad_validations = int(state["bad_validations"])
