"""The Java-free caption path: PTB-like tokens and nltk's METEOR against hand-computed values."""

import json
import shutil
from pathlib import Path

import pytest
from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

from spatialnet.errors import SpatialNetError
from spatialnet.metrics import wordnet
from spatialnet.metrics.captions_nltk import caption_tokens, corpus_meteor, meteor_score, tokenize

# Sentence -> what pycocoevalcap's PTBTokenizer (Java) gives, recorded from it.
AS_JAVA = {
    "There is a piece of farmland .": "there is a piece of farmland",
    "Many buildings. Some trees.": "many buildings some trees",
    "A (red) car [x] {y} here.": "a -lrb- red -rrb- car -lsb- x -rsb- -lcb- y -rcb- here",
    "He said \"hello\" and 'bye'.": "he said hello and bye",
    "It's a dog's life, isn't it?": "it 's a dog 's life is n't it",
    "well-known -- dash - hyphen ... ellipsis; colon: end!": "well-known dash hyphen ellipsis colon end",
    "1,000 cars at 3.5 km/h": "1,000 cars at 3.5 km/h",
    "café naïve rôad": "café naïve rôad",
    "trees,cars;roads": "trees cars roads",
    "Don't can't won't gonna": "do n't ca n't wo n't gon na",
    "it\u2019s curly \u201cquotes\u201d here": "it 's curly quotes here",
    "50% of $5 #1": "50 % of $ 5 # 1",
    "A  double  space\ttab": "a double space tab",
    "The U.N. building.": "the u.n. building",
    "cars'  wheels": "cars wheels",
    "O'Neil's house": "o'neil 's house",
    "'tis the season": "'t is the season",
}


@pytest.mark.parametrize(("sentence", "expected"), list(AS_JAVA.items()))
def test_tokens_as_pycocoevalcap_gives_them(sentence: str, expected: str) -> None:
    assert " ".join(caption_tokens(sentence)) == expected


def test_tokenize_orders_by_reference_id() -> None:
    gts, res = tokenize({5: ["A B.", "c"], 2: ["D!"]}, [(5, "E, f."), (2, "(g)")])
    assert gts == {2: ["d"], 5: ["a b", "c"]}
    assert res == {2: ["-lrb- g -rrb-"], 5: ["e f"]}
    assert list(gts) == [2, 5]


@pytest.mark.skipif(
    shutil.which("java") is None, reason="the comparison runs pycocoevalcap's PTB tokeniser (Java)"
)
def test_same_tokens_as_java_on_every_ucm_sentence(shared_data: Path) -> None:
    dataset = shared_data / "ucm_captions" / "dataset.json"
    if not dataset.exists():
        pytest.skip(f"../shared/data absent: {dataset} not found (real UCM-captions)")
    images = json.loads(dataset.read_text(encoding="utf-8"))["images"]
    raws = sorted({" ".join(s["raw"].split()) for image in images for s in image["sentences"]})
    java = PTBTokenizer().tokenize({i: [{"caption": s}] for i, s in enumerate(raws)})
    differ = [(s, java[i][0]) for i, s in enumerate(raws) if " ".join(caption_tokens(s)) != java[i][0]]
    assert len(raws) > 1000 and differ == []


class _NoSynonyms:
    """A WordNet stand-in without synonyms: METEOR then matches exact words and Porter stems only."""

    def synsets(self, word: str) -> list[object]:
        return []


def _meteor(refs: list[str], hyp: str) -> float:
    return corpus_meteor({1: refs}, {1: [hyp]}, _NoSynonyms())


def _penalised(precision: float, recall: float, chunks: int, matches: int) -> float:
    # nltk's METEOR with METEOR 1.5's parameters: Fmean = P R / (0.85 P + 0.15 R),
    # penalty = 0.6 (chunks / matches) ** 0.2.
    fmean = precision * recall / (0.85 * precision + 0.15 * recall)
    return fmean * (1 - 0.6 * (chunks / matches) ** 0.2)


def test_meteor_formula_by_hand() -> None:
    # Identical 6 words: P = R = 1, one chunk of 6.
    assert _meteor(["a cat sat on the mat"], "a cat sat on the mat") == pytest.approx(_penalised(1, 1, 1, 6))
    # "the cat" vs "the cat sat": P 1, R 2/3; one chunk of 2.
    assert _meteor(["the cat sat"], "the cat") == pytest.approx(_penalised(1, 2 / 3, 1, 2))
    # Stems: cats~cat, sit~sits; one chunk of 2.
    assert _meteor(["cat sits"], "cats sit") == pytest.approx(_penalised(1, 1, 1, 2))
    # Every word matched out of order: 3 chunks of 1 -> penalty 0.6.
    assert _meteor(["on the mat"], "mat the on") == pytest.approx(0.4)
    assert _meteor(["a cat"], "") == 0.0
    assert _meteor([""], "a cat") == 0.0


def test_meteor_takes_the_best_reference_and_the_mean_over_images() -> None:
    gts = {1: ["the cat sat", "the cat"], 2: ["on the mat"]}
    res = {1: ["the cat"], 2: ["mat the on"]}
    assert corpus_meteor(gts, res, _NoSynonyms()) == pytest.approx((_penalised(1, 1, 1, 2) + 0.4) / 2)


@pytest.fixture(scope="module")
def local_wordnet() -> wordnet.WordNet:
    try:
        return wordnet.shared_wordnet()
    except SpatialNetError as err:
        pytest.skip(f"no WordNet on this machine ({err})")


def test_meteor_matches_wordnet_synonyms_of_stems(local_wordnet: wordnet.WordNet) -> None:
    # car~auto only through WordNet: one match of one word, one chunk -> 1 - 0.6.
    assert corpus_meteor({1: ["auto"]}, {1: ["car"]}, local_wordnet.reader) == pytest.approx(0.4)
    assert _meteor(["auto"], "car") == 0.0
    # nltk looks synonyms up on the Porter stems ("automobil"): car~automobile does not match.
    assert corpus_meteor({1: ["automobile"]}, {1: ["car"]}, local_wordnet.reader) == 0.0
    # The shared reader: 3 words in one chunk, and car~auto (0.4).
    assert meteor_score({1: ["a parking lot"], 2: ["auto"]}, {1: ["a parking lot"], 2: ["car"]}) == (
        pytest.approx((_penalised(1, 1, 1, 3) + 0.4) / 2)
    )
