"""The coverage-guided IPC fuzzer's campaign: batches of inputs over an executor, a corpus, triage.

Runs go in batches of `batch` inputs. Each input of a batch is drawn from its run index and
the seed alone (`draw`: a fresh well-formed message sequence now and then, else a mutation
of a corpus entry, sometimes spliced with another), against the corpus as it stood when the
batch began; the batch is cut into tasks of `chunk` inputs, which the executor runs anywhere
(`run_task`: each worker boots the image once from its bytes and keeps the booted
`FuzzTarget`). Results are taken in run order: an input that reached an edge of the
server's code no earlier input reached joins the corpus; a crash or hang whose signature
is new is a finding (triage: one finding per signature, the first input that showed it).
So the same image, seed, runs and batch size give the same corpus and findings whatever
the engine, the number of workers or the order in which tasks finish.

After the last batch each finding is minimised on this host (`minimise`): messages dropped,
registers zeroed or halved, leases shortened, for as long as the same signature comes
back, within `MINIMISE_TRIES` runs.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Callable

from .fuzz_inputs import Input, Lease, Message, Shape, mutate
from .fuzz_target import FuzzTarget, RunOutcome
from .images import ImageRef, materialise

BATCH = 64            #: inputs per batch (the corpus grows between batches)
CHUNK = 8             #: inputs per task
MINIMISE_TRIES = 300  #: runs a finding's minimisation may take

_targets: dict[str, FuzzTarget] = {}     # one booted target per image, per worker process


def target_for(image: ImageRef) -> FuzzTarget:
    target = _targets.get(image.digest)
    if target is None:
        target = _targets[image.digest] = FuzzTarget(materialise(image))
    return target


@dataclass(frozen=True)
class FuzzTask:
    image: ImageRef
    first: int                       # the run index of inputs[0]
    inputs: tuple[Input, ...]


def run_task(task: FuzzTask) -> tuple[str, list[RunOutcome]]:
    """A worker's part: the snapshot id and each input's outcome."""
    target = target_for(task.image)
    return target.snapshot_id, [target.run(messages) for messages in task.inputs]


@dataclass
class Finding:
    run: int
    kind: str
    signature: str
    detail: str
    input: Input
    minimised: Input | None = None


@dataclass
class FuzzResult:
    server: str
    interface: str
    snapshot_id: str
    runs: int = 0
    edges: set = field(default_factory=set)
    corpus: list = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    outcomes: dict = field(default_factory=lambda: {"ok": 0, "held": 0, "crash": 0, "hang": 0})
    timeline: list = field(default_factory=list)     # (runs, edges, findings, wall seconds)
    wall_seconds: float = 0.0


def draw(shape: Shape, corpus: list[Input], seed: int, index: int) -> Input:
    """Input number `index` of the campaign with `seed`, against `corpus`."""
    rng = random.Random(f"atoll-fuzz:{seed}:{index}")
    if not corpus or rng.random() < 0.1:
        return tuple(shape.generate(rng) for _ in range(rng.choice((1, 1, 2, 3))))
    base = corpus[rng.randrange(len(corpus))]
    other = corpus[rng.randrange(len(corpus))] if rng.random() < 0.2 else None
    return mutate(shape, rng, base, other)


def _take(result: FuzzResult, index: int, messages: Input, outcome: RunOutcome) -> None:
    result.runs += 1
    result.outcomes[outcome.kind] += 1
    if not outcome.edges <= result.edges:
        result.edges |= outcome.edges
        if outcome.kind in ("ok", "held"):
            result.corpus.append(messages)
    if outcome.kind in ("crash", "hang") and all(f.signature != outcome.signature for f in result.findings):
        result.findings.append(Finding(index, outcome.kind, outcome.signature, outcome.detail, messages))


def fuzz(image: ImageRef, runs: int, seed: int, executor, batch: int = BATCH, chunk: int = CHUNK,
         progress: Callable[[FuzzResult], None] | None = None) -> FuzzResult:
    """`runs` inputs against the image's server (see the module's text)."""
    local = target_for(image)               # the shape, the seeds' outcomes, and minimisation, here
    result = FuzzResult(local.server, local.shape.name, local.snapshot_id)
    start = time.perf_counter()
    for i, messages in enumerate(local.shape.seeds()):
        result.corpus.append(messages)
        result.edges |= local.run(messages).edges
    done = 0
    while done < runs:
        inputs = [draw(local.shape, result.corpus, seed, i) for i in range(done, min(runs, done + batch))]
        tasks = [FuzzTask(image, done + k, tuple(inputs[k:k + chunk])) for k in range(0, len(inputs), chunk)]
        outcomes: dict[int, list[RunOutcome]] = {}
        for n, (snapshot_id, got) in executor.map(run_task, tasks):
            if snapshot_id != result.snapshot_id:
                raise RuntimeError(f"a worker booted another snapshot ({snapshot_id}, not {result.snapshot_id})")
            outcomes[n] = got
        for n, task in enumerate(tasks):
            for k, (messages, outcome) in enumerate(zip(task.inputs, outcomes[n])):
                _take(result, task.first + k, messages, outcome)
        done += len(inputs)
        result.wall_seconds = time.perf_counter() - start
        result.timeline.append((result.runs, len(result.edges), len(result.findings), result.wall_seconds))
        if progress is not None:
            progress(result)
    for finding in result.findings:
        finding.minimised = minimise(local, finding.input, finding.signature)
    return result


def _candidates(messages: Input):
    """Simpler inputs than `messages`, the simplest changes first."""
    for i in range(len(messages) - 1, -1, -1):
        if len(messages) > 1:
            yield messages[:i] + messages[i + 1:]
    for i, m in enumerate(messages):
        for r, v in enumerate(m.mrs):
            for smaller in (0, v >> 1, v - 1) if v else ():
                mrs = tuple(smaller if j == r else x for j, x in enumerate(m.mrs))
                yield messages[:i] + (Message(m.label, mrs, m.leases),) + messages[i + 1:]
        for n, lease in enumerate(m.leases):
            for simpler in (Lease(lease.rights, lease.length), Lease(lease.rights, lease.length >> 1, lease.data),
                            Lease(lease.rights, lease.length - 1, lease.data[:lease.length - 1])):
                if simpler != lease and simpler.length >= 0:
                    leases = m.leases[:n] + (simpler,) + m.leases[n + 1:]
                    yield messages[:i] + (Message(m.label, m.mrs, leases),) + messages[i + 1:]


def minimise(target: FuzzTarget, messages: Input, signature: str, tries: int = MINIMISE_TRIES) -> Input:
    """The simplest input found that still gives `signature`, greedily, within `tries` runs."""
    best, changed = messages, True
    while changed and tries > 0:
        changed = False
        for candidate in _candidates(best):
            if tries <= 0:
                break
            tries -= 1
            if target.run(candidate).signature == signature:
                best, changed = candidate, True
                break
    return best
