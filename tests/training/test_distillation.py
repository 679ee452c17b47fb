"""``train.distill``'s loss: Hinton's softened KL, zero when student and teacher say the same."""

from __future__ import annotations

import math

import torch

from spatialnet.training.distillation import distillation_loss


def test_the_loss_is_zero_when_student_and_teacher_agree():
    logits = torch.randn(4, 21)
    assert float(distillation_loss(logits, logits.clone(), 2.0)) == 0.0


def test_the_loss_is_t_squared_times_the_kl_of_the_softened_distributions():
    student = torch.tensor([[2.0, 0.0, -1.0]])
    teacher = torch.tensor([[0.0, 1.0, 0.0]])
    t = 2.0
    p = torch.softmax(teacher / t, dim=-1)
    q = torch.softmax(student / t, dim=-1)
    expected = t * t * float((p * (p / q).log()).sum())
    assert math.isclose(float(distillation_loss(student, teacher, t)), expected, rel_tol=1e-6)


def test_its_gradient_moves_the_student_toward_the_teacher():
    student = torch.zeros(1, 3, requires_grad=True)
    teacher = torch.tensor([[3.0, 0.0, 0.0]])
    distillation_loss(student, teacher, 1.0).backward()
    assert student.grad is not None
    assert student.grad[0, 0] < 0 < student.grad[0, 1]  # a descent step raises the teacher's class
