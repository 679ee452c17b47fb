"""Task balancers: fixed weights, uncertainty weighting (Kendall 2018) and GradNorm (Chen 2018)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from spatialnet.errors import RecipeError
from spatialnet.losses.balancing import FixedWeights, GradNorm, UncertaintyWeighting, build_balancer


@pytest.fixture(autouse=True)
def single_thread() -> Iterator[None]:
    """Toy trainings are tiny: intra-op threads only add contention (and run-to-run jitter)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_fixed_weights_sum_and_skip_absent_tasks() -> None:
    bal = FixedWeights({"a": 2.0, "b": 0.5})
    assert bal({"a": torch.tensor(3.0), "b": torch.tensor(4.0)}).item() == pytest.approx(8.0)
    assert bal({"a": torch.tensor(3.0)}).item() == pytest.approx(6.0)
    assert bal.task_weights() == {"a": 2.0, "b": 0.5}
    assert bal.no_weight_decay() == set()
    with pytest.raises(KeyError, match="unknown"):
        bal({"c": torch.tensor(1.0)})
    with pytest.raises(ValueError, match="at least one"):
        bal({})


def test_uncertainty_total_for_given_log_variances() -> None:
    bal = UncertaintyWeighting({"count": "regression", "scene": "classification"})
    with torch.no_grad():
        bal.log_var.copy_(torch.tensor([0.3, -0.2]))
    total = bal({"count": torch.tensor(2.0), "scene": torch.tensor(3.0)})
    expected = 0.5 * math.exp(-0.3) * 2.0 + 0.5 * 0.3 + math.exp(0.2) * 3.0 + 0.5 * -0.2
    assert total.item() == pytest.approx(expected, rel=1e-6)
    total.backward()
    # ∂/∂s of ½e^{−s}L + ½s is −½e^{−s}L + ½; of e^{−s}L + ½s is −e^{−s}L + ½
    expected_grad = [-0.5 * math.exp(-0.3) * 2.0 + 0.5, -math.exp(0.2) * 3.0 + 0.5]
    assert bal.log_var.grad is not None
    assert bal.log_var.grad.tolist() == pytest.approx(expected_grad, rel=1e-6)
    weights = bal.task_weights()
    assert weights["count"] == pytest.approx(0.5 * math.exp(-0.3))
    assert weights["scene"] == pytest.approx(math.exp(0.2))
    assert bal.no_weight_decay() == {"log_var"}


def test_uncertainty_init_zero_absent_task_and_negative_total() -> None:
    bal = UncertaintyWeighting({"a": "regression", "b": "classification"})
    assert bal.log_var.tolist() == [0.0, 0.0]
    assert bal({"b": torch.tensor(2.0)}).item() == pytest.approx(2.0)
    with torch.no_grad():
        bal.log_var.fill_(-1.0)
    assert bal({"a": torch.tensor(0.0)}).item() == pytest.approx(-0.5)  # the total may be negative
    with pytest.raises(ValueError, match="kinds"):
        UncertaintyWeighting({"a": "segmentation"})


def test_uncertainty_learns_larger_sigma_for_noisier_task() -> None:
    torch.manual_seed(0)
    x = torch.randn(128, 4)
    y_clean = x @ torch.randn(4, 1) + 0.3 * torch.randn(128, 1)
    y_noisy = 10.0 * (x @ torch.randn(4, 1)) + 3.0 * torch.randn(128, 1)
    shared, head_a, head_b = nn.Linear(4, 16), nn.Linear(16, 1), nn.Linear(16, 1)
    bal = UncertaintyWeighting({"clean": "regression", "noisy": "regression"})
    params = [*shared.parameters(), *head_a.parameters(), *head_b.parameters(), *bal.parameters()]
    opt = torch.optim.Adam(params, lr=0.03)
    for _ in range(200):
        h = torch.tanh(shared(x))
        losses = {"clean": F.mse_loss(head_a(h), y_clean), "noisy": F.mse_loss(head_b(h), y_noisy)}
        opt.zero_grad()
        bal(losses).backward()
        opt.step()
    s_clean, s_noisy = bal.log_var.tolist()
    assert s_noisy > 0.0 > s_clean
    assert s_noisy > s_clean + 3.0


def test_uncertainty_optimum_is_log_loss() -> None:
    # the minimum over s of ½e^{−s}L + ½s (regression) and of e^{−s}L + ½s (classification) is
    # s = log L and s = log 2L
    bal = UncertaintyWeighting({"r": "regression", "c": "classification"})
    opt = torch.optim.SGD(bal.parameters(), lr=0.5)
    losses = {"r": torch.tensor(4.0), "c": torch.tensor(0.25)}
    for _ in range(200):
        opt.zero_grad()
        bal(losses).backward()
        opt.step()
    assert bal.log_var.tolist() == pytest.approx([math.log(4.0), math.log(0.5)], abs=1e-4)


