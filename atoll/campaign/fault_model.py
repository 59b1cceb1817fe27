"""The fault-injection campaign's vocabulary: fault kinds and their weights, the demo's pins and
interrupt outputs, how a run is classified (`Outcome`), one run's record (`RunResult`), the
summary rows and the tables printed from them.

`faults.Campaign` does the runs (its module text says what one run is); this module holds
only data and the pure functions over it, so a result can be summarised, printed and
written as JSON without a machine. `RunResult` is plain data (picklable): it is what a
campaign's worker processes send back.
"""

from __future__ import annotations

import signal
import statistics
import threading
from dataclasses import dataclass, field

from machine import FaultKind

BOARDS = ("mps2-an385", "hifive1")
TARGETS = ("uart", "gpio")

#: fault kinds and how often each is drawn (MINIX's experiments mostly mutated code)
KIND_WEIGHTS = {
    "code-flip": 4,
    "data-flip": 2,
    "stack-flip": 2,
    "register-flip": 3,
    "fault": 1,
    "kill": 1,
    "stuck-irq": 1,
}
KINDS = tuple(KIND_WEIGHTS)

#: the faults `Device.fault` is given for the "fault" kind (what the machine itself reports)
INJECTED_FAULTS = (FaultKind.UNDEFINED_INSTRUCTION, FaultKind.UNMAPPED, FaultKind.PERMISSION,
                   FaultKind.BUS_ERROR, FaultKind.MISALIGNED, FaultKind.ILLEGAL_STATE, FaultKind.CPU_ERROR)

#: interrupt outputs of each driver's peripheral (the gpio block's are not routed in the demo)
IRQ_OUTPUTS = {
    ("mps2-an385", "uart"): ("uart0", ("rx", "tx", "overflow")),
    ("hifive1", "uart"): ("uart0", ("irq",)),
    ("mps2-an385", "gpio"): ("gpio0", ("combined", *(f"pin{i}" for i in range(16)))),
    ("hifive1", "gpio"): ("gpio0", tuple(f"pin{i}" for i in range(32))),
}

#: registers a thread's own code uses (flags and Thumb bit only, of xPSR)
REGISTERS = {
    "armv7m": (*(f"r{i}" for i in range(13)), "sp", "lr", "pc", "xpsr"),
    "rv32imac": ("ra", "sp", "gp", "tp", "t0", "t1", "t2", "fp", "s1", *(f"a{i}" for i in range(8)),
                 *(f"s{i}" for i in range(2, 12)), "t3", "t4", "t5", "t6", "pc"),
}
XPSR_BITS = (24, 27, 28, 29, 30, 31)   # T (Thumb), Q, V, C, Z, N

#: blinky's LED and the shell's LED, per board (firmware/apps/*/main.c)
BLINKY_PIN = {"mps2-an385": 0, "hifive1": 19}
SHELL_PIN = {"mps2-an385": 1, "hifive1": 21}
BLINKY_HALF_PERIOD = 0.5

PROMPT = "atoll> "


class Outcome:
    KERNEL_CRASH = "kernel crash"
    NO_EFFECT = "no effect"
    DISTURBED = "disturbed, recovered"
    RECOVERED = "crashed, recovered"
    NOT_RECOVERED = "crashed, not recovered"
    ALIVE = "alive, serving wrongly"
    SILENT = "silent failure"
    ALL = (KERNEL_CRASH, NO_EFFECT, DISTURBED, RECOVERED, NOT_RECOVERED, ALIVE, SILENT)


@dataclass(frozen=True)
class Settings:
    """The virtual-time lengths of one run (seconds)."""

    lead: float = 0.005               # the snapshot is taken this long before blinky's toggle
    max_delay: float = 0.004          # injection: 0..max_delay after the workload starts
    stuck_min: float = 0.0001         # a stuck interrupt is held this long ...
    stuck_max: float = 0.002          # ... up to this long
    probe_timeout: float = 0.020      # a probe unanswered this long is sent again
    retry_min: float = 0.001          # after a failed answer, again this soon (doubling up to probe_timeout)
    recovery_bound: float = 0.030     # no answered probe by then: not recovered
    bystander_slack: float = 0.015    # blinky's toggle may be this late during a uart fault
    heartbeat_bound: float = 0.015    # the supervisor pings every 10 ms with a 5 ms timeout: a driver
                                      # that receives answered one this recently; one that does not
                                      # is found (fault HUNG) within this of stopping
    wall_limit: float = 30.0          # host seconds a run may take before it counts as a kernel hang


@dataclass
class RunResult:
    board: str
    target: str
    index: int
    kind: str
    injection: str                   # what exactly was injected, where
    injected_at: float               # virtual seconds since boot
    outcome: str
    crashed: bool                    # the kernel saw a fault of the target
    hung: bool                       # that fault was a missed heartbeat (HUNG)
    alive: bool                      # it answered a heartbeat within `heartbeat_bound` of the run's end
    restarted: bool                  # the supervisor restarted it (restart count went up)
    recovered: bool                  # a probe was answered within the bound
    recovery_ms: float | None        # the crash (else the injection) to the answer, virtual ms
    latency_ms: float | None         # the injection to the crash, virtual ms
    probes: int
    bystanders_ok: bool              # the check below passed, and no other component faulted
    bystander_check: bool            # uart target: blinky toggled in time; gpio target: echo answered
    bystander_faults: tuple          # other components that faulted (the supervisor restarts them)
    bystanders_down: tuple           # other components stopped at the end of the run
    bystander_detail: str
    detail: str                      # the target's state and last fault; an exception's text


