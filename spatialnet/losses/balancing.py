"""Multitask loss balancing: fixed weights, homoscedastic uncertainty (Kendall 2018), GradNorm (Chen 2018).

Every balancer is an ``nn.Module`` with one interface, used by the trainer once per training batch::

    optimiser.zero_grad()
    losses = {name: head.loss(...) for the heads this batch labels}
    total = balancer(losses)                              # the loss to backpropagate
    balancer.before_backward(losses, shared_parameter)    # GradNorm: fills its weights' .grad
    total.backward()
    optimiser.step()
    balancer.after_step()                                 # GradNorm: clamp and renormalise weights

Tasks missing from ``losses`` (a batch from a dataset that does not label them) are skipped.
Balancer parameters (uncertainty's s_t, GradNorm's w_i) must get no weight decay; their names are
given by :meth:`TaskBalancer.no_weight_decay` (all of them). GradNorm's weights want their own
learning rate (``LossConfig.gradnorm_lr``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from spatialnet.errors import RecipeError

TASK_KINDS = ("classification", "regression")
BALANCING_METHODS = ("fixed", "uncertainty", "gradnorm")


def _sum(terms: Sequence[Tensor]) -> Tensor:
    """Sum of scalar loss terms (a loop, so mixed dtypes promote as in ``a + b``)."""
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


class TaskBalancer(nn.Module):
    """Combines named per-task losses into the one scalar the network is trained on."""

    tasks: list[str]

    def __init__(self, tasks: Sequence[str]) -> None:
        super().__init__()
        if not tasks:
            raise ValueError("tasks: expected at least one task name, got none")
        if len(set(tasks)) != len(tasks):
            raise ValueError(f"tasks: names must be unique, got {list(tasks)}")
        self.tasks = list(tasks)
        self._index = {name: i for i, name in enumerate(self.tasks)}

    def _present(self, losses: Mapping[str, Tensor]) -> list[str]:
        """Known tasks present in ``losses``, in declaration order; unknown names are refused."""
        unknown = sorted(set(losses) - set(self._index))
        if unknown:
            raise KeyError(f"losses: unknown task(s) {unknown}; the balancer knows {self.tasks}")
        present = [t for t in self.tasks if t in losses]
        if not present:
            raise ValueError(f"losses: expected the loss of at least one of {self.tasks}, got none")
        return present

    def forward(self, losses: Mapping[str, Tensor]) -> Tensor:
        """Total loss to backpropagate from the losses of the tasks present in this batch."""
        raise NotImplementedError

    def before_backward(self, losses: Mapping[str, Tensor], shared_parameter: Tensor) -> None:
        """Hook called after :meth:`forward` and before ``total.backward()``; no-op by default."""

    def after_step(self) -> None:
        """Hook called after ``optimiser.step()``; no-op by default."""

    def task_weights(self) -> dict[str, float]:
        """Current effective weight multiplying each task's loss, for logging."""
        raise NotImplementedError

    def no_weight_decay(self) -> set[str]:
        """Names (relative to this module) of parameters to exclude from weight decay: all of them."""
        return {name for name, _ in self.named_parameters()}


class FixedWeights(TaskBalancer):
    """L = Σ_t λ_t L_t with fixed λ_t (seed 004, λ_t = 1.0)."""

    def __init__(self, weights: Mapping[str, float]) -> None:
        super().__init__(list(weights))
        self.weights = {name: float(w) for name, w in weights.items()}

    def forward(self, losses: Mapping[str, Tensor]) -> Tensor:  # noqa: D102
        present = self._present(losses)
        return _sum([self.weights[t] * losses[t] for t in present])

    def task_weights(self) -> dict[str, float]:  # noqa: D102
        return dict(self.weights)


