"""Where chunks run: in this process, in local worker processes, or on a Dask cluster.

Every executor has the same shape: ``with make_executor(...) as ex:`` then
``for chunk, result in ex.imap_unordered(chunks):``.  Chunks are taken from
the iterator lazily and at most ``in_flight`` are submitted at a time (twice
the workers), so the driver never holds more than a few chunks' results and
its memory stays flat however long the sweep is.  Results come back to the
driver, which alone writes files (workers need no shared file system).

* :class:`InProcess`  one chunk after another in the driver (tests, debugging).
* :class:`Processes`  ``concurrent.futures.ProcessPoolExecutor`` with the
  *spawn* start method (Mesa needs it).  The context is sent once per worker
  (initializer); workers ignore Ctrl-C (the driver handles it) and exit if the
  driver dies.
* :class:`Dask`       ``distributed``: ``address="local"`` starts a
  ``LocalCluster`` of ``workers`` single-threaded processes; any other address
  (``tcp://host:port``) connects to a running scheduler.  A worker that dies
  has its chunk re-run elsewhere by the scheduler (up to Dask's
  ``distributed.scheduler.allowed-failures``).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor
from concurrent.futures import wait as cf_wait
from typing import Any, Callable, Iterable, Iterator

from sim.errors import InputError

from .work import Chunk, Context, init_worker, run_chunk, run_chunk_in_worker

__all__ = ["InProcess", "Processes", "Dask", "make_executor", "is_cluster_error", "SCHEDULER_ADDRESS"]

SCHEDULER_ADDRESS = re.compile(r"^(tcp|tls|ucx|ws|wss)://[A-Za-z0-9_.\-\[\]:]+:[0-9]{1,5}$")
"""A Dask scheduler address (``tcp://HOST:PORT``); ``local`` starts a local cluster."""

CONNECT_TIMEOUT = 10.0
"""Seconds to reach a Dask scheduler before giving up."""


def is_cluster_error(exc: BaseException) -> bool:
    """An error of the Dask cluster (lost scheduler or workers), not of the model."""
    from concurrent.futures import CancelledError

    module = type(exc).__module__ or ""
    return module.startswith(("distributed", "tornado")) or isinstance(exc, (CancelledError, OSError, TimeoutError))

log = logging.getLogger(__name__)

Result = Any


def _bounded(submit: Callable[[Chunk], Any], wait_first: Callable[[set], tuple[set, set]],
             chunks: Iterable[Chunk], limit: int | Callable[[], int]) -> Iterator[tuple[Chunk, Result]]:
    """Keep at most ``limit`` futures in flight (a number, or a function asked before each refill, for
    clusters that grow); yield (chunk, result) as they finish."""
    pending: dict[Any, Chunk] = {}
    it = iter(chunks)
    exhausted = False
    while True:
        most = limit() if callable(limit) else limit
        while not exhausted and len(pending) < most:
            chunk = next(it, None)
            if chunk is None:
                exhausted = True
                break
            pending[submit(chunk)] = chunk
        if not pending:
            return
        done, _ = wait_first(set(pending))
        for fut in done:
            chunk = pending.pop(fut)
            yield chunk, fut.result()  # a worker's exception is raised here


class InProcess:
    name = "in-process"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.workers = 1

    def __enter__(self) -> "InProcess":
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def imap_unordered(self, chunks: Iterable[Chunk]) -> Iterator[tuple[Chunk, Result]]:
        for chunk in chunks:
            yield chunk, run_chunk(self.ctx, chunk)


class Processes:
    name = "processes"

    def __init__(self, ctx: Context, workers: int) -> None:
        self.ctx, self.workers = ctx, max(1, int(workers))
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> "Processes":
        self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=init_worker, initargs=(os.getpid(), self.ctx))
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if self.pool is None:
            return
        if exc_type is not None:  # Ctrl-C or a failed chunk: do not wait for the chunks under way
            for proc in list((getattr(self.pool, "_processes", None) or {}).values()):
                proc.terminate()
        self.pool.shutdown(wait=True, cancel_futures=True)

    def imap_unordered(self, chunks: Iterable[Chunk]) -> Iterator[tuple[Chunk, Result]]:
        assert self.pool is not None
        pool = self.pool
        yield from _bounded(lambda c: pool.submit(run_chunk_in_worker, c),
                            lambda fs: cf_wait(fs, return_when=FIRST_COMPLETED), chunks, 2 * self.workers)