@dataclass
class Row:
    """Summary of a group of runs (a board, target and kind; or all kinds)."""

    board: str
    target: str
    kind: str
    runs: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: {o: 0 for o in Outcome.ALL})
    crashed: int = 0
    hung: int = 0
    restarted: int = 0
    recovered: int = 0
    bystander_failures: int = 0
    recovery_ms: list[float] = field(default_factory=list)   # of crashed-and-recovered runs

    @property
    def kernel_crashes(self) -> int:
        return self.outcomes[Outcome.KERNEL_CRASH]

    @property
    def silent(self) -> int:
        return self.outcomes[Outcome.SILENT]

    @property
    def alive(self) -> int:
        return self.outcomes[Outcome.ALIVE]

    @property
    def median_ms(self) -> float | None:
        return statistics.median(self.recovery_ms) if self.recovery_ms else None

    @property
    def max_ms(self) -> float | None:
        return max(self.recovery_ms) if self.recovery_ms else None

    def add(self, r: RunResult) -> None:
        self.runs += 1
        self.outcomes[r.outcome] += 1
        self.crashed += r.crashed
        self.hung += r.hung
        self.restarted += r.restarted
        self.recovered += r.recovered
        self.bystander_failures += not r.bystanders_ok
        if r.outcome == Outcome.RECOVERED and r.recovery_ms is not None:
            self.recovery_ms.append(r.recovery_ms)

    def as_dict(self) -> dict:
        return {"board": self.board, "target": self.target, "kind": self.kind, "runs": self.runs,
                "outcomes": dict(self.outcomes), "crashed": self.crashed, "hung": self.hung,
                "restarted": self.restarted,
                "recovered": self.recovered, "bystander_failures": self.bystander_failures,
                "recovery_ms_median": self.median_ms, "recovery_ms_max": self.max_ms}


@dataclass
class CampaignResult:
    results: list[RunResult]
    summary: list[Row]
    wall_seconds: float

    def rows(self, kind: str | None = "all") -> list[Row]:
        return [r for r in self.summary if kind is None or r.kind == kind]


class KernelHang(Exception):
    """A run took more than `Settings.wall_limit` seconds of host time."""


class WallGuard:
    """Raises `KernelHang` in the main thread if a run takes too long on the host's clock
    (a loop in the kernel would never give virtual time back). Off outside the main thread."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.active = seconds > 0 and threading.current_thread() is threading.main_thread() \
            and hasattr(signal, "setitimer")

    def _expired(self, signum, frame) -> None:
        raise KernelHang(f"a run did not finish within {self.seconds:g} s of host time")

    def __enter__(self) -> "WallGuard":
        if self.active:
            self._previous = signal.signal(signal.SIGALRM, self._expired)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc) -> None:
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous)



def summarize(results: list[RunResult]) -> list[Row]:
    """Rows per (board, target, kind), and per (board, target) over all kinds ("all")."""
    rows: dict[tuple[str, str, str], Row] = {}
    for r in results:
        for kind in (r.kind, "all"):
            key = (r.board, r.target, kind)
            if key not in rows:
                rows[key] = Row(r.board, r.target, kind)
            rows[key].add(r)
    order = {k: i for i, k in enumerate((*KINDS, "all"))}
    return sorted(rows.values(), key=lambda row: (BOARDS.index(row.board) if row.board in BOARDS else 99,
                                                   row.target, order.get(row.kind, 98)))



def _ms(value: float | None) -> str:
    return f"{value:8.2f}" if value is not None else f"{'-':>8}"


def format_table(rows: list[Row]) -> str:
    head = (f"{'board':11} {'target':6} {'fault kind':13} {'runs':>5} {'kernel':>6} {'no':>6} {'crashed':>7} "
            f"{'of it':>5} {'restart':>7} {'recov':>6} {'recov':>6} {'alive':>6} {'silent':>6} {'bystdr':>6} "
            f"{'median':>8} {'max':>8}\n"
            f"{'':11} {'':6} {'':13} {'':>5} {'crash':>6} {'effect':>6} {'':>7} "
            f"{'hung':>5} {'ed':>7} {'ered':>6} {'%':>6} {'wrong':>6} {'fail':>6} {'fail':>6} "
            f"{'rec ms':>8} {'rec ms':>8}")
    lines = [head]
    for row in rows:
        pct = 100.0 * row.recovered / row.runs if row.runs else 0.0
        lines.append(f"{row.board:11} {row.target:6} {row.kind:13} {row.runs:5d} {row.kernel_crashes:6d} "
                     f"{row.outcomes[Outcome.NO_EFFECT]:6d} {row.crashed:7d} {row.hung:5d} {row.restarted:7d} "
                     f"{row.recovered:6d} {pct:6.1f} {row.alive:6d} {row.silent:6d} {row.bystander_failures:6d} "
                     f"{_ms(row.median_ms)} {_ms(row.max_ms)}")
    return "\n".join(lines)


def format_outcomes(rows: list[Row]) -> str:
    lines = [f"{'board':11} {'target':6} " + " ".join(f"{o:>22}" for o in Outcome.ALL)]
    for row in rows:
        lines.append(f"{row.board:11} {row.target:6} " + " ".join(f"{row.outcomes[o]:22d}" for o in Outcome.ALL))
    return "\n".join(lines)


