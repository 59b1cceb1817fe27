"""Running a debugged system and reaching its threads: what `atoll debug` and the GDB stub share.

A `Control` holds one machine, its kernel (None on bare metal) and the machine's
debug hooks (`MachineDebug`). It reads and writes a thread's registers -- from the
CPU when that thread is the one running (or on bare metal), from its saved context
otherwise -- resumes past breakpoints, runs the system one slice at a time, steps
one instruction, lets what fell due happen without running (`advance`) and waits for a
component to become ready.

Invariants: nothing here asks which ISA it is (the `Cpu` knows: a pc read here is a
code address, a pc written is a code pointer); waiting for a component is bounded
by `READY_LIMIT_SECONDS` of virtual time, never by wall time; a run or step hands
back what ended it as an object (`RunResult`, `StepResult`), never as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from machine import DebugHit, HitKind, Machine, MachineDebug, Stop

#: the most virtual time a tool lets pass waiting for some component to be ready to run
#: (a step when every component waits); after it, the tool says so instead of stepping
READY_LIMIT_SECONDS = 10.0


def read_register(machine: Machine, kernel, thread, name: str) -> int:
    """Register `name` of `thread` (None: the CPU's, as on bare metal)."""
    rid = machine.cpu.register_id(name)
    if thread is None or kernel is None or kernel.current is thread:
        value = machine.uc.reg_read(rid)
    else:
        value = thread.context.reg_read(rid)
    return value & 0xFFFFFFFF


def write_register(machine: Machine, kernel, thread, name: str, value: int) -> None:
    """Set register `name` of `thread` (None: the CPU's); a pc is written as a code pointer."""
    if name == "pc":
        value = machine.cpu.code_pointer(value)
    rid = machine.cpu.register_id(name)
    if thread is None or kernel is None or kernel.current is thread:
        machine.uc.reg_write(rid, value & 0xFFFFFFFF)
    else:
        thread.context.reg_write(rid, value & 0xFFFFFFFF)


def thread_pc(machine: Machine, kernel, thread) -> int:
    """The address of the next instruction `thread` runs."""
    return machine.cpu.code_address(read_register(machine, kernel, thread, "pc"))


@dataclass(frozen=True)
class RunResult:
    """How one run slice ended: the machine's `Stop` and the debug hit that ended it, if any."""

    stop: Stop
    hit: DebugHit | None


@dataclass(frozen=True)
class StepResult:
    """What one instruction step did: which thread stepped, in which space, how the step ended.

    `thread` is the kernel's thread (None on bare metal); `pc` is where it stands
    afterwards; `faulted` is True when the kernel handled a fault of it during the step.
    """

    thread: object | None
    space: object
    pc: int
    stop: Stop
    hit: DebugHit | None
    faulted: bool

    @property
    def watchpoint(self) -> DebugHit | None:
        """The watchpoint the instruction triggered, if it did."""
        return self.hit if self.hit is not None and self.hit.kind is HitKind.WATCHPOINT else None


class Control:
    """One machine (and kernel) under a debugging tool."""

    def __init__(self, machine: Machine, kernel=None) -> None:
        self.machine = machine
        self.kernel = kernel
        self.cpu = machine.cpu
        self.debug = MachineDebug(machine)

    # -- registers ---------------------------------------------------------------

    def read(self, thread, name: str) -> int:
        return read_register(self.machine, self.kernel, thread, name)

    def write(self, thread, name: str, value: int) -> None:
        write_register(self.machine, self.kernel, thread, name, value)

    def pc(self, thread) -> int:
        return thread_pc(self.machine, self.kernel, thread)

    # -- running -----------------------------------------------------------------

    def resume_past_breakpoints(self, threads: Iterable[tuple[object, object]]) -> None:
        """Each (space, thread) that sits on a breakpoint runs past it once."""
        for space, thread in threads:
            self.debug.skip_once(space, self.pc(thread))

    def skip_instruction(self, thread, space) -> int:
        """Move `thread` (in `space`) past the instruction it stands on without running it
        (a guest breakpoint instruction, after the debugger reported it); the new pc."""
        pc = self.pc(thread)
        first = int.from_bytes(self.machine.read_virtual(space, pc, 2), "little")
        self.write(thread, "pc", pc + self.cpu.instruction_length(first))
        return self.pc(thread)

    def run(self, cycles: int) -> RunResult:
        """Run the system (the kernel, or the bare machine) for at most `cycles`."""
        runner = self.kernel if self.kernel is not None else self.machine
        stop = runner.run(cycles)
        return RunResult(stop, self.debug.take_hit())

    def wait_until_ready(self) -> bool:
        """When no component runs, let virtual time pass (at most `READY_LIMIT_SECONDS`) until one
        does; whether one does. Hits during the wait are dropped. Always True on bare metal."""
        kernel = self.kernel
        if kernel is None:
            return True
        if kernel.current is None:
            kernel.run_until(lambda: kernel.current is not None, READY_LIMIT_SECONDS)
            self.debug.take_hit()
        return kernel.current is not None

    def advance(self) -> None:
        """Let what fell due by now happen without running an instruction: clock events fire
        (a UART drains, a timer expires) and a pending interrupt is taken, as after an
        instruction of a free run. Hits meanwhile are dropped."""
        runner = self.kernel if self.kernel is not None else self.machine
        runner.run(0)
        self.debug.take_hit()

    def step(self, thread, space) -> StepResult:
        """One instruction of the running `thread` (in `space`), past a breakpoint where it stands;
        no due clock event or interrupt is taken first."""
        self.debug.skip_once(space, self.pc(thread))
        faults = self.kernel.stats.faults if self.kernel is not None else 0
        stop = self.machine.step(1, events=False)
        hit = self.debug.take_hit()
        faulted = self.kernel is not None and self.kernel.stats.faults != faults
        return StepResult(thread, space, self.pc(thread), stop, hit, faulted)
