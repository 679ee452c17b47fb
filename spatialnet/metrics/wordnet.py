"""WordNet 3.0 for nltk's METEOR, read offline from a local folder; one reader per process.

Miller, "WordNet: a lexical database for English", CACM 1995. Where the data come from, first
found wins: the folder named by ``$SPATIALNET_WORDNET``; nltk's own data (``nltk.download('wordnet')``);
Debian's ``wordnet-base`` package (``/usr/share/wordnet``). Debian's folder lacks the ``lexnames``
file that nltk's reader opens, so the reader serves that fixed table (``man 5 lexnames``) from
here whenever a folder has none; nothing is written to disk.
"""

from __future__ import annotations

import io
import os
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import nltk
from nltk.corpus.reader.wordnet import WordNetCorpusReader

from spatialnet.errors import SpatialNetError

ENV_VAR = "SPATIALNET_WORDNET"
DEBIAN_FOLDER = Path("/usr/share/wordnet")
# The files nltk's reader needs from a WordNet "dict" folder (``lexnames`` is served when absent).
REQUIRED_FILES: tuple[str, ...] = tuple(
    f"{kind}.{pos}" for kind in ("data", "index") for pos in ("adj", "adv", "noun", "verb")
) + tuple(f"{pos}.exc" for pos in ("adj", "adv", "noun", "verb"))
# WordNet 3.0's lexicographer files, numbered 00-44 in this order (lexnames(5WN)).
LEXNAMES: tuple[str, ...] = (
    "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact",
    "noun.attribute", "noun.body", "noun.cognition", "noun.communication", "noun.event",
    "noun.feeling", "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object",
    "noun.person", "noun.phenomenon", "noun.plant", "noun.possession", "noun.process",
    "noun.quantity", "noun.relation", "noun.shape", "noun.state", "noun.substance", "noun.time",
    "verb.body", "verb.change", "verb.cognition", "verb.communication", "verb.competition",
    "verb.consumption", "verb.contact", "verb.creation", "verb.emotion", "verb.motion",
    "verb.perception", "verb.possession", "verb.social", "verb.stative", "verb.weather", "adj.ppl",
)  # fmt: skip
# The third column of lexnames: the syntactic category of the file's synsets.
CATEGORY_NUMBERS: dict[str, int] = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}
HOW_TO_GET = (
    "install Debian's WordNet (`apt install wordnet-base`, into /usr/share/wordnet), or with internet "
    "run `python -c \"import nltk; nltk.download('wordnet')\"`, or set "
    f"{ENV_VAR} to a WordNet 3.0 dict folder (data.noun, index.noun, noun.exc, ...)"
)

_SHARED: WordNet | None = None
_LOCK = threading.Lock()


@dataclass(frozen=True)
class WordNet:
    """An nltk WordNet reader, the WordNet version it read and where it came from."""

    reader: WordNetCorpusReader
    version: str
    source: str


def lexnames_text() -> str:
    """The ``lexnames`` file: number, lexicographer file name and category, tab-separated."""
    rows = (f"{n:02d}\t{name}\t{CATEGORY_NUMBERS[name.split('.')[0]]}\n" for n, name in enumerate(LEXNAMES))
    return "".join(rows)


class _LocalWordNetReader(WordNetCorpusReader):  # type: ignore[misc]
    """nltk's reader, given ``lexnames`` from our table where the folder has none, and no OMW.

    ``map_wn`` is nltk's bridge to the multilingual Open Multilingual Wordnet; with no OMW reader
    it would look for nltk_data's copy of WordNet, which an offline machine may not have.
    """

    def open(self, file: str) -> IO[str]:
        """The folder's file, or the built-in table for a missing ``lexnames``."""
        try:
            return super().open(file)
        except PermissionError:  # nltk's path security: never served around
            raise
        except OSError:  # nltk's path pointers raise a plain OSError for a missing file
            if file != "lexnames":
                raise
            return io.StringIO(lexnames_text())

    def map_wn(self, version: str = "wordnet") -> None:
        """No mapping between WordNet versions: OMW data are not used."""
        return None


def shared_wordnet() -> WordNet:
    """The process-wide WordNet reader, found and loaded on first use (loading takes seconds)."""
    global _SHARED
    with _LOCK:
        if _SHARED is None:
            root, source = find_wordnet()
            _SHARED = load_wordnet(root, source)
        return _SHARED


def find_wordnet() -> tuple[Any, str]:
    """The first WordNet found (an nltk path pointer or a folder) and a phrase saying where.

    A folder named by ``$SPATIALNET_WORDNET`` must hold WordNet: a wrong value is an error, not a
    reason to look elsewhere.
    """
    named = os.environ.get(ENV_VAR)
    if named:
        folder = Path(named).expanduser()
        missing = _missing_files(folder)
        if missing:
            raise SpatialNetError(
                f"{ENV_VAR}={named}: expected a WordNet 3.0 dict folder, but it lacks {', '.join(missing)}"
            )
        return folder, f"{folder} (${ENV_VAR})"
    for resource in ("corpora/wordnet", "corpora/wordnet.zip/wordnet/"):
        try:
            pointer = nltk.data.find(resource)
        except LookupError:
            continue
        return pointer, f"{pointer} (nltk_data)"
    if not _missing_files(DEBIAN_FOLDER):
        return DEBIAN_FOLDER, f"{DEBIAN_FOLDER} (Debian wordnet-base)"
    raise SpatialNetError(
        f"no WordNet found for nltk's METEOR (looked at ${ENV_VAR}, nltk_data in "
        f"{', '.join(map(str, nltk.data.path))}, and {DEBIAN_FOLDER}); {HOW_TO_GET}"
    )


def load_wordnet(root: Any, source: str) -> WordNet:
    """Read WordNet from ``root``; a plain folder is first made one of nltk's allowed data roots.

    nltk refuses to open files outside ``nltk.data.path`` (its path security), so the folder is
    appended there. Symlinks to files elsewhere are refused as escapes, hence no assembled folders.
    """
    if isinstance(root, Path):
        if str(root) not in map(str, nltk.data.path):
            nltk.data.path.append(str(root))
        root = str(root)
    try:
        with warnings.catch_warnings():  # "multilingual functions are not available": none are used
            warnings.simplefilter("ignore", UserWarning)
            reader = _LocalWordNetReader(root, None)
            version = reader.get_version()
    except Exception as err:  # a damaged folder fails in nltk's parsing in many ways; name the folder
        raise SpatialNetError(
            f"{source}: nltk could not read WordNet there ({type(err).__name__}: {err}); {HOW_TO_GET}"
        ) from err
    if version is None:
        raise SpatialNetError(f"{source}: data.adj names no WordNet version; expected WordNet 3.0 files")
    return WordNet(reader=reader, version=str(version), source=source)


def _missing_files(folder: Path) -> list[str]:
    """The required WordNet files absent from ``folder`` (all of them when it is no folder)."""
    return [name for name in REQUIRED_FILES if not (folder / name).is_file()]
