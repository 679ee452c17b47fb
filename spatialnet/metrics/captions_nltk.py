"""Java-free caption tokens and METEOR (nltk), for machines without a JVM.

Tokens imitate pycocoevalcap's path (Stanford PTBTokenizer with ``-lowerCase``, then its punctuation
list removed) with nltk's Treebank tokenizer plus four rules; on the 1,829 distinct UCM-captions
sentences the tokens are identical. Known differences: ``&``, ``@`` and ``*`` inside words,
abbreviations such as "Mr." or "co." (Stanford keeps them whole, their period included), and runs
like "?!" or ".." (Stanford keeps "?!" as one token and drops ".." with the word's period).

METEOR is nltk's ``meteor_score`` (Lavie & Agarwal, WMT 2007), not METEOR 1.5 (Denkowski & Lavie,
WMT 2014) that pycocoevalcap runs: it matches exact words, Porter stems and WordNet synonyms with
equal weight and no paraphrase table, looks synonyms up on the stems (so "car" matches "auto" but
not "automobile"), aligns greedily and has no function-word weighting. It is called with METEOR
1.5's English parameters (as pycocoevalcap runs it, ``-l en -norm``: alpha 0.85, beta 0.2, gamma
0.6; nltk's own defaults 0.9 / 3 / 0.5 are the 2007 ones and score UCM val 34 points higher), which
brings it within a few tenths of the reference on UCM val (README). Each image takes its best
reference and the corpus score is the mean over images, whereas METEOR 1.5 sums its statistics over
the corpus before scoring once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from importlib.metadata import version
from typing import Any

from nltk.tokenize import TreebankWordTokenizer
from nltk.translate.meteor_score import meteor_score as nltk_meteor_score
from pycocoevalcap.tokenizer.ptbtokenizer import PUNCTUATIONS

from spatialnet.metrics.wordnet import shared_wordnet

# METEOR 1.5's English parameters (recall weight, fragmentation penalty shape and weight).
METEOR_ALPHA, METEOR_BETA, METEOR_GAMMA = 0.85, 0.2, 0.6

_TREEBANK = TreebankWordTokenizer()
_PUNCTUATION = frozenset(PUNCTUATIONS)
# Typographic quotes become ASCII ones, as Stanford's tokeniser normalises them.
_ASCII_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
# Clitics the Treebank rules split off ("it's", "we'll", "'tis"); any other leading ' is a quote.
_CLITICS = frozenset({"'s", "'m", "'d", "'ll", "'re", "'ve", "'t"})


def implementations() -> dict[str, str]:
    """What tokenises and what scores METEOR on this path, for the scores' record."""
    wordnet = shared_wordnet()
    nltk = f"nltk {version('nltk')}"
    return {
        "tokenizer": f"{nltk} Treebank, PTB-like (lower case, pycocoevalcap's punctuation removed)",
        "METEOR": f"{nltk} meteor_score, alpha/beta/gamma of METEOR 1.5 (WordNet {wordnet.version} from "
        f"{wordnet.source}), mean over images",
    }


def caption_tokens(sentence: str) -> list[str]:
    """One caption's lower-case tokens, punctuation removed, as pycocoevalcap's tokeniser gives them.

    Rules beyond Treebank's: typographic quotes become ASCII; brackets become ``-lrb-``, ``-lsb-``
    … and stay (pycocoevalcap's list names them in upper case, after lower-casing: they survive
    there too); a period ending a word inside the text is split off (Treebank splits only the last
    one); a leading quote that is not a clitic is split off.
    """
    words: list[str] = []
    for token in _TREEBANK.tokenize(sentence.translate(_ASCII_QUOTES), convert_parentheses=True):
        token = token.lower()
        if len(token) > 1 and token.endswith(".") and "." not in token[:-1]:
            words += [token[:-1], "."]
        elif len(token) > 1 and token.startswith("'") and token not in _CLITICS:
            words += ["'", token[1:]]
        else:
            words.append(token)
    return [word for word in words if word not in _PUNCTUATION]


def tokenize(
    references: Mapping[int, Sequence[str]], predictions: Iterable[tuple[int, str]]
) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """References and predictions as pycocoevalcap's scorers take them: space-joined token strings."""
    gts = {i: [" ".join(caption_tokens(s)) for s in references[i]] for i in sorted(references)}
    captions = dict(predictions)
    res = {i: [" ".join(caption_tokens(captions[i]))] for i in sorted(references)}
    return gts, res


def corpus_meteor(gts: Mapping[int, Sequence[str]], res: Mapping[int, Sequence[str]], wordnet: Any) -> float:
    """Mean over images of nltk's METEOR against the best of each image's references.

    ``wordnet`` is an nltk WordNet reader (anything with its ``synsets``); an empty caption or
    reference scores 0, as nltk returns for no match.
    """
    scores = [image_meteor(gts[i], res[i][0], wordnet) for i in gts]
    return float(sum(scores) / len(scores))


def image_meteor(references: Sequence[str], caption: str, wordnet: Any = None) -> float:
    """METEOR (nltk) of one tokenised caption against its tokenised references; shared WordNet by default."""
    reader = shared_wordnet().reader if wordnet is None else wordnet
    return float(
        nltk_meteor_score(
            [r.split() for r in references],
            caption.split(),
            wordnet=reader,
            alpha=METEOR_ALPHA,
            beta=METEOR_BETA,
            gamma=METEOR_GAMMA,
        )
    )


def meteor_score(gts: dict[int, list[str]], res: dict[int, list[str]]) -> float:
    """Corpus METEOR with the process's shared WordNet."""
    return corpus_meteor(gts, res, shared_wordnet().reader)
