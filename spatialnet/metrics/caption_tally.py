"""Per-image statistics of the caption metrics, whose sums give pycocoevalcap's corpus figures.

What the bootstrap (:mod:`spatialnet.metrics.bootstrap`) resamples. The captions are PTB-tokenised
once and every image reduced to a row of numbers:

- BLEU: candidate length, closest reference length (pycocoevalcap's "closest", ties to the
  shorter) and, per n, the candidate's n-grams and its clipped matches. Corpus BLEU is a ratio of
  their sums with a brevity penalty on the summed lengths, so a resample's BLEU is exact.
- METEOR: the statistics line METEOR 1.5's JVM gives for the segment (lengths, function words,
  matches per stage, chunks). The Java tool's corpus score, which pycocoevalcap reports, is scored
  from their element-wise sum (``MeteorStats.addStats``), except that a segment matched perfectly
  in one chunk adds no chunk; so each resample sends its one summed line to the same JVM: exact,
  with no re-alignment. The mean of per-segment scores, which pycocoevalcap also returns, is a
  different number (higher on UCM) and is not used.
  With the nltk backend (no Java) METEOR is nltk's per-image score and its corpus figure their
  mean, as :mod:`spatialnet.metrics.captions_nltk` reports it.
- ROUGE-L: pycocoevalcap's per-image score; its corpus figure is their mean.
- CIDEr: pycocoevalcap's per-image score with document frequencies from the references of the
  whole split, the usual approximation: a resample keeps the split's IDF instead of recounting it
  over duplicated images, so its CIDEr is the mean of the per-image scores it drew.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from pycocoevalcap.bleu.bleu_scorer import cook_refs, cook_test
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.meteor.meteor import Meteor
from pycocoevalcap.rouge.rouge import Rouge

from spatialnet.errors import SpatialNetError
from spatialnet.metrics.bootstrap import Tally
from spatialnet.metrics.captions import resolve_backend, tokenized
from spatialnet.metrics.captions_java import run_meteor

# Columns of a row: image count, BLEU's ten counts, ROUGE-L, CIDEr, then METEOR's statistics.
_IMAGES, _TESTLEN, _REFLEN = 0, 1, 2
_GUESS, _CORRECT = slice(3, 7), slice(7, 11)
_ROUGE, _CIDER = 11, 12
_METEOR = slice(13, None)
# pycocoevalcap's guards against 0/0 in BLEU (bleu_scorer.py), kept so the figures agree to the bit.
_TINY, _SMALL = 1e-15, 1e-9
# METEOR lines sent before reading their replies: ~200 bytes each, well inside a pipe's buffer.
_BATCH = 100


def caption_tally(
    references: Mapping[int, Sequence[str]],
    predictions: Mapping[int, str] | Sequence[Mapping[str, Any]],
    source: str = "predictions",
    backend: str = "auto",
) -> Tally:
    """The per-image statistics of one caption per image; checks as :func:`score_captions` does."""
    chosen, _ = resolve_backend(backend)
    gts, res = tokenized(references, predictions, source, chosen)
    ids = tuple(sorted(gts))
    bleu = np.array([_bleu_counts(res[i][0], gts[i]) for i in ids], dtype=np.float64)
    _, rouge = Rouge().compute_score(gts, res)
    _, cider = Cider().compute_score(gts, res)
    if chosen == "java":
        meteor = _meteor_statistics(gts, res, ids)
    else:
        from spatialnet.metrics.captions_nltk import image_meteor  # deferred: importing nltk takes seconds

        meteor = np.array([image_meteor(gts[i], res[i][0]) for i in ids], dtype=np.float64)
    rows = np.column_stack([np.ones(len(ids)), bleu, rouge, cider, meteor])
    return Tally(ids, rows, caption_scores if chosen == "java" else nltk_caption_scores, "images", source)


def caption_scores(sums: np.ndarray, meteor_by: str = "java") -> dict[str, np.ndarray]:
    """``Bleu_1``…``CIDEr`` of each row of summed statistics (draws × columns).

    ``meteor_by``: ``java`` scores METEOR from the summed statistics in the JVM; ``nltk`` takes the
    mean of the per-image scores.
    """
    images = sums[:, _IMAGES]
    precisions = (sums[:, _CORRECT] + _TINY) / (sums[:, _GUESS] + _SMALL)
    bleu = np.cumprod(precisions, axis=1) ** (1.0 / np.arange(1, 5))
    ratio = (sums[:, _TESTLEN] + _TINY) / (sums[:, _REFLEN] + _SMALL)
    bleu *= np.exp(1 - 1 / np.minimum(ratio, 1.0))[:, None]  # brevity penalty, 1 when long enough
    values = {f"Bleu_{n + 1}": bleu[:, n] for n in range(4)}
    meteor = sums[:, _METEOR]
    values["METEOR"] = _meteor_scores(meteor) if meteor_by == "java" else meteor[:, 0] / images
    values["ROUGE_L"] = sums[:, _ROUGE] / images
    values["CIDEr"] = sums[:, _CIDER] / images
    return values


def nltk_caption_scores(sums: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`caption_scores` with nltk's METEOR: the mean of the per-image scores."""
    return caption_scores(sums, meteor_by="nltk")


