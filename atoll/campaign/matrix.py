"""The bench matrix: every image (each names its board) booted with every seed, as one campaign.

One run (`run_one`) boots the image in the worker, runs `duration` of virtual time while
typing seeded input at the first UART (a few short lines of printable bytes at seeded virtual
times, so each seed drives the system differently and the same seed the same way), and
records what the kernel saw: each component's faults and restarts, the IPC count, a digest of
the first UART's output, and the host time. A run in which any component faulted, or in
which an exception escaped the kernel, is a finding (replayed by running the same image and
seed again). Images are shipped to workers as bytes (`ImageRef`), one task per image and seed.
"""

from __future__ import annotations

import hashlib
import random
import time
import traceback
from dataclasses import dataclass, field

from ..testbench import Device
from .images import ImageRef, materialise

DURATION = 1.0          #: virtual seconds a run lasts
LINES = 3               #: seeded input lines typed per run


@dataclass(frozen=True)
class MatrixTask:
    image: ImageRef
    seed: int


@dataclass
class MatrixRun:
    image: str
    digest: str
    board: str
    seed: int
    faults: dict = field(default_factory=dict)       # component -> faults (only those with any)
    restarts: int = 0
    ipc: int = 0
    output_digest: str = ""
    error: str = ""                                  # an exception that escaped the kernel
    host_seconds: float = 0.0

    @property
    def finding(self) -> bool:
        return bool(self.faults or self.error)


def _typed(seed: int, digest: str) -> list[tuple[float, str]]:
    rng = random.Random(f"atoll-matrix:{seed}:{digest}")
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 -_."
    times = sorted(rng.uniform(0.05, DURATION * 0.9) for _ in range(LINES))
    return [(t, "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 24))) + "\r") for t in times]


def run_one(task: MatrixTask) -> MatrixRun:
    image = task.image
    run = MatrixRun(image.name, image.digest, image.board, task.seed)
    start = time.perf_counter()
    try:
        dut = Device(materialise(image))
        for at, line in _typed(task.seed, image.digest):
            dut.run_for(max(0.0, at - dut.now))
            if dut.uarts:
                dut.uart.write(line)
        dut.run_for(max(0.0, DURATION - dut.now))
        run.faults = {c.name: c.faults for c in dut.components() if c.faults}
        run.restarts = dut.restart_count()
        run.ipc = dut.ipc_count
        run.output_digest = hashlib.sha256(bytes(dut.uart.backend.output)).hexdigest()[:16] if dut.uarts else ""
    except Exception as e:     # anything escaping the kernel is this run's finding
        frame = traceback.extract_tb(e.__traceback__)[-1]
        if frame.filename == __file__:
            raise              # a mistake of this module's, not the kernel's
        run.error = f"{type(e).__name__}: {e} (at {frame.filename.rsplit('/', 1)[-1]}:{frame.lineno})"
    run.host_seconds = time.perf_counter() - start
    return run


def matrix(images: list[ImageRef], seeds: range, executor, progress=None) -> list[MatrixRun]:
    """Every image with every seed, over `executor`; the runs in (image, seed) order."""
    tasks = [MatrixTask(image, seed) for image in images for seed in seeds]
    got: dict[int, MatrixRun] = {}
    for n, run in executor.map(run_one, tasks):
        got[n] = run
        if progress is not None:
            progress(len(got), sum(r.finding for r in got.values()))
    return [got[n] for n in range(len(tasks))]
