"""Text handling shared by the language heads: vocabularies trained on the dataset's own sentences."""

from spatialnet.text.tokenizer import SPECIAL_TOKENS, load_tokenizer, train_word_tokenizer

__all__ = ["SPECIAL_TOKENS", "load_tokenizer", "train_word_tokenizer"]