def _hand_case() -> tuple[nn.Parameter, GradNorm]:
    """W = (w0, w1); L_a = 3·w0² + w1, L_b = w1². L(0) taken at W = (1, 1): (4, 1)."""
    w_shared = nn.Parameter(torch.tensor([1.0, 1.0]))
    gn = GradNorm(["a", "b"], alpha=1.5, initial_loss_batches=1)
    gn.before_backward(_hand_losses(w_shared), w_shared)
    assert gn.initial_losses.tolist() == [4.0, 1.0]
    gn.weights.grad = None
    with torch.no_grad():
        w_shared.copy_(torch.tensor([1.0, 2.0]))
        gn.weights.copy_(torch.tensor([1.2, 0.8]))
    return w_shared, gn


def _hand_losses(w: Tensor) -> dict[str, Tensor]:
    return {"a": 3 * w[0] ** 2 + w[1], "b": w[1] ** 2}


def test_gradnorm_weight_gradient_by_hand() -> None:
    w_shared, gn = _hand_case()
    gn.before_backward(_hand_losses(w_shared), w_shared)
    # at W = (1, 2): L = (5, 4), ∇L_a = (6, 1), ∇L_b = (0, 4)
    norm_a, norm_b = math.sqrt(37.0), 4.0
    g = [1.2 * norm_a, 0.8 * norm_b]
    g_bar = sum(g) / 2
    ratio = [5.0 / 4.0, 4.0 / 1.0]
    r = [q / (sum(ratio) / 2) for q in ratio]
    target = [g_bar * ri**1.5 for ri in r]
    # L_grad = Σ|G_i − target_i| with G_i = w_i‖∇L_i‖ ⇒ ∂L_grad/∂w_i = sign(G_i − target_i)·‖∇L_i‖
    expected = [math.copysign(norm_a, g[0] - target[0]), math.copysign(norm_b, g[1] - target[1])]
    assert expected == [norm_a, -norm_b]
    assert gn.weights.grad is not None
    assert gn.weights.grad.tolist() == pytest.approx(expected, rel=1e-6)
    assert w_shared.grad is None  # nothing reaches the network


def test_gradnorm_matches_literal_double_backward_form() -> None:
    """Same ∇_w L_grad as differentiating through autograd.grad(w_i·L_i, W, create_graph=True)."""
    torch.manual_seed(0)
    x = torch.randn(16, 3)
    shared, head_a, head_b = nn.Linear(3, 5), nn.Linear(5, 1), nn.Linear(5, 2)

    def losses() -> dict[str, Tensor]:
        h = torch.tanh(shared(x))
        return {"a": head_a(h).pow(2).mean(), "b": 7.0 * head_b(h).abs().mean()}

    gn = GradNorm(["a", "b"], alpha=1.5, initial_loss_batches=1)
    with torch.no_grad():
        gn.initial_losses.copy_(torch.tensor([2.0, 0.5]))
        gn.initial_batches_seen.fill_(1)
        gn.weights.copy_(torch.tensor([0.7, 1.3]))
    ls = losses()
    gn.before_backward(ls, shared.weight)

    w = gn.weights.detach().clone().requires_grad_(True)
    g = torch.stack(
        [
            torch.autograd.grad(w[i] * ls[t], shared.weight, retain_graph=True, create_graph=True)[0].norm()
            for i, t in enumerate(["a", "b"])
        ]
    )
    ratio = torch.stack([ls["a"].detach() / 2.0, ls["b"].detach() / 0.5])
    r = ratio / ratio.mean()
    l_grad = (g - (g.mean() * r**1.5).detach()).abs().sum()
    (expected,) = torch.autograd.grad(l_grad, w)
    assert gn.weights.grad is not None
    torch.testing.assert_close(gn.weights.grad, expected)


def test_gradnorm_leaves_network_gradients_untouched() -> None:
    torch.manual_seed(0)
    shared, head_a, head_b = nn.Linear(3, 4), nn.Linear(4, 1), nn.Linear(4, 1)
    h = shared(torch.randn(8, 3))
    ls = {"a": head_a(h).pow(2).mean(), "b": head_b(h).pow(2).mean()}
    gn = GradNorm(["a", "b"])
    total = gn(ls)
    gn.before_backward(ls, shared.weight)
    net = [*shared.parameters(), *head_a.parameters(), *head_b.parameters()]
    assert all(p.grad is None for p in net)
    assert gn.weights.grad is not None
    grad_before = gn.weights.grad.clone()
    total.backward()  # forward uses sg(w): the network's backward leaves w's gradient alone
    assert torch.equal(gn.weights.grad, grad_before)
    assert all(p.grad is not None for p in net)
    assert total.item() == pytest.approx((ls["a"] + ls["b"]).item())


