"""Caption metrics as the COCO caption toolkit (pycocoevalcap) computes them: BLEU, METEOR, ROUGE-L, CIDEr.

Papineni et al. "BLEU", ACL 2002; Banerjee & Lavie "METEOR", ACL 2005 workshop (v1.5: Denkowski &
Lavie, WMT 2014); Lin "ROUGE", ACL 2004 workshop; Vedantam et al. "CIDEr", CVPR 2015. Two backends
share pycocoevalcap's pure-Python BLEU, ROUGE-L and CIDEr and differ in tokens and METEOR:
``java`` (the reference, whose numbers compare with published UCM-captions tables: Stanford's PTB
tokeniser and METEOR 1.5 on a JVM) and ``nltk`` (no JVM: ``captions_nltk``, whose METEOR is not
METEOR 1.5). ``auto`` takes ``java`` when ``java`` is on PATH. Every score records which
implementation produced it. SPICE is not computed because it needs Stanford CoreNLP jars fetched
at run time.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal

from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.rouge.rouge import Rouge

from spatialnet.data.ucm.karpathy import read_json, read_records, split_records
from spatialnet.errors import DataError, SpatialNetError
from spatialnet.metrics import captions_java
from spatialnet.metrics.ids import check_same_ids, is_int

METRIC_NAMES: tuple[str, ...] = ("Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr")
PER_IMAGE_NAMES: tuple[str, ...] = ("CIDEr", "Bleu_4")
UNAVAILABLE: dict[str, str] = {"SPICE": "needs Stanford CoreNLP jars that cannot be fetched offline"}
Backend = Literal["auto", "java", "nltk"]
BACKENDS: tuple[str, ...] = ("auto", "java", "nltk")
FALLBACK_NOTE = (
    "`java` is not on PATH: tokens and METEOR come from nltk (backend 'nltk'); METEOR is nltk's, "
    "not the reference METEOR 1.5, so it does not compare with published tables (install Java >= 8 "
    "for those)"
)


@dataclass(frozen=True)
class CaptionScores:
    """Corpus metrics (pycocoevalcap's raw values and key names) and per-image CIDEr / Bleu_4.

    ``implementations`` names what produced each metric and the tokens; ``notes`` says why a
    backend was chosen when the caller did not choose it.
    """

    metrics: dict[str, float]
    per_image: dict[int, dict[str, float]]
    num_images: int
    unavailable: dict[str, str] = field(default_factory=lambda: dict(UNAVAILABLE))
    backend: str = "java"
    implementations: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; per-image keys become strings, as JSON object keys must."""
        return {
            "num_images": self.num_images,
            "metrics": dict(self.metrics),
            "per_image": {str(i): dict(values) for i, values in sorted(self.per_image.items())},
            "unavailable": dict(self.unavailable),
            "backend": self.backend,
            "implementations": dict(self.implementations),
            "notes": list(self.notes),
        }


def score_captions(
    references: Mapping[int, Sequence[str]],
    predictions: Mapping[int, str] | Sequence[Mapping[str, Any]],
    source: str = "predictions",
    backend: Backend = "auto",
) -> CaptionScores:
    """Score one caption per image against its references over the whole split.

    ``predictions`` is ``{image_id: caption}`` or a COCO results list
    (``[{"image_id": int, "caption": str}]``); its ids must equal the reference ids exactly,
    because scoring a subset would silently inflate the numbers. ``source`` names the
    predictions in error messages (a file path, say). ``backend``: ``java``, ``nltk`` or
    ``auto`` (``java`` when it is on PATH, else ``nltk`` with a note in the scores).
    """
    chosen, notes = resolve_backend(backend)
    if chosen == "java":
        captions_java.require_java()
        captions_java.shared_meteor()  # start the METEOR JVM now: its start-up overlaps the rest
    gts, res = tokenized(references, predictions, source, chosen)
    metrics, per_image = _python_scores(gts, res)
    if chosen == "java":
        metrics["METEOR"] = captions_java.meteor_score(gts, res)
        toolkit = captions_java.implementations()
    else:
        from spatialnet.metrics import captions_nltk  # deferred: importing nltk takes seconds

        metrics["METEOR"] = captions_nltk.meteor_score(gts, res)
        toolkit = captions_nltk.implementations()
    return CaptionScores(
        metrics={name: metrics[name] for name in METRIC_NAMES},
        per_image=per_image,
        num_images=len(per_image),
        backend=chosen,
        implementations=_implementations(toolkit),
        notes=notes,
    )


def tokenized(
    references: Mapping[int, Sequence[str]],
    predictions: Mapping[int, str] | Sequence[Mapping[str, Any]],
    source: str = "predictions",
    backend: str = "java",
) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """The checks of :func:`score_captions`, then the tokens of references and predictions by id.

    Also for scorers that work on the tokens themselves (the bootstrap's per-image statistics), so
    that the tokeniser runs once.
    """
    chosen, _ = resolve_backend(backend)
    refs = _checked_references(references)
    preds = _checked_predictions(predictions, source)
    check_same_ids(
        refs, (i for i, _ in preds), source, f"image ids must match the {len(refs)} reference images"
    )
    if chosen == "java":
        return captions_java.tokenize(refs, preds)
    from spatialnet.metrics import captions_nltk  # deferred: importing nltk takes seconds
    from spatialnet.metrics.wordnet import shared_wordnet

    shared_wordnet()  # a missing WordNet fails before any work
    return captions_nltk.tokenize(refs, preds)


def resolve_backend(backend: str) -> tuple[str, tuple[str, ...]]:
    """The backend that scores (``java`` or ``nltk``) and a note when ``auto`` fell back to nltk."""
    if backend not in BACKENDS:
        raise SpatialNetError(f"caption metrics backend {backend!r}: expected one of {', '.join(BACKENDS)}")
    if backend != "auto":
        return backend, ()
    if shutil.which("java") is not None:
        return "java", ()
    return "nltk", (FALLBACK_NOTE,)


def _python_scores(
    gts: dict[int, list[str]], res: dict[int, list[str]]
) -> tuple[dict[str, float], dict[int, dict[str, float]]]:
    """BLEU, ROUGE-L and CIDEr by pycocoevalcap (pure Python, both backends); per-image CIDEr/Bleu_4."""
    bleu, bleu_per_image = Bleu(4).compute_score(gts, res, verbose=0)
    rouge, _ = Rouge().compute_score(gts, res)
    cider, cider_per_image = Cider().compute_score(gts, res)
    metrics = {f"Bleu_{n + 1}": float(bleu[n]) for n in range(4)}
    metrics.update({"ROUGE_L": float(rouge), "CIDEr": float(cider)})
    per_image = {
        image_id: {"CIDEr": float(cider_per_image[k]), "Bleu_4": float(bleu_per_image[3][k])}
        for k, image_id in enumerate(sorted(gts))
    }
    return metrics, per_image


def _implementations(toolkit: dict[str, str]) -> dict[str, str]:
    """The tokenizer and each metric's implementation: pycocoevalcap's unless ``toolkit`` names one."""
    ours = f"pycocoevalcap {version('pycocoevalcap')}"
    shared = {f"Bleu_{n}": f"{ours} Bleu" for n in range(1, 5)}
    shared.update({"ROUGE_L": f"{ours} Rouge", "CIDEr": f"{ours} Cider"})
    merged = {**shared, **toolkit}
    return {"tokenizer": merged["tokenizer"], **{name: merged[name] for name in METRIC_NAMES}}


def read_predictions(path: Path) -> list[dict[str, Any]]:
    """A COCO results file: a JSON list of ``{"image_id": int, "caption": str}`` rows."""
    data = read_json(Path(path), 'a COCO results list [{"image_id": int, "caption": str}, ...]')
    if not isinstance(data, list):
        raise DataError(
            f'{path}: expected a JSON list of {{"image_id": int, "caption": str}} rows, '
            f"got {type(data).__name__}"
        )
    if not data:
        raise DataError(f"{path}: the predictions list is empty")
    for i, row in enumerate(data):
        _check_prediction_row(row, f"{path}: row {i}")
    return data


def read_references(path: Path, split: str) -> dict[int, list[str]]:
    """``imgid`` → the ``raw`` sentences of one split of a Karpathy-style ``dataset.json``."""
    path = Path(path)
    references: dict[int, list[str]] = {}
    for record in split_records(read_records(path), split, path):
        if record.imgid in references:
            raise DataError(f"{path}: imgid {record.imgid} appears twice in split '{split}'")
        if not record.captions or not all(c.strip() for c in record.captions):
            raise DataError(
                f"{path}: image {record.filename} (imgid {record.imgid}) has an empty caption or none"
            )
        references[record.imgid] = record.captions
    return references


# -- validation ---------------------------------------------------------------------------------
def _checked_references(references: Mapping[int, Sequence[str]]) -> dict[int, list[str]]:
    """Integer ids, each with at least one non-blank sentence."""
    if not isinstance(references, Mapping) or not references:
        raise DataError("references: expected a non-empty mapping image_id -> list of sentences")
    checked: dict[int, list[str]] = {}
    for image_id, sentences in references.items():
        if not is_int(image_id):
            raise DataError(f"references: image id {image_id!r} is not an integer")
        if isinstance(sentences, str) or not isinstance(sentences, Sequence) or not sentences:
            raise DataError(f"references: image {image_id} has no sentences (expected a non-empty list)")
        for j, sentence in enumerate(sentences):
            if not isinstance(sentence, str) or not sentence.strip():
                raise DataError(f"references: image {image_id} sentence {j} is not a non-empty string")
        checked[image_id] = list(sentences)
    return checked


def _checked_predictions(
    predictions: Mapping[int, str] | Sequence[Mapping[str, Any]], source: str
) -> list[tuple[int, str]]:
    """``(image_id, caption)`` pairs in the given order, duplicates kept for the id check."""
    if isinstance(predictions, Mapping):
        pairs = list(predictions.items())
        for image_id, caption in pairs:
            _check_prediction_row({"image_id": image_id, "caption": caption}, f"{source}: image {image_id!r}")
    elif isinstance(predictions, Sequence) and not isinstance(predictions, str | bytes):
        for i, row in enumerate(predictions):
            _check_prediction_row(row, f"{source}: row {i}")
        pairs = [(row["image_id"], row["caption"]) for row in predictions]
    else:
        raise DataError(
            f"{source}: expected a mapping image_id -> caption or a list of "
            f'{{"image_id", "caption"}} rows, got {type(predictions).__name__}'
        )
    if not pairs:
        raise DataError(f"{source}: no predictions")
    return pairs


def _check_prediction_row(row: Any, where: str) -> None:
    """One COCO results row: an integer ``image_id`` and a string ``caption``."""
    if not isinstance(row, Mapping):
        raise DataError(f'{where}: expected an object {{"image_id": int, "caption": str}}, got {row!r}')
    if not is_int(row.get("image_id")):
        raise DataError(f"{where}: 'image_id' must be an integer, got {row.get('image_id')!r}")
    if not isinstance(row.get("caption"), str):
        raise DataError(f"{where}: 'caption' must be a string, got {row.get('caption')!r}")
