"""Caption head: a GPT-2-style transformer decoder cross-attending to the ViT tokens.

Seed 004 names captioning as a task but never says how sentences are produced; this is the
standard answer (Show-Attend-Tell's successors, e.g. Vaswani et al. 2017 decoders over image
tokens): teacher forcing with cross-entropy (optionally label-smoothed) for training, and
``transformers``' ``generate()`` for greedy or beam-search decoding. The vocabulary is a
word-level tokenizer trained on the training captions and saved beside the weights.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from transformers import GenerationConfig, GPT2Config, GPT2LMHeadModel

from spatialnet.backbones.output import BackboneOutput
from spatialnet.errors import RecipeError
from spatialnet.heads.base import Batch, HeadConfig, HeadContext, TaskHead, register_head
from spatialnet.heads.vocabulary import head_tokenizer, special_id
from spatialnet.text.tokenizer import BOS, EOS, PAD, UNK

IGNORE_INDEX = -100


@dataclasses.dataclass
class CaptionConfig(HeadConfig):
    """Decoder size, vocabulary and decoding settings of a caption head.

    The target batch key holds one sentence per image (the training caption); ``references_key``
    holds every reference sentence, used for scoring.
    """

    references_key: str = "references"
    # vocabulary: a saved tokenizer folder, else one trained on the training split's sentences
    tokenizer: str | None = None
    min_frequency: int = 1  # rarer training words become [UNK]
    # decoder (GPT-2 blocks with cross-attention)
    hidden_size: int = 256
    layers: int = 3
    attention_heads: int = 4
    mlp_ratio: float = 4.0
    dropout: float = 0.1
    max_length: int = 40  # tokens including [BOS]/[EOS]; longer training captions are truncated
    label_smoothing: float = 0.0
    # decoding (transformers.generate): num_beams 1 = greedy
    num_beams: int = 3
    length_penalty: float = 1.0
    no_repeat_ngram_size: int = 0


@register_head("caption")
class CaptionHead(TaskHead):
    """ViT tokens (class token first, then patches) → projected memory → GPT-2 decoder → words."""

    config_class = CaptionConfig
    config: CaptionConfig

    def __init__(self, config: CaptionConfig, context: HeadContext) -> None:
        super().__init__(config, context)
        if config.hidden_size % config.attention_heads:
            raise RecipeError(
                f"caption head: hidden_size {config.hidden_size} must be divisible by "
                f"attention_heads {config.attention_heads}"
            )
        self.tokenizer = head_tokenizer(
            "caption", context, config.tokenizer, config.target, config.min_frequency
        )
        vocab = len(self.tokenizer)
        self.pad_id, self.bos_id, self.eos_id, self.unk_id = (
            special_id(self.tokenizer, token, "caption") for token in (PAD, BOS, EOS, UNK)
        )
        decoder_config = GPT2Config(
            vocab_size=vocab,
            n_positions=config.max_length,
            n_embd=config.hidden_size,
            n_layer=config.layers,
            n_head=config.attention_heads,
            n_inner=int(config.hidden_size * config.mlp_ratio),
            resid_pdrop=config.dropout,
            embd_pdrop=config.dropout,
            attn_pdrop=config.dropout,
            add_cross_attention=True,
            bos_token_id=self.bos_id,
            eos_token_id=self.eos_id,
            pad_token_id=self.pad_id,
        )
        self.memory = nn.Sequential(
            nn.Linear(context.embed_dim, config.hidden_size), nn.LayerNorm(config.hidden_size)
        )
        self.decoder = GPT2LMHeadModel(decoder_config)
        self.generation = GenerationConfig(
            max_new_tokens=config.max_length - 1,
            num_beams=config.num_beams,
            length_penalty=config.length_penalty,
            no_repeat_ngram_size=config.no_repeat_ngram_size,
            early_stopping=config.num_beams > 1,
            do_sample=False,
            bos_token_id=self.bos_id,
            eos_token_id=self.eos_id,
            pad_token_id=self.pad_id,
            suppress_tokens=[self.pad_id, self.bos_id, self.unk_id],
        )

    # -- training ------------------------------------------------------------------------------
    def encode_memory(self, features: BackboneOutput) -> Tensor:
        """The sequence the decoder attends to: prefix (class) tokens then patch tokens, projected."""
        tokens = torch.cat([features.prefix, features.tokens], dim=1)
        memory: Tensor = self.memory(tokens)
        return memory

    def encode_text(self, sentences: list[str], device: torch.device) -> tuple[Tensor, Tensor]:
        """Token ids ``[BOS] … [EOS]`` (right-padded) and their attention mask."""
        if not isinstance(sentences, list | tuple) or not all(isinstance(s, str) for s in sentences):
            raise RecipeError(f"caption head: batch['{self.target_key}'] must be a list of sentences")
        encoded = self.tokenizer(
            list(sentences),
            padding=True,
            truncation=True,
            max_length=self.config.max_length,
            return_tensors="pt",
        )
        return encoded["input_ids"].to(device), encoded["attention_mask"].to(device)

    def forward(self, features: BackboneOutput, batch: Batch) -> Tensor:
        """Teacher-forced next-word logits (B, T, vocab) for the target sentences."""
        ids, mask = self.encode_text(batch[self.target_key], features.tokens.device)
        logits: Tensor = self.decoder(
            input_ids=ids, attention_mask=mask, encoder_hidden_states=self.encode_memory(features)
        ).logits
        return logits

    def loss(self, output: Tensor, batch: Batch) -> Tensor:
        """Cross-entropy of each next word, padding ignored, optional label smoothing."""
        ids, mask = self.encode_text(batch[self.target_key], output.device)
        labels = ids[:, 1:].masked_fill(mask[:, 1:] == 0, IGNORE_INDEX)
        return F.cross_entropy(
            output[:, :-1].flatten(0, 1),
            labels.flatten(),
            ignore_index=IGNORE_INDEX,
            label_smoothing=self.config.label_smoothing,
        )

    # -- inference -----------------------------------------------------------------------------
    @torch.no_grad()
    def generate_ids(self, features: BackboneOutput, **overrides: Any) -> Tensor:
        """Token ids from ``generate()`` (greedy or beam search per the recipe, or ``overrides``)."""
        memory = self.encode_memory(features)
        start = torch.full((memory.shape[0], 1), self.bos_id, dtype=torch.long, device=memory.device)
        config = self.generation
        if overrides:
            if "num_beams" in overrides:  # early stopping is a beam-search option, as in __init__
                overrides = {"early_stopping": overrides["num_beams"] > 1, **overrides}
            config = GenerationConfig.from_dict({**self.generation.to_dict(), **overrides})
        decoder: Any = self.decoder  # generate() returns a LongTensor without return_dict_in_generate
        generate = decoder.generate
        ids: Tensor = generate(
            input_ids=start,
            attention_mask=torch.ones_like(start),
            encoder_hidden_states=memory,
            generation_config=config,
        )
        return ids

    def predict(self, features: BackboneOutput, batch: Batch) -> list[str]:
        """One caption per image; ``batch["generation"]`` may override decoding (e.g. ``num_beams``)."""
        return self.decode(self.generate_ids(features, **batch.get("generation", {})))

    def decode(self, ids: Tensor) -> list[str]:
        """Words of generated ids, special tokens dropped."""
        return [text.strip() for text in self.tokenizer.batch_decode(ids, skip_special_tokens=True)]

    def evaluation_targets(self, batch: Batch) -> list[dict[str, Any]]:
        """Image ids and all reference sentences: what a caption is scored against."""
        references = batch[self.config.references_key]
        ids = batch.get("image_id")
        ids = ids.tolist() if isinstance(ids, Tensor) else list(range(len(references)))
        return [{"image_id": int(i), "references": list(r)} for i, r in zip(ids, references, strict=True)]

    def save_files(self, folder: Path) -> None:
        """Save the vocabulary beside the weights (``tokenizer.json`` …)."""
        self.tokenizer.save_pretrained(str(folder))
