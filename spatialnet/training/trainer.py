"""Recipe-driven training loop: multitask losses, balancing, validation, checkpoints, resume, DDP.

Determinism: every epoch reseeds torch/numpy/python RNGs and the data order from
``(seed, epoch)``, and augmentation is seeded per sample, so a run resumed from its last
checkpoint (saved at every epoch end) repeats exactly what an uninterrupted run does,
and a DDP run sees the same global batches as a single process.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim import Optimizer
from torch.utils.data import DataLoader
from transformers import set_seed

from spatialnet import checkpoint as ckpt
from spatialnet.config import Recipe, recipe_changes, to_dict
from spatialnet.data.collate import collate
from spatialnet.errors import CheckpointError, RecipeError
from spatialnet.files import write_json
from spatialnet.heads.base import HeadFit
from spatialnet.losses.balancing import TaskBalancer, build_balancer
from spatialnet.losses.global_mean import global_batch
from spatialnet.losses.regularization import l2_penalty
from spatialnet.metrics.scoring import flatten_metrics
from spatialnet.model import SpatialNet, resolved_recipe
from spatialnet.progress import make_progress
from spatialnet.training.distillation import Teachers, build_teachers
from spatialnet.training.distributed import (
    DistributedContext,
    all_reduce_mean,
    barrier,
    broadcast_from_main,
    init_distributed,
    shutdown,
    sum_over_processes,
)
from spatialnet.training.evaluation import evaluate_sources, move_to
from spatialnet.training.mixing import MixedBatches, mixing_shares
from spatialnet.training.optimizer import build_optimizer, parameter_groups
from spatialnet.training.parts import apply_freezing
from spatialnet.training.sampler import epoch_sampler
from spatialnet.training.schedule import LRSchedule
from spatialnet.training.sources import SourceData, fit_run, load_sources
from spatialnet.training.transfer import transfer_weights

Logger = Callable[[str], None]


@dataclass
class RunState:
    """Where a run stands: what ``training_state.pt`` stores besides optimiser, balancer and schedule."""

    epoch: int = 0  # the next epoch to train (0-based)
    step: int = 0  # optimiser steps taken
    best_value: float | None = None
    best_epoch: int = -1  # 1-based epoch of the best checkpoint
    history: list[dict[str, Any]] = field(default_factory=list)
    train_seconds: float = 0.0


@dataclass
class Parts:
    """What one training run builds once: the model and everything that updates it."""

    model: SpatialNet
    balancer: TaskBalancer
    optimizer: Optimizer
    schedule: LRSchedule
    batches: MixedBatches
    teachers: Teachers | None = None  # train.distill


class Trainer:
    """Trains a :class:`SpatialNet` from a recipe into a run folder (``best/`` and ``last/`` checkpoints).

    The walk: load the datasets (:func:`load_sources`), fit what is learned before the model
    (processors, head settings, vocabularies: :func:`fit_run`), build the model and its optimiser,
    then per epoch train, validate on rank 0 and save ``last/`` (and ``best/`` when it improved).
    """

    def __init__(
        self,
        recipe: Recipe,
        run_dir: Path,
        resume: bool = False,
        show_progress: bool = True,
        log: Logger = print,
    ) -> None:
        self.recipe = recipe
        self.run_dir = Path(run_dir)
        self.resume = resume
        self.context: DistributedContext = init_distributed(recipe.train.device)
        self.show_progress = show_progress and self.context.is_main
        self.log = log if self.context.is_main else (lambda _msg: None)
        if recipe.train.threads:
            torch.set_num_threads(recipe.train.threads)
        if recipe.train.select_mode not in ("max", "min"):
            raise RecipeError(f"'train.select_mode' is {recipe.train.select_mode!r}; expected 'max' or 'min'")

    @property
    def last_dir(self) -> Path:  # noqa: D102
        return self.run_dir / "last"

    @property
    def best_dir(self) -> Path:  # noqa: D102
        return self.run_dir / "best"

    def fit(self) -> dict[str, Any]:
        """Train for ``train.epochs`` epochs; returns the best validation metrics."""
        try:
            return self._fit()
        finally:
            shutdown(self.context)

    def _fit(self) -> dict[str, Any]:
        set_seed(self.recipe.seed)
        sources = load_sources(self.recipe)
        resume_from = self._resume_checkpoint()
        init_from = None if resume_from else _init_checkpoint(self.recipe.train.init_from)
        self.recipe, fits = fit_run(self.recipe, sources, resume_from or init_from)
        if resume_from is not None:
            self._check_resumable(resume_from)
        parts = self._build(sources, fits, init_from)
        state = self._restore(parts, resume_from) if resume_from else self._fresh()
        fitted_files = ckpt.fitted_files({name: source.fitted for name, source in sources.items()})
        epochs = self.recipe.train.epochs
        frozen = apply_freezing(parts.model, self.recipe.train.freeze_epochs, 0)
        net = self._wrap(parts.model, sources)
        for epoch in range(state.epoch, epochs):
            epoch_seed = self.recipe.seed * 10_007 + epoch
            set_seed(epoch_seed)
            for source in sources.values():
                source.train.set_epoch(epoch_seed)
            net.train()
            now_frozen = apply_freezing(parts.model, self.recipe.train.freeze_epochs, epoch)
            if now_frozen != frozen:
                frozen, net = now_frozen, self._wrap(parts.model, sources)
                net.train()
                apply_freezing(parts.model, self.recipe.train.freeze_epochs, epoch)
                self.log(f"epoch {epoch + 1}: frozen parts now {sorted(frozen) or 'none'}")
            record = self._train_epoch(net, parts, sources, state, epoch)
            val_metrics = self._validate(parts, sources, state, record, epoch)
            state.history.append(record)
            state.epoch = epoch + 1
            if self.context.is_main:
                self._save(parts, state, val_metrics, epoch, fitted_files)
            barrier(self.context)
        return ckpt.read_metrics(self.best_dir) if (self.best_dir / ckpt.METRICS_FILE).exists() else {}

    # -- setup -----------------------------------------------------------------------------------
    def _resume_checkpoint(self) -> Path | None:
        """The ``last/`` checkpoint to resume (None for a new run, which must not overwrite one)."""
        if self.context.is_main:
            ckpt.recover(self.last_dir)
            ckpt.recover(self.best_dir)
        barrier(self.context)
        if self.resume:
            return ckpt.resolve_checkpoint(self.last_dir)
        if (self.last_dir / ckpt.WEIGHTS_FILE).exists():
            raise CheckpointError(
                f"{self.run_dir}: already holds a run; pass --resume to continue it or use --out"
            )
        return None

    def _build(
        self, sources: dict[str, SourceData], fits: dict[str, HeadFit], init_from: Path | None
    ) -> Parts:
        """The model (with ``init_from``'s weights), balancer, optimiser, batches and schedule."""
        recipe, device, train = self.recipe, self.context.device, self.recipe.train
        model = SpatialNet.from_recipe(recipe, fits=fits).to(device)
        if init_from is not None:
            notes = transfer_weights(model, init_from)
            self.log(f"started from the weights of {init_from}" + "".join(f"\n  {note}" for note in notes))
        self._check_bands(model, sources)
        heads = {name: model.head(name).config for name in model.heads}
        balancer = build_balancer(
            recipe.loss.balancing,
            weights={name: cfg.weight for name, cfg in heads.items()},
            kinds={name: cfg.loss_kind for name, cfg in heads.items()},
            alpha=recipe.loss.gradnorm_alpha,
        ).to(device)
        optimizer = build_optimizer(parameter_groups(model, balancer, recipe), recipe)
        for group in optimizer.param_groups:
            group["initial_lr"] = group["lr"]
        batches = self._batches(sources)
        schedule = LRSchedule(train.schedule, len(batches), train.epochs, train.select_mode)
        teachers = build_teachers(recipe, model, device)
        if teachers is not None:
            self.log(
                "distilling from "
                + ", ".join(f"{head}: {path}" for head, path in recipe.train.distill.teachers.items())
            )
        return Parts(model, balancer, optimizer, schedule, batches, teachers)

    def _batches(self, sources: dict[str, SourceData]) -> MixedBatches:
        """One epoch's batches: each dataset's loader (sharded over processes), mixed by share."""
        recipe, context, train = self.recipe, self.context, self.recipe.train
        loaders = {}
        for name, source in sources.items():
            batch_size = source.config.batch_size or train.batch_size
            if batch_size % context.world_size:
                raise RecipeError(
                    f"the batch size {batch_size} of {name} must divide over {context.world_size} processes"
                )
            loaders[name] = DataLoader(
                source.train,
                batch_size=batch_size // context.world_size,
                sampler=epoch_sampler(len(source.train), recipe.seed, context.rank, context.world_size),
                num_workers=source.config.data.num_workers,
                pin_memory=context.device.type == "cuda",
                collate_fn=collate,
            )
        shares = mixing_shares(
            {name: len(source.train) for name, source in sources.items()},
            {name: source.config.proportion for name, source in sources.items()},
            train.mix,
            train.mix_temperature,
        )
        steps = train.steps_per_epoch or sum(len(loader) for loader in loaders.values())
        return MixedBatches(loaders, shares, steps, recipe.seed)

    def _wrap(self, model: SpatialNet, sources: dict[str, SourceData]) -> nn.Module:
        """DDP over the parameters that train now (rebuilt when a frozen part thaws)."""
        context = self.context
        if not context.enabled:
            return model
        return DistributedDataParallel(
            model,
            device_ids=[context.device.index] if context.device.type == "cuda" else None,
            find_unused_parameters=len(model.heads) > 1 or len(sources) > 1,
        )

    def _fresh(self) -> RunState:
        """The state of a new run (whose recipe is written to the run folder)."""
        if self.context.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            write_json(self.run_dir / ckpt.CONFIG_FILE, to_dict(self.recipe))
        return RunState()

    def _restore(self, parts: Parts, last: Path) -> RunState:
        """Weights, optimiser, balancer, schedule and run state of the ``last/`` checkpoint."""
        ckpt.load_weights(parts.model, last)
        saved = ckpt.load_training_state(last)
        parts.optimizer.load_state_dict(saved["optimizer"])
        parts.balancer.load_state_dict(saved["balancer"])
        parts.schedule.load_state_dict(saved["schedule"])
        state = RunState(
            epoch=int(saved["epoch"]) + 1,
            step=int(saved["step"]),
            best_value=saved["best_value"],
            best_epoch=int(saved["best_epoch"]),
            history=list(saved["history"]),
            train_seconds=float(saved["train_seconds"]),
        )
        self.log(f"resumed {self.run_dir} after epoch {state.epoch} (step {state.step})")
        if self.context.is_main:
            write_json(self.run_dir / ckpt.CONFIG_FILE, to_dict(self.recipe))
        return state

    def _check_bands(self, model: SpatialNet, sources: dict[str, SourceData]) -> None:
        """Refuse data whose band count differs from what the backbone stem of its modality reads."""
        for source in sources.values():
            bands = int(source.val[0]["image"].shape[0])
            expected = model.backbone.input_spec(source.config.modality).in_chans
            if bands != expected:
                where = (
                    f"'{source.config.modality}' stem" if source.config.modality else "'backbone.in_chans'"
                )
                raise RecipeError(
                    f"{source.config.data.root}: the data gives {bands} bands per image (data.bands / the "
                    f"files) but the {where} reads {expected}; make them agree"
                )

    def _check_resumable(self, last: Path) -> None:
        stored = resolved_recipe(ckpt.read_recipe(last), str(last / ckpt.CONFIG_FILE))
        ours, theirs = to_dict(self.recipe), to_dict(stored)  # runs before resolved recipes compare too
        ours["train"]["epochs"] = theirs["train"]["epochs"]  # extending a run is allowed
        changed = recipe_changes(theirs, ours)
        if changed:
            shown = "; ".join(changed[:6]) + (f"; and {len(changed) - 6} more" if len(changed) > 6 else "")
            raise CheckpointError(f"{last}: cannot resume with a different recipe (was → now: {shown})")

    # -- one epoch ---------------------------------------------------------------------------------
    def _train_epoch(
        self, net: nn.Module, parts: Parts, sources: dict[str, SourceData], state: RunState, epoch: int
    ) -> dict[str, Any]:
        """One pass over the epoch's mixed batches; the epoch's record for ``history.json``."""
        recipe, context, train = self.recipe, self.context, self.recipe.train
        model, balancer, optimizer, batches = parts.model, parts.balancer, parts.optimizer, parts.batches
        shared = model.last_shared_parameter()
        started = time.perf_counter()
        loss_sum = torch.zeros((), device=context.device)
        task_sums: dict[str, float] = {}
        task_batches: dict[str, int] = {}
        with make_progress() if self.show_progress else _NullProgress() as progress:
            bar: Any = progress.add_task(f"epoch {epoch + 1}/{train.epochs}", total=len(batches), status="")
            for name, batch in batches.epoch(epoch):
                parts.schedule.apply(optimizer, state.step)
                batch = move_to(batch, context.device)
                source_cfg = sources[name].config
                if source_cfg.modality:
                    batch["modality"] = source_cfg.modality
                optimizer.zero_grad(set_to_none=True)
                tasks = [task for task in source_cfg.tasks if model.head(task).has_targets(batch)]
                if not tasks:
                    raise RecipeError(
                        f"a training batch of {name} labels none of its tasks {source_cfg.tasks}"
                    )
                with (
                    global_batch(sum_over_processes, context.world_size) if context.enabled else nullcontext()
                ):
                    result = net(batch, tasks)
                    losses = result.losses  # means over the global batch
                    if parts.teachers is not None:
                        parts.teachers.blend(batch, result.outputs, losses)
                balancer.before_backward(losses, shared)
                total = balancer(losses)
                if recipe.loss.l2_penalty:
                    total = total + l2_penalty(model.parameters(), recipe.loss.l2_penalty)
                total.backward()
                if train.grad_clip:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), train.grad_clip)
                optimizer.step()
                balancer.after_step()
                state.step += 1
                loss_sum += total.detach()
                for task, value in losses.items():
                    task_sums[task] = task_sums.get(task, 0.0) + float(value.detach())
                    task_batches[task] = task_batches.get(task, 0) + 1
                progress.update(bar, advance=1, status=f"loss {float(total.detach()):.4f}")
        state.train_seconds += time.perf_counter() - started
        return {
            "epoch": epoch + 1,
            "train_loss": float(all_reduce_mean(loss_sum / len(batches), context)),
            "lr": optimizer.param_groups[0]["lr"],
            "task_weights": balancer.task_weights(),
            "batches": dict(batches.counts),  # per dataset, this epoch
            "train_task_losses": _task_means(task_sums, task_batches, context),
            "seconds": state.train_seconds,
        }

    def _validate(
        self,
        parts: Parts,
        sources: dict[str, SourceData],
        state: RunState,
        record: dict[str, Any],
        epoch: int,
    ) -> dict[str, Any] | None:
        """Score the val splits when due (rank 0), step the schedule, track the best epoch.

        Returns the validation metrics when this epoch is the best so far (None otherwise).
        """
        train, context = self.recipe.train, self.context
        if (epoch + 1) % train.val_every and epoch + 1 != train.epochs:
            return None
        value, val_metrics = 0.0, None
        if context.is_main:  # the validation sets are small: rank 0 scores them alone
            val_metrics, _, _ = evaluate_sources(
                parts.model,
                {n: (s.config, s.val) for n, s in sources.items()},
                train.eval_batch_size,
                context.device,
                by_dataset=self.recipe.is_joint,
            )
            flat = flatten_metrics(val_metrics)
            value = self._select(flat)
            record["val"] = flat
        value = broadcast_from_main(value, context)
        parts.schedule.on_validation(value)  # every rank, so plateau reductions agree
        if not context.is_main:
            return None
        best = state.best_value
        improved = best is None or (value > best if train.select_mode == "max" else value < best)
        if improved:
            state.best_value, state.best_epoch = value, epoch + 1
        self.log(
            f"epoch {epoch + 1}/{train.epochs}  loss {record['train_loss']:.4f}  "
            f"val {train.select_metric} {value:.4f}{'  (best)' if improved else ''}  "
            f"{state.train_seconds:.0f}s"
        )
        return val_metrics if improved else None

    def _save(
        self,
        parts: Parts,
        state: RunState,
        best_metrics: dict[str, Any] | None,
        epoch: int,
        fitted_files: dict[str, bytes],
    ) -> None:
        """``best/`` when this epoch improved, then ``last/`` with everything a resume needs."""
        summary = {
            "best_epoch": state.best_epoch,
            "best_value": state.best_value,
            "select_metric": self.recipe.train.select_metric,
            "train_seconds": state.train_seconds,
            "world_size": self.context.world_size,
        }
        if best_metrics is not None:
            metrics = {**summary, "val": best_metrics, "history": state.history}
            ckpt.save_checkpoint(self.best_dir, self.recipe, parts.model, metrics, extra_files=fitted_files)
        training_state = {
            "epoch": epoch,
            "step": state.step,
            "optimizer": parts.optimizer.state_dict(),
            "balancer": parts.balancer.state_dict(),
            "schedule": parts.schedule.state_dict(),
            "best_value": state.best_value,
            "best_epoch": state.best_epoch,
            "history": state.history,
            "train_seconds": state.train_seconds,
        }
        ckpt.save_checkpoint(
            self.last_dir,
            self.recipe,
            parts.model,
            {**summary, "history": state.history},
            training_state,
            fitted_files,
        )
        write_json(self.run_dir / "history.json", state.history)

    def _select(self, flat: dict[str, float]) -> float:
        """The value picking the best checkpoint: ``select_metric``, or the ``select_weights`` sum."""
        train = self.recipe.train
        weights = train.select_weights or {train.select_metric: 1.0}
        missing = [name for name in weights if name not in flat]
        if missing:
            key = "select_weights" if train.select_weights else "select_metric"
            raise RecipeError(
                f"'train.{key}' names {missing[0]!r}; validation reports: {', '.join(sorted(flat))}"
            )
        return sum(weight * flat[name] for name, weight in weights.items())


