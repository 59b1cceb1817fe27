"""The fault-injection campaign on the executor seam: runs cut into tasks, results in run order.

A `FaultTask` is plain data: the image (its packed bytes and digest), the driver to inject
into, the seed and a range of run indices. `run_task` executes it in whichever worker gets
it: the worker boots the image once (`faults.Campaign`, kept per image and worker) and
does each run from the campaign's snapshot, so a run's result depends only on the image,
the seed, the target and the index, never on the worker. `fault_campaign` hands the tasks
to an executor and puts the results back in order.

A run whose outcome is `FINDINGS` (a kernel crash, a silent failure, a driver that crashed
and did not recover, or one alive but serving wrongly) is a finding, replayable alone.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Callable

from .fault_model import TARGETS, CampaignResult, Outcome, RunResult, Settings, summarize
from .faults import Campaign
from .images import ImageRef, materialise

CHUNK = 10           #: runs per task
FINDINGS = (Outcome.KERNEL_CRASH, Outcome.SILENT, Outcome.NOT_RECOVERED, Outcome.ALIVE)

_campaigns: dict[str, tuple[Campaign, str]] = {}   # one booted demo and its snapshot id per image and worker


def campaign_for(image: ImageRef, settings: Settings = Settings()) -> tuple[Campaign, str]:
    """The booted campaign of `image` in this process, and its snapshot's id."""
    if image.digest not in _campaigns:
        campaign = Campaign(image.board, settings, materialise(image))
        _campaigns[image.digest] = campaign, snapshot_id(image, campaign)
    return _campaigns[image.digest]


def snapshot_id(image: ImageRef, campaign: Campaign) -> str:
    """The campaign's snapshot: the image, its board, the virtual time it was taken at and the
    components' states then (the same on every worker that boots the same image). Call it right
    after booting, before any run."""
    h = hashlib.sha256(image.digest.encode())
    h.update(f"{image.board}:{campaign.snap.time!r}".encode())
    for c in campaign.dut.components():
        h.update(f"{c.name}:{c.state}:{c.generation}:{c.faults}".encode())
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class FaultTask:
    image: ImageRef
    target: str
    seed: int
    first: int
    count: int


def run_task(task: FaultTask) -> tuple[str, list[RunResult]]:
    """A worker's part: the snapshot id and the results of runs first .. first + count - 1."""
    campaign, sid = campaign_for(task.image)
    return sid, [campaign.run(task.target, i, task.seed) for i in range(task.first, task.first + task.count)]


def fault_campaign(image: ImageRef, runs: int, seed: int, executor, targets: tuple[str, ...] = TARGETS,
                   progress: Callable[[int, int], None] | None = None) -> tuple[CampaignResult, str]:
    """`runs` injections into each target, spread over `executor`: the result and the snapshot id."""
    start = time.perf_counter()
    tasks = [FaultTask(image, target, seed, first, min(CHUNK, runs - first))
             for target in targets for first in range(0, runs, CHUNK)]
    got: dict[int, list[RunResult]] = {}
    ids = set()
    findings = 0
    for n, (sid, results) in executor.map(run_task, tasks):
        got[n] = results
        ids.add(sid)
        findings += sum(r.outcome in FINDINGS for r in results)
        if progress is not None:
            progress(sum(len(r) for r in got.values()), findings)
    if len(ids) > 1:
        raise RuntimeError(f"workers booted different snapshots: {', '.join(sorted(ids))}")
    results = [r for n in range(len(tasks)) for r in got[n]]
    return CampaignResult(results, summarize(results), time.perf_counter() - start), ids.pop()
