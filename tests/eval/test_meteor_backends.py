"""eval/meteor_backends.py: human captions scored leave-one-out, each reference in turn."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest

from spatialnet.errors import DataError
from tests.helpers import eval_script


@pytest.fixture
def meteor_backends() -> Iterator[ModuleType]:
    with eval_script("meteor_backends") as module:
        yield module


def test_leave_one_out_scores_each_sentence_against_the_others(meteor_backends: ModuleType) -> None:
    references = {1: ["a b", "c d", "e f"], 2: ["g", "h", "i"]}
    others, captions = meteor_backends.leave_one_out(references, 1)
    assert captions == {1: "c d", 2: "h"}
    assert others == {1: ["a b", "e f"], 2: ["g", "i"]}


def test_leave_one_out_refuses_images_with_too_few_references(meteor_backends: ModuleType) -> None:
    with pytest.raises(DataError, match="image 2 has 2 references; need 3"):
        meteor_backends.leave_one_out({1: ["a", "b", "c"], 2: ["d", "e"]}, 2)