def _init_checkpoint(source: str | None) -> Path | None:
    """The checkpoint folder ``train.init_from`` names (a run's best, or a checkpoint), if any."""
    if source is None:
        return None
    try:
        return ckpt.resolve_checkpoint(Path(source).expanduser())
    except CheckpointError as err:
        raise CheckpointError(f"train.init_from: {err}") from err


def _task_means(
    sums: dict[str, float], counts: dict[str, int], context: DistributedContext
) -> dict[str, float]:
    """Each task's mean training loss over the epoch's batches that trained it, averaged over processes.

    Every process sees the same datasets in the same order, hence the same tasks.
    """
    names = sorted(sums)
    if not names:
        return {}
    local = torch.tensor([sums[name] for name in names], dtype=torch.float64, device=context.device)
    totals = all_reduce_mean(local, context).tolist()  # on the device: NCCL reduces CUDA tensors only
    return {name: total / counts[name] for name, total in zip(names, totals, strict=True)}


class _NullProgress:
    """Stand-in for a rich Progress when bars are off."""

    def __enter__(self) -> _NullProgress:
        return self

    def __exit__(self, *args: object) -> None:
        return None

    def add_task(self, *args: Any, **kwargs: Any) -> int:  # noqa: D102
        return 0

    def update(self, *args: Any, **kwargs: Any) -> None:  # noqa: D102
        return None
