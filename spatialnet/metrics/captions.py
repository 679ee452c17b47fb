"""Caption metrics with the reference implementation (pycocoevalcap): BLEU, METEOR, ROUGE-L, CIDEr.

Papineni et al. "BLEU", ACL 2002; Banerjee & Lavie "METEOR", ACL 2005 workshop (v1.5: Denkowski &
Lavie, WMT 2014); Lin "ROUGE", ACL 2004 workshop; Vedantam et al. "CIDEr", CVPR 2015. Scores come
from pycocoevalcap itself, after its PTB tokeniser, so they compare with published UCM-captions
tables; SPICE is not computed because it needs Stanford CoreNLP jars fetched at run time.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.meteor.meteor import Meteor
from pycocoevalcap.rouge.rouge import Rouge
from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

from spatialnet.data.ucm.karpathy import read_json, read_records, split_records
from spatialnet.errors import DataError, SpatialNetError
from spatialnet.metrics.ids import check_same_ids, is_int

METRIC_NAMES: tuple[str, ...] = ("Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr")
PER_IMAGE_NAMES: tuple[str, ...] = ("CIDEr", "Bleu_4")
UNAVAILABLE: dict[str, str] = {"SPICE": "needs Stanford CoreNLP jars that cannot be fetched offline"}
T = TypeVar("T")

# One METEOR JVM per process: starting it (and loading its paraphrase table) costs seconds.
_METEOR: Meteor | None = None
_METEOR_PID = 0
_METEOR_LOCK = threading.Lock()
# Scorers inherited through fork: kept referenced, since Meteor.__del__ would act on the parent's JVM.
_INHERITED: list[Meteor] = []
# PTBTokenizer's JVM writes a progress line to fd 2; the redirect that hides it is process-wide.
_TOKENIZER_LOCK = threading.Lock()


@dataclass(frozen=True)
class CaptionScores:
    """Corpus metrics (pycocoevalcap's raw values and key names) and per-image CIDEr / Bleu_4."""

    metrics: dict[str, float]
    per_image: dict[int, dict[str, float]]
    num_images: int
    unavailable: dict[str, str] = field(default_factory=lambda: dict(UNAVAILABLE))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; per-image keys become strings, as JSON object keys must."""
        return {
            "num_images": self.num_images,
            "metrics": dict(self.metrics),
            "per_image": {str(i): dict(values) for i, values in sorted(self.per_image.items())},
            "unavailable": dict(self.unavailable),
        }


def score_captions(
    references: Mapping[int, Sequence[str]],
    predictions: Mapping[int, str] | Sequence[Mapping[str, Any]],
    source: str = "predictions",
) -> CaptionScores:
    """Score one caption per image against its references over the whole split.

    ``predictions`` is ``{image_id: caption}`` or a COCO results list
    (``[{"image_id": int, "caption": str}]``); its ids must equal the reference ids exactly,
    because scoring a subset would silently inflate the numbers. ``source`` names the
    predictions in error messages (a file path, say).
    """
    refs = _checked_references(references)
    preds = _checked_predictions(predictions, source)
    check_same_ids(
        refs, (i for i, _ in preds), source, f"image ids must match the {len(refs)} reference images"
    )
    _require_java()
    _shared_meteor()  # start the METEOR JVM now so its start-up overlaps tokenising and BLEU/CIDEr
    ids = sorted(refs)
    gts, res = _tokenize(refs, preds)
    bleu, bleu_per_image = Bleu(4).compute_score(gts, res, verbose=0)
    rouge, _ = Rouge().compute_score(gts, res)
    cider, cider_per_image = Cider().compute_score(gts, res)
    meteor = _meteor_score(gts, res)
    metrics = {f"Bleu_{n + 1}": float(bleu[n]) for n in range(4)}
    metrics.update({"METEOR": float(meteor), "ROUGE_L": float(rouge), "CIDEr": float(cider)})
    per_image = {
        image_id: {"CIDEr": float(cider_per_image[k]), "Bleu_4": float(bleu_per_image[3][k])}
        for k, image_id in enumerate(ids)
    }
    return CaptionScores(metrics=metrics, per_image=per_image, num_images=len(ids))


def tokenized(
    references: Mapping[int, Sequence[str]],
    predictions: Mapping[int, str] | Sequence[Mapping[str, Any]],
    source: str = "predictions",
) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """The checks of :func:`score_captions`, then the PTB tokens of references and predictions by id.

    For scorers that work on the tokens themselves (the bootstrap's per-image statistics), so that
    the tokeniser runs once.
    """
    refs = _checked_references(references)
    preds = _checked_predictions(predictions, source)
    check_same_ids(
        refs, (i for i, _ in preds), source, f"image ids must match the {len(refs)} reference images"
    )
    _require_java()
    return _tokenize(refs, preds)


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


# -- pycocoevalcap plumbing ------------------------------------------------------------------------
def _require_java() -> None:
    """PTBTokenizer and METEOR are Java programs; say so instead of failing inside subprocess."""
    if shutil.which("java") is None:
        raise SpatialNetError(
            "scoring captions needs `java` on PATH (pycocoevalcap's PTB tokeniser and METEOR are Java "
            "programs); install a Java runtime, version 8 or later"
        )


def _tokenize(
    references: Mapping[int, Sequence[str]], predictions: Iterable[tuple[int, str]]
) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """PTB-tokenise references and predictions in one JVM run (distinct keys keep them apart)."""
    # The tokeniser feeds one caption per line and zips its output lines back onto the keys, so a
    # caption holding \r or another line break would shift every later caption: fold whitespace.
    captions: dict[tuple[str, int], list[dict[str, str]]] = {
        ("ref", i): [{"caption": " ".join(s.split())} for s in sentences]
        for i, sentences in references.items()
    }
    captions.update({("res", i): [{"caption": " ".join(c.split())}] for i, c in predictions})
    with _TOKENIZER_LOCK, _captured_stderr() as log:
        try:
            tokens = PTBTokenizer().tokenize(captions)
        except OSError as err:  # it writes its input beside its jar, so a read-only install fails here
            raise SpatialNetError(f"pycocoevalcap's PTBTokenizer could not run: {err}") from err
        chatter = log.read_text(encoding="utf-8", errors="replace").strip()
    if len(tokens) != len(captions) or any(len(tokens[k]) != len(v) for k, v in captions.items()):
        raise SpatialNetError(f"pycocoevalcap's PTBTokenizer failed; it said: {chatter!r}")
    gts = {i: tokens[("ref", i)] for i in sorted(references)}
    res = {i: tokens[("res", i)] for i in sorted(references)}
    return gts, res


@contextlib.contextmanager
def _captured_stderr() -> Iterator[Path]:
    """Send fd 2 to a temporary file: the tokeniser JVM's chatter stays out of the console."""
    sys.stderr.flush()
    saved = os.dup(2)
    handle, path = tempfile.mkstemp(prefix="spatialnet-ptb-", suffix=".log")
    try:
        os.dup2(handle, 2)
        try:
            yield Path(path)
        finally:
            os.dup2(saved, 2)
    finally:
        os.close(saved)
        os.close(handle)
        with contextlib.suppress(OSError):
            os.remove(path)


def _shared_meteor() -> Meteor:
    """The process-wide METEOR scorer, started on first use and again if its JVM has died."""
    global _METEOR, _METEOR_PID
    with _METEOR_LOCK:
        alive = _METEOR is not None and _METEOR_PID == os.getpid() and _METEOR.meteor_p.poll() is None
        if not alive:
            if _METEOR is not None and _METEOR_PID == os.getpid():
                _stop(_METEOR)
            elif _METEOR is not None:
                _INHERITED.append(_METEOR)
            _require_java()
            _METEOR, _METEOR_PID = Meteor(), os.getpid()
        assert _METEOR is not None
        return _METEOR


def _meteor_score(gts: dict[int, list[str]], res: dict[int, list[str]]) -> float:
    """Corpus METEOR, from the shared JVM."""
    return run_meteor(lambda meteor: float(meteor.compute_score(gts, res)[0]))


def run_meteor(work: Callable[[Meteor], T]) -> T:
    """Run ``work`` on the shared METEOR scorer, one caller at a time.

    A scorer that fails mid-protocol is discarded, as its pipes are out of step.
    """
    global _METEOR
    meteor = _shared_meteor()
    with _METEOR_LOCK:
        try:
            return work(meteor)
        except BaseException as err:  # Ctrl-C included: a half-read reply would poison the next call
            said = _stop(meteor)
            if _METEOR is meteor:
                _METEOR = None
            if isinstance(err, OSError | ValueError):
                raise SpatialNetError(
                    f"METEOR (pycocoevalcap's meteor-1.5.jar) failed: {err}; it said: {said!r}"
                ) from err
            raise


def _stop(meteor: Meteor) -> str:
    """End the JVM, close its pipes and return the end of its stderr.

    Also frees the lock that an interrupted ``compute_score`` left held, so that pycocoevalcap's
    ``__del__`` (which takes it) cannot hang.
    """
    if meteor.lock.locked():
        meteor.lock.release()
    process = meteor.meteor_p
    if process.poll() is None:
        process.kill()
    process.wait()
    said = b""
    if process.stderr is not None:
        with contextlib.suppress(OSError, ValueError):
            said = process.stderr.read()
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
    return said.decode("utf-8", errors="replace").strip()[-500:]


@atexit.register
def _close_meteor() -> None:
    """Stop this process's METEOR JVM at exit (a forked child leaves its parent's alone)."""
    global _METEOR
    with _METEOR_LOCK:
        if _METEOR is not None and _METEOR_PID == os.getpid():
            _stop(_METEOR)
        elif _METEOR is not None:
            _INHERITED.append(_METEOR)
        _METEOR = None
