"""Where a text head's vocabulary comes from: a checkpoint, a saved folder, or the training split.

Caption and VQA heads share this rule (in their ``fit``) so that a loaded checkpoint always
decodes with the exact vocabulary it was trained with, and a new run fits one on its own
training sentences.
"""

from __future__ import annotations

from pathlib import Path

from transformers import PreTrainedTokenizerFast

from spatialnet.errors import RecipeError
from spatialnet.heads.base import HeadContext, TrainingText
from spatialnet.text.tokenizer import extended_tokenizer, load_tokenizer, train_word_tokenizer


def fit_tokenizer(
    head: str,
    data: TrainingText | None,
    saved: Path | None,
    recipe_folder: str | None,
    texts_key: str,
    min_frequency: int,
) -> PreTrainedTokenizerFast:
    """The checkpoint's vocabulary, else the recipe's folder, else one trained on the split.

    ``saved`` is the head's folder in the checkpoint the weights come from, ``recipe_folder`` the
    recipe's ``tokenizer`` entry, ``texts_key`` the batch key whose training sentences fit a new one.
    """
    if saved is not None:
        return load_tokenizer(saved)
    if recipe_folder:
        return load_tokenizer(Path(recipe_folder))
    if data is None:
        raise RecipeError(
            f"{head} head: no vocabulary; set 'tokenizer' to a saved tokenizer folder "
            "or train with a dataset that provides sentences"
        )
    return train_word_tokenizer(data.texts(texts_key), min_frequency=min_frequency)


def extend_tokenizer(
    tokenizer: PreTrainedTokenizerFast, texts: list[str], min_frequency: int
) -> PreTrainedTokenizerFast:
    """``tokenizer`` with the words of ``texts`` (seen ``min_frequency`` times) it lacks, appended."""
    return extended_tokenizer(tokenizer, texts, min_frequency)


def fitted_tokenizer(head: str, context: HeadContext) -> PreTrainedTokenizerFast:
    """The vocabulary the fit stage gave the head (a RecipeError when the model was built without)."""
    if context.fit.tokenizer is None:
        raise RecipeError(
            f"{head} head: built without a vocabulary; build the model with its heads' fit "
            "(SpatialNet.from_recipe(recipe, fits=fit_heads(recipe, data)) or from a checkpoint)"
        )
    return context.fit.tokenizer


def special_id(tokenizer: PreTrainedTokenizerFast, token: str, head: str) -> int:
    """Id of a special token (the project's vocabularies always hold them)."""
    value = tokenizer.convert_tokens_to_ids(token)
    if not isinstance(value, int):
        raise RecipeError(f"{head} head: the tokenizer has no single id for {token}")
    return value
