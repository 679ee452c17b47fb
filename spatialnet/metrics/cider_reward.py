"""CIDEr-D as a training reward, with document frequencies fixed on the training references.

Self-critical sequence training (Rennie et al., CVPR 2017) rewards each sampled caption with its
CIDEr-D against the image's references. pycocoevalcap's scorer takes its document frequencies
(and the log corpus size) from whatever images it is called on, which for a batch of 32 images
makes every n-gram look rare; SCST uses those of the whole training split instead. This keeps
pycocoevalcap's own formula (clipped tf-idf cosine, Gaussian length penalty σ = 6, ×10) and only
fixes the corpus it counts on. Sentences are compared as given: normalise them first as the
evaluation tokeniser would (the caption head's tokenizer does).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from pycocoevalcap.cider.cider_scorer import CiderScorer


class _Frequencies(dict[tuple[str, ...], float]):
    """Document frequencies; an n-gram the corpus never saw counts 0 (and is not added)."""

    def __missing__(self, key: tuple[str, ...]) -> float:
        return 0.0


class _CorpusCiderScorer(CiderScorer):  # type: ignore[misc]
    """pycocoevalcap's CiderScorer whose document frequencies and corpus size stay fixed."""

    def __init__(self, document_frequency: _Frequencies, corpus_size: int, n: int, sigma: float) -> None:
        self._log_corpus_size = math.log(float(corpus_size))
        super().__init__(n=n, sigma=sigma)
        self.document_frequency = document_frequency

    @property
    def ref_len(self) -> float:
        """log(number of training images): the idf numerator."""
        return self._log_corpus_size

    @ref_len.setter
    def ref_len(self, value: float | None) -> None:
        """Ignored: ``compute_cider`` would set it to the log of the batch's image count."""


class CiderD:
    """CIDEr-D of candidate sentences against reference sets, idf from a fixed reference corpus."""

    def __init__(self, corpus: Sequence[Sequence[str]], n: int = 4, sigma: float = 6.0) -> None:
        if not corpus or not all(corpus):
            raise ValueError("CIDEr-D needs a non-empty corpus of reference sets, each with a sentence")
        counter = CiderScorer(n=n, sigma=sigma)
        for references in corpus:
            counter.cook_append(None, list(references))
        counter.compute_doc_freq()
        self.document_frequency = _Frequencies(counter.document_frequency)
        self.corpus_size = len(corpus)
        self.n, self.sigma = n, sigma

    def __call__(self, candidates: Sequence[str], references: Sequence[Sequence[str]]) -> NDArray[np.float64]:
        """One score per candidate, against the reference set at the same position."""
        if len(candidates) != len(references):
            raise ValueError(f"{len(candidates)} candidates but {len(references)} reference sets")
        if not candidates:
            return np.zeros(0)
        scorer = _CorpusCiderScorer(self.document_frequency, self.corpus_size, self.n, self.sigma)
        for candidate, refs in zip(candidates, references, strict=True):
            scorer.cook_append(candidate, list(refs))
        return np.asarray(scorer.compute_cider(), dtype=np.float64)
