"""Word-level vocabularies trained with HF ``tokenizers`` on a dataset's sentences.

Captions and questions in remote-sensing datasets use a few hundred words, so a word-level
vocabulary is exact and small. Text is normalised the way the COCO caption toolkit's PTB
tokenizer scores it: NFKC, lower case, punctuation dropped (apostrophes kept), so the model
never spends capacity on tokens the metrics throw away. The result is a
``PreTrainedTokenizerFast`` that adds ``[BOS]`` … ``[EOS]`` and saves with ``save_pretrained``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

from spatialnet.errors import CheckpointError, DataError

PAD, BOS, EOS, UNK = "[PAD]", "[BOS]", "[EOS]", "[UNK]"
SPECIAL_TOKENS: tuple[str, ...] = (PAD, BOS, EOS, UNK)  # ids 0..3 in this order
TOKENIZER_FILE = "tokenizer.json"


def train_word_tokenizer(
    texts: Iterable[str], min_frequency: int = 1, max_vocab: int = 10_000
) -> PreTrainedTokenizerFast:
    """Word-level tokenizer over ``texts``: words seen ``min_frequency`` times or more, others ``[UNK]``."""
    sentences = [t for t in texts if t and t.strip()]
    if not sentences:
        raise DataError("cannot build a vocabulary: the training split has no sentences")
    core = Tokenizer(models.WordLevel(unk_token=UNK))
    core.normalizer = normalizers.Sequence(
        [normalizers.NFKC(), normalizers.Lowercase(), normalizers.Replace(Regex(r"[^\w\s']+"), " ")]
    )
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    trainer = trainers.WordLevelTrainer(
        vocab_size=max_vocab + len(SPECIAL_TOKENS),
        min_frequency=min_frequency,
        special_tokens=list(SPECIAL_TOKENS),
        show_progress=False,
    )
    core.train_from_iterator(sentences, trainer=trainer)
    core.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A {EOS}", special_tokens=[(t, core.token_to_id(t)) for t in (BOS, EOS)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token=PAD, bos_token=BOS, eos_token=EOS, unk_token=UNK
    )


def extended_tokenizer(
    tokenizer: PreTrainedTokenizerFast, texts: Iterable[str], min_frequency: int = 1
) -> PreTrainedTokenizerFast:
    """``tokenizer`` with the words of ``texts`` it lacks appended (ids after its own; most frequent first).

    Words are counted after the tokenizer's own normalisation and split, and kept when seen
    ``min_frequency`` times or more, as when training. Existing ids never change, so a model's
    embeddings of the old words stay valid. Returns ``tokenizer`` itself when nothing is new.
    """
    backend = tokenizer.backend_tokenizer
    vocabulary = tokenizer.get_vocab()
    counts: Counter[str] = Counter()
    for text in texts:
        normalized = backend.normalizer.normalize_str(text) if backend.normalizer else text
        words = backend.pre_tokenizer.pre_tokenize_str(normalized) if backend.pre_tokenizer else []
        counts.update(word for word, _ in words if word not in vocabulary)
    new = sorted((w for w, n in counts.items() if n >= min_frequency), key=lambda w: (-counts[w], w))
    if not new:
        return tokenizer
    data = json.loads(backend.to_str())
    if data["model"].get("type") != "WordLevel":
        raise DataError(f"cannot extend a {data['model'].get('type')} vocabulary; expected a word-level one")
    start = max(vocabulary.values()) + 1
    data["model"]["vocab"].update({word: start + i for i, word in enumerate(new)})
    core = Tokenizer.from_str(json.dumps(data))
    return PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token=PAD, bos_token=BOS, eos_token=EOS, unk_token=UNK
    )


def load_tokenizer(folder: Path) -> PreTrainedTokenizerFast:
    """A tokenizer saved with ``save_pretrained`` into ``folder``."""
    folder = Path(folder)
    if not (folder / TOKENIZER_FILE).is_file():
        raise CheckpointError(f"{folder}: no {TOKENIZER_FILE} (expected a tokenizer saved by spatialnet)")
    try:
        tokenizer = PreTrainedTokenizerFast.from_pretrained(str(folder), local_files_only=True)
    except Exception as err:  # tokenizers raises bare Exceptions on a damaged file
        raise CheckpointError(f"{folder / TOKENIZER_FILE}: damaged or not a tokenizer ({err})") from err
    missing = [t for t in SPECIAL_TOKENS if tokenizer.convert_tokens_to_ids(t) is None]
    if missing:
        raise CheckpointError(f"{folder / TOKENIZER_FILE}: lacks the special tokens {missing}")
    return tokenizer
