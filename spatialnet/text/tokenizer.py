"""Word-level vocabularies trained with HF ``tokenizers`` on a dataset's sentences.

Captions and questions in remote-sensing datasets use a few hundred words, so a word-level
vocabulary is exact and small. Text is normalised the way the COCO caption toolkit's PTB
tokenizer scores it: NFKC, lower case, punctuation dropped (apostrophes kept), so the model
never spends capacity on tokens the metrics throw away. The result is a
``PreTrainedTokenizerFast`` that adds ``[BOS]`` … ``[EOS]`` and saves with ``save_pretrained``.
"""

from __future__ import annotations

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
