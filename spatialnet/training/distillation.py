"""``train.distill``: a joint model's classifying heads also learn from single-task teachers.

A trunk shared by several tasks can lose a point on a task that a model of its own reaches
(land use in the real joint run). Born-again multitask networks (Clark et al. 2019, "BAM!")
close that gap by distillation: on each batch that trains a distilled head, a frozen teacher (a
trained run with a head of the same name and classes) sees the same augmented images, and the
head's loss becomes ``(1 − w) · its own loss + w · T² · KL(teacher ‖ student)`` over the
logits softened by the temperature ``T`` (Hinton et al. 2015). Only the training loss changes:
validation scores the head against the labels, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from spatialnet.config import DistillConfig, Recipe
from spatialnet.errors import RecipeError
from spatialnet.heads.base import Batch
from spatialnet.heads.classifier import ClassifierHead
from spatialnet.losses.global_mean import batch_mean
from spatialnet.model import SpatialNet, load_run


def distillation_loss(student: Tensor, teacher: Tensor, temperature: float) -> Tensor:
    """``T² · KL(softmax(teacher / T) ‖ softmax(student / T))``, averaged over the (global) batch.

    The ``T²`` keeps its gradients on the scale of the hard-label loss whatever ``T`` is.
    """
    total = F.kl_div(
        F.log_softmax(student.float() / temperature, dim=-1),
        F.log_softmax(teacher.float() / temperature, dim=-1),
        reduction="sum",
        log_target=True,
    )
    return batch_mean(total, torch.tensor(float(len(student)))) * temperature**2


class Teachers:
    """The frozen teacher model of each distilled head, and the blended losses they give."""

    def __init__(self, config: DistillConfig, student: SpatialNet, recipe: Recipe, device: torch.device):
        self.config = config
        self.models: dict[str, SpatialNet] = {}
        for head, path in config.teachers.items():
            teacher, teacher_recipe, _, folder = load_run(Path(path), "cpu")
            _check_teacher(head, (student, recipe), (teacher, teacher_recipe), folder)
            self.models[head] = teacher.to(device).eval().requires_grad_(False)

    def blend(self, batch: Batch, outputs: Mapping[str, Tensor], losses: dict[str, Tensor]) -> None:
        """Replace the loss of each distilled head in ``losses`` by its blend with the teacher's."""
        weight, temperature = self.config.weight, self.config.temperature
        for head, teacher in self.models.items():
            if head not in losses:
                continue
            with torch.no_grad():
                taught = teacher.head(head)(teacher.encode(batch), batch)
            soft = distillation_loss(outputs[head], taught, temperature)
            losses[head] = (1.0 - weight) * losses[head] + weight * soft


def build_teachers(recipe: Recipe, student: SpatialNet, device: torch.device) -> Teachers | None:
    """The recipe's teachers, or None when it distils nothing."""
    config = recipe.train.distill
    if not config.teachers:
        return None
    unknown = [head for head in config.teachers if head not in student.heads]
    if unknown:
        raise RecipeError(
            f"'train.distill.teachers' names {unknown}, which are not heads of this recipe "
            f"(heads: {', '.join(student.heads)})"
        )
    return Teachers(config, student, recipe, device)


def _inputs(recipe: Recipe, head: str) -> tuple[object, ...]:
    """What the images of the dataset training ``head`` look like to the model: size and scaling."""
    for entry in recipe.sources().values():
        if head in entry.tasks:
            return (entry.data.image_size, entry.data.mean, entry.data.std)
    return ()


def _check_teacher(
    head: str, ours: tuple[SpatialNet, Recipe], theirs: tuple[SpatialNet, Recipe], folder: Path
) -> None:
    """Refuse a teacher that cannot speak for ``head``: another kind of head, other classes or inputs."""
    (student, recipe), (teacher, teacher_recipe) = ours, theirs
    where = f"train.distill.teachers.{head} ({folder})"
    if head not in teacher.heads:
        heads = ", ".join(teacher.heads)
        raise RecipeError(f"{where}: the teacher has no head {head!r} (its heads: {heads})")
    student_head, teacher_head = student.head(head), teacher.head(head)
    if not isinstance(student_head, ClassifierHead) or not isinstance(teacher_head, ClassifierHead):
        raise RecipeError(f"{where}: only classifying heads can be distilled; {head!r} is not one")
    if student_head.class_names != teacher_head.class_names:
        raise RecipeError(
            f"{where}: the teacher's classes differ from the student's "
            f"({teacher_head.class_names[:4]}… vs {student_head.class_names[:4]}…)"
        )
    student_inputs, teacher_inputs = _inputs(recipe, head), _inputs(teacher_recipe, head)
    if student_inputs != teacher_inputs:
        raise RecipeError(
            f"{where}: the teacher was trained on images of size/mean/std {teacher_inputs}, "
            f"the student's are {student_inputs}; a teacher must see what it was trained on"
        )
