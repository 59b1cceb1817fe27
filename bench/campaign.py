"""Fault-injection campaign against the demo's uart and gpio drivers, in the manner of
MINIX 3's driver fault-injection experiments.

Run as ``python bench/campaign.py`` from the repository root (``make bench`` runs it
after bench/tools.py). For each board the demo image (firmware/images/demo-<board>.toml)
is booted once, run to just before blinky's first toggle after boot and snapshotted there;
every run restores that snapshot (a few milliseconds of host time against tens for a
boot), so all runs start from the same state and a run depends only on the seed and its
index.

One run, all in virtual time:

1. restore the snapshot, type an empty line at the shell (traffic through the uart driver)
   and run a random 0-4 ms, so the injection lands anywhere in it (receiving, answering,
   idle); the gpio driver waits for requests whatever happens, so its runs skip the line;
2. inject one fault of a kind drawn with `KIND_WEIGHTS`, at a random place (`inject`):
   one flipped bit in the driver's code (its read-execute segment), its data (.data and
   .bss), its live stack (from its stack pointer to the top) or one of its saved
   registers (of the CPU if it is the running thread); a fault through the kernel's fault
   path (`Device.fault` with a random fault kind: an external kill the supervisor hears
   of); a kill nobody is told of (`Device.kill`: only the supervisor's heartbeat can find
   it); or an interrupt line of the driver's
   peripheral stuck high for a random 0.1-2 ms, then released;
3. probe the service through the shell: the uart driver with ``echo pN`` (answered when
   the line ``pN`` comes back), the gpio driver with ``led on``/``led off`` (answered when
   the shell says so and the LED pin has that level). A probe goes out at the injection,
   again whenever the supervisor restarts the driver, soon again after a wrong answer (a
   client's first call after a restart gets DEAD_PEER), and again after `probe_timeout`,
   until one is answered or `recovery_bound` has passed since the injection or the
   driver's latest fault (a hang is found by the heartbeat, up to `heartbeat_bound` after
   it began, and then gets its own `recovery_bound`). The run goes on until blinky's
   toggle, due 1-5 ms after the injection (through the gpio driver); a crash that comes
   after the answer (a dormant fault woken up) is probed again;
4. check the bystanders: no other component faulted or was left stopped, and the other
   side works: for a uart fault blinky's toggle comes within `bystander_slack` of its
   time; for a gpio fault the shell answers an empty line, typed at the injection before
   the first probe, with its prompt within `probe_timeout`. For the gpio driver, recovery
   also needs blinky's LED to toggle again after the crash (at its next half period).

A run is classified (`Outcome`): ``kernel crash`` (an exception escaped the kernel or a
run did not finish within `wall_limit` seconds of host time; must never happen), ``no
effect`` (no fault, the first probe answered), ``disturbed, recovered`` (no fault, but
the first probe went unanswered or wrong; a later one was answered), ``crashed,
recovered`` (the driver faulted, the supervisor restarted it and a probe was answered),
``crashed, not recovered``, ``alive, serving wrongly`` (no fault the kernel saw and no
probe answered, but the driver answers its supervisor's heartbeats, so it receives
requests: its state is corrupted in a way only the client's end-to-end check can see)
and ``silent failure`` (no fault the kernel saw, no probe answered, and no heartbeat
answered either: a dead or hung driver nobody noticed; the heartbeat makes this 0, and
the CI tests fail on any). A crash whose fault is a missed heartbeat (HUNG: a killed,
hung or spinning driver) counts as a crash (`hung`). Recovery time is from the crash
(the kernel's fault record; else the injection) to the last byte of the answered probe,
in virtual ms: the supervisor's 10 ms backoff, the restart, and the probe's few
milliseconds on the 115200-baud line; `latency_ms` is from the injection to the fault
record (for a hang, how long the heartbeat took to find it).

`run_campaign` returns every run's `RunResult` and the summary rows; `format_table`
prints them; the JSON goes to build/bench/campaign.json.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import statistics
import sys
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if sys.path[0] != str(REPO):   # before bench/ itself, whose kernel.py would shadow the package
    sys.path.insert(0, str(REPO))

from atoll.testbench import BenchTimeout, Device  # noqa: E402
from firmware import components  # noqa: E402
from kernel.abi import FaultCode  # noqa: E402
from machine import FaultKind, read_elf  # noqa: E402

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


class _WallGuard:
    """Raises `KernelHang` in the main thread if a run takes too long on the host's clock
    (a loop in the kernel would never give virtual time back). Off outside the main thread."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.active = seconds > 0 and threading.current_thread() is threading.main_thread() \
            and hasattr(signal, "setitimer")

    def _expired(self, signum, frame) -> None:
        raise KernelHang(f"a run did not finish within {self.seconds:g} s of host time")

    def __enter__(self) -> "_WallGuard":
        if self.active:
            self._previous = signal.signal(signal.SIGALRM, self._expired)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc) -> None:
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous)


