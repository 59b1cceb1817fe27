"""Where a campaign's runs execute: a local process pool, or Ray (on this machine or a cluster).

A campaign is a list of tasks, each a picklable `Task` of plain data (the image's bytes and
digest, the board, the seed, the run indices or inputs). A task's function builds its own
machine from that data inside the worker that runs it (`worker_state` keeps one booted
system per image and worker, as a cache), so nothing that holds host pointers (Unicorn
engines and saved contexts) ever crosses a process boundary.

Two executors take the same tasks and return the same results:

- `LocalExecutor`: `concurrent.futures.ProcessPoolExecutor` with `workers` processes
  (default: the host's cores); the default when Ray is not installed.
- `RayExecutor`: Ray tasks. `ray.init()` starts a local instance unless an address is given
  (`--cluster ADDRESS`, or `RAY_ADDRESS` in the environment), in which case it joins that
  cluster. A task whose worker process dies is retried (`max_retries`); a task that raises
  is not (its exception is the campaign's error, as locally).

Invariants: `map` yields `(index, result)` pairs as tasks finish, in any order, and every
index exactly once; callers sort by index, so results never depend on which worker ran
what or when. Executors are context managers: leaving one shuts its pool down (a Ray
instance this process started is stopped; a cluster is only disconnected from).
"""

from __future__ import annotations

import concurrent.futures
import importlib.util
import os
from typing import Any, Callable, Iterator, Sequence

ENGINES = ("local", "ray")


class ExecutorError(RuntimeError):
    """An engine that cannot be used (Ray missing, a cluster that cannot be reached); one line."""


def ray_installed() -> bool:
    return importlib.util.find_spec("ray") is not None


def default_engine(cluster: str | None = None) -> str:
    """Ray when a cluster is named (or RAY_ADDRESS set) or Ray is installed; else the process pool."""
    if cluster or os.environ.get("RAY_ADDRESS"):
        return "ray"
    return "ray" if ray_installed() else "local"


class LocalExecutor:
    """A process pool on this machine."""

    engine = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def __enter__(self) -> "LocalExecutor":
        self._pool = concurrent.futures.ProcessPoolExecutor(self.workers)
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def map(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        futures = {self._pool.submit(fn, task): i for i, task in enumerate(tasks)}
        for future in concurrent.futures.as_completed(futures):
            yield futures[future], future.result()


class RayExecutor:
    """Ray tasks: a local instance, or the cluster at `address` (or RAY_ADDRESS)."""

    engine = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None, max_retries: int = 3) -> None:
        if not ray_installed():
            raise ExecutorError("Ray is not installed: pip install 'atoll[ray]' (or use --engine local)")
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        self.workers = workers
        self.max_retries = max_retries
        self._started = False

    def __enter__(self) -> "RayExecutor":
        import ray
        if not ray.is_initialized():
            kwargs: dict = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
            if self.address:
                kwargs["address"] = self.address
            elif self.workers:
                kwargs["num_cpus"] = self.workers
            try:
                ray.init(**kwargs)
            except (ConnectionError, RuntimeError, ValueError) as e:
                where = self.address or "a local Ray instance"
                raise ExecutorError(f"cannot start or reach {where}: {str(e).splitlines()[0]}") from None
            self._started = True
        if self.workers is None:
            self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        return self

    def __exit__(self, *exc) -> None:
        if self._started:
            import ray
            ray.shutdown()
            self._started = False

    def map(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        import ray
        remote = ray.remote(max_retries=self.max_retries, retry_exceptions=False, num_cpus=1)(fn)
        pending = {remote.remote(task): i for i, task in enumerate(tasks)}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                yield pending.pop(ref), ray.get(ref)


def make_executor(engine: str | None = None, workers: int | None = None, cluster: str | None = None):
    """The executor for `engine` ("local", "ray"; None: `default_engine`)."""
    engine = engine or default_engine(cluster)
    if engine == "local":
        if cluster:
            raise ExecutorError("--cluster needs the ray engine")
        return LocalExecutor(workers)
    if engine == "ray":
        return RayExecutor(workers, cluster)
    raise ExecutorError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")