class UncertaintyWeighting(TaskBalancer):
    """Homoscedastic uncertainty weighting (Kendall, Gal & Cipolla, CVPR 2018).

    With a learnable s_t = log σ_t² per task (initialised to 0), a regression task contributes
    ½·e^{−s_t}·L_t + ½·s_t and a classification task e^{−s_t}·L_t + ½·s_t. The total may be
    negative. ``s`` (parameter name ``log_var``, one entry per task in ``tasks`` order) must be
    excluded from weight decay, which would pull every σ_t towards 1.
    """

    def __init__(self, kinds: Mapping[str, str]) -> None:
        super().__init__(list(kinds))
        bad = {t: k for t, k in kinds.items() if k not in TASK_KINDS}
        if bad:
            raise ValueError(f"kinds: expected one of {TASK_KINDS} per task, got {bad}")
        self.kinds = dict(kinds)
        scale = [0.5 if self.kinds[t] == "regression" else 1.0 for t in self.tasks]
        self.scale: Tensor
        self.register_buffer("scale", torch.tensor(scale), persistent=False)
        self.log_var = nn.Parameter(torch.zeros(len(self.tasks)))

    def forward(self, losses: Mapping[str, Tensor]) -> Tensor:  # noqa: D102
        present = self._present(losses)
        terms = []
        for t in present:
            i = self._index[t]
            s = self.log_var[i]
            terms.append(self.scale[i] * torch.exp(-s) * losses[t] + 0.5 * s)
        return _sum(terms)

    def task_weights(self) -> dict[str, float]:  # noqa: D102
        w = (self.scale * torch.exp(-self.log_var.detach())).tolist()
        return dict(zip(self.tasks, w, strict=True))