class Dask:
    name = "dask"

    def __init__(self, ctx: Context, address: str, workers: int, *, timeout: float | None = None) -> None:
        if address != "local" and not SCHEDULER_ADDRESS.match(address):
            raise InputError(f"{address!r} is not a Dask scheduler address", path="--scheduler",
                             allowed="tcp://HOST:PORT of a running scheduler, or local")
        self.ctx, self.address, self.workers = ctx, address, max(1, int(workers))
        self.timeout = timeout if timeout is not None else CONNECT_TIMEOUT
        self.client: Any = None
        self.cluster: Any = None
        self._log_levels: dict[str, int] = {}

    def __enter__(self) -> "Dask":
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - dask is a dependency
            raise InputError(f"Dask is not installed ({exc})", path="--scheduler") from None
        if not logging.getLogger("sim").isEnabledFor(logging.DEBUG):
            self._quiet_distributed()
        if self.address == "local":
            self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None, silence_logs=logging.ERROR)
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(self.address, timeout=self.timeout)
            except (OSError, TimeoutError, ValueError) as exc:
                self._restore_logging()
                raise InputError(f"cannot connect to the Dask scheduler at {self.address!r}: {exc}",
                                 path="--scheduler", allowed="tcp://HOST:PORT of a running scheduler, or local"
                                 ) from None
            self.workers = self._threads()
            log.info("connected to the Dask scheduler at %s (%d worker threads)", self.address, self.workers)
        return self

    def _quiet_distributed(self) -> None:
        """distributed logs a lost scheduler with long tracebacks (its loggers have their own levels);
        the sweep reports it in one line instead, so silence them while the cluster is in use."""
        names = ["distributed"] + [n for n in logging.root.manager.loggerDict if n.startswith("distributed.")]
        for name in names:
            logger = logging.getLogger(name)
            self._log_levels[name] = logger.level
            logger.setLevel(logging.CRITICAL)

    def _restore_logging(self) -> None:
        for name, level in self._log_levels.items():
            logging.getLogger(name).setLevel(level)
        self._log_levels.clear()

    def _threads(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def __exit__(self, *exc: Any) -> None:
        try:
            if self.client is not None:
                self.client.close(timeout=5)
        except Exception:  # noqa: BLE001 - a lost scheduler cannot be closed; the sweep's error says why
            pass
        finally:
            if self.cluster is not None:
                self.cluster.close()
            self._restore_logging()

    def imap_unordered(self, chunks: Iterable[Chunk]) -> Iterator[tuple[Chunk, Result]]:
        from distributed import wait

        # The context travels with each task (a few kB) rather than being scattered once, so
        # a task never depends on data held by a worker that may die.
        client, ctx = self.client, self.ctx
        limit = (lambda: 2 * self._threads()) if self.cluster is None else 2 * self.workers
        yield from _bounded(lambda c: client.submit(run_chunk, ctx, c, pure=False),
                            lambda fs: wait(list(fs), return_when="FIRST_COMPLETED"), chunks, limit)


def make_executor(ctx: Context, *, workers: int = 2, scheduler: str | None = None) -> InProcess | Processes | Dask:
    """The executor the CLI options ask for: Dask with a scheduler, else ``workers`` local processes
    (in this process if 0)."""
    if scheduler:
        return Dask(ctx, scheduler, workers)
    if workers <= 0:
        return InProcess(ctx)
    return Processes(ctx, workers)