def _bleu_counts(candidate: str, references: list[str]) -> list[float]:
    """Candidate length, closest reference length, n-grams guessed and matched (n = 1..4)."""
    cooked = cook_test(candidate, cook_refs(references))
    length = cooked["testlen"]
    closest = min(cooked["reflen"], key=lambda n: (abs(n - length), n))
    return [length, closest, *cooked["guess"], *cooked["correct"]]


def _meteor_statistics(
    gts: dict[int, list[str]], res: dict[int, list[str]], ids: tuple[int, ...]
) -> np.ndarray:
    """METEOR's statistics line per image, as numbers ready to be summed."""

    def work(meteor: Meteor) -> list[list[float]]:
        with meteor.lock:
            return [[float(x) for x in meteor._stat(res[i][0], gts[i]).split()] for i in ids]

    stats = np.array(run_meteor(work), dtype=np.float64)
    stages = (stats.shape[1] - 7) // 4
    if stats.ndim != 2 or stats.shape[1] != 7 + 4 * stages or stages < 1:
        raise SpatialNetError(f"METEOR returned statistics of an unexpected shape {stats.shape}")
    # Per stage: candidate content, reference content, candidate function, reference function words.
    matched = stats[:, 4 : 4 + 4 * stages].reshape(len(ids), stages, 4)
    chunks = 4 + 4 * stages
    perfect = (
        (matched[:, :, 0::2].sum(axis=(1, 2)) == stats[:, 0])
        & (matched[:, :, 1::2].sum(axis=(1, 2)) == stats[:, 1])
        & (stats[:, chunks] == 1)
    )
    stats[perfect, chunks] = 0  # addStats skips the single chunk of a perfect segment
    return stats


def _meteor_scores(sums: np.ndarray) -> np.ndarray:
    """The JVM's METEOR of each row of summed statistics."""

    def work(meteor: Meteor) -> list[float]:
        scores: list[float] = []
        with meteor.lock:
            for start in range(0, len(sums), _BATCH):
                block = sums[start : start + _BATCH]
                lines = "".join("EVAL ||| " + " ".join(repr(float(x)) for x in row) + "\n" for row in block)
                meteor.meteor_p.stdin.write(lines.encode())
                meteor.meteor_p.stdin.flush()
                for _ in block:
                    scores.append(float(meteor.meteor_p.stdout.readline()))  # the segment's score
                    meteor.meteor_p.stdout.readline()  # the same statistics, re-added as a corpus
        return scores

    return np.array(run_meteor(work), dtype=np.float64)