def test_gradnorm_initial_loss_ema_then_frozen() -> None:
    w_shared = nn.Parameter(torch.tensor([1.0]))
    gn = GradNorm(["a", "b"], initial_loss_ema=0.5, initial_loss_batches=2)
    for value in (4.0, 2.0, 100.0):
        gn.before_backward({"a": value * w_shared.sum()}, w_shared)  # only task a present
    # L(0) = 4, then 0.5·4 + 0.5·2 = 3, then frozen; b never seen
    assert gn.initial_losses.tolist() == [3.0, 0.0]
    assert gn.initial_batches_seen.tolist() == [3, 0]


def test_gradnorm_subset_of_tasks() -> None:
    w_shared = nn.Parameter(torch.tensor([1.0, 2.0]))
    gn = GradNorm(["a", "b", "c"])
    ls = _hand_losses(w_shared)
    assert gn({"a": ls["a"]}).item() == pytest.approx(5.0)
    gn.before_backward({"a": ls["a"]}, w_shared)
    # one task: G = Ḡ and r = 1, so L_grad = 0
    assert gn.weights.grad is not None and gn.weights.grad.tolist() == [0.0, 0.0, 0.0]
    gn.weights.grad = None
    gn.before_backward(ls, w_shared)
    assert gn.weights.grad is not None and gn.weights.grad[2].item() == 0.0  # absent c
    assert gn.weights.grad[0].item() != 0.0


def test_gradnorm_after_step_clamps_and_renormalises() -> None:
    gn = GradNorm(["a", "b", "c"], min_weight=1e-3)
    with torch.no_grad():
        gn.weights.copy_(torch.tensor([-0.5, 3.0, 1.0]))
    gn.after_step()
    expected = [1e-3 * 3 / 4.001, 3.0 * 3 / 4.001, 1.0 * 3 / 4.001]
    assert gn.weights.tolist() == pytest.approx(expected, rel=1e-6)
    assert sum(gn.task_weights().values()) == pytest.approx(3.0)
    assert gn.no_weight_decay() == {"weights"}


def test_gradnorm_down_weights_the_task_with_larger_gradients() -> None:
    torch.manual_seed(0)
    x = torch.randn(64, 4)
    y_a, y_b = x @ torch.randn(4, 1), x @ torch.randn(4, 1)
    shared, head_a, head_b = nn.Linear(4, 8), nn.Linear(8, 1), nn.Linear(8, 1)
    gn = GradNorm(["a", "b"], alpha=1.5)
    net = [*shared.parameters(), *head_a.parameters(), *head_b.parameters()]
    opt = torch.optim.Adam([{"params": net, "lr": 1e-2}, {"params": gn.parameters(), "lr": 0.025}])
    history = []
    for _ in range(40):
        h = torch.relu(shared(x))
        ls = {"a": F.mse_loss(head_a(h), y_a), "b": 100.0 * F.mse_loss(head_b(h), y_b)}
        opt.zero_grad()
        total = gn(ls)
        gn.before_backward(ls, shared.weight)
        total.backward()
        opt.step()
        gn.after_step()
        weights = gn.task_weights()
        history.append(weights)
        assert sum(weights.values()) == pytest.approx(2.0, rel=1e-5)
        assert min(weights.values()) > 0.0
    assert history[-1]["b"] < 0.5 < 1.5 < history[-1]["a"]
    assert history[-1]["b"] < history[len(history) // 2]["b"] < history[0]["b"] < 1.0


def test_build_balancer() -> None:
    weights, kinds = {"a": 1.0, "b": 2.0}, {"a": "regression", "b": "classification"}
    assert isinstance(build_balancer("fixed", weights, kinds, 1.5), FixedWeights)
    assert isinstance(build_balancer("uncertainty", weights, kinds, 1.5), UncertaintyWeighting)
    gn = build_balancer("gradnorm", weights, kinds, 0.5)
    assert isinstance(gn, GradNorm) and gn.alpha == 0.5 and gn.tasks == ["a", "b"]
    with pytest.raises(RecipeError, match="loss.balancing"):
        build_balancer("dwa", weights, kinds, 1.5)
