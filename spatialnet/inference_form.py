"""A trained model's inference form: batch norms folded into their convolutions, channels-last memory.

Training keeps BatchNorm as its own layer; at inference it is an affine map that can be folded
into the convolution before it, and oneDNN's convolutions run fastest on channels-last (NHWC)
tensors. Together they make the forest CNNs' forward passes 1.6–2.2× faster on the CPU than the
trained form on NCHW input (``scripts/bench_taiga.py``); ``map`` already cut channels-last windows.
Outputs change only in the last bits (< 1e-5 relative), so everything that answers users
(``predict``, ``map``, the app) uses this form and agrees with itself; training and
``evaluate`` keep the trained form.
"""

from __future__ import annotations

from typing import TypeVar

import torch
from torch import fx, nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

M = TypeVar("M", bound=nn.Module)
_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)  # the norm each convolution's output takes


def inference_form(model: M) -> M:
    """Put ``model`` (in place) in eval mode with folded batch norms and, where it can, channels-last."""
    model.eval()
    fold_batch_norms(model)
    if all(p.ndim != 5 for p in model.parameters()):  # channels-last is a 4-D layout; 3-D convs keep theirs
        model.to(memory_format=torch.channels_last)
    return model


def fold_batch_norms(module: nn.Module) -> int:
    """Fold every eval-mode BatchNorm that directly follows a convolution into it; returns how many.

    Pairs are found on the traced graph of the largest sub-modules torch.fx can trace (a module
    whose ``forward`` branches on tensor shapes is split into its children), so execution order,
    not registration order, decides what follows what. Modules keep their classes and methods:
    the convolution is replaced by the fused one and the norm by an identity.
    """
    if not any(isinstance(m, _NORMS) for m in module.modules()):
        return 0
    try:
        graph = fx.Tracer().trace(module)
    except Exception:  # noqa: BLE001 - untraceable forward (shape checks, data-dependent flow): go finer
        return sum(fold_batch_norms(child) for child in module.children())
    calls: dict[str, int] = {}  # modules called twice (shared weights) are left alone
    for node in graph.nodes:
        if node.op == "call_module":
            calls[str(node.target)] = calls.get(str(node.target), 0) + 1
    folded = 0
    for node in graph.nodes:
        source = node.args[0] if node.op == "call_module" and node.args else None
        if not isinstance(source, fx.Node) or source.op != "call_module" or len(source.users) != 1:
            continue
        conv_name, norm_name = str(source.target), str(node.target)
        conv, norm = module.get_submodule(conv_name), module.get_submodule(norm_name)
        if calls[conv_name] != 1 or calls[norm_name] != 1:
            continue
        if not (isinstance(conv, _CONVS) and isinstance(norm, _NORMS)):
            continue
        if not any(isinstance(conv, c) and type(norm) is n for c, n in zip(_CONVS, _NORMS, strict=True)):
            continue
        module.set_submodule(conv_name, fuse_conv_bn_eval(conv, norm))
        module.set_submodule(norm_name, nn.Identity())
        folded += 1
    return folded
