"""Caption head: a GPT-2-style transformer decoder cross-attending to the ViT tokens.

Seed 004 names captioning as a task but never says how sentences are produced; this is the
standard answer (Show-Attend-Tell's successors, e.g. Vaswani et al. 2017 decoders over image
tokens): teacher forcing with cross-entropy (optionally label-smoothed) for training, and
``transformers``' ``generate()`` for greedy or beam-search decoding. The vocabulary is a
word-level tokenizer trained on the training captions and saved beside the weights.

A second stage can optimise CIDEr-D itself: self-critical sequence training (Rennie et al.,
CVPR 2017) samples captions (or takes the top beams), rewards each with its CIDEr-D against the
image's references (document frequencies of the training split) and reinforces those that beat
a baseline: the greedy caption's reward, or the mean of the image's other samples (Luo 2020).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from transformers import GenerationConfig, GPT2Config, GPT2LMHeadModel

from spatialnet.backbones.output import BackboneOutput
from spatialnet.errors import RecipeError
from spatialnet.files import write_json
from spatialnet.heads.base import (
    LOSS,
    Batch,
    HeadConfig,
    HeadContext,
    HeadFit,
    Headline,
    TaskHead,
    TrainingText,
    register_head,
)
from spatialnet.heads.vocabulary import fit_tokenizer, fitted_tokenizer, special_id
from spatialnet.labels import IGNORE_INDEX
from spatialnet.losses.global_mean import batch_mean
from spatialnet.metrics.cider_reward import CiderD
from spatialnet.metrics.scoring import caption_metrics
from spatialnet.text.tokenizer import BOS, EOS, PAD, UNK

if TYPE_CHECKING:
    from spatialnet.metrics.bootstrap import Tally


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
    # training objective: xe (teacher-forced cross-entropy) or scst (self-critical sequence
    # training, Rennie et al. 2017: reinforce sampled captions by their CIDEr-D minus a baseline;
    # a second stage started from an xe run with train.init_from)
    objective: str = "xe"
    scst_candidates: str = "sample"  # sample (multinomial draws) | beam (the top beams)
    scst_samples: int = 5  # candidates per image
    scst_baseline: str = "mean"  # mean (of the image's other candidates) | greedy (its greedy caption)


@dataclasses.dataclass
class Candidates:
    """SCST candidates, ``scst_samples`` per image in image order.

    Their words, the log-probability of each generated token (N, T) with its mask, and the greedy
    captions when the baseline is the greedy one.
    """

    captions: list[str]
    log_probs: Tensor
    mask: Tensor
    greedy: list[str] | None = None


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
        self.tokenizer = fitted_tokenizer("caption", context)
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
        _check_objective(config)
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
        self._reward: CiderD | None = None  # SCST: CIDEr-D over the training references
        self.last_reward = float("nan")  # SCST: mean reward of the last batch's candidates

    @classmethod
    def fit(cls, config: CaptionConfig, data: TrainingText | None, saved: Path | None) -> HeadFit:
        """The vocabulary (see :func:`fit_tokenizer`) and, for SCST, the training references."""
        tokenizer = fit_tokenizer(
            "caption", data, saved, config.tokenizer, config.target, config.min_frequency
        )
        references = None
        if config.objective == "scst" and data is not None:
            references = data.reference_sets(config.references_key)
        return HeadFit(tokenizer, references)

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

    def forward(self, features: BackboneOutput, batch: Batch) -> Tensor | Candidates:
        """Teacher-forced next-word logits (B, T, vocab) for the target sentences.

        With the ``scst`` objective in training mode: candidate captions and their log-probabilities.
        """
        memory = self.encode_memory(features)
        if self.config.objective == "scst" and self.training:
            return self.candidates(memory)
        ids, mask = self.encode_text(batch[self.target_key], features.tokens.device)
        return self.sequence_logits(ids, mask, memory)

    def sequence_logits(self, ids: Tensor, mask: Tensor, memory: Tensor) -> Tensor:
        """Next-word logits (N, T, vocab) of token sequences ``ids`` given the decoder memory."""
        logits: Tensor = self.decoder(input_ids=ids, attention_mask=mask, encoder_hidden_states=memory).logits
        return logits

    def candidates(self, memory: Tensor) -> Candidates:
        """``scst_samples`` captions per image (drawn or the top beams) and their log-probabilities.

        Generation runs without gradients; one teacher-forced pass over the candidates then gives
        the differentiable log-probabilities of their words. Both run without dropout, so the
        gradient is that of the policy the candidates were drawn from.
        """
        was_training = self.decoder.training
        self.decoder.eval()  # draw and score the candidates with one policy: no dropout masks between
        try:
            return self._candidates(memory)
        finally:
            self.decoder.train(was_training)

    def _candidates(self, memory: Tensor) -> Candidates:
        count = self.config.scst_samples
        if self.config.scst_candidates == "beam":
            search = {"num_beams": count, "num_return_sequences": count, "do_sample": False}
        else:
            search = {"num_beams": 1, "num_return_sequences": count, "do_sample": True, "top_k": 0}
        ids = self.generate_ids_from(memory, **search)
        mask = (ids != self.pad_id).long()
        memory_per_candidate = memory.repeat_interleave(count, dim=0)
        logits = self.sequence_logits(ids, mask, memory_per_candidate)
        words = ids[:, 1:]
        log_probs = logits[:, :-1].log_softmax(dim=-1).gather(-1, words.unsqueeze(-1)).squeeze(-1)
        greedy = None
        if self.config.scst_baseline == "greedy":
            greedy = self.decode(self.generate_ids_from(memory.detach(), num_beams=1, do_sample=False))
        return Candidates(self.decode(ids), log_probs, mask[:, 1:].to(log_probs.dtype), greedy)

    def reward(self) -> CiderD:
        """The CIDEr-D scorer over the training references (built on first use, from the context)."""
        if self._reward is None:
            corpus = self.context.fit.references
            if corpus is None:
                raise RecipeError(
                    "caption head: objective 'scst' needs the training references (a captions dataset)"
                )
            self._reward = CiderD([[self.normalize(s) for s in refs] for refs in corpus])
        return self._reward

    def normalize(self, sentence: str) -> str:
        """A sentence as the vocabulary sees it (lower case, no punctuation): as candidates are decoded."""
        normalizer = self.tokenizer.backend_tokenizer.normalizer
        return " ".join((normalizer.normalize_str(sentence) if normalizer else sentence).split())

    def loss(self, output: Tensor | Candidates, batch: Batch) -> Tensor:
        """Cross-entropy of each next word (padding ignored, optional label smoothing).

        For SCST candidates: the self-critical policy-gradient loss.
        """
        if isinstance(output, Candidates):
            return self.self_critical_loss(output, batch)
        ids, mask = self.encode_text(batch[self.target_key], output.device)
        labels = ids[:, 1:].masked_fill(mask[:, 1:] == 0, IGNORE_INDEX)
        total = F.cross_entropy(
            output[:, :-1].flatten(0, 1),
            labels.flatten(),
            ignore_index=IGNORE_INDEX,
            label_smoothing=self.config.label_smoothing,
            reduction="sum",
        )
        return batch_mean(total, (labels != IGNORE_INDEX).sum())  # a mean over the global batch's words

    def self_critical_loss(self, output: Candidates, batch: Batch) -> Tensor:
        """−(r − b)·mean log p(word) over the candidates: r their CIDEr-D, b the baseline."""
        count = self.config.scst_samples
        references = [[self.normalize(s) for s in refs] for refs in batch[self.config.references_key]]
        per_candidate = [refs for refs in references for _ in range(count)]
        scorer = self.reward()
        rewards = torch.as_tensor(scorer(output.captions, per_candidate), dtype=output.log_probs.dtype)
        rewards = rewards.to(output.log_probs.device).view(-1, count)
        if output.greedy is not None:
            baseline = torch.as_tensor(scorer(output.greedy, references), dtype=rewards.dtype)
            baseline = baseline.to(rewards.device).unsqueeze(1)
        else:  # the mean of the image's other candidates (Luo 2020): unbiased, no extra decoding
            baseline = (rewards.sum(dim=1, keepdim=True) - rewards) / max(1, count - 1)
        advantage = (rewards - baseline).flatten()
        self.last_reward = float(rewards.mean())
        sequence_log_prob = (output.log_probs * output.mask).sum(dim=1)
        return -(advantage * sequence_log_prob).sum() / output.mask.sum().clamp(min=1.0)

    # -- inference -----------------------------------------------------------------------------
    @torch.no_grad()
    def generate_ids(self, features: BackboneOutput, **overrides: Any) -> Tensor:
        """Token ids from ``generate()`` (greedy or beam search per the recipe, or ``overrides``)."""
        return self.generate_ids_from(self.encode_memory(features), **overrides)

    @torch.no_grad()
    def generate_ids_from(self, memory: Tensor, **overrides: Any) -> Tensor:
        """``generate_ids`` for an already projected decoder memory."""
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

    def predicted(self, output: Any, features: BackboneOutput, batch: Batch) -> list[str]:
        """Captions are generated from the image features, not from the teacher-forced ``output``."""
        return self.predict(features, batch)

    def decode(self, ids: Tensor) -> list[str]:
        """Words of generated ids, special tokens dropped."""
        return [text.strip() for text in self.tokenizer.batch_decode(ids, skip_special_tokens=True)]

    def evaluation_targets(self, batch: Batch) -> list[dict[str, Any]]:
        """Image ids and all reference sentences: what a caption is scored against."""
        references = batch[self.config.references_key]
        ids = batch.get("image_id")
        ids = ids.tolist() if isinstance(ids, Tensor) else list(range(len(references)))
        return [{"image_id": int(i), "references": list(r)} for i, r in zip(ids, references, strict=True)]

    # -- evaluation ----------------------------------------------------------------------------
    headlines: ClassVar[tuple[Headline, ...]] = (
        Headline("Bleu_4", "BLEU-4"),
        Headline("METEOR", "METEOR"),
        Headline("ROUGE_L", "ROUGE-L"),
        Headline("CIDEr", "CIDEr"),
    )
    summary_metrics: ClassVar[tuple[Headline, ...]] = (
        Headline("Bleu_1", "BLEU-1"),
        Headline("Bleu_2", "BLEU-2"),
        Headline("Bleu_3", "BLEU-3"),
        LOSS,
    )

    def score(
        self, predictions: list[str], targets: list[dict[str, Any]], detailed: bool = False
    ) -> dict[str, Any]:
        """COCO caption metrics (pycocoevalcap) of the generated captions over the split."""
        return caption_metrics(predictions, targets, detailed)

    def tally(self, predictions: list[str], targets: list[dict[str, Any]], by: str = "") -> Tally:
        """Per-image caption statistics (:func:`~spatialnet.metrics.caption_tally.caption_tally`)."""
        from spatialnet.metrics.caption_tally import caption_tally

        references = {int(t["image_id"]): t["references"] for t in targets}
        generated = {int(t["image_id"]): p for t, p in zip(targets, predictions, strict=True)}
        return caption_tally(references, generated, source="generated captions")

    def write_artifacts(
        self,
        predictions: list[str],
        targets: list[dict[str, Any]],
        metrics: dict[str, Any],
        stem: Path,
        title: str,
    ) -> dict[str, str]:
        """The generated captions as COCO results (``[{"image_id", "caption"}]``)."""
        path = stem.with_name(f"{stem.name}_predictions.json")
        write_json(
            path,
            [{"image_id": t["image_id"], "caption": c} for t, c in zip(targets, predictions, strict=True)],
        )
        return {"predictions_file": path.name}

    def save_files(self, folder: Path) -> None:
        """Save the vocabulary beside the weights (``tokenizer.json`` …)."""
        self.tokenizer.save_pretrained(str(folder))


def _check_objective(config: CaptionConfig) -> None:
    """Recipe errors of the training objective, named before any training step."""
    if config.objective not in ("xe", "scst"):
        raise RecipeError(f"caption head: 'objective' is {config.objective!r}; expected 'xe' or 'scst'")
    if config.scst_candidates not in ("sample", "beam"):
        raise RecipeError(
            f"caption head: 'scst_candidates' is {config.scst_candidates!r}; expected 'sample' or 'beam'"
        )
    if config.scst_baseline not in ("mean", "greedy"):
        raise RecipeError(
            f"caption head: 'scst_baseline' is {config.scst_baseline!r}; expected 'mean' or 'greedy'"
        )
    if config.scst_samples < (2 if config.scst_baseline == "mean" else 1):
        raise RecipeError(
            f"caption head: 'scst_samples' is {config.scst_samples}; the mean baseline needs at least 2"
        )
