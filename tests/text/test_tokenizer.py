"""The word-level vocabulary: PTB-like normalisation, determinism, special tokens, save/load."""

import pytest

from spatialnet.errors import CheckpointError, DataError
from spatialnet.text import SPECIAL_TOKENS, load_tokenizer, train_word_tokenizer

SENTENCES = ["There is a piece of farmland .", "It's a Café, with   trees!", "a a a"]


def test_vocabulary_is_lower_cased_words_without_punctuation():
    tokenizer = train_word_tokenizer(SENTENCES)
    vocab = tokenizer.get_vocab()
    assert [vocab[t] for t in SPECIAL_TOKENS] == [0, 1, 2, 3]
    words = set(vocab) - set(SPECIAL_TOKENS)
    assert words == {"there", "is", "a", "piece", "of", "farmland", "it's", "café", "with", "trees"}
    assert vocab["a"] == 4  # the most frequent word comes first


def test_encode_adds_bos_eos_and_unknown_words_become_unk():
    tokenizer = train_word_tokenizer(SENTENCES)
    ids = tokenizer("There is a BARN.")["input_ids"]
    vocab = tokenizer.get_vocab()
    assert ids == [1, vocab["there"], vocab["is"], vocab["a"], 3, 2]
    assert tokenizer.decode(ids, skip_special_tokens=True) == "there is a"


def test_training_is_deterministic_and_min_frequency_applies():
    assert train_word_tokenizer(SENTENCES).get_vocab() == train_word_tokenizer(SENTENCES).get_vocab()
    frequent = train_word_tokenizer(SENTENCES, min_frequency=2).get_vocab()
    assert set(frequent) - set(SPECIAL_TOKENS) == {"a"}


def test_save_and_load_round_trip(tmp_path):
    tokenizer = train_word_tokenizer(SENTENCES)
    tokenizer.save_pretrained(str(tmp_path))
    loaded = load_tokenizer(tmp_path)
    assert loaded.get_vocab() == tokenizer.get_vocab()
    assert loaded("a piece of farmland")["input_ids"] == tokenizer("a piece of farmland")["input_ids"]


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(DataError, match="no sentences"):
        train_word_tokenizer(["", "  "])
    with pytest.raises(CheckpointError, match="no tokenizer.json"):
        load_tokenizer(tmp_path)
