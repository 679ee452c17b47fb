"""Requests that arrive together run through the model together.

Gradio's queue lets up to ``max_batch`` requests of an endpoint into the app at once; each checks
its own input (so a bad upload is refused on its own, with its own message) and then waits here.
One worker thread gathers what is waiting — for at most ``max_wait_s`` after the first arrival, or
until ``max_batch`` — runs one batched forward pass and hands each request its result.
(Gradio's own ``batch=True`` cannot refuse one request of a batch without failing the others.)
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass(frozen=True)
class BatchTiming:
    """One request's time in a batcher: waiting (gathering, the model lock) and its batch's run."""

    wait_s: float
    run_s: float
    batch_size: int


@dataclass
class _Waiting(Generic[Item, Result]):
    """A submitted item, the future its submitter waits on and when it was queued."""

    item: Item
    done: Future[tuple[Result, BatchTiming]]
    queued: float


@dataclass
class MicroBatcher(Generic[Item, Result]):
    """Runs ``run_batch`` on the items submitted close together, grouped by ``key``.

    ``run_batch`` gets items of one key (e.g. one beam width) and returns one result per item;
    ``lock`` is held while it runs, so batchers of one model never run it at the same time.
    """

    run_batch: Callable[[list[Item]], list[Result]]
    max_batch: int = 8
    max_wait_s: float = 0.01
    key: Callable[[Item], Hashable] = lambda item: None
    lock: threading.Lock = field(default_factory=threading.Lock)
    batch_sizes: list[int] = field(default_factory=list)  # every batch run, for benchmarks and tests
    _waiting: queue.Queue[_Waiting[Item, Result]] = field(default_factory=queue.Queue)
    _worker: threading.Thread | None = None
    _start_lock: threading.Lock = field(default_factory=threading.Lock)

    def submit(self, item: Item) -> Result:
        """The result for ``item``, computed in a batch with whatever else is waiting."""
        return self.submit_timed(item)[0]

    def submit_timed(self, item: Item) -> tuple[Result, BatchTiming]:
        """:meth:`submit`, with how long the item waited and how long its batch ran."""
        with self._start_lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._serve, name="spatialnet-batcher", daemon=True)
                self._worker.start()
        done: Future[tuple[Result, BatchTiming]] = Future()
        self._waiting.put(_Waiting(item, done, time.perf_counter()))
        return done.result()

    def _serve(self) -> None:
        while True:
            pending = [self._waiting.get()]
            deadline = time.monotonic() + self.max_wait_s
            while len(pending) < self.max_batch:
                try:
                    pending.append(self._waiting.get(timeout=max(deadline - time.monotonic(), 0)))
                except queue.Empty:
                    break
            groups: dict[Hashable, list[_Waiting[Item, Result]]] = {}
            for entry in pending:
                groups.setdefault(self.key(entry.item), []).append(entry)
            for group in groups.values():
                self._run(group)

    def _run(self, group: list[_Waiting[Item, Result]]) -> None:
        try:
            with self.lock:
                started = time.perf_counter()
                results = self.run_batch([entry.item for entry in group])
                seconds = time.perf_counter() - started
            self.batch_sizes.append(len(group))
        except BaseException as err:  # every waiting request learns of the failure; the worker lives on
            for entry in group:
                entry.done.set_exception(err)
            return
        for entry, result in zip(group, results, strict=True):
            entry.done.set_result((result, BatchTiming(started - entry.queued, seconds, len(group))))
