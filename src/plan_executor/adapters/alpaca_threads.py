"""The threads alpaca-py's blocking calls run on, off the event loop.

`SdkThreads` is kept for the life of the execution environment and started whole at cold start.
A thread holds no connection (each invocation's HTTP sessions do, docs/design.md 2.11), so keeping
threads across invocations shares nothing of one invocation with the next. Starting them
before the plan matters: a thread started during a plan's fan-out holds the event loop about
2 ms (`Thread.start` waits for the new thread, which waits for the GIL the plan's other threads
hold), about 50 starts and 90 ms of stalled loop in a 100-item plan; at cold start, with
nothing else running, all 128 start in about 20 ms and 3 MiB (bench/README.md (a)).

`BlockingRunner` is one invocation's use of the threads: it remembers its calls still running,
so closing the adapter waits for them (each is bounded by the HTTP timeout) and drops those
not yet started.
"""

import asyncio
import collections
import concurrent.futures
import contextlib
import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

ADAPTER_THREADS = "alpaca-http"
ENVIRONMENT_THREADS = "alpaca-env-http"


class SdkThreads:
    """A pool of at most `workers` threads named `<name>_<n>`. Threads start on demand (when a
    call finds none idle) unless `start_all()` started them first."""

    def __init__(self, workers: int, name: str = ENVIRONMENT_THREADS) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix=name
        )

    def start_all(self, timeout_s: float = 10.0) -> None:
        """Start every thread now and return once each has run (each then waits for calls).
        One call per thread, each held at a barrier until all have arrived, so no call finds
        a thread idle and each starts a new one."""
        barrier = threading.Barrier(self.workers + 1, timeout=timeout_s)
        arrivals = [self._pool.submit(barrier.wait) for _ in range(self.workers)]
        barrier.wait()
        for arrival in arrivals:
            arrival.result(timeout_s)

    def submit(self, call: Callable[[], T]) -> concurrent.futures.Future[T]:
        return self._pool.submit(call)

    def shutdown(self, *, wait: bool) -> None:
        """Stop the threads (those running a call finish it first; `wait` joins them)."""
        self._pool.shutdown(wait=wait, cancel_futures=True)


class BlockingRunner:
    """Runs one adapter's blocking calls on `threads` and remembers those still running, so
    `aclose()` can wait for them. With `owned` the threads are the adapter's own and stop at
    `aclose()`; otherwise they are the execution environment's and stay. A caller that is
    cancelled stops waiting at once; its thread finishes the call in the background.

    Answers reach the event loop in batches: a thread that finishes a call queues the answer
    and wakes the loop only if no wake-up is pending. Waking the loop is a write to its
    self-pipe, a syscall that gives the GIL away; during a fan-out, with dozens of threads
    waiting for the GIL, each such write cost the thread a wait behind the others (the
    asyncio.wrap_future way, one write per call). Batched, a 100-item plan ran ~5 % faster
    (bench/README.md (a))."""

    def __init__(self, threads: SdkThreads, *, owned: bool) -> None:
        self._threads = threads
        self._owned = owned
        self._running: set[concurrent.futures.Future[Any]] = set()
        self._answered: collections.deque[_Answer] = collections.deque()
        self._delivery_pending = False
        self._closed = False

    async def run(self, call: Callable[[], T]) -> T:
        if self._closed:
            raise RuntimeError("the broker adapter is closed")
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[T] = loop.create_future()
        future = self._threads.submit(call)
        self._running.add(future)
        future.add_done_callback(self._running.discard)
        future.add_done_callback(functools.partial(self._queue_answer, loop, answer))
        answer.add_done_callback(functools.partial(_cancel_unless_answered, future))
        return await answer

    def _queue_answer(
        self,
        loop: asyncio.AbstractEventLoop,
        answer: asyncio.Future[Any],
        future: concurrent.futures.Future[Any],
    ) -> None:
        """On the thread that finished the call (on the loop if it never started). Whatever
        the interleaving, an answer queued after a delivery began gets a delivery of its own,
        because a delivery clears the flag before it empties the queue."""
        self._answered.append(_Answer(answer, future))
        if self._delivery_pending or loop.is_closed():
            return
        self._delivery_pending = True
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
            loop.call_soon_threadsafe(self._deliver)

    def _deliver(self) -> None:
        self._delivery_pending = False
        while self._answered:
            self._answered.popleft().settle()

    async def aclose(self, wait_s: float) -> None:
        """Refuse new calls, let running ones end (at most `wait_s`) and drop those not yet
        started; then stop the threads if they are the adapter's own."""
        if self._closed:
            return
        self._closed = True
        running = list(self._running)
        if running:
            waiters = [asyncio.wrap_future(future) for future in running]
            await asyncio.wait(waiters, timeout=wait_s)
            for future in running:
                # Now, not through the waiters (their cancel reaches the call a loop turn
                # later, when a thread may have picked it up): a call not yet started never
                # starts; one running is not stopped.
                future.cancel()
            for waiter in waiters:
                if waiter.done() and not waiter.cancelled():
                    waiter.exception()  # already reported to its caller
                else:
                    waiter.cancel()
        if self._owned:
            # Workers are idle now (or stuck past every timeout): joining idle ones is quick.
            self._threads.shutdown(wait=not self._running)


@dataclass(frozen=True, slots=True)
class _Answer:
    answer: asyncio.Future[Any]
    future: concurrent.futures.Future[Any]

    def settle(self) -> None:
        """Hand the call's outcome to its caller, unless the caller stopped waiting."""
        if self.answer.done():
            return
        if self.future.cancelled():
            self.answer.cancel()
        elif (error := self.future.exception()) is not None:
            self.answer.set_exception(error)
        else:
            self.answer.set_result(self.future.result())


def _cancel_unless_answered(
    future: concurrent.futures.Future[Any], answer: asyncio.Future[Any]
) -> None:
    if answer.cancelled():
        future.cancel()  # effective only if the call has not started
