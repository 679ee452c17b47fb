"""The SCST reward: pycocoevalcap's CIDEr-D, with document frequencies of a fixed corpus."""

import math

import numpy as np
import pytest
from pycocoevalcap.cider.cider import Cider

from spatialnet.metrics.cider_reward import CiderD

REFERENCES = [
    ["there is a piece of farmland", "it is a piece of green farmland"],
    ["many cars are parked in the parking lot", "some cars are in a parking lot"],
    ["a river goes through the forest", "there is a river in the dense forest"],
]
CANDIDATES = ["a piece of farmland", "cars are parked in a lot", "a river through the forest"]


def test_equals_pycocoevalcap_when_the_corpus_is_the_scored_images():
    _, expected = Cider().compute_score(
        {i: refs for i, refs in enumerate(REFERENCES)}, {i: [c] for i, c in enumerate(CANDIDATES)}
    )
    assert CiderD(REFERENCES)(CANDIDATES, REFERENCES) == pytest.approx(expected, rel=1e-12)


def test_document_frequencies_come_from_the_corpus_not_the_batch():
    reward = CiderD(REFERENCES)
    # one image scored alone: pycocoevalcap would take idf from that image (log 1 - log 1 = 0 everywhere)
    alone = reward([CANDIDATES[0]], [REFERENCES[0]])
    together = reward(CANDIDATES, REFERENCES)
    assert alone[0] == pytest.approx(together[0]) and alone[0] > 1.0
    assert reward.corpus_size == 3 and reward.document_frequency[("piece",)] == 1.0
    assert reward.document_frequency[("never", "seen")] == 0.0
    # a word in every image's references carries no information: "a" alone scores 0
    assert reward(["a"], [REFERENCES[0]]) == pytest.approx(np.zeros(1))


def test_a_perfect_caption_scores_near_ten_and_the_length_penalty_applies():
    reward = CiderD(REFERENCES)
    same = reward([REFERENCES[1][0]], [[REFERENCES[1][0]] * 2])[0]
    assert same == pytest.approx(10.0)
    longer = reward([REFERENCES[1][0] + " today and tomorrow"], [[REFERENCES[1][0]] * 2])[0]
    assert longer < same * math.exp(-(3**2) / (2 * 6.0**2)) + 1e-9


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="non-empty corpus"):
        CiderD([])
    with pytest.raises(ValueError, match="2 candidates but 1 reference sets"):
        CiderD(REFERENCES)(["a", "b"], [REFERENCES[0]])
