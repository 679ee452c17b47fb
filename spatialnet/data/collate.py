"""Batching samples that mix tensors with text (captions, reference lists, questions)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from torch.utils.data import default_collate


def collate(samples: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Stack tensors and numbers as torch does; keep strings and lists as one Python list per key.

    ``default_collate`` would transpose a list of five reference sentences per image into five
    lists of B sentences; here ``batch["references"][i]`` stays image i's references.
    """
    if not samples:
        return {}
    batch: dict[str, Any] = {}
    for key in samples[0]:
        values = [sample[key] for sample in samples]
        if isinstance(values[0], str | list | tuple | dict):
            batch[key] = values
        else:
            batch[key] = default_collate(values)
    return batch
