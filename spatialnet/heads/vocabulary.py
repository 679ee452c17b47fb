"""Where a text head's vocabulary comes from: a checkpoint, a saved folder, or the training split.

Caption and VQA heads share this rule so that a loaded checkpoint always decodes with the exact
vocabulary it was trained with, and a new run fits one on its own training sentences.
"""

from __future__ import annotations

from pathlib import Path

from transformers import PreTrainedTokenizerFast

from spatialnet.errors import RecipeError
from spatialnet.heads.base import HeadContext
from spatialnet.text.tokenizer import load_tokenizer, train_word_tokenizer


def head_tokenizer(
    head: str, context: HeadContext, saved: str | None, texts_key: str, min_frequency: int
) -> PreTrainedTokenizerFast:
    """The checkpoint's vocabulary, else the recipe's ``saved`` folder, else one trained on the split.

    ``texts_key`` is the batch key whose training sentences fit a new vocabulary.
    """
    if context.files is not None:
        return load_tokenizer(context.files)
    if saved:
        return load_tokenizer(Path(saved))
    if context.texts is None:
        raise RecipeError(
            f"{head} head: no vocabulary; set 'tokenizer' to a saved tokenizer folder "
            "or train with a dataset that provides sentences"
        )
    return train_word_tokenizer(context.texts(texts_key), min_frequency=min_frequency)


def special_id(tokenizer: PreTrainedTokenizerFast, token: str, head: str) -> int:
    """Id of a special token (the project's vocabularies always hold them)."""
    value = tokenizer.convert_tokens_to_ids(token)
    if not isinstance(value, int):
        raise RecipeError(f"{head} head: the tokenizer has no single id for {token}")
    return value
