"""The broker's threads: started whole at cold start, shared by invocations, and an adapter's
close leaves shared threads running while dropping its own calls not yet started."""

import asyncio
import concurrent.futures
import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from plan_executor.adapters.alpaca_threads import BlockingRunner, SdkThreads

WAIT_S = 30.0
"""Hang guard: every wait here ends within milliseconds (a thread-held call is released
right after the step that needs it held)."""
T = TypeVar("T")


def named(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(f"{name}_")]


@pytest.fixture
def shared() -> Iterator[SdkThreads]:
    threads = SdkThreads(4, "test-shared")
    yield threads
    threads.shutdown(wait=True)


def test_start_all_starts_every_thread_before_any_call(shared: SdkThreads) -> None:
    assert named("test-shared") == []

    shared.start_all()

    assert len(named("test-shared")) == 4


async def test_calls_after_start_all_start_no_thread(shared: SdkThreads) -> None:
    shared.start_all()
    started = {t.ident for t in named("test-shared")}
    runner = BlockingRunner(shared, owned=False)
    barrier = threading.Barrier(4, timeout=WAIT_S)

    await asyncio.gather(*(runner.run(barrier.wait) for _ in range(4)))  # all four at once

    assert {t.ident for t in named("test-shared")} == started


async def test_closing_a_runner_leaves_shared_threads_serving_the_next(
    shared: SdkThreads,
) -> None:
    shared.start_all()
    first = BlockingRunner(shared, owned=False)
    assert await first.run(lambda: "first") == "first"

    await first.aclose(wait_s=WAIT_S)

    assert len(named("test-shared")) == 4
    assert await BlockingRunner(shared, owned=False).run(lambda: "next") == "next"
    with pytest.raises(RuntimeError, match="closed"):
        await first.run(lambda: "refused")


async def test_a_call_not_yet_started_is_dropped_at_close() -> None:
    one = SdkThreads(1, "test-one")
    runner = BlockingRunner(one, owned=False)
    release, ran = threading.Event(), threading.Event()
    busy = asyncio.ensure_future(runner.run(lambda: release.wait(WAIT_S)))
    queued = asyncio.ensure_future(runner.run(ran.set))
    await asyncio.sleep(0)  # both handed to the pool: the second waits for the only thread

    await runner.aclose(wait_s=0.05)  # the busy call outlives the wait; the queued one is dropped
    release.set()
    assert await busy is True
    one.shutdown(wait=True)

    assert queued.cancelled()
    assert not ran.is_set()


async def test_an_adapters_own_threads_stop_at_close() -> None:
    own = SdkThreads(2, "test-own")
    runner = BlockingRunner(own, owned=True)
    await asyncio.gather(runner.run(lambda: None), runner.run(lambda: None))
    assert named("test-own") != []

    await runner.aclose(wait_s=WAIT_S)

    assert named("test-own") == []


def test_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        SdkThreads(0)


class RecordingThreads(SdkThreads):
    """Remembers every call's future, so a test can wait for what happens after a call."""

    def __init__(self, workers: int, name: str) -> None:
        super().__init__(workers, name)
        self.futures: list[concurrent.futures.Future[object]] = []

    def submit(self, call: Callable[[], T]) -> concurrent.futures.Future[T]:
        future = super().submit(call)
        self.futures.append(future)  # type: ignore[arg-type]
        return future


async def test_answers_finishing_together_wake_the_loop_once_not_per_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = 50
    threads = RecordingThreads(calls, "test-batch")
    runner = BlockingRunner(threads, owned=True)
    loop = asyncio.get_running_loop()
    wakeups: list[tuple[object, ...]] = []
    wake = loop.call_soon_threadsafe

    def counted_wake(*args: Any) -> asyncio.Handle:
        wakeups.append(args)
        return wake(*args)

    monkeypatch.setattr(loop, "call_soon_threadsafe", counted_wake)
    gate, queued, lock, seen = threading.Event(), threading.Event(), threading.Lock(), [0]

    def answered(_: object) -> None:  # runs after the runner queued the answer
        with lock:
            seen[0] += 1
            if seen[0] == calls:
                queued.set()

    def call(index: int) -> int:
        gate.wait(WAIT_S)
        if index % 7 == 0:
            raise ValueError(f"call {index} failed")
        return index

    tasks = [asyncio.ensure_future(runner.run(functools.partial(call, i))) for i in range(calls)]
    await asyncio.sleep(0)  # every call handed to the threads
    for future in threads.futures:
        future.add_done_callback(answered)
    gate.set()
    assert queued.wait(WAIT_S)  # the loop is held here: no answer is delivered meanwhile

    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    await runner.aclose(wait_s=WAIT_S)

    for index, outcome in enumerate(outcomes):
        if index % 7 == 0:
            assert isinstance(outcome, ValueError)
            assert str(outcome) == f"call {index} failed"
        else:
            assert outcome == index
    assert 1 <= len(wakeups) < calls / 5  # one per burst (a race may add one or two), not 50


async def test_a_caller_that_stopped_waiting_leaves_the_others_answered() -> None:
    threads = SdkThreads(2, "test-cancel")
    runner = BlockingRunner(threads, owned=True)
    release = threading.Event()
    slow = asyncio.ensure_future(runner.run(lambda: release.wait(WAIT_S)))
    fast = asyncio.ensure_future(runner.run(lambda: "fast"))
    await asyncio.sleep(0)

    slow.cancel()
    release.set()

    assert await fast == "fast"
    await asyncio.wait({slow})
    assert slow.cancelled()
    await runner.aclose(wait_s=WAIT_S)
