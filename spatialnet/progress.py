"""Progress bars (rich) that disappear when output is not a terminal or progress is off."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sized
from typing import TypeVar

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")


def make_progress() -> Progress:
    """A rich progress display with count, elapsed time and ETA."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[status]}"),
        transient=True,
    )


def progress_bar(
    items: Iterable[T], description: str, enabled: bool = True, total: int | None = None
) -> Iterator[T]:
    """Iterate ``items`` with a transient progress bar when ``enabled``."""
    if not enabled:
        yield from items
        return
    count = total if total is not None else (len(items) if isinstance(items, Sized) else None)
    with make_progress() as progress:
        task = progress.add_task(description, total=count, status="")
        for item in items:
            yield item
            progress.advance(task)
