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
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from spatialnet import checkpoint as ckpt
from spatialnet.config import Recipe, to_dict
from spatialnet.data.collate import collate
from spatialnet.data.registry import build_dataset
from spatialnet.errors import CheckpointError, DataError, RecipeError
from spatialnet.files import json_bytes, write_json
from spatialnet.losses.balancing import build_balancer
from spatialnet.losses.global_mean import global_batch
from spatialnet.losses.regularization import l2_penalty
from spatialnet.metrics.scoring import flatten_metrics
from spatialnet.model import SpatialNet
from spatialnet.progress import make_progress
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
from spatialnet.training.sampler import EpochSampler, seed_everything
from spatialnet.training.schedule import LRSchedule
from spatialnet.training.sources import SourceData, fill_head_settings, fitted_state, texts_of

Logger = Callable[[str], None]


class Trainer:
    """Trains a :class:`SpatialNet` from a recipe into a run folder (``best/`` and ``last/`` checkpoints)."""

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

    # -- setup -----------------------------------------------------------------------------------
    def _sources(self) -> dict[str, SourceData]:
        """Train and val datasets of every dataset the recipe reads, with the state fitted on train."""
        sources = {}
        for name, entry in self.recipe.sources().items():
            data = entry.data
            train_set = build_dataset(data, data.train_split, train=True)
            state = fitted_state(train_set)
            val_set = build_dataset(data, data.val_split, train=False, state=state)
            for split, dataset in ((data.train_split, train_set), (data.val_split, val_set)):
                if len(dataset) == 0:  # type: ignore[arg-type]
                    raise DataError(f"{data.root}: the '{split}' split of {data.dataset} has no samples")
            sources[name] = SourceData(name, entry, train_set, val_set, state)
        return sources

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
        stored = ckpt.read_recipe(last)
        ours, theirs = to_dict(self.recipe), to_dict(stored)
        ours["train"]["epochs"] = theirs["train"]["epochs"]  # extending a run is allowed
        if ours != theirs:
            changed = sorted(k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k))
            raise CheckpointError(
                f"{last}: cannot resume with a different recipe (sections changed: {changed})"
            )

    # -- main loop -------------------------------------------------------------------------------
    def fit(self) -> dict[str, Any]:
        """Train for ``train.epochs`` epochs; returns the best validation metrics."""
        try:
            return self._fit()
        finally:
            shutdown(self.context)

    def _fit(self) -> dict[str, Any]:
        recipe, context, device = self.recipe, self.context, self.context.device
        train_cfg = recipe.train
        seed_everything(recipe.seed)
        sources = self._sources()
        for source in sources.values():
            recipe = fill_head_settings(recipe, source.train, source.config.tasks)
        self.recipe = recipe
        states = {name: source.state for name, source in sources.items() if source.state is not None}
        extra_files = {ckpt.DATA_STATE_FILE: json_bytes(states)} if states else {}
        last_dir, best_dir = self.run_dir / "last", self.run_dir / "best"
        if context.is_main:
            ckpt.recover(last_dir)
            ckpt.recover(best_dir)
        barrier(context)
        resume_from = ckpt.resolve_checkpoint(last_dir) if self.resume else None
        train_sets = [source.train for source in sources.values()]
        init_from = None if resume_from else _init_checkpoint(train_cfg.init_from)
        model = SpatialNet.from_recipe(
            recipe,
            files=resume_from or init_from,
            texts=texts_of(train_sets),
            reference_sets=texts_of(train_sets, "reference_sets"),
        ).to(device)
        if init_from is not None:
            ckpt.load_weights(model, init_from)
            self.log(f"started from the weights of {init_from}")
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

        loaders = {}
        for name, source in sources.items():
            batch_size = source.config.batch_size or train_cfg.batch_size
            if batch_size % context.world_size:
                raise RecipeError(
                    f"the batch size {batch_size} of {name} must divide over {context.world_size} processes"
                )
            sampler = EpochSampler(len(source.train), recipe.seed, context.rank, context.world_size)  # type: ignore[arg-type]
            loaders[name] = DataLoader(
                source.train,
                batch_size=batch_size // context.world_size,
                sampler=sampler,
                num_workers=source.config.data.num_workers,
                pin_memory=device.type == "cuda",
                collate_fn=collate,
            )
        shares = mixing_shares(
            {name: len(source.train) for name, source in sources.items()},  # type: ignore[arg-type]
            {name: source.config.proportion for name, source in sources.items()},
            train_cfg.mix,
            train_cfg.mix_temperature,
        )
        steps = train_cfg.steps_per_epoch or sum(len(loader) for loader in loaders.values())
        batches = MixedBatches(loaders, shares, steps, recipe.seed)
        schedule = LRSchedule(train_cfg.schedule, len(batches), train_cfg.epochs, train_cfg.select_mode)

        def wrap(model: SpatialNet) -> nn.Module:
            """DDP over the parameters that train now (rebuilt when a frozen part thaws)."""
            if not context.enabled:
                return model
            return DistributedDataParallel(
                model,
                device_ids=[device.index] if device.type == "cuda" else None,
                find_unused_parameters=len(model.heads) > 1 or len(sources) > 1,
            )

        frozen = apply_freezing(model, train_cfg.freeze_epochs, 0)
        net = wrap(model)

        start_epoch, step, best_value, best_epoch = 0, 0, None, -1
        history: list[dict[str, Any]] = []
        train_seconds = 0.0
        if resume_from is not None:
            resolved = resume_from
            self._check_resumable(resolved)
            ckpt.load_weights(model, resolved)
            state = ckpt.load_training_state(resolved)
            optimizer.load_state_dict(state["optimizer"])
            balancer.load_state_dict(state["balancer"])
            schedule.load_state_dict(state["schedule"])
            start_epoch, step = int(state["epoch"]) + 1, int(state["step"])
            best_value, best_epoch = state["best_value"], int(state["best_epoch"])
            history, train_seconds = list(state["history"]), float(state["train_seconds"])
            self.log(f"resumed {self.run_dir} after epoch {start_epoch} (step {step})")
        elif (last_dir / ckpt.WEIGHTS_FILE).exists():
            raise CheckpointError(
                f"{self.run_dir}: already holds a run; pass --resume to continue it or use --out"
            )
        if context.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            write_json(self.run_dir / ckpt.CONFIG_FILE, to_dict(recipe))

        shared = model.last_shared_parameter()
        for epoch in range(start_epoch, train_cfg.epochs):
            epoch_seed = recipe.seed * 10_007 + epoch
            seed_everything(epoch_seed)
            for source in sources.values():
                if hasattr(source.train, "set_epoch"):
                    source.train.set_epoch(epoch_seed)
            net.train()
            now_frozen = apply_freezing(model, train_cfg.freeze_epochs, epoch)
            if now_frozen != frozen:
                frozen, net = now_frozen, wrap(model)
                net.train()
                apply_freezing(model, train_cfg.freeze_epochs, epoch)
                self.log(f"epoch {epoch + 1}: frozen parts now {sorted(frozen) or 'none'}")
            started = time.perf_counter()
            loss_sum = torch.zeros((), device=device)
            task_sums: dict[str, float] = {}
            with make_progress() if self.show_progress else _NullProgress() as progress:
                bar: Any = progress.add_task(
                    f"epoch {epoch + 1}/{train_cfg.epochs}", total=len(batches), status=""
                )
                for name, batch in batches.epoch(epoch):
                    schedule.apply(optimizer, step)
                    batch = move_to(batch, device)
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
                        global_batch(sum_over_processes, context.world_size)
                        if context.enabled
                        else nullcontext()
                    ):
                        losses = net(batch, tasks).losses  # means over the global batch
                    balancer.before_backward(losses, shared)
                    total = balancer(losses)
                    if recipe.loss.l2_penalty:
                        total = total + l2_penalty(model.parameters(), recipe.loss.l2_penalty)
                    total.backward()
                    if train_cfg.grad_clip:
                        torch.nn.utils.clip_grad_norm_(model.parameters(), train_cfg.grad_clip)
                    optimizer.step()
                    balancer.after_step()
                    step += 1
                    loss_sum += total.detach()
                    for task, value in losses.items():
                        task_sums[task] = task_sums.get(task, 0.0) + float(value.detach())
                    progress.update(bar, advance=1, status=f"loss {float(total.detach()):.4f}")
            train_seconds += time.perf_counter() - started
            mean_loss = float(all_reduce_mean(loss_sum / len(batches), context))
            record: dict[str, Any] = {
                "epoch": epoch + 1,
                "train_loss": mean_loss,
                "lr": optimizer.param_groups[0]["lr"],
                "task_weights": balancer.task_weights(),
                "batches": dict(batches.counts),  # per dataset, this epoch
                "train_task_losses": _task_means(task_sums, batches, sources, context),
                "seconds": train_seconds,
            }
            validate = (epoch + 1) % train_cfg.val_every == 0 or epoch + 1 == train_cfg.epochs
            improved = False
            if validate:
                value = 0.0
                if context.is_main:  # the validation sets are small: rank 0 scores them alone
                    val_metrics, _, _ = evaluate_sources(
                        model,
                        {n: (s.config, s.val) for n, s in sources.items()},
                        train_cfg.eval_batch_size,
                        device,
                        by_dataset=recipe.is_joint,
                    )
                    flat = flatten_metrics(val_metrics)
                    value = self._select(flat)
                    record["val"] = flat
                value = broadcast_from_main(value, context)
                schedule.on_validation(value)  # every rank, so plateau reductions agree
            if validate and context.is_main:
                better = best_value is None or (
                    value > best_value if train_cfg.select_mode == "max" else value < best_value
                )
                if better:
                    best_value, best_epoch, improved = value, epoch + 1, True
                self.log(
                    f"epoch {epoch + 1}/{train_cfg.epochs}  loss {mean_loss:.4f}  "
                    f"val {train_cfg.select_metric} {value:.4f}{'  (best)' if improved else ''}  "
                    f"{train_seconds:.0f}s"
                )
            history.append(record)
            if context.is_main:
                summary = {
                    "best_epoch": best_epoch,
                    "best_value": best_value,
                    "select_metric": train_cfg.select_metric,
                    "train_seconds": train_seconds,
                    "world_size": context.world_size,
                }
                if improved:
                    ckpt.save_checkpoint(
                        best_dir,
                        recipe,
                        model,
                        {**summary, "val": val_metrics, "history": history},
                        extra_files=extra_files,
                    )
                training_state = {
                    "epoch": epoch,
                    "step": step,
                    "optimizer": optimizer.state_dict(),
                    "balancer": balancer.state_dict(),
                    "schedule": schedule.state_dict(),
                    "best_value": best_value,
                    "best_epoch": best_epoch,
                    "history": history,
                    "train_seconds": train_seconds,
                }
                ckpt.save_checkpoint(
                    last_dir, recipe, model, {**summary, "history": history}, training_state, extra_files
                )
                write_json(self.run_dir / "history.json", history)
            barrier(context)
        result = ckpt.read_metrics(best_dir) if (best_dir / ckpt.METRICS_FILE).exists() else {}
        return result

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


def _owner(sources: dict[str, SourceData], task: str) -> str:
    """The dataset whose batches train ``task``."""
    return next(name for name, source in sources.items() if task in source.config.tasks)


def _task_means(
    sums: dict[str, float], batches: MixedBatches, sources: dict[str, SourceData], context: DistributedContext
) -> dict[str, float]:
    """Each task's mean training loss over its batches of the epoch, averaged over processes.

    Every process sees the same datasets in the same order, hence the same tasks.
    """
    names = sorted(sums)
    if not names:
        return {}
    local = torch.tensor([sums[name] for name in names], dtype=torch.float64, device=context.device)
    totals = all_reduce_mean(local, context).tolist()  # on the device: NCCL reduces CUDA tensors only
    return {
        name: total / batches.counts[_owner(sources, name)] for name, total in zip(names, totals, strict=True)
    }


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