@dataclass(frozen=True)
class _Region:
    name: str
    start: int
    end: int


class Campaign:
    """One board's demo, booted once and snapshotted just before blinky's toggle; `run`
    does one seeded injection from there."""

    def __init__(self, board: str, settings: Settings = Settings(), image: Path | None = None) -> None:
        self.board = board
        self.settings = settings
        self.image = image or REPO / "firmware" / "images" / f"demo-{board}.toml"
        self._boot()
        self.regions = {t: self._regions(t) for t in TARGETS}

    def _boot(self) -> None:
        """Boot, run to `lead` before blinky's toggle, snapshot. Also after a kernel crash,
        whose exception may have left the device unusable (boots are deterministic: the
        same state comes back)."""
        board, settings = self.board, self.settings
        dut = self.dut = Device(self.image)
        dut.expect(PROMPT)
        isa = dut.machine.board.cpu.isa
        self.isa = isa
        blinky = dut.gpio.edges(BLINKY_PIN[board])
        if not blinky:
            raise RuntimeError(f"{board}: blinky has not toggled its LED by the prompt")
        self.toggle_at = blinky[0].time + BLINKY_HALF_PERIOD   # blinky's next toggle is due
        dut.run_for(self.toggle_at - settings.lead - dut.now)
        self.snap = dut.snapshot()
        self.start = dut.now
        self.bystanders = [c.name for c in dut.components() if c.state not in ("exited", "stopped")]
        self.broken = False

    def _regions(self, target: str) -> dict[str, _Region]:
        """The target's code (read-execute segment) and data (.data + .bss), from its ELF."""
        spec = self.dut.system.component(target)
        image = read_elf(spec.elf, self.isa)
        code = [s for s in image.segments if "x" in s.flags]
        data = [s for s in image.segments if "w" in s.flags]
        if len(code) != 1 or len(data) != 1:
            raise RuntimeError(f"{target}: expected one code and one data segment, got {image.segments}")
        return {"code": _Region("code", code[0].vaddr, code[0].vend),
                "data": _Region("data", data[0].vaddr, data[0].vend)}

    # -- injection ---------------------------------------------------------------------

    def _live(self, target: str) -> bool:
        return self.dut.kernel.current is self.dut.process(target).thread

    def _reg_read(self, target: str, name: str) -> int:
        rid = self.dut.machine.cpu.REGISTERS[name]
        if self._live(target):
            return self.dut.machine.uc.reg_read(rid) & 0xFFFF_FFFF
        return self.dut.process(target).thread.context.reg_read(rid) & 0xFFFF_FFFF

    def _reg_write(self, target: str, name: str, value: int) -> None:
        rid = self.dut.machine.cpu.REGISTERS[name]
        if name == "pc" and self.isa == "armv7m":
            value |= 1                      # the Thumb bit of a Cortex-M pc is not state
        if self._live(target):
            self.dut.machine.uc.reg_write(rid, value & 0xFFFF_FFFF)
        else:
            self.dut.process(target).thread.context.reg_write(rid, value & 0xFFFF_FFFF)

    def _flip_memory(self, target: str, region: _Region, rng: random.Random) -> str:
        address = rng.randrange(region.start, region.end)
        bit = rng.randrange(8)
        word_at = address & ~3
        shift = (address - word_at) * 8 + bit
        old = self.dut.read_word(target, word_at)
        self.dut.corrupt(target, word_at, old ^ (1 << shift))
        return f"{region.name} byte {address:#x} bit {bit}"

    def inject(self, target: str, kind: str, rng: random.Random) -> str:
        """Inject one fault of `kind` into `target` now; returns what was done."""
        dut = self.dut
        state = dut.component(target).state
        if kind in ("code-flip", "data-flip"):
            return self._flip_memory(target, self.regions[target][kind[:4]], rng)
        if kind == "stack-flip":
            top = next(m for m in dut.process(target).space.mappings if m.name == "stack")
            sp = self._reg_read(target, "sp")
            end = top.vbase + top.size
            low = sp if top.vbase <= sp < end else top.vbase
            return self._flip_memory(target, _Region("stack", low, end), rng)
        if kind == "register-flip":
            name = rng.choice(REGISTERS[self.isa])
            if name == "xpsr":
                bit = rng.choice(XPSR_BITS)
            elif name == "pc":
                bit = rng.randrange(1, 32)
            else:
                bit = rng.randrange(32)
            old = self._reg_read(target, name)
            self._reg_write(target, name, old ^ (1 << bit))
            where = "running" if self._live(target) else f"saved, {state}"
            return f"register {name} bit {bit} ({where})"
        if kind == "fault":
            fault = rng.choice(INJECTED_FAULTS)
            dut.fault(target, fault)
            return f"fault {fault.value} ({state})"
        if kind == "kill":
            dut.kill(target)
            return f"kill ({state})"
        if kind == "stuck-irq":
            peripheral, outputs = IRQ_OUTPUTS[self.board, target]
            output = rng.choice(outputs)
            hold = rng.uniform(self.settings.stuck_min, self.settings.stuck_max)
            dut.raise_interrupt(peripheral, output, stuck=True)
            try:
                dut.run_for(hold)
            finally:
                dut.release_interrupt(peripheral, output)
            return f"{peripheral}.{output} stuck for {hold * 1e3:.2f} ms"
        raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(KINDS)}")

    # -- observation -------------------------------------------------------------------

    def _cycles(self, seconds: float) -> int:
        return self.dut.machine.clock.cycles(seconds)

    def _until(self, condition, until: int) -> bool:
        """Run until `condition()` holds or virtual time reaches cycle `until`; whether it held."""
        if condition():
            return True
        left = until - self.dut.cycles
        if left <= 0:
            return False
        try:
            self.dut.run_until(condition, left / self.dut.machine.clock.frequency_hz)
        except BenchTimeout:
            return False
        return True

    def _probe_text(self, target: str, k: int) -> tuple[str, str, bool | None]:
        """Probe k of `target`: the line to type, the answer that proves the service, and
        the level the shell's LED must then have (None: not checked)."""
        if target == "uart":
            return f"echo p{k}", f"\r\np{k}\r\n", None
        on = k % 2 == 1                      # the LED is off at first: probe 1 switches it on
        word = "on" if on else "off"
        return f"led {word}", f"\r\nled {word}\r\n", on

    def _probe(self, target: str, k: int, deadline: int) -> tuple[str, int | None]:
        """Send probe k, wait for its answer until a restart, a wrong answer, `probe_timeout`
        or cycle `deadline`; returns ("answered", the cycle of its last byte) or why it ended."""
        dut = self.dut
        output = dut.uart.backend.output
        line, answer, level = self._probe_text(target, k)
        wanted, echoed = answer.encode(), (line + "\r\n").encode()
        start = len(output)
        restarts = dut.restart_count(target)
        # after the first, a carriage return first ends whatever half line a crash left in the shell
        dut.uart.write(("\r" if k > 1 else "") + line + "\r")
        pin = SHELL_PIN[self.board]
        seen: list[str] = []

        def settled() -> bool:
            text = output[start:]
            if wanted in text and (level is None or dut.gpio.level(pin) == level):
                seen.append("answered")
            elif dut.restart_count(target) != restarts:
                seen.append("restarted")
            elif echoed in text and PROMPT.encode() in text[text.find(echoed):]:
                seen.append("wrong answer")
            return bool(seen)

        until = min(dut.cycles + self._cycles(self.settings.probe_timeout), deadline)
        self._until(settled, until)
        if seen and seen[0] == "answered":
            end = start + bytes(output[start:]).find(wanted) + len(wanted)
            return "answered", dut.uart.backend.timestamps[end - 1]
        return (seen[0] if seen else "unanswered"), None

    def run(self, target: str, index: int, seed: int = 0, kinds: tuple[str, ...] = KINDS) -> RunResult:
        """One run: restore, workload, inject, probe, check, classify (see the module's text)."""
        if target not in TARGETS:
            raise ValueError(f"unknown target {target!r}; known: {', '.join(TARGETS)}")
        rng = random.Random(f"atoll-campaign:{seed}:{self.board}:{target}:{index}")
        kind = rng.choices(kinds, [KIND_WEIGHTS[k] for k in kinds])[0]
        result = RunResult(self.board, target, index, kind, "", 0.0, Outcome.KERNEL_CRASH, False, False, False,
                           False, False, None, None, 0, False, False, (), (), "", "")
        if self.broken:
            self._boot()
        try:
            with _WallGuard(self.settings.wall_limit):
                self._run(result, rng)
        except Exception as e:   # anything escaping the kernel is a kernel crash
            frame = traceback.extract_tb(e.__traceback__)[-1]
            if not isinstance(e, KernelHang) and Path(frame.filename).resolve() == Path(__file__).resolve():
                raise                # a mistake of this module's, not the kernel's
            result.outcome = Outcome.KERNEL_CRASH
            result.detail = f"{type(e).__name__}: {e} (at {Path(frame.filename).name}:{frame.lineno})"
            self.broken = True
        finally:
            self._release_all(target)
        return result

    def _release_all(self, target: str) -> None:
        peripheral, outputs = IRQ_OUTPUTS[self.board, target]
        for output in outputs:
            self.dut.release_interrupt(peripheral, output)

    def _probe_until_answered(self, target: str, deadline: int, k: int, since: int) -> tuple[int | None, int]:
        """Probes until one is answered or cycle `deadline`, moved later by any fault of the target
        after `since` to `recovery_bound` after it: (the answer's cycle or None, probes sent)."""
        dut, s = self.dut, self.settings
        retry = s.retry_min
        while True:
            last = self._last_fault(target, since)
            if last is not None:
                deadline = max(deadline, last + self._cycles(s.recovery_bound))
            if dut.cycles >= deadline:
                break
            k += 1
            why, at = self._probe(target, k, deadline)
            if why == "answered":
                return at, k
            if why == "wrong answer":   # the shell answered, the driver did not (DEAD_PEER): again
                restarts = dut.restart_count(target)   # soon, sooner if the driver is restarted
                if self._until(lambda: dut.restart_count(target) != restarts,
                               min(dut.cycles + self._cycles(retry), deadline)):
                    retry = s.retry_min
                else:
                    retry = min(2 * retry, s.probe_timeout)
            elif why == "restarted":
                retry = s.retry_min
        return None, k

    def _last_fault(self, target: str, since: int) -> int | None:
        """The cycle of the target's latest fault at or after `since`, from the kernel's IPC log."""
        cycles = [e.cycle for e in self.dut.kernel.ipc_log
                  if e.kind == "fault" and e.source == target and e.cycle >= since]
        return max(cycles) if cycles else None

    def _hung(self, target: str, since: int) -> bool:
        """Whether a fault of the target at or after `since` was a missed heartbeat."""
        return any(e.kind == "fault" and e.source == target and e.cycle >= since and e.label == FaultCode.HUNG
                   for e in self.dut.kernel.ipc_log)

    def _first_fault(self, target: str, since: int) -> int | None:
        """The cycle of the target's first fault at or after `since`, from the kernel's IPC log."""
        cycles = [e.cycle for e in self.dut.kernel.ipc_log
                  if e.kind == "fault" and e.source == target and e.cycle >= since]
        return min(cycles) if cycles else None

    def _run(self, r: RunResult, rng: random.Random) -> None:
        dut, s, target = self.dut, self.settings, r.target
        hz = dut.machine.clock.frequency_hz
        dut.restore(self.snap)
        if target == "uart":     # traffic through the driver (the gpio driver only ever waits)
            dut.uart.write("\r")
        dut.run_for(rng.uniform(0.0, s.max_delay))
        injected = dut.cycles
        r.injected_at = dut.now
        others_faults = {n: dut.fault_count(n) for n in self.bystanders if n != target}
        was = dut.component(target)
        r.injection = self.inject(target, r.kind, rng)
        output = dut.uart.backend.output
        blinky = BLINKY_PIN[self.board]

        # Probe until answered; then let blinky's toggle come (for the gpio driver, exercising it
        # further). A crash after the answer (a fault that lay dormant until then) is probed again.
        bystander = []
        first_probe = len(output)
        if target == "gpio":     # the uart side, which needs no gpio: an empty line, typed first
            dut.uart.write("\r")
        answered_at, k = None, 0
        deadline = injected + self._cycles(s.recovery_bound)
        exercised = self._cycles(self.toggle_at + (s.bystander_slack if target == "uart" else 0.002))
        for _ in range(3):
            faults = dut.fault_count(target)
            answered_at, k = self._probe_until_answered(target, deadline, k, injected)
            self._until(lambda: bool(dut.gpio.edges(blinky, since=self.start)), exercised)
            if answered_at is None or dut.fault_count(target) == faults:
                break
            deadline = (self._first_fault(target, answered_at) or dut.cycles) + self._cycles(s.recovery_bound)
        r.probes = k
        crash = self._first_fault(target, injected)
        if crash is not None and answered_at is not None and crash > answered_at:
            crash = self._first_fault(target, answered_at)   # the one after which it was probed

        if target == "uart":     # blinky's toggle, through the gpio driver, due after the injection
            toggles = dut.gpio.edges(blinky, since=self.start)
            if not toggles or toggles[0].cycle > exercised:
                bystander.append(f"blinky did not toggle within {s.bystander_slack * 1e3:g} ms "
                                 f"of {self.toggle_at:.4f} s")
        else:                    # the shell answered the empty line with a prompt, in time
            prompt = output.find(PROMPT.encode(), first_probe)
            answer = dut.uart.backend.timestamps[prompt + len(PROMPT) - 1] if prompt >= 0 else None
            if answer is None or answer > injected + self._cycles(s.probe_timeout):
                bystander.append(f"no prompt for an empty line within {s.probe_timeout * 1e3:g} ms")

        recovered = answered_at is not None
        if recovered and target == "gpio":   # and blinky's LED toggles after the crash (or injection)
            since = (crash if crash is not None else injected) / hz
            after = answered_at / hz
            due = self.toggle_at + BLINKY_HALF_PERIOD * (1 + int((after - self.toggle_at) // BLINKY_HALF_PERIOD))
            if not dut.gpio.edges(blinky, since=since):   # idle until then: no condition to check
                dut.run_for(max(0.0, due + s.bystander_slack - dut.now))
            if not dut.gpio.edges(blinky, since=since):
                recovered = False
                answered_at = None
        r.bystander_check = not bystander
        for name, before in others_faults.items():
            c = dut.component(name)
            if c.faults != before:
                r.bystander_faults += (name,)
            if c.state in ("stopped", "exited"):
                r.bystanders_down += (name,)
            if c.faults != before or c.state in ("stopped", "exited"):
                bystander.append(f"{name} {c.state}, {c.faults - before} faults, {c.restarts} restarts")
        me = dut.component(target)
        last = dut.process(target).last_fault
        r.crashed = me.faults > was.faults
        r.hung = r.crashed and self._hung(target, injected)
        heard = dut.process(target).answered_at
        r.alive = heard is not None and heard >= dut.cycles - self._cycles(s.heartbeat_bound)
        r.restarted = me.restarts > was.restarts
        r.recovered = recovered
        r.latency_ms = (crash - injected) / hz * 1e3 if crash is not None else None
        if answered_at is not None:
            r.recovery_ms = (answered_at - (crash if r.crashed and crash is not None else injected)) / hz * 1e3
        r.bystanders_ok = not bystander
        r.bystander_detail = "; ".join(bystander)
        r.detail = f"{target} {me.state}, gen {me.generation}" + (
            f", last fault {last.kind.value} at pc {last.pc:#x}" if last is not None else "")
        if r.crashed:
            r.outcome = Outcome.RECOVERED if recovered and r.restarted else Outcome.NOT_RECOVERED
        elif recovered:
            r.outcome = Outcome.NO_EFFECT if k == 1 else Outcome.DISTURBED
        elif r.alive:
            r.outcome = Outcome.ALIVE
        else:
            r.outcome = Outcome.SILENT


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


def run_campaign(board: str, runs: int, seed: int = 0, targets: tuple[str, ...] = TARGETS,
                 kinds: tuple[str, ...] = KINDS, settings: Settings = Settings(),
                 campaign: Campaign | None = None) -> CampaignResult:
    """`runs` seeded injections into each target on `board`; every run result and the summary.

    The same seed (and settings) gives the same results: everything runs in virtual time
    from one snapshot. Pass `campaign` to reuse a booted one."""
    start = time.perf_counter()
    campaign = campaign or Campaign(board, settings)
    results = [campaign.run(target, i, seed, kinds) for target in targets for i in range(runs)]
    return CampaignResult(results, summarize(results), time.perf_counter() - start)


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fault-injection campaign against the demo's uart and gpio drivers.")
    parser.add_argument("--board", action="append", choices=BOARDS, help="only this board (repeatable)")
    parser.add_argument("--target", action="append", choices=TARGETS, help="only this driver (repeatable)")
    parser.add_argument("--runs", type=int, default=250, help="runs per board and driver (default 250)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=REPO / "build" / "bench" / "campaign.json")
    parser.add_argument("--failures", type=int, default=5,
                        help="runs not recovered (or with a bystander failure) to list per board (default 5)")
    args = parser.parse_args(argv)
    components.build_all(REPO / "build" / "components")   # the demo image's ELF files
    settings = Settings()
    targets = tuple(args.target or TARGETS)
    print(f"\nAtoll fault-injection campaign: seed {args.seed}, {args.runs} runs per board and driver, "
          f"kinds weighted {', '.join(f'{k} {w}' for k, w in KIND_WEIGHTS.items())}")
    print(f"run: workload, injection 0-{settings.max_delay * 1e3:g} ms in, probes every "
          f"{settings.probe_timeout * 1e3:g} ms (and at each restart) for {settings.recovery_bound * 1e3:g} ms; "
          f"recovery times of crashed-and-recovered runs, virtual ms")
    everything: list[RunResult] = []
    out: dict = {"seed": args.seed, "runs": args.runs, "settings": asdict(settings), "boards": {}}
    for board in args.board or BOARDS:
        result = run_campaign(board, args.runs, args.seed, targets, settings=settings)
        everything += result.results
        print(f"\n== {board}: {len(result.results)} runs in {result.wall_seconds:.1f} s wall "
              f"({result.wall_seconds / len(result.results) * 1e3:.1f} ms a run)")
        print(format_table(result.summary))
        print(format_outcomes(result.rows("all")))
        odd = [r for r in result.results if r.outcome not in (Outcome.NO_EFFECT, Outcome.RECOVERED, Outcome.DISTURBED)
               or not r.bystanders_ok]
        for r in odd[:args.failures]:
            print(f"  run {r.index} {r.target} {r.kind}: {r.injection} at {r.injected_at:.6f} s -> {r.outcome}; "
                  f"{r.detail}{'; bystanders: ' + r.bystander_detail if r.bystander_detail else ''}")
        if len(odd) > args.failures:
            print(f"  ... and {len(odd) - args.failures} more (see the JSON)")
        out["boards"][board] = {"wall_seconds": result.wall_seconds,
                                "summary": [row.as_dict() for row in result.summary],
                                "results": [asdict(r) for r in result.results]}
    crashes = sum(r.outcome == Outcome.KERNEL_CRASH for r in everything)
    silent = sum(r.outcome == Outcome.SILENT for r in everything)
    print(f"\nkernel crashes: {crashes} of {len(everything)} runs; silent failures: {silent}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(f"results: {args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out}")
    return 1 if crashes or silent else 0


if __name__ == "__main__":
    sys.exit(main())