class GradNorm(TaskBalancer):
    """GradNorm (Chen et al., ICML 2018): learn loss weights w_i that equalise gradient norms.

    The network is trained on Σ_i sg(w_i)·L_i. Before each backward pass, with W the last shared
    layer, G_i = ‖∇_W w_i·L_i‖, r_i = (L_i/L_i(0)) / mean_j(L_j/L_j(0)) and
    L_grad = Σ_i |G_i − sg(Ḡ·r_i^α)|; only w receives ∇_w L_grad (written to ``weights.grad``, the
    network's ``.grad`` is untouched). After each optimiser step, w is clamped to ≥ ``min_weight``
    and renormalised to Σ w = T. The weights start at 1.

    Since w_i does not depend on W, ∇_W(w_i·L_i) = w_i·∇_W L_i, so G_i = |w_i|·‖∇_W L_i‖ exactly;
    computing ‖∇_W L_i‖ without ``create_graph`` gives the same G_i and the same ∇_w L_grad as
    differentiating through ``autograd.grad(w_i·L_i, W, create_graph=True)``, without a
    double-backward pass through the heads (which fused attention kernels do not support).

    L_i(0) is a smoothed initial loss: the loss of the first batch labelling task i, then an
    exponential moving average L_i(0) ← m·L_i(0) + (1 − m)·L_i (m = ``initial_loss_ema``) over that
    task's next ``initial_loss_batches − 1`` batches; after that it is frozen. It is a buffer, so it is
    saved with the balancer's state. When only a subset of tasks is present in a batch, only those
    enter Ḡ, r_i and L_grad; absent tasks' weights get zero gradient for that batch.
    """

    def __init__(
        self,
        tasks: Sequence[str],
        alpha: float = 1.5,
        initial_loss_ema: float = 0.9,
        initial_loss_batches: int = 10,
        min_weight: float = 1e-3,
    ) -> None:
        super().__init__(tasks)
        if not 0.0 <= initial_loss_ema < 1.0:
            raise ValueError(f"initial_loss_ema: expected a value in [0, 1), got {initial_loss_ema}")
        if initial_loss_batches < 1:
            raise ValueError(f"initial_loss_batches: expected ≥ 1, got {initial_loss_batches}")
        if min_weight <= 0.0:
            raise ValueError(f"min_weight: expected > 0, got {min_weight}")
        self.alpha = alpha
        self.initial_loss_ema = initial_loss_ema
        self.initial_loss_batches = initial_loss_batches
        self.min_weight = min_weight
        n = len(self.tasks)
        self.weights = nn.Parameter(torch.ones(n))
        self.initial_losses: Tensor
        self.initial_batches_seen: Tensor
        self.register_buffer("initial_losses", torch.zeros(n))
        self.register_buffer("initial_batches_seen", torch.zeros(n, dtype=torch.long))

    def forward(self, losses: Mapping[str, Tensor]) -> Tensor:  # noqa: D102
        present = self._present(losses)
        w = self.weights.detach()
        return _sum([w[self._index[t]] * losses[t] for t in present])

    @torch.no_grad()
    def _update_initial_losses(self, idx: Tensor, current: Tensor) -> None:
        """Fold this batch's losses into the smoothed L_i(0) of tasks still in their first batches."""
        seen = self.initial_batches_seen[idx]
        old = self.initial_losses[idx]
        m = self.initial_loss_ema
        new = torch.where(seen == 0, current, m * old + (1.0 - m) * current)
        new = torch.where(seen < self.initial_loss_batches, new, old)
        self.initial_losses[idx] = new.to(self.initial_losses.dtype)
        self.initial_batches_seen[idx] = seen + 1

    def before_backward(self, losses: Mapping[str, Tensor], shared_parameter: Tensor) -> None:
        """Compute L_grad on the shared layer ``shared_parameter``; store ∇_w L_grad in ``weights.grad``."""
        present = self._present(losses)
        idx = torch.tensor([self._index[t] for t in present], device=self.weights.device)
        current = torch.stack([losses[t].detach().reshape(()) for t in present]).to(self.weights.dtype)
        self._update_initial_losses(idx, current)

        grad_norms = []
        for t in present:
            (g,) = torch.autograd.grad(losses[t], shared_parameter, retain_graph=True, allow_unused=True)
            grad_norms.append(shared_parameter.new_zeros(()) if g is None else g.detach().norm())
        w = self.weights[idx]
        g_norm = w.abs() * torch.stack(grad_norms).to(w)  # G_i = ‖∇_W w_i L_i‖

        with torch.no_grad():
            ratio = current / self.initial_losses[idx].clamp_min(torch.finfo(current.dtype).tiny)
            rel_rate = ratio / ratio.mean()  # r_i
            target = g_norm.mean() * rel_rate.pow(self.alpha)  # sg(Ḡ·r_i^α)
        grad_loss = (g_norm - target).abs().sum()  # L_grad
        (dw,) = torch.autograd.grad(grad_loss, self.weights)
        if self.weights.grad is None:
            self.weights.grad = dw
        else:
            self.weights.grad += dw

    @torch.no_grad()
    def after_step(self) -> None:
        """Clamp w to ≥ ``min_weight`` and renormalise so that Σ w = T (number of tasks)."""
        self.weights.clamp_(min=self.min_weight)
        self.weights.mul_(len(self.tasks) / self.weights.sum())

    def task_weights(self) -> dict[str, float]:  # noqa: D102
        return dict(zip(self.tasks, self.weights.detach().tolist(), strict=True))


def build_balancer(
    method: str,
    weights: Mapping[str, float],
    kinds: Mapping[str, str],
    alpha: float,
) -> TaskBalancer:
    """Build the balancer named by ``LossConfig.balancing`` for the heads' λ_t (``weights``) and kinds.

    ``fixed`` uses ``weights``; ``uncertainty`` uses ``kinds`` (learned σ_t replace λ_t); ``gradnorm``
    uses the task names of ``weights`` and ``alpha`` (learned w_i start at 1, replacing λ_t).
    """
    if method == "fixed":
        return FixedWeights(weights)
    if method == "uncertainty":
        return UncertaintyWeighting(kinds)
    if method == "gradnorm":
        return GradNorm(list(weights), alpha=alpha)
    expected = ", ".join(BALANCING_METHODS)
    raise RecipeError(f"loss.balancing: unknown method '{method}'; expected one of {expected}")
