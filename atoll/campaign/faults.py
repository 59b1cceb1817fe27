"""Fault-injection campaign against the demo's uart and gpio drivers, in the manner of
MINIX 3's driver fault-injection experiments.

`atoll campaign fault IMAGE` runs it on the executor seam (executor.py); ``python
bench/campaign.py`` (``make bench``) runs it in one process. For each board the demo image (firmware/images/demo-<board>.toml)
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

import random
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from kernel.abi import FaultCode
from machine import read_elf

from ..testbench import BenchTimeout, Device
from .fault_model import (BLINKY_HALF_PERIOD, BLINKY_PIN, INJECTED_FAULTS, IRQ_OUTPUTS, KIND_WEIGHTS, KINDS, PROMPT,
                          REGISTERS, SHELL_PIN, TARGETS, XPSR_BITS, CampaignResult, KernelHang, Outcome, RunResult,
                          Settings, WallGuard, summarize)

#: a mistake raised from these files is the campaign's own, not a kernel crash
_OWN_FILES = {Path(__file__).resolve(), Path(__file__).with_name("fault_model.py").resolve()}


@dataclass(frozen=True)
class _Region:
    name: str
    start: int
    end: int


class Campaign:
    """One board's demo, booted once and snapshotted just before blinky's toggle; `run`
    does one seeded injection from there."""

    def __init__(self, board: str, settings: Settings = Settings(), image: Path | None = None) -> None:
        if image is None:
            raise ValueError("a fault campaign needs its image (a demo system description or packed image)")
        self.board = board
        self.settings = settings
        self.image = Path(image)
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
            with WallGuard(self.settings.wall_limit):
                self._run(result, rng)
        except Exception as e:   # anything escaping the kernel is a kernel crash
            frame = traceback.extract_tb(e.__traceback__)[-1]
            if not isinstance(e, KernelHang) and Path(frame.filename).resolve() in _OWN_FILES:
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
        dut.restore(self.snap)
        if target == "uart":     # traffic through the driver (the gpio driver only ever waits)
            dut.uart.write("\r")
        dut.run_for(rng.uniform(0.0, s.max_delay))
        injected = dut.cycles
        r.injected_at = dut.now
        others_faults = {n: dut.fault_count(n) for n in self.bystanders if n != target}
        was = dut.component(target)
        r.injection = self.inject(target, r.kind, rng)
        first_probe = len(dut.uart.backend.output)
        if target == "gpio":     # the uart side, which needs no gpio: an empty line, typed first
            dut.uart.write("\r")
        exercised = self._cycles(self.toggle_at + (s.bystander_slack if target == "uart" else 0.002))
        answered_at, crash = self._probe_phase(r, injected, exercised)
        bystander = self._bystander_check(target, injected, exercised, first_probe)
        recovered = answered_at is not None
        if recovered and target == "gpio" and not self._blinks_again(crash, injected, answered_at):
            recovered, answered_at = False, None
        r.bystander_check = not bystander
        self._classify(r, was, others_faults, bystander, injected, crash, answered_at, recovered)

    def _probe_phase(self, r: RunResult, injected: int, exercised: int) -> tuple[int | None, int | None]:
        """Probe until answered; then let blinky's toggle come (for the gpio driver, exercising it
        further). A crash after the answer (a fault that lay dormant until then) is probed again.
        Returns the answer's cycle (or None) and the crash's (the fault after which it was probed)."""
        dut, s, target = self.dut, self.settings, r.target
        blinky = BLINKY_PIN[self.board]
        answered_at, k = None, 0
        deadline = injected + self._cycles(s.recovery_bound)
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
        return answered_at, crash

    def _bystander_check(self, target: str, injected: int, exercised: int, first_probe: int) -> list[str]:
        """The other side's check: for a uart fault blinky's toggle (through the gpio driver) came
        in time; for a gpio fault the shell answered the empty line with a prompt in time."""
        dut, s = self.dut, self.settings
        if target == "uart":
            toggles = dut.gpio.edges(BLINKY_PIN[self.board], since=self.start)
            if not toggles or toggles[0].cycle > exercised:
                return [f"blinky did not toggle within {s.bystander_slack * 1e3:g} ms of {self.toggle_at:.4f} s"]
            return []
        prompt = dut.uart.backend.output.find(PROMPT.encode(), first_probe)
        answer = dut.uart.backend.timestamps[prompt + len(PROMPT) - 1] if prompt >= 0 else None
        if answer is None or answer > injected + self._cycles(s.probe_timeout):
            return [f"no prompt for an empty line within {s.probe_timeout * 1e3:g} ms"]
        return []

    def _blinks_again(self, crash: int | None, injected: int, answered_at: int) -> bool:
        """Whether blinky's LED toggles after the crash (or the injection), waiting for its next half period."""
        dut, s = self.dut, self.settings
        blinky = BLINKY_PIN[self.board]
        hz = dut.machine.clock.frequency_hz
        since = (crash if crash is not None else injected) / hz
        after = answered_at / hz
        due = self.toggle_at + BLINKY_HALF_PERIOD * (1 + int((after - self.toggle_at) // BLINKY_HALF_PERIOD))
        if not dut.gpio.edges(blinky, since=since):   # idle until then: no condition to check
            dut.run_for(max(0.0, due + s.bystander_slack - dut.now))
        return bool(dut.gpio.edges(blinky, since=since))

    def _classify(self, r: RunResult, was, others_faults: dict, bystander: list[str], injected: int,
                  crash: int | None, answered_at: int | None, recovered: bool) -> None:
        dut, s, target = self.dut, self.settings, r.target
        hz = dut.machine.clock.frequency_hz
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
            r.outcome = Outcome.NO_EFFECT if r.probes == 1 else Outcome.DISTURBED
        elif r.alive:
            r.outcome = Outcome.ALIVE
        else:
            r.outcome = Outcome.SILENT


def run_campaign(board: str, runs: int, seed: int = 0, targets: tuple[str, ...] = TARGETS,
                 kinds: tuple[str, ...] = KINDS, settings: Settings = Settings(),
                 campaign: Campaign | None = None, image: Path | None = None) -> CampaignResult:
    """`runs` seeded injections into each target on `board`; every run result and the summary.

    The same seed (and settings) gives the same results: everything runs in virtual time
    from one snapshot. Pass `campaign` to reuse a booted one, else `image` (the demo's)."""
    start = time.perf_counter()
    campaign = campaign or Campaign(board, settings, image)
    results = [campaign.run(target, i, seed, kinds) for target in targets for i in range(runs)]
    return CampaignResult(results, summarize(results), time.perf_counter() - start)


