"""The reference caption toolkit's Java parts: Stanford's PTB tokeniser and METEOR 1.5 (pycocoevalcap).

Denkowski & Lavie, "Meteor Universal", WMT 2014 (METEOR 1.5); Manning et al., "The Stanford
CoreNLP toolkit", ACL 2014 (PTBTokenizer 3.4.1). Both run on a JVM: the tokeniser once per call,
METEOR as one long-lived process per Python process, since starting it (and loading its
paraphrase table) costs seconds.
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
from importlib.metadata import version
from pathlib import Path
from typing import TypeVar

from pycocoevalcap.meteor.meteor import Meteor
from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

from spatialnet.errors import SpatialNetError

_METEOR: Meteor | None = None
_METEOR_PID = 0
_METEOR_LOCK = threading.Lock()
# Scorers inherited through fork: kept referenced, since Meteor.__del__ would act on the parent's JVM.
_INHERITED: list[Meteor] = []
T = TypeVar("T")
# PTBTokenizer's JVM writes a progress line to fd 2; the redirect that hides it is process-wide.
_TOKENIZER_LOCK = threading.Lock()


def implementations() -> dict[str, str]:
    """What tokenises and what scores METEOR on this path, for the scores' record."""
    toolkit = f"pycocoevalcap {version('pycocoevalcap')}"
    return {
        "tokenizer": f"Stanford PTBTokenizer 3.4.1 ({toolkit}, Java)",
        "METEOR": f"METEOR 1.5 ({toolkit} meteor-1.5.jar, Java)",
    }


def require_java() -> None:
    """PTBTokenizer and METEOR are Java programs; say so instead of failing inside subprocess."""
    if shutil.which("java") is None:
        raise SpatialNetError(
            "the java caption backend needs `java` on PATH (pycocoevalcap's PTB tokeniser and METEOR are "
            "Java programs); install a Java runtime, version 8 or later, or use the nltk backend "
            "(--backend nltk; its METEOR is not METEOR 1.5)"
        )


def tokenize(
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


def shared_meteor() -> Meteor:
    """The process-wide METEOR scorer, started on first use and again if its JVM has died."""
    global _METEOR, _METEOR_PID
    with _METEOR_LOCK:
        alive = _METEOR is not None and _METEOR_PID == os.getpid() and _METEOR.meteor_p.poll() is None
        if not alive:
            if _METEOR is not None and _METEOR_PID == os.getpid():
                stop(_METEOR)
            elif _METEOR is not None:
                _INHERITED.append(_METEOR)
            require_java()
            _METEOR, _METEOR_PID = Meteor(), os.getpid()
        assert _METEOR is not None
        return _METEOR


def meteor_score(gts: dict[int, list[str]], res: dict[int, list[str]]) -> float:
    """Corpus METEOR, from the shared JVM."""
    return run_meteor(lambda meteor: float(meteor.compute_score(gts, res)[0]))


def run_meteor(work: Callable[[Meteor], T]) -> T:
    """Run ``work`` on the shared METEOR scorer, one caller at a time.

    A scorer that fails mid-protocol is discarded, as its pipes are out of step.
    """
    global _METEOR
    meteor = shared_meteor()
    with _METEOR_LOCK:
        try:
            return work(meteor)
        except BaseException as err:  # Ctrl-C included: a half-read reply would poison the next call
            said = stop(meteor)
            if _METEOR is meteor:
                _METEOR = None
            if isinstance(err, OSError | ValueError):
                raise SpatialNetError(
                    f"METEOR (pycocoevalcap's meteor-1.5.jar) failed: {err}; it said: {said!r}"
                ) from err
            raise


def stop(meteor: Meteor) -> str:
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
            stop(_METEOR)
        elif _METEOR is not None:
            _INHERITED.append(_METEOR)
        _METEOR = None
