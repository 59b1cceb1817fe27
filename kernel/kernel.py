"""The kernel: processes on a machine, and the public face of the modules that run them.

`Kernel` wires one machine to the kernel's modules, each named after one noun (boot,
trap, scheduler, ipc, interrupts, timers, faults, heartbeats, debuglog, fastpath; the
table in docs/ARCHITECTURE.md says what each does), all working on one `KernelState`
(kernel/state.py). Tools build, run, look up, fault and restart through it.

Snapshots: `snapshot()` copies the fields of `KernelState`, and nothing else, together
with the machine's state (machine/snapshot.py); `restore()` puts a fresh copy of them
back into this same Kernel's state object. The kernel, its modules, the address spaces
and the components' images are shared, not copied: clock callbacks are bound methods of
the modules or partials of them, never closures, so the copy's events call the copy's
threads.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

from machine import Fault, FaultKind, Machine, Stop, StopReason

from .abi import FaultCode, Right
from .boot import Boot, RestartPolicy
from .caps import Capability, CapKind
from .debuglog import DebugOutput
from .faults import Faults
from .fastpath import FastPath
from .heartbeats import Heartbeats
from .interrupts import Interrupts
from .ipc import Ipc
from .loader import FrameAllocator
from .process import Endpoint, Process, State
from .scheduler import Dispatcher
from .state import KernelState
from .timers import Timers
from .trap import Traps

DEFAULT_SLICE_US = 1000

class KernelSnapshot:
    """A snapshot of a machine and the kernel on it (see `Kernel.snapshot`)."""

    def __init__(self, machine) -> None:
        self.machine = machine

    @property
    def shared(self) -> tuple:
        """The objects the copy shares with the live system: the kernel, its modules, spaces, images."""
        return self.machine.shared

    @property
    def cycle(self) -> int:
        return self.machine.cycle


class _StateField:
    """A field of `KernelState` read and set as an attribute of the kernel (`kernel.stats`)."""

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, kernel, owner=None):
        if kernel is None:
            return self
        return getattr(kernel.state, self.name)

    def __set__(self, kernel, value) -> None:
        setattr(kernel.state, self.name, value)


class Kernel:
    processes = _StateField()
    endpoints = _StateField()
    current = _StateField()
    stats = _StateField()
    #: the policy monitor (kernel.monitor), when the system has a policy
    monitor = _StateField()
    #: the last IPC events (IPC, notifications, interrupts, faults); `ipc_log.dropped` counts the rest
    ipc_log = _StateField()
    #: DEBUG_PUTC lines: (cycle, component, text), the newest DEBUG_LOG_LINES of them
    debug_log = _StateField()
    frames = _StateField()
    scheduler = _StateField()

    def __init__(self, machine: Machine, slice_us: int = DEFAULT_SLICE_US, fastpath: bool = True) -> None:
        self.machine = machine
        self.clock = machine.clock
        self.cpu = machine.cpu
        self.isa = machine.isa
        self.state = KernelState(FrameAllocator(machine.board))
        #: called with (component, line) for each DEBUG_PUTC line
        self.on_debug_line: Callable[[str, str], None] | None = None
        #: observers for traces and debuggers (None costs one check on the hot path):
        #: on_switch(cycle, from_component or None, to_component or None)
        self.on_switch: Callable[[int, str | None, str | None], None] | None = None
        #: on_syscall(cycle, component, number)
        self.on_syscall: Callable[[int, str, int], None] | None = None
        #: on_audit(record): each audit record of the policy monitor (kernel.monitor)
        self.on_audit: Callable[[dict], None] | None = None
        #: set while a debugger is attached: a component's CPU fault or breakpoint ends the run
        #: (the component still running, its registers in the CPU) for the debugger to report,
        #: instead of stopping the component; the debugger hands a fault back with `fault`
        self.debugger_takes_stops = False
        #: on_fault(process, fault, code): a fault the kernel decided (an unknown syscall, a missed
        #: heartbeat, an interrupt storm, a fault handed back by the debugger), after the component
        #: stopped; while `debugger_takes_stops`, the run also ends for the debugger to report it
        self.on_fault: Callable[[Process, Fault, FaultCode], None] | None = None
        # the modules, in the order they need each other at construction
        self.traps = Traps(self)
        self.dispatcher = Dispatcher(self, max(1, self.clock.cycles(slice_us / 1e6)))
        self.ipc = Ipc(self)
        self.timers = Timers(self)
        self.interrupts = Interrupts(self)
        self.heartbeats = Heartbeats(self)
        self.faults = Faults(self)
        self.debug = DebugOutput(self)
        machine.trap_handler = self.traps.trap
        machine.interrupt_handler = self.interrupts.deliver
        #: the IPC fast path in C (kernel/fastpath.py), or None: every syscall in Python
        self.fast = self.traps.fast = FastPath(self) if fastpath else None
        self.builder = Boot(self)

    # -- snapshots --------------------------------------------------------------------

    def _shared_objects(self) -> list:
        """What a snapshot shares instead of copying: the kernel and its modules (the events
        they scheduled are bound to them), the address spaces (fixed once built; the machine
        checks they did not change) and the components' images (immutable)."""
        modules = [self.traps, self.dispatcher, self.ipc, self.timers, self.interrupts, self.heartbeats,
                   self.faults, self.debug, self.builder]
        return [self, *modules, *(p.space for p in self.state.processes),
                *(c.image for c in self.state.components.values())]

    def snapshot(self) -> KernelSnapshot:
        """The whole system's state now (machine and kernel), to `restore` later.

        Take it between runs. Every field of `KernelState` is copied: every process, thread
        and saved context, capability, endpoint queue, timer, sleep, time slice, counter and log.
        """
        if self.state.in_hook:
            raise RuntimeError("a snapshot cannot be taken from inside a syscall")
        if self.fast is not None:
            self.fast.sync()   # a no-op between runs, where the fast path is never armed
        return KernelSnapshot(self.machine.snapshot(self.state, self._shared_objects()))

    def restore(self, snap: KernelSnapshot) -> None:
        """Put the system back exactly as it was at `snap` (it can be restored again)."""
        if self.state.in_hook:
            raise RuntimeError("a snapshot cannot be restored from inside a syscall")
        if snap.shared[0] is not self:
            raise ValueError("a snapshot can only be restored into the kernel it was taken from")
        copy = self.machine.restore(snap.machine)
        for f in dataclasses.fields(KernelState):
            setattr(self.state, f.name, getattr(copy, f.name))

    # -- building the system (boot.py) ---------------------------------------------------

    def create_process(self, name: str, elf, priority: int = 4, stack: int = 4096,
                       uses: dict[str, int] | None = None, start: bool = True,
                       restart: RestartPolicy | None = None) -> Process:
        """Load one component; it runs once `start()` is called (if `start`)."""
        return self.builder.create_process(name, elf, priority, stack, uses, start, restart)

    def create_endpoint(self, name: str, server: Process) -> Endpoint:
        return self.builder.create_endpoint(name, server)

    def grant(self, process: Process, slot: int, kind: CapKind, obj, rights: Right, badge: int = 0) -> Capability:
        return self.builder.grant(process, slot, kind, obj, rights, badge)

    def route_interrupt(self, process: Process, peripheral: str, output: str, bit: int) -> int:
        """Deliver `peripheral.output` to `process` as notification `bit`; returns the line."""
        return self.interrupts.route(process, peripheral, output, bit)

    def supervise(self, process: Process, supervisor: Process, endpoint: Endpoint) -> None:
        """Report `process`'s faults to `supervisor` as FAULT messages on `endpoint`."""
        self.builder.supervise(process, supervisor, endpoint)

    def start(self) -> None:
        self.builder.start()

    def boot(self, system) -> None:
        """Build everything a SystemSpec (read and checked by sysdesc) describes, then start it."""
        self.builder.system(system)

    # -- looking up -------------------------------------------------------------------

    def process(self, name: str) -> Process:
        for p in self.state.processes:
            if p.name == name:
                return p
        raise KeyError(f"no component named {name!r}")

    def process_by_index(self, index: int) -> Process | None:
        processes = self.state.processes
        return processes[index - 1] if 1 <= index <= len(processes) else None

    def all_exited(self) -> bool:
        """Whether every component has exited (a stopped one may still be restarted)."""
        processes = self.state.processes
        return bool(processes) and all(p.thread.state is State.EXITED for p in processes)

    def now_us(self) -> int:
        return self.timers.now_us()

    # -- running ----------------------------------------------------------------------

    def run_for(self, seconds: float) -> Stop:
        return self.run(self.clock.cycles(seconds))

    def run(self, cycles: int) -> Stop:
        """Run the system for `cycles` of virtual time; faults are handled, not returned."""
        end = self.clock.now + cycles
        while True:
            stop = self.machine.run(max(0, end - self.clock.now))
            if not self._component_stopped(stop):
                return stop

    def run_until(self, condition: Callable[[], bool], timeout: float) -> Stop:
        end = self.clock.now + self.clock.cycles(timeout)
        while True:
            stop = self.machine.run_until(condition, (end - self.clock.now) / self.clock.frequency_hz)
            if not self._component_stopped(stop):
                return stop

    def _component_stopped(self, stop: Stop) -> bool:
        """Whether `stop` was the running component's fault (now handled) rather than the run's end.
        A breakpoint with no debugger to take it is a fault of the component; with one
        (`debugger_takes_stops`), faults and breakpoints end the run instead."""
        current = self.state.current
        if current is None or self.debugger_takes_stops:
            return False
        if stop.reason is StopReason.FAULT:
            self.faults.fault(current, stop.fault)
            return True
        if stop.reason is StopReason.TRAP and stop.trap is not None:
            self.faults.fault(current, Fault(FaultKind.BREAKPOINT, stop.trap.pc, current.name))
            return True
        return False

    # -- faults and restarts (faults.py) -----------------------------------------------------

    def fault(self, process: Process, fault: Fault) -> None:
        """Fault `process` as if it had faulted itself (its supervisor hears of it)."""
        self.faults.fault(process.thread, fault)

    def stop(self, process: Process) -> None:
        """Stop `process` and tell nobody (as if it died silently): no FAULT message goes out,
        but if it serves an endpoint its supervisor's next heartbeat finds it (HUNG)."""
        self.faults.stop(process)

    def restart(self, process: Process, run: bool = True) -> None:
        """Reload the component's image, re-grant its capabilities, run it as a new generation
        (or leave it stopped, reloaded, when not `run`)."""
        self.faults.restart(process, run)

    def audit(self, record: dict) -> None:
        """The policy monitor's sink: each audit record goes to `on_audit`, if set."""
        if self.on_audit is not None:
            self.on_audit(record)
