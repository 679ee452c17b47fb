"""Visual question answering head: a BERT-style question encoder fused with the ViT tokens.

RSVQA (Lobry et al., TGRS 2020) encodes the question, fuses it with the image feature by a
point-wise product and classifies over the answer vocabulary; seed 004 adds a count regression
(MSE) beside the answer classifier. Both fusions are offered, chosen by ``fusion``:

* ``product`` — RSVQA: ``tanh(W_q q) ⊙ tanh(W_v v)`` of the pooled question and pooled image, then
  an MLP over answers;
* ``cross_attention`` — the question tokens attend to the patch tokens (transformer decoder
  layers without a causal mask), then the ``[BOS]`` token is classified. It can answer "where"
  questions the pooled product cannot, since patch positions survive to the answer.

Answers fit the question: by default a question is answered from its type's answer set only
(a count bin for "How many …", yes/no for presence and comparison, rural/urban), so a model never
answers "How many buildings are there?" with "yes". One head serves several datasets: each asks in
its own question set (:mod:`spatialnet.data.question_sets`: RSVQA-LR's count bins, RSIVQA's count
words and locations), ``answer_sets`` holds each set's answers per type, ``answers`` their union
(the classifier's rows), and every question is restricted to the answers of its set and type.
A head started from another dataset's (``train.init_from``) keeps the rows of the answers and the
embeddings of the words both share, and says what it adds.

Counts: ``count_weight > 0`` adds a regression of ``log1p(count)`` on count questions (seed 004's
MSE, on a log scale because RSVQA-LR counts span 0 to thousands); with ``count_answer:
regression`` its value, binned like the official encoder, answers count questions.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from transformers import BertConfig, BertModel

from spatialnet.backbones.output import BackboneOutput
from spatialnet.data import question_sets
from spatialnet.data.rsvqa.answers import ANSWERS_BY_TYPE, COUNT_BINS, LR_ANSWERS, bin_count
from spatialnet.errors import DataError, RecipeError
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
from spatialnet.heads.vocabulary import extend_tokenizer, fit_tokenizer, fitted_tokenizer, special_id
from spatialnet.losses.global_mean import batch_mean
from spatialnet.losses.regression import masked_mse
from spatialnet.metrics.scoring import vqa_metrics
from spatialnet.text.tokenizer import PAD

if TYPE_CHECKING:
    from spatialnet.metrics.bootstrap import Tally


@dataclasses.dataclass
class VQAConfig(HeadConfig):
    """Question encoder, fusion and answer vocabulary of a VQA head.

    The target batch key holds the answer strings (RSVQA: binned counts); ``question_key`` the
    question texts, ``count_key`` the raw counts (NaN for non-count questions), ``set_key`` the
    question set each image's questions are asked in. ``answers`` and ``answer_sets`` are filled
    from the training data when the recipe leaves them out.
    """

    question_key: str = "question"
    type_key: str = "question_type"
    count_key: str = "count"
    set_key: str = "question_set"
    answers: list[str] = dataclasses.field(default_factory=lambda: list(LR_ANSWERS))
    # question set -> question type -> the answers it allows
    answer_sets: dict[str, dict[str, list[str]]] = dataclasses.field(
        default_factory=lambda: {"rsvqa_lr": {kind: list(a) for kind, a in ANSWERS_BY_TYPE.items()}}
    )
    # the set a question that comes without one (a person's, in the app) is answered in;
    # None: the first of answer_sets in alphabetical order
    default_question_set: str | None = None
    # vocabulary: a saved tokenizer folder, else one trained on the training questions
    tokenizer: str | None = None
    min_frequency: int = 1  # rarer training words become [UNK]
    # question encoder (BERT layers)
    hidden_size: int = 256
    layers: int = 2
    attention_heads: int = 4
    mlp_ratio: float = 4.0
    dropout: float = 0.1
    max_length: int = 40  # question tokens incl. [BOS]/[EOS]; longer questions are truncated
    # fusion
    fusion: str = "cross_attention"  # cross_attention | product
    fusion_layers: int = 2  # cross_attention: decoder layers over the patch tokens
    fusion_size: int = 512  # product: width of the point-wise product (RSVQA: 1200)
    label_smoothing: float = 0.0
    # weigh each question by 1 / (training questions of its set and type), so that every type counts
    # as much in the loss as in AA (RSVQA-LR: 71 rural/urban questions beside 2,832 comparisons)
    balance_types: bool = False
    # question set -> type -> training questions (filled from the data; what balance_types divides by)
    type_counts: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)
    # seed 004's count regression
    count_weight: float = 0.0
    count_answer: str = "classifier"  # classifier | regression: what answers count questions
    # answer each question from its type's answers only (a count question with a count bin, …)
    restrict_answers: bool = True


@dataclasses.dataclass
class VQAOutput:
    """Answer logits (B, K) and, with count regression, predicted log1p counts (B,)."""

    logits: Tensor
    log_count: Tensor | None = None


@register_head("vqa")
class VQAHead(TaskHead):
    """Question → BERT encoder → fusion with the image → answer logits (+ count regression)."""

    config_class = VQAConfig
    config: VQAConfig

    def __init__(self, config: VQAConfig, context: HeadContext) -> None:
        super().__init__(config, context)
        _check(config)
        self.answers = list(config.answers)
        self.answer_index = {answer: i for i, answer in enumerate(self.answers)}
        self.tokenizer = fitted_tokenizer("vqa", context)
        self.pad_id = special_id(self.tokenizer, PAD, "vqa")
        width = config.hidden_size
        self.encoder = BertModel(
            BertConfig(
                vocab_size=len(self.tokenizer),
                hidden_size=width,
                num_hidden_layers=config.layers,
                num_attention_heads=config.attention_heads,
                intermediate_size=int(width * config.mlp_ratio),
                hidden_dropout_prob=config.dropout,
                attention_probs_dropout_prob=config.dropout,
                max_position_embeddings=config.max_length,
                type_vocab_size=1,
                pad_token_id=self.pad_id,
            ),
            add_pooling_layer=False,
        )
        if config.fusion == "cross_attention":
            self.memory = nn.Sequential(nn.Linear(context.embed_dim, width), nn.LayerNorm(width))
            layer = nn.TransformerDecoderLayer(
                width,
                config.attention_heads,
                int(width * config.mlp_ratio),
                config.dropout,
                activation="gelu",
                batch_first=True,
                norm_first=True,
            )
            self.fusion = nn.TransformerDecoder(layer, config.fusion_layers, norm=nn.LayerNorm(width))
            fused = width
        else:
            self.image_proj = nn.Linear(context.embed_dim, config.fusion_size)
            self.question_proj = nn.Linear(width, config.fusion_size)
            fused = config.fusion_size
        self.classifier = nn.Sequential(
            nn.Dropout(config.dropout),
            nn.Linear(fused, width),
            nn.GELU(),
            nn.Dropout(config.dropout),
            nn.Linear(width, len(self.answers)),
        )
        self.count_regressor = nn.Linear(fused, 1) if config.count_weight > 0 else None

    @classmethod
    def fit(cls, config: VQAConfig, data: TrainingText | None, saved: Path | None) -> HeadFit:
        """The question vocabulary (see :func:`fit_tokenizer`).

        Started from a checkpoint and given training questions (``train.init_from``, a resumed
        run), the checkpoint's vocabulary keeps its ids and gains the words of the new questions
        it lacks, so questions of another dataset are not read as unknown.
        """
        tokenizer = fit_tokenizer(
            "vqa", data, saved, config.tokenizer, config.question_key, config.min_frequency
        )
        if saved is not None and data is not None:
            tokenizer = extend_tokenizer(tokenizer, data.texts(config.question_key), config.min_frequency)
        return HeadFit(tokenizer)

    @classmethod
    def merge_settings(cls, settings: list[dict[str, Any]]) -> dict[str, Any]:
        """One head learning from several datasets: their answer sets side by side, answers united."""
        merged = super().merge_settings(settings)
        sets = [s["answer_sets"] for s in settings if "answer_sets" in s]
        if sets:
            merged["answer_sets"] = {name: types for found in sets for name, types in found.items()}
            counts = [s.get("type_counts", {}) for s in settings]
            merged["type_counts"] = {name: types for found in counts for name, types in found.items()}
            merged["answers"] = list(dict.fromkeys(a for s in settings for a in s.get("answers", [])))
        return merged

    def transferred(
        self, state: dict[str, Tensor], saved_config: dict[str, Any], saved_folder: Path
    ) -> tuple[dict[str, Tensor], str]:
        """Weights of a VQA head trained on other answers or words: what both share is kept.

        The answer classifier's rows and the question encoder's word embeddings are matched by the
        answer and the word; rows of new answers and words keep their fresh initialisation.
        """
        own = self.state_dict()
        state = dict(state)
        notes = []
        old_answers = [str(a) for a in saved_config.get("answers", LR_ANSWERS)]
        rows = f"classifier.{len(self.classifier) - 1}"
        if old_answers != self.answers and f"{rows}.weight" in state:
            kept = _move_rows(state, own, rows, old_answers, self.answers)
            added = [a for a in self.answers if a not in old_answers]
            notes.append(
                f"kept {len(kept)} of {len(old_answers)} answers{_few(kept)}, added {len(added)}{_few(added)}"
            )
        words = "encoder.embeddings.word_embeddings"
        if (saved_folder / "tokenizer.json").is_file() and f"{words}.weight" in state:
            from spatialnet.text.tokenizer import load_tokenizer

            old_vocabulary = load_tokenizer(saved_folder).get_vocab()
            vocabulary = self.tokenizer.get_vocab()
            if old_vocabulary != vocabulary:
                by_id = sorted(vocabulary, key=vocabulary.__getitem__)
                old_by_id = sorted(old_vocabulary, key=old_vocabulary.__getitem__)
                kept = _move_rows(state, own, words, old_by_id, by_id, bias=False)
                added = [w for w in by_id if w not in old_vocabulary]
                notes.append(f"kept {len(kept)} words, added {len(added)}{_few(added)}")
        fresh = sorted({key.split(".")[0] for key in own if key not in state})
        if fresh:  # parts the other run's head did not have (a count regression), as initialised
            state.update({key: value for key, value in own.items() if key not in state})
            notes.append(f"new: {', '.join(fresh)}")
        return state, "; ".join(notes)

    def can_predict(self, batch: Batch) -> bool:
        """A VQA head answers only when the batch carries questions."""
        return self.config.question_key in batch

    # -- encoding ------------------------------------------------------------------------------
    def encode_questions(self, questions: list[str], device: torch.device) -> tuple[Tensor, Tensor]:
        """Token ids ``[BOS] … [EOS]`` (right-padded, truncated to ``max_length``) and their mask."""
        encoded = self.tokenizer(
            list(questions),
            padding=True,
            truncation=True,
            max_length=self.config.max_length,
            return_tensors="pt",
        )
        return encoded["input_ids"].to(device), encoded["attention_mask"].to(device)

    def unknown_words(self, question: str) -> list[str]:
        """Words of ``question`` outside the training vocabulary (read as [UNK])."""
        backend = self.tokenizer.backend_tokenizer
        normalized = backend.normalizer.normalize_str(question) if backend.normalizer else question
        vocabulary = self.tokenizer.get_vocab()
        return [word for word in normalized.split() if word not in vocabulary]

    def forward(self, features: BackboneOutput, batch: Batch) -> VQAOutput:
        """Answer logits for every question of the batch (its images' questions, flattened in order)."""
        if self.config.question_key not in batch:
            raise DataError(f"vqa head: the batch has no '{self.config.question_key}' (questions per image)")
        questions = per_image(batch[self.config.question_key], self.config.question_key)
        device = features.tokens.device
        image_of = torch.tensor(
            [i for i, qs in enumerate(questions) for _ in qs], dtype=torch.long, device=device
        )
        ids, mask = self.encode_questions([q for qs in questions for q in qs], device)
        words = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        if self.config.fusion == "cross_attention":
            memory = self.memory(torch.cat([features.prefix, features.tokens], dim=1))[image_of]
            fused = self.fusion(words, memory, tgt_key_padding_mask=mask == 0)[:, 0]
        else:
            question = torch.tanh(self.question_proj(words[:, 0]))
            fused = question * torch.tanh(self.image_proj(features.pooled))[image_of]
        log_count = self.count_regressor(fused).squeeze(-1) if self.count_regressor is not None else None
        return VQAOutput(self.classifier(fused), log_count)

    # -- training ------------------------------------------------------------------------------
    def answer_ids(self, batch: Batch, device: torch.device) -> Tensor:
        """Indices of the batch's answers in the answer vocabulary.

        An unknown answer is an error in training; in evaluation (a val answer no training question
        had) it is left out of the loss (index -100) and scored wrong.
        """
        answers = flat(batch, self.target_key)
        unknown = sorted({a for a in answers if a not in self.answer_index})
        if unknown and self.training:
            raise DataError(
                f"vqa head: answers {unknown[:5]} are not in the head's answer list {self.answers[:20]}"
            )
        return torch.tensor(
            [self.answer_index.get(a, -100) for a in answers], dtype=torch.long, device=device
        )

    def loss(self, output: VQAOutput, batch: Batch) -> Tensor:
        """Answer cross-entropy, plus ``count_weight`` × MSE of log1p(count) on count questions.

        The cross-entropy is a weighted mean over the questions (``question_weights``).
        """
        target = self.answer_ids(batch, output.logits.device)
        each = F.cross_entropy(
            output.logits, target, label_smoothing=self.config.label_smoothing, reduction="none"
        )
        weights = self.question_weights(batch).to(each)
        # a weighted mean over the global batch: images hold different numbers of questions
        loss = batch_mean((weights * each).sum(), weights[target != -100].sum())
        if output.log_count is not None and self.config.count_key in batch:
            counts = torch.tensor(flat(batch, self.config.count_key), dtype=torch.float32)
            loss = loss + self.config.count_weight * masked_mse(
                output.log_count, torch.log1p(counts.to(output.log_count))
            )
        return loss

    # -- inference -----------------------------------------------------------------------------
    def predicted(self, output: VQAOutput, features: BackboneOutput, batch: Batch) -> Tensor:
        """Answer probabilities (B, K); count questions answered by the regression when so configured."""
        sets = self.question_sets_of(batch)
        kinds = self.question_types(batch, sets)
        logits = output.logits
        if self.config.restrict_answers:
            logits = logits.masked_fill(~self.allowed_answers(kinds, sets).to(logits.device), float("-inf"))
        probs = logits.softmax(dim=-1)
        if self.config.count_answer == "regression" and output.log_count is not None:
            for row, (kind, name) in enumerate(zip(kinds, sets, strict=True)):
                if kind == "count" and name == "rsvqa_lr":  # the regression bins counts as RSVQA does
                    count = max(0, round(math.expm1(float(output.log_count[row]))))
                    probs[row] = 0.0
                    probs[row, self.answer_index[bin_count(count)]] = 1.0
        return probs

    def question_weights(self, batch: Batch) -> Tensor:
        """Each question's weight in the loss: 1, or with ``balance_types`` 1 / its type's training count."""
        sets = self.question_sets_of(batch)
        if not self.config.balance_types:
            return torch.ones(len(sets))
        kinds = self.question_types(batch, sets)
        counts = self.config.type_counts
        missing = sorted({(s, k) for s, k in zip(sets, kinds, strict=True) if not counts.get(s, {}).get(k)})
        if missing:
            raise RecipeError(
                f"vqa head: balance_types needs the training count of {missing[0][1]!r} questions of "
                f"{missing[0][0]!r} in 'type_counts' (filled from the training data)"
            )
        return torch.tensor([1.0 / counts[s][k] for s, k in zip(sets, kinds, strict=True)])

    @property
    def default_set(self) -> str:
        """The question set a question without one is asked in (``default_question_set``)."""
        return self.config.default_question_set or min(
            self.config.answer_sets, default=question_sets.DEFAULT_SET
        )

    def question_sets_of(self, batch: Batch) -> list[str]:
        """Each question's question set: its image's (batch key ``set_key``), else the default set."""
        counts = [len(qs) for qs in per_image(batch[self.config.question_key], self.config.question_key)]
        named = batch.get(self.config.set_key)
        if named is None:
            return [self.default_set] * sum(counts)
        names = [named] * len(counts) if isinstance(named, str) else list(named)
        if len(names) != len(counts):
            raise DataError(f"vqa head: batch['{self.config.set_key}'] must name one question set per image")
        return [str(name) for name, n in zip(names, counts, strict=True) for _ in range(n)]

    def allowed_answers(self, kinds: list[str], sets: list[str] | None = None) -> Tensor:
        """(Q, K) mask of the answers each question's set and type allow (all, where they name none)."""
        sets = sets or [self.default_set] * len(kinds)
        masks: dict[tuple[str, str], list[bool]] = {}
        rows = []
        for kind, name in zip(kinds, sets, strict=True):
            if (kind, name) not in masks:
                allowed = set(self.config.answer_sets.get(name, {}).get(kind, ()))
                mask = [answer in allowed for answer in self.answers]
                masks[kind, name] = mask if any(mask) else [True] * len(self.answers)
            rows.append(masks[kind, name])
        return torch.tensor(rows, dtype=torch.bool).reshape(len(kinds), len(self.answers))

    def question_types(self, batch: Batch, sets: list[str] | None = None) -> list[str]:
        """Each question's type: from the batch when the dataset gives it, else from its text and set."""
        if self.config.type_key in batch:
            return [str(kind) for kind in flat(batch, self.config.type_key)]
        texts = flat(batch, self.config.question_key)
        sets = sets or self.question_sets_of(batch)
        return [question_sets.question_set(name).type_of(q) for q, name in zip(texts, sets, strict=True)]

    def evaluation_targets(self, batch: Batch) -> list[dict[str, Any]]:
        """Question ids, types, sets, images and true answers: what answers are scored against."""
        answers = flat(batch, self.target_key)
        ids = flat(batch, "question_id") if "question_id" in batch else list(range(len(answers)))
        sets = self.question_sets_of(batch)
        counts = [len(qs) for qs in per_image(batch[self.config.question_key], self.config.question_key)]
        images = batch["image_id"].tolist() if "image_id" in batch else list(range(len(counts)))
        image_of = [int(image) for image, n in zip(images, counts, strict=True) for _ in range(n)]
        return [
            {"question_id": int(i), "type": kind, "answer": answer, "question_set": name, "image_id": image}
            for i, kind, answer, name, image in zip(
                ids, self.question_types(batch, sets), answers, sets, image_of, strict=True
            )
        ]

    # -- evaluation ----------------------------------------------------------------------------
    # the question types of the built-in sets (RSVQA-LR's, then RSIVQA's own): a split shows its own
    headlines: ClassVar[tuple[Headline, ...]] = (
        Headline("theme", "theme (%)"),
        Headline("presence", "presence (%)"),
        Headline("comp", "comparison (%)"),
        Headline("count", "count (%)"),
        Headline("rural_urban", "rural/urban (%)"),
        Headline("location", "location (%)"),
        Headline("AA", "AA (%)"),
        Headline("OA", "OA (%)"),
    )
    summary_metrics: ClassVar[tuple[Headline, ...]] = (Headline("mean3", "mean of 3 types (%)"), LOSS)

    def score(
        self, predictions: Tensor, targets: list[dict[str, Any]], detailed: bool = False
    ) -> dict[str, Any]:
        """Accuracies per type of the targets' question set, ``AA``, ``OA`` (RSVQA: and ``mean3``)."""
        return vqa_metrics(predictions, targets, self.answers, detailed)

    def tally(self, predictions: Tensor, targets: list[dict[str, Any]], by: str = "") -> Tally:
        """Per-image statistics of the accuracies (``by="questions"``: per question), one question set."""
        from spatialnet.metrics.vqa_tally import vqa_tally

        sets = sorted({str(t.get("question_set", question_sets.DEFAULT_SET)) for t in targets})
        if len(sets) != 1:
            raise DataError(f"vqa head: tally one question set at a time, got {', '.join(sets) or 'none'}")
        chosen = predictions.argmax(dim=1).tolist()
        truth = {int(t["question_id"]): (str(t["type"]), str(t["answer"])) for t in targets}
        answered = {int(t["question_id"]): self.answers[i] for t, i in zip(targets, chosen, strict=True)}
        image_of = {int(t["question_id"]): int(t.get("image_id", 0)) for t in targets}
        unit = by or "images"
        return vqa_tally(truth, answered, "predicted answers", sets[0], unit, image_of)  # type: ignore[arg-type]

    def summarize(
        self,
        output: Tensor,
        index: int,
        top_k: int = 5,
        question: str | None = None,
        question_set: str | None = None,
    ) -> Any:
        """The answer to ``question``, its probability, the top 3, the question type and unseen words."""
        if question is None:
            return super().summarize(output, index)
        probabilities = output[index].cpu()
        values, indices = probabilities.topk(min(3, len(self.answers)))
        ranked = [  # answers outside the question's set and type (probability 0) are not shown
            {"answer": self.answers[i], "probability": float(v)}
            for rank, (v, i) in enumerate(zip(values, indices, strict=True))
            if rank == 0 or float(v) > 0
        ]
        name = question_set or self.default_set
        return {
            "question": question.strip(),
            "type": question_sets.question_set(name).type_of(question),
            "question_set": name,
            "answer": ranked[0]["answer"],
            "probability": ranked[0]["probability"],
            "top": ranked,
            "unknown_words": self.unknown_words(question),
        }

    def write_artifacts(
        self,
        predictions: Tensor,
        targets: list[dict[str, Any]],
        metrics: dict[str, Any],
        stem: Path,
        title: str,
    ) -> dict[str, str]:
        """The answers as the official evaluator reads them, and their confusion matrix."""
        from spatialnet.metrics.figures import save_confusion_matrix  # matplotlib only when drawing

        chosen = predictions.argmax(dim=1).tolist()
        answers = [
            {"question_id": t["question_id"], "answer": self.answers[i]}
            for t, i in zip(targets, chosen, strict=True)
        ]
        path = stem.with_name(f"{stem.name}_predictions.json")
        write_json(path, answers)
        files = {"predictions_file": path.name}
        if "confusion" in metrics:
            png = stem.with_name(f"{stem.name}_confusion.png")
            save_confusion_matrix(metrics["confusion"], metrics["answers"], png, normalize=True, title=title)
            files["confusion_png"] = png.name
        return files

    def save_files(self, folder: Path) -> None:
        """Save the question vocabulary beside the weights."""
        self.tokenizer.save_pretrained(str(folder))


def _check(config: VQAConfig) -> None:
    """Recipe errors that would otherwise surface deep inside torch."""
    if config.fusion not in ("cross_attention", "product"):
        raise RecipeError(f"vqa head: 'fusion' is {config.fusion!r}; expected 'cross_attention' or 'product'")
    if config.hidden_size % config.attention_heads:
        raise RecipeError(
            f"vqa head: hidden_size {config.hidden_size} must be divisible by "
            f"attention_heads {config.attention_heads}"
        )
    if len(set(config.answers)) != len(config.answers) or not config.answers:
        raise RecipeError(
            f"vqa head: 'answers' must be a non-empty list without repeats, got {config.answers}"
        )
    if config.default_question_set is not None and config.default_question_set not in config.answer_sets:
        raise RecipeError(
            f"vqa head: 'default_question_set' is {config.default_question_set!r}; expected one of its "
            f"answer_sets: {', '.join(config.answer_sets)}"
        )
    if config.count_answer not in ("classifier", "regression"):
        raise RecipeError(
            f"vqa head: 'count_answer' is {config.count_answer!r}; expected 'classifier' or 'regression'"
        )
    if config.count_answer == "regression" and config.count_weight <= 0:
        raise RecipeError("vqa head: count_answer 'regression' needs count_weight > 0")
    if config.count_answer == "regression" and not set(COUNT_BINS) <= set(config.answers):
        raise RecipeError(
            f"vqa head: count_answer 'regression' needs every count bin in 'answers': {COUNT_BINS}"
        )


def per_image(value: Any, key: str) -> list[list[Any]]:
    """A batch field as one list per image: ``[[q1, q2], [q3]]``; a flat list means one per image."""
    if isinstance(value, Tensor):
        value = value.tolist()
    if not isinstance(value, list | tuple):
        raise DataError(f"vqa head: batch['{key}'] must be a list (one entry or list per image)")
    return [list(v) if isinstance(v, list | tuple) else [v] for v in value]


def flat(batch: Batch, key: str) -> list[Any]:
    """A per-image batch field flattened in question order (the order of the head's outputs)."""
    return [item for items in per_image(batch[key], key) for item in items]


def _move_rows(
    state: dict[str, Tensor],
    own: dict[str, Tensor],
    prefix: str,
    old: list[str],
    new: list[str],
    bias: bool = True,
) -> list[str]:
    """Rebuild ``prefix``'s row-indexed tensors for the ``new`` labels from those of the ``old`` ones.

    Rows of labels in both are copied from ``state``; the others keep ``own`` (fresh) values.
    Returns the labels kept.
    """
    position = {label: i for i, label in enumerate(old)}
    kept = [label for label in new if label in position]
    for suffix in ("weight", "bias") if bias else ("weight",):
        key = f"{prefix}.{suffix}"
        rows = own[key].clone()
        for i, label in enumerate(new):
            if label in position and position[label] < len(state[key]):
                rows[i] = state[key][position[label]]
        state[key] = rows
    return kept


def _few(labels: list[str], shown: int = 6) -> str:
    """`` (a, b, c, …)`` for a note, or nothing when empty."""
    if not labels:
        return ""
    more = ", …" if len(labels) > shown else ""
    return f" ({', '.join(labels[:shown])}{more})"
