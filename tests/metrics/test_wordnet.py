"""Finding and reading WordNet offline for nltk's METEOR."""

import gzip
import re
from pathlib import Path

import nltk
import pytest

from spatialnet.errors import SpatialNetError
from spatialnet.metrics import wordnet

LEXNAMES_MAN_PAGE = Path("/usr/share/man/man5/lexnames.5WN.gz")


def test_lexnames_table() -> None:
    rows = [line.split("\t") for line in wordnet.lexnames_text().splitlines()]
    assert len(rows) == 45 and [int(number) for number, _, _ in rows] == list(range(45))
    assert rows[0] == ["00", "adj.all", "3"] and rows[2] == ["02", "adv.all", "4"]
    assert rows[3] == ["03", "noun.Tops", "1"] and rows[29] == ["29", "verb.body", "2"]
    assert rows[44] == ["44", "adj.ppl", "3"]


def test_lexnames_table_matches_the_man_page() -> None:
    if not LEXNAMES_MAN_PAGE.exists():
        pytest.skip(f"{LEXNAMES_MAN_PAGE} absent (Debian's wordnet-base installs it)")
    page = gzip.decompress(LEXNAMES_MAN_PAGE.read_bytes()).decode("utf-8")
    listed = re.findall(r"^(\d\d)\t(\S+)\s", page, flags=re.MULTILINE)
    assert listed == [(f"{n:02d}", name) for n, name in enumerate(wordnet.LEXNAMES)]


def test_env_var_folder_must_hold_wordnet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "data.noun").write_text("", encoding="utf-8")
    monkeypatch.setenv(wordnet.ENV_VAR, str(tmp_path))
    with pytest.raises(
        SpatialNetError, match=rf"^SPATIALNET_WORDNET={tmp_path}: .* lacks data.adj, data.adv, "
    ):
        wordnet.find_wordnet()


def test_no_wordnet_says_how_to_get_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def not_found(resource: str) -> None:
        raise LookupError(resource)

    monkeypatch.delenv(wordnet.ENV_VAR, raising=False)
    monkeypatch.setattr(nltk.data, "find", not_found)
    monkeypatch.setattr(wordnet, "DEBIAN_FOLDER", tmp_path / "absent")
    with pytest.raises(SpatialNetError, match="no WordNet found") as caught:
        wordnet.find_wordnet()
    assert "apt install wordnet-base" in str(caught.value)
    assert "nltk.download('wordnet')" in str(caught.value)
    assert wordnet.ENV_VAR in str(caught.value)


def test_unreadable_folder_is_named(tmp_path: Path) -> None:
    for name in wordnet.REQUIRED_FILES:
        (tmp_path / name).write_text("not WordNet\n", encoding="utf-8")
    with pytest.raises(SpatialNetError, match=rf"^{tmp_path} \(test\): .*WordNet"):
        wordnet.load_wordnet(tmp_path, f"{tmp_path} (test)")


def test_shared_reader_serves_lexnames_and_is_reused() -> None:
    try:
        first = wordnet.shared_wordnet()
    except SpatialNetError as err:
        pytest.skip(f"no WordNet on this machine ({err})")
    assert wordnet.shared_wordnet() is first
    assert first.version == "3.0"
    assert first.reader.synset("dog.n.01").lexname() == "noun.animal"
    assert {"auto", "automobile"} <= {lemma.name() for lemma in first.reader.synset("car.n.01").lemmas()}
