"""Requests that arrive together are computed together; a failure reaches only its own batch."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from spatialnet.app.batching import MicroBatcher


def test_requests_arriving_together_run_as_one_batch_and_each_gets_its_own_result():
    started = threading.Event()

    def double(items: list[int]) -> list[int]:
        started.wait(5)  # hold the first batch until every request is waiting
        return [2 * i for i in items]

    batcher: MicroBatcher[int, int] = MicroBatcher(double, max_batch=4, max_wait_s=0.05)
    with ThreadPoolExecutor(9) as pool:
        futures = [pool.submit(batcher.submit, i) for i in range(9)]
        time.sleep(0.3)
        started.set()
        assert [f.result(timeout=10) for f in futures] == [2 * i for i in range(9)]
    assert sum(batcher.batch_sizes) == 9 and max(batcher.batch_sizes) == 4 and len(batcher.batch_sizes) <= 5


def test_items_of_different_keys_never_share_a_batch():
    seen: list[set[int]] = []

    def run(items: list[tuple[int, int]]) -> list[int]:
        seen.append({beams for _, beams in items})
        return [value for value, _ in items]

    batcher: MicroBatcher[tuple[int, int], int] = MicroBatcher(run, 8, 0.05, key=lambda item: item[1])
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(batcher.submit, [(i, i % 2 + 1) for i in range(6)]))
    assert results == list(range(6)) and all(len(keys) == 1 for keys in seen)


def test_a_failing_batch_fails_its_own_requests_and_the_batcher_keeps_serving():
    def run(items: list[int]) -> list[int]:
        if -1 in items:
            raise RuntimeError("model failed")
        return items

    batcher: MicroBatcher[int, int] = MicroBatcher(run, max_batch=1)
    with pytest.raises(RuntimeError, match="model failed"):
        batcher.submit(-1)
    assert batcher.submit(3) == 3


def test_timed_submissions_say_how_long_they_waited_and_ran_and_with_how_many():
    def slow(items: list[int]) -> list[int]:
        time.sleep(0.05)
        return items

    batcher: MicroBatcher[int, int] = MicroBatcher(slow, max_batch=4, max_wait_s=0.2)
    with ThreadPoolExecutor(3) as pool:
        timed = list(pool.map(batcher.submit_timed, range(3)))
    assert [result for result, _ in timed] == [0, 1, 2]
    for _, timing in timed:
        assert timing.batch_size == 3 and timing.run_s >= 0.05 and 0 <= timing.wait_s < 5
