"""The kernel: processes on a machine, syscalls, IPC, scheduling, interrupts, faults.

Paths through this module (DESIGN.md section 2):
- Boot: `boot(system)` loads every component's ELF into its own address space,
  creates endpoints, grants exactly the capabilities the description names,
  routes interrupts to notification bits, and makes the first thread run.
- Trap: the machine's interrupt hook calls `_trap`; the syscall number picks a
  handler from `syscalls.TABLE`; a handler returns results, blocks the caller or
  wakes others; `_schedule` then decides who runs, switching contexts inside the
  hook when it must. A Python exception never leaves a handler: `SyscallError`
  becomes a status, anything else is a kernel bug and is raised out of the run.
- Interrupt: the machine calls `_interrupts` at a slice boundary; each claimed
  line is masked and becomes a notification bit of its driver, which calls
  IRQ_ACK to unmask it. A line its driver cannot clear (asserted again at every
  ack for IRQ_STORM_ACKS acks and IRQ_STORM_MS) is masked and faults the driver.
- Bounds: what guests make the kernel remember is bounded: the debug and IPC
  logs keep their newest entries and count the rest (machine.BoundedLog, Ring);
  debug lines are escaped, so none can drive the host terminal.
- Fault: the faulting process stops, callers waiting on it get DEAD_PEER, its
  supervisor gets a FAULT message; everything else keeps running.
- Heartbeat: a supervisor's PING puts the kernel's PING message on an endpoint the
  component serves (firmware/lib answers it in every server loop); a ping still
  unanswered at its deadline, while the component could have answered (it is not
  waiting for the CPU or on a call of its own), stops it as a fault (HUNG), reported
  like any other. So a driver that hangs, spins or was stopped silently is noticed.
- Time: sleeps, timers and time slices are clock events; with no thread ready
  the machine idles and time jumps to the next event.
- Snapshots: `snapshot()` copies the kernel's whole object graph together with the
  machine's state (machine/snapshot.py); `restore()` puts a fresh copy of it back into
  this same Kernel. Clock callbacks are bound methods or partials of them, never
  closures, so that the copy's events call the copy's threads.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import pathlib
import pickle
from dataclasses import dataclass, field
from typing import Callable

from unicorn import UcError

from machine import BoundedLog, ElfError, Fault, FaultError, FaultKind, Machine, Perm, Ring, Stop, Trap

from . import syscalls
from .abi import (
    FAULT_RESTART_AT_ONCE,
    KERNEL_LABELS,
    REGISTERS,
    REPLY_SLOT,
    STACK_TOP,
    Error,
    FaultCode,
    Label,
    Right,
    Sys,
)
from .caps import Capability, CapKind, SyscallError
from .fastpath import FastPath
from .rules import RestartPolicy
from .monitor import Monitor
from .loader import FrameAllocator, LoadError, build_space, check_component, load_image
from .process import Endpoint, IpcEvent, Message, Process, Reply, State, Thread
from .scheduler import Scheduler

log = logging.getLogger("atoll.kernel")

DEFAULT_SLICE_US = 1000
#: IPC, notification, interrupt and fault events the kernel keeps (`ipc_log`)
IPC_LOG = 4096
#: DEBUG_PUTC lines the kernel keeps (`debug_log`); a line holds at most DEBUG_LINE_BYTES
DEBUG_LOG_LINES = 16_384
DEBUG_LINE_BYTES = 4096
#: a line found asserted again at each of its driver's acks, at least IRQ_STORM_ACKS acks in a
#: row over at least IRQ_STORM_MS of virtual time, is an interrupt storm (see `irq_ack`)
IRQ_STORM_ACKS = 1000
IRQ_STORM_MS = 100
#: syscalls after which the IPC fast path may be armed (see fastpath.py)
_ARMING = frozenset({Sys.CALL, Sys.RECV, Sys.REPLY_RECV})
_FAULT_CODES = {
    FaultKind.UNMAPPED: FaultCode.UNMAPPED, FaultKind.PERMISSION: FaultCode.PERMISSION,
    FaultKind.BUS_ERROR: FaultCode.BUS_ERROR, FaultKind.UNDEFINED_INSTRUCTION: FaultCode.UNDEFINED_INSTRUCTION,
    FaultKind.MISALIGNED: FaultCode.MISALIGNED, FaultKind.BREAKPOINT: FaultCode.BREAKPOINT,
    FaultKind.ILLEGAL_STATE: FaultCode.ILLEGAL_STATE, FaultKind.CPU_ERROR: FaultCode.CPU_ERROR,
}


class _RegisterBatch:
    """A fixed list of 32-bit registers, read or written in one call into Unicorn's C API, on the
    CPU or on a saved context.

    The trap path's fast lane: the binding's `reg_read_batch`/`reg_write` build ctypes objects on
    every call (several microseconds each); these arrays are built once. Unicorn is pinned
    exactly, which keeps this use of its C API safe (as machine/counter.py does).
    """

    def __init__(self, uc, ids: list[int]) -> None:
        from unicorn.unicorn_py3 import unicorn as binding
        self._lib = binding.uclib
        self._uch = uc._uch
        n = len(ids)
        self._n = n
        self._ids = (ctypes.c_int * n)(*ids)
        self._values = (ctypes.c_uint32 * n)()
        base = ctypes.addressof(self._values)
        self._pointers = (ctypes.c_void_p * n)(*(base + 4 * i for i in range(n)))
        self._pointers_arg = ctypes.cast(self._pointers, ctypes.c_void_p)

    def read(self) -> list[int]:
        """Every register of the list, from the CPU."""
        status = self._lib.uc_reg_read_batch(self._uch, self._ids, self._pointers, self._n)
        if status:
            raise UcError(status)
        return self._values[:]

    def write(self, values) -> None:
        """The first len(values) registers of the list, into the CPU (values wrap to 32 bits)."""
        n = len(values)
        self._values[:n] = values
        status = self._lib.uc_reg_write_batch(self._uch, self._ids, self._pointers, n)
        if status:
            raise UcError(status)

    def write_context(self, context, values) -> None:
        """As `write`, into a saved context (a `UcContext`)."""
        n = len(values)
        self._values[:n] = values
        status = self._lib.uc_context_reg_write_batch(context.context, self._ids, self._pointers_arg, n)
        if status:
            raise UcError(status)


@dataclass
class Stats:
    syscalls: int = 0
    ipc: int = 0
    switches: int = 0
    faults: int = 0
    restarts: int = 0
    reboots: int = 0
    interrupts: int = 0
    #: of `syscalls`, those the IPC fast path handled (kernel/fastpath.py)
    fastpath: int = 0
    #: interrupt lines masked for good because they fired without end (see `Kernel.irq_ack`)
    irq_storms: int = 0


@dataclass
class _Component:
    """What the kernel keeps to (re)create a process: its image and its grants."""

    image: object
    frames: dict[int, int]
    stack: int
    priority: int
    grants: list[tuple[int, Capability]] = field(default_factory=list)
    start: bool = True
    restart: RestartPolicy | None = None      # None: backoff when supervised, else hold
    failures: list[int] = field(default_factory=list)   # cycles of recent faults, for the limit


class KernelSnapshot:
    """A snapshot of a machine and the kernel on it (see `Kernel.snapshot`)."""

    def __init__(self, machine) -> None:
        self.machine = machine

    @property
    def shared(self) -> tuple:
        """The objects the copy shares with the live system: the kernel, spaces, images."""
        return self.machine.shared

    @property
    def cycle(self) -> int:
        return self.machine.cycle


class Kernel:
    def __init__(self, machine: Machine, slice_us: int = DEFAULT_SLICE_US, fastpath: bool = True) -> None:
        self.machine = machine
        self.clock = machine.clock
        self.cpu = machine.cpu
        self.isa = machine.isa
        self.processes: list[Process] = []
        self.endpoints: dict[str, Endpoint] = {}
        self.current: Thread | None = None
        self.scheduler = Scheduler()
        self.frames = FrameAllocator(machine.board)
        self.stats = Stats()
        #: the policy monitor (kernel.monitor), when the system has a policy
        self.monitor: Monitor | None = None
        #: the last IPC_LOG events (IPC, notifications, interrupts, faults); `ipc_log.dropped` counts the rest
        self.ipc_log: Ring = Ring(maxlen=IPC_LOG)
        #: complete lines written with DEBUG_PUTC: (cycle, component, text), the newest
        #: DEBUG_LOG_LINES of them (`debug_log.dropped` counts the older ones let go)
        self.debug_log: BoundedLog = BoundedLog(DEBUG_LOG_LINES)
        #: called with (component, line) for each DEBUG_PUTC line
        self.on_debug_line: Callable[[str, str], None] | None = None
        #: observers for traces and debuggers (None costs one check on the hot path):
        #: on_switch(cycle, from_component or None, to_component or None)
        self.on_switch: Callable[[int, str | None, str | None], None] | None = None
        #: on_syscall(cycle, component, number)
        self.on_syscall: Callable[[int, str, int], None] | None = None
        #: on_audit(record): each audit record of the policy monitor (kernel.monitor)
        self.on_audit: Callable[[dict], None] | None = None
        self._debug_partial: dict[str, bytearray] = {}
        self._irq_owner: dict[int, tuple[Process, int]] = {}
        #: line -> (acks in a row after which it was asserted again, the cycle of the first of them)
        self._irq_unclear: dict[int, tuple[int, int]] = {}
        self._components: dict[str, _Component] = {}
        self._timers: dict[Thread, object] = {}
        self._slice_cycles = max(1, self.clock.cycles(slice_us / 1e6))
        self._storm_cycles = self.clock.cycles(IRQ_STORM_MS / 1000)
        self._slice_event = None
        self._slice_deadline = 0
        self._in_hook = False
        reg = REGISTERS[self.isa]
        self._number_reg = reg["number"]
        self._arg_ids = [self.cpu._id(r) for r in reg["args"]]
        self._arg_names = reg["args"]
        #: the argument registers, then the number register: one read per syscall, one write per result
        self._syscall_regs = _RegisterBatch(machine.uc, self._arg_ids + [self.cpu._id(self._number_reg)])
        machine.trap_handler = self._trap
        machine.interrupt_handler = self._interrupts
        #: the IPC fast path in C (kernel/fastpath.py), or None: every syscall in Python
        self._fast = FastPath(self) if fastpath else None
        machine.enter_user_mode()
        self._template = machine.uc.context_save()

    # -- snapshots --------------------------------------------------------------------

    #: attributes that are wiring to the machine and the host, not state: a snapshot
    #: neither copies nor restores them (observers set by tools stay as they are)
    _HOST_ATTRIBUTES = frozenset({
        "machine", "clock", "cpu", "isa", "on_debug_line", "on_switch", "on_syscall", "on_audit",
        "_number_reg", "_arg_ids", "_arg_names", "_syscall_regs", "_slice_cycles", "_storm_cycles", "_fast"})

    def _shared_objects(self) -> list:
        """What a snapshot shares instead of copying: the kernel itself, the address
        spaces (fixed once built; the machine checks they did not change) and the
        components' images (immutable)."""
        return [self, *(p.space for p in self.processes),
                *(c.image for c in self._components.values())]

    def snapshot(self) -> "KernelSnapshot":
        """The whole system's state now (machine and kernel), to `restore` later.

        Take it between runs. Every process, thread and saved context, capability,
        endpoint queue, timer, sleep, time slice, counter and log is copied.
        """
        if self._in_hook:
            raise RuntimeError("a snapshot cannot be taken from inside a syscall")
        if self._fast is not None:
            self._fast.sync()   # a no-op between runs, where the fast path is never armed
        state = {k: v for k, v in self.__dict__.items() if k not in self._HOST_ATTRIBUTES}
        return KernelSnapshot(self.machine.snapshot(state, self._shared_objects()))

    def restore(self, snap: "KernelSnapshot") -> None:
        """Put the system back exactly as it was at `snap` (it can be restored again)."""
        if self._in_hook:
            raise RuntimeError("a snapshot cannot be restored from inside a syscall")
        if snap.shared[0] is not self:
            raise ValueError("a snapshot can only be restored into the kernel it was taken from")
        state = self.machine.restore(snap.machine)
        for key in [k for k in self.__dict__ if k not in self._HOST_ATTRIBUTES]:
            del self.__dict__[key]
        self.__dict__.update(state)

    # -- building the system ---------------------------------------------------------

    def create_process(self, name: str, elf, priority: int = 4, stack: int = 4096,
                       uses: dict[str, int] | None = None, start: bool = True,
                       restart: RestartPolicy | None = None) -> Process:
        """Load one component; it runs once `start()` is called (if `start`)."""
        image, pages = check_component(elf, self.isa)
        space, frames = build_space(self.machine, name, image, pages, stack, self.frames)
        for periph, vaddr in (uses or {}).items():
            spec = self.machine.board.peripheral(periph)
            space.map(vaddr, spec.base, spec.size, Perm.R | Perm.W, periph)
        process = Process(name, len(self.processes) + 1, space)
        thread = Thread(process, priority, self._fresh_context(image.entry))
        thread.state = State.STOPPED
        process.threads.append(thread)
        self.processes.append(process)
        self._components[name] = _Component(image, frames, stack, priority, start=start, restart=restart)
        return process

    def create_endpoint(self, name: str, server: Process) -> Endpoint:
        ep = Endpoint(name, server)
        self.endpoints[name] = ep
        return ep

    def grant(self, process: Process, slot: int, kind: CapKind, obj, rights: Right, badge: int = 0) -> Capability:
        cap = Capability(kind, obj, rights, badge, getattr(obj, "generation", 0))
        process.caps.put(slot, cap)
        self._components[process.name].grants.append((slot, cap))
        return cap

    def route_interrupt(self, process: Process, peripheral: str, output: str, bit: int) -> int:
        """Deliver `peripheral.output` to `process` as notification `bit`; returns the line."""
        spec = self.machine.board.peripheral(peripheral)
        if output not in spec.irq:
            raise LoadError(f"{peripheral}.{output} is not wired to the interrupt controller")
        line = spec.irq[output]
        self._irq_owner[line] = (process, bit)
        process.irq_bits[bit] = line
        ctrl = self.machine.interrupts
        if hasattr(ctrl, "set_priority"):
            ctrl.set_priority(line, 1)
        ctrl.set_enabled(line, True)
        return line

    def start(self) -> None:
        for p in self.processes:
            if self._components[p.name].start and p.thread.state is State.STOPPED:
                self.scheduler.make_ready(p.thread)
        self._schedule()

    def boot(self, system) -> None:
        """Build everything a SystemSpec (sysdesc) describes, then start it.

        The capabilities come from `system.capabilities_of`, the one statement of
        who holds what; nothing else is granted.
        """
        by_name: dict[str, Process] = {}
        for c in system.components:
            try:
                by_name[c.name] = self.create_process(c.name, c.elf, c.priority, c.stack, dict(c.uses), c.start,
                                                      c.restart)
            except (LoadError, ElfError) as e:
                # the file as the description names it (in a packed image: its entry), never
                # as a path of this machine (a packed image is unpacked into a private folder)
                shown = pathlib.Path(os.path.relpath(c.elf, system.path.parent)).as_posix()
                raise LoadError(f"component {c.name!r}: {str(e).replace(str(c.elf), shown)}") from None
        for ep in system.endpoints:
            self.create_endpoint(ep.name, by_name[ep.server])
        if system.policy is not None:
            self.monitor = Monitor(system.policy, {e.name: e.interface for e in system.endpoints}, self.now_us,
                                   self._audit)
        kinds = {"endpoint-recv": CapKind.ENDPOINT, "endpoint-send": CapKind.ENDPOINT,
                 "notification": CapKind.NOTIFICATION}
        for c in system.components:
            for slot, kind, obj_name, rights, badge in system.capabilities_of(c.name):
                obj = by_name[obj_name].thread if kind == "notification" else self.endpoints[obj_name]
                self.grant(by_name[c.name], slot, kinds[kind], obj, Right(rights), badge)
            for (periph, output), bit in c.interrupts.items():
                self.route_interrupt(by_name[c.name], periph, output, bit)
            if c.supervisor:
                self.supervise(by_name[c.name], by_name[c.supervisor],
                               self.endpoints[system.fault_endpoint_of(c.name).name])
        self.start()

    def supervise(self, process: Process, supervisor: Process, endpoint: Endpoint) -> None:
        """Report `process`'s faults to `supervisor` as FAULT messages on `endpoint`."""
        if endpoint.server is not supervisor:
            raise ValueError(f"endpoint {endpoint.name!r} is not served by {supervisor.name!r}")
        if supervisor is process:
            raise ValueError(f"{process.name!r} cannot supervise itself")
        process.supervisor = supervisor
        process.fault_endpoint = endpoint

    def _fresh_context(self, entry: int):
        ctx = pickle.loads(pickle.dumps(self._template))
        ctx.reg_write(self.cpu.PC, entry & ~1 | (1 if self.isa == "armv7m" else 0))
        ctx.reg_write(self.cpu.SP, STACK_TOP)
        return ctx

    # -- looking up -------------------------------------------------------------------

    def process(self, name: str) -> Process:
        for p in self.processes:
            if p.name == name:
                return p
        raise KeyError(f"no component named {name!r}")

    def process_by_index(self, index: int) -> Process | None:
        return self.processes[index - 1] if 1 <= index <= len(self.processes) else None

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
        A breakpoint with no debugger to take it is a fault of the component."""
        if self.current is None:
            return False
        if stop.reason == "fault":
            self._fault(self.current, stop.fault)
            return True
        if stop.reason == "trap" and stop.trap is not None:
            self._fault(self.current, Fault(FaultKind.BREAKPOINT, stop.trap.pc, self.current.name))
            return True
        return False

    def all_exited(self) -> bool:
        """Whether every component has exited (a stopped one may still be restarted)."""
        return bool(self.processes) and all(p.thread.state is State.EXITED for p in self.processes)

    def now_us(self) -> int:
        return self.clock.us(self.clock.now)

    def _audit(self, record: dict) -> None:
        if self.on_audit is not None:
            self.on_audit(record)

    # -- the trap path ------------------------------------------------------------------

    def _trap(self, trap: Trap) -> bool:
        t = self.current
        if t is None:
            return False
        if trap.kind == "breakpoint":
            return False  # the run ends; `run` turns it into a fault unless a debugger takes it
        self._in_hook = True
        try:
            if trap.kind == "syscall":
                self.stats.syscalls += 1
                regs = self._syscall_regs.read()
                number = regs[-1]
                if self.on_syscall is not None:
                    self.on_syscall(self.clock.now, t.name, number)
                handler = syscalls.TABLE.get(number)
                if handler is None:
                    self._fault(t, Fault(FaultKind.CPU_ERROR, trap.pc, t.name, detail=f"unknown syscall {number}"),
                                code=FaultCode.BAD_SYSCALL)
                else:
                    args = tuple(regs[:-1])
                    try:
                        handler(self, t, args)
                    except SyscallError as e:
                        self.ret(t, e.code)
            else:  # "wait": WFI in user mode is a yield
                number = None
                self.yield_current()
            self._schedule()
            if number in _ARMING and self._fast is not None:
                self._fast.arm()
        finally:
            self._in_hook = False
        return True

    def ret(self, t: Thread, status: int, *values: int) -> None:
        """Write a syscall's results into `t`'s registers (running or not)."""
        if t is self.current:
            self._syscall_regs.write((status, *values))
        else:
            self._syscall_regs.write_context(t.context, (status, *values))

    # -- scheduling -----------------------------------------------------------------------

    def _schedule(self) -> None:
        cur = self.current
        best = self.scheduler.best()
        if cur is not None and cur.state is State.RUNNING:
            if best is None or best.priority >= cur.priority:
                return
            self.scheduler.make_ready(cur)
        if best is None:
            self._switch(None)
            return
        self.scheduler.take(best)
        self._switch(best)

    def _switch(self, t: Thread | None) -> None:
        cur = self.current
        if cur is t:
            if t is None:
                self.machine.waiting = True
            else:
                t.state = State.RUNNING
            return
        uc = self.machine.uc
        if cur is not None:
            uc.context_update(cur.context)
        self.current = t
        if self.on_switch is not None:
            self.on_switch(self.clock.now, cur.name if cur else None, t.name if t else None)
        if t is None:
            self.machine.waiting = True
            if self._in_hook:
                self.machine.counter.stop_now()
            return
        self.stats.switches += 1
        t.state = State.RUNNING
        uc.context_restore(t.context)
        self.machine.activate(t.process.space)
        self.machine.waiting = False
        # A fresh slice for `t`. One clock event serves all slices: it is not moved
        # on every switch (that cost a heap operation per IPC); when it fires early
        # for the thread now running, it is set again for the real end.
        self._slice_deadline = self.clock.now + self._slice_cycles
        if self._slice_event is None:
            self._slice_event = self.clock.schedule(self._slice_deadline, self._slice_end)

    def _slice_end(self) -> None:
        self._slice_event = None
        cur = self.current
        if cur is None:
            return
        if self.clock.now < self._slice_deadline:
            self._slice_event = self.clock.schedule(self._slice_deadline, self._slice_end)
        elif cur.state is State.RUNNING and self.scheduler.has_peer(cur):
            self.scheduler.make_ready(cur)
            self._schedule()
        else:
            self._slice_deadline = self.clock.now + self._slice_cycles
            self._slice_event = self.clock.schedule(self._slice_deadline, self._slice_end)

    def yield_current(self) -> None:
        cur = self.current
        if cur is not None and cur.state is State.RUNNING and self.scheduler.has_peer(cur):
            self.scheduler.make_ready(cur)

    def _wake(self, t: Thread) -> None:
        if t is not self.current:
            self.scheduler.make_ready(t)
        else:
            t.state = State.RUNNING
        if not self._in_hook:
            self._schedule()

    # -- IPC ----------------------------------------------------------------------------------

    def endpoint_cap(self, t: Thread, slot: int) -> Capability:
        cap = t.process.caps.get(slot, CapKind.ENDPOINT, Right.SEND)
        ep: Endpoint = cap.obj
        if cap.generation != ep.generation:
            cap.generation = ep.generation
            raise SyscallError(Error.DEAD_PEER, f"{ep.name} was restarted")
        if ep.server is None or ep.server.thread.state in (State.STOPPED, State.EXITED):
            raise SyscallError(Error.DEAD_PEER, f"{ep.name} has no running server")
        return cap

    def send(self, t: Thread, cap: Capability, msg: Message) -> None:
        ep: Endpoint = cap.obj
        if msg.label >= KERNEL_LABELS:
            if self.monitor is not None:
                self.monitor.kernel_label(t.name, ep, msg.label)
            raise SyscallError(Error.BAD_ARGUMENT, f"label {msg.label:#x} is reserved for the kernel")
        if self.monitor is not None:
            deliver, verdict, allowed = self.monitor.request(t.name, ep, msg)
            if not deliver:
                raise SyscallError(Error.DENIED, f"the policy denies {t.name} label {msg.label:#x} on {ep.name}")
            msg.checked = (ep, verdict, allowed)
        self.stats.ipc += 1
        self.ipc_log.append(IpcEvent(self.clock.now, "call" if msg.is_call else "send", t.name,
                                     ep.server.name if ep.server else ep.name, msg.label))
        while ep.receivers:
            r = ep.receivers.pop(0)
            if r.state is State.RECEIVING and r.recv_endpoint is ep:
                self._deliver(r, msg, t)
                return
        t.state = State.SENDING
        t.send_endpoint = ep
        t.outgoing = msg
        ep.senders.append(t)

    def receive(self, t: Thread, ep: Endpoint | None, mask: int) -> None:
        """RECV on `ep` (messages or notification bits), or WAIT when `ep` is None. A heartbeat's
        PING comes first, whichever of its endpoints it was queued on: a server that receives is
        alive, even when an interrupt storm would hand it notification bits at every RECV."""
        if ep is not None and t.process.ping is not None and ep.server is t.process:
            for queue in (e.kernel_messages for e in self.endpoints.values() if e.server is t.process):
                ping = next((m for m in queue if m.label == Label.PING), None)
                if ping is not None:
                    queue.remove(ping)
                    self._deliver(t, ping, None)
                    return
        bits = t.notifications & mask
        if bits:
            t.notifications &= ~bits
            self._ret_notification(t, ep is None, bits)
            return
        if ep is not None:
            if ep.kernel_messages:
                self._deliver(t, ep.kernel_messages.pop(0), None)
                return
            while ep.senders:
                s = ep.senders.pop(0)
                if s.state is State.SENDING and s.send_endpoint is ep:
                    msg, s.outgoing, s.send_endpoint = s.outgoing, None, None
                    self._deliver(t, msg, s)
                    return
            ep.receivers.append(t)
        t.state = State.RECEIVING
        t.recv_endpoint = ep
        t.recv_mask = mask
        t.waiting_only = ep is None

    def _ret_notification(self, t: Thread, wait: bool, bits: int) -> None:
        if wait:  # WAIT: status, bits
            self.ret(t, Error.OK, bits)
        else:     # RECV: status, label NOTIFICATION, mr0 = bits, mr1-3, badge
            self.ret(t, Error.OK, Label.NOTIFICATION, bits, 0, 0, 0, 0)

    def _deliver(self, r: Thread, msg: Message, sender: Thread | None) -> None:
        """Hand `msg` to receiver `r`; the sender waits for a reply or goes on."""
        if msg.is_call and sender is not None:
            reply = Reply(sender, sender.process.generation, msg.leases, msg.checked)
            self._install_reply(r.process, reply)
            sender.state = State.REPLY_WAIT
            sender.pending_reply = reply
        elif msg.label == Label.PING and sender is None:   # a heartbeat: answered through slot 0
            if r.process.ping is not None:
                self._install_reply(r.process, r.process.ping[0])
        elif sender is not None:
            self.ret(sender, Error.OK)
            self._wake(sender)
        self.ret(r, Error.OK, msg.label, *msg.mrs, msg.badge)
        r.recv_endpoint = None
        self._wake(r)

    def _install_reply(self, process: Process, reply: Reply) -> None:
        old = process.caps.peek(REPLY_SLOT)
        if old is not None:
            self.drop_reply(old.obj)
        process.caps.put(REPLY_SLOT, Capability(CapKind.REPLY, reply, Right.SEND), replace=True)

    def reply(self, t: Thread, slot: int, msg: Message) -> int:
        cap = t.process.caps.get(slot, CapKind.REPLY)
        reply: Reply = cap.obj
        t.process.caps.delete(slot)
        caller = reply.caller
        if caller is None:
            return self._answered(t.process, reply)
        if reply.used or caller.pending_reply is not reply or caller.state is not State.REPLY_WAIT:
            return Error.DEAD_PEER
        reply.used = True
        caller.pending_reply = None
        if reply.checked is not None and not self.monitor.reply(t.name, caller.name, reply.checked, msg):
            self.ret(caller, Error.DENIED)   # the caller is answered, never left waiting
            self._wake(caller)
            return Error.DENIED
        self.ipc_log.append(IpcEvent(self.clock.now, "reply", t.name, caller.name, msg.label))
        self.ret(caller, Error.OK, msg.label, *msg.mrs)
        self._wake(caller)
        return Error.OK

    def drop_reply(self, reply: Reply, status: int = Error.NO_REPLY) -> None:
        """A reply that will never be sent: its caller gets `status` instead of hanging."""
        caller = reply.caller
        if caller is None:      # a heartbeat dropped unanswered: its deadline stands
            reply.used = True
            return
        if not reply.used and caller.pending_reply is reply and caller.state is State.REPLY_WAIT:
            reply.used = True
            caller.pending_reply = None
            self.ret(caller, status)
            self._wake(caller)

    def notify(self, target: Thread, bits: int) -> None:
        self.ipc_log.append(IpcEvent(self.clock.now, "notify", self.current.name if self.current else "kernel",
                                     target.name, bits))
        target.notifications |= bits
        if target.state is State.RECEIVING and target.notifications & target.recv_mask:
            got = target.notifications & target.recv_mask
            target.notifications &= ~got
            if target.recv_endpoint is not None and target in target.recv_endpoint.receivers:
                target.recv_endpoint.receivers.remove(target)
            target.recv_endpoint = None
            self._ret_notification(target, target.waiting_only, got)
            self._wake(target)

    # -- memory checks and copies for leases ------------------------------------------------------

    def check_range(self, process: Process, address: int, length: int, write: bool) -> None:
        need = Perm.R | (Perm.W if write else Perm.NONE)
        if length and (address + length > 1 << 32 or not process.space.covers(address, length, need)
                       or not self._ram_backed(process, address, length)):
            raise SyscallError(Error.BAD_ADDRESS, f"{address:#x}+{length} is not {'writable' if write else 'readable'}")

    def _ram_backed(self, process: Process, address: int, length: int) -> bool:
        end = address + length
        while address < end:
            m = process.space.lookup(address)
            region = self.machine.board.region_at(m.pbase + (address - m.vbase))
            if region is None:
                return False
            address = m.vend
        return True

    def copy_in(self, process: Process, address: int, length: int) -> bytes:
        self.check_range(process, address, length, write=False)
        try:
            return self.machine.read_virtual(process.space, address, length)
        except FaultError:
            raise SyscallError(Error.BAD_ADDRESS, f"{address:#x} is not readable") from None

    def copy_out(self, process: Process, address: int, data: bytes) -> None:
        self.check_range(process, address, len(data), write=True)
        self.machine.write_virtual(process.space, address, data)

    # -- notifications, interrupts and time -----------------------------------------------------

    def _interrupts(self) -> None:
        ctrl = self.machine.interrupts
        while True:
            line = ctrl.claim()
            if line is None:
                break
            self.stats.interrupts += 1
            ctrl.set_enabled(line, False)
            owner = self._irq_owner.get(line)
            if owner is None:
                log.warning("interrupt line %d has no driver; masked", line)
                ctrl.complete(line)
                continue
            process, bit = owner
            self.ipc_log.append(IpcEvent(self.clock.now, "irq", f"line {line}", process.name, 1 << bit))
            if process.thread.state not in (State.STOPPED, State.EXITED):
                self.notify(process.thread, 1 << bit)
        self._schedule()

    def irq_ack(self, process: Process, bits: int) -> None:
        """The driver handled the interrupts behind `bits`: complete and unmask their lines.

        A line asserted again the moment its driver acks it, at every ack for IRQ_STORM_ACKS
        acks in a row and IRQ_STORM_MS of virtual time, fires without end: its driver cannot
        clear what raises it (a level it never clears, or another device on a shared line),
        and at its priority it would starve everything below it. Such a line is masked and
        stays masked until the driver is restarted; it is counted in `stats.irq_storms` and
        is a fault of the driver (IRQ_STORM: MR2 the line), so its supervisor hears of it, or,
        unsupervised, it is stopped. Acks and virtual time are the same on every run and
        every host, and so is the verdict. (A line held high for a moment, as a device under
        a burst of input may do, is not a storm: the window is far longer than any burst.)
        """
        ctrl = self.machine.interrupts
        for bit, line in process.irq_bits.items():
            if bits >> bit & 1:
                ctrl.complete(line)
                ctrl.set_enabled(line, True)
                if line not in ctrl.pending():
                    self._irq_unclear.pop(line, None)
                    continue
                acks, since = self._irq_unclear.get(line, (0, self.clock.now))
                self._irq_unclear[line] = (acks + 1, since)
                if acks + 1 >= IRQ_STORM_ACKS and self.clock.now - since >= self._storm_cycles:
                    self._irq_storm(process, line, acks + 1)
                    return

    def _irq_storm(self, process: Process, line: int, acks: int) -> None:
        self.machine.interrupts.set_enabled(line, False)
        del self._irq_unclear[line]
        self.stats.irq_storms += 1
        log.warning("interrupt line %d was asserted again at each of %d acks by %s in %d ms: masked, a fault of %s",
                    line, acks, process.name, IRQ_STORM_MS, process.name)
        self._fault(process.thread, Fault(FaultKind.CPU_ERROR, self.cpu.pc, process.name, line,
                                          detail=f"interrupt storm on line {line}"), code=FaultCode.IRQ_STORM)

    def sleep(self, t: Thread, microseconds: int) -> None:
        t.state = State.SLEEPING
        cycles = microseconds * self.clock.frequency_hz // 1_000_000
        # a partial of a bound method, not a closure: a snapshot's copy rebinds it (machine/snapshot.py)
        t.wake_event = self.clock.after(max(cycles, 1), functools.partial(self._wake_sleeper, t))

    def _wake_sleeper(self, t: Thread) -> None:
        t.wake_event = None
        if t.state is State.SLEEPING:
            self._wake(t)

    def set_timer(self, t: Thread, deadline_us: int, bits: int) -> None:
        old = self._timers.pop(t, None)
        if old is not None:
            old.cancel()
        when = deadline_us * self.clock.frequency_hz // 1_000_000
        self._timers[t] = self.clock.schedule(when, functools.partial(self._timer_fired, t, bits))

    def _timer_fired(self, t: Thread, bits: int) -> None:
        self._timers.pop(t, None)
        if t.state not in (State.STOPPED, State.EXITED):
            self.notify(t, bits)
            self._schedule()

    def debug_putc(self, process: Process, byte: int) -> None:
        """One byte of `process`'s debug output; a newline ends a line. A line keeps its first
        DEBUG_LINE_BYTES bytes, and every character that is not printable (a carriage return,
        an escape sequence, a bidirectional override) is written as its escape (`\\r`,
        `\\x1b`, `\\u202e`), so that no component can move the host terminal's cursor or
        forge a line that seems to come from another component or the kernel."""
        buf = self._debug_partial.setdefault(process.name, bytearray())
        if byte == 0x0A:
            line = printable(buf.decode("utf-8", errors="replace"))
            buf.clear()
            self.debug_log.append((self.clock.now, process.name, line))
            if self.on_debug_line is not None:
                self.on_debug_line(process.name, line)
        elif len(buf) < DEBUG_LINE_BYTES:
            buf.append(byte)

    # -- faults, exits and restarts ------------------------------------------------------------

    def _fault(self, t: Thread, fault: Fault, code: FaultCode | None = None, address: int | None = None) -> None:
        process = t.process
        self.stats.faults += 1
        t.faults += 1
        process.last_fault = fault
        code = code or _FAULT_CODES.get(fault.kind, FaultCode.CPU_ERROR)
        log.info("%s stopped: %s", process.name, fault)
        mr2 = address if address is not None else fault.address or 0
        self._stop(process, Message(Label.FAULT, (process.index, code, mr2, fault.pc)))

    def fault(self, process: Process, fault: Fault) -> None:
        """Fault `process` as if it had faulted itself (its supervisor hears of it)."""
        self._fault(process.thread, fault)

    def stop(self, process: Process) -> None:
        """Stop `process` and tell nobody (as if it died silently): no FAULT message goes out,
        but if it serves an endpoint its supervisor's next heartbeat finds it (HUNG)."""
        if process.thread.state not in (State.STOPPED, State.EXITED):
            self._stop(process, None)

    def exit(self, process: Process, code: int) -> None:
        process.exit_code = code
        self._stop(process, Message(Label.FAULT, (process.index, FaultCode.EXITED, code, 0)), exited=True)

    def _stop(self, process: Process, report: Message | None, exited: bool = False) -> None:
        """Stop `process`; `report` (a FAULT message) goes to its supervisor, if any."""
        t = process.thread
        t.state = State.EXITED if exited else State.STOPPED
        process.stop_reported = report is not None
        self._forget(process)
        if report is not None:
            self.ipc_log.append(IpcEvent(self.clock.now, "fault", process.name,
                                         process.supervisor.name if process.supervisor else "-", report.mrs[1]))
            self._failed(process, report)
        if self.current is t:
            self._schedule()

    def _failed(self, process: Process, report: Message) -> None:
        """A fault or an exit: the component's restart policy says what follows."""
        comp = self._components[process.name]
        policy = comp.restart or RestartPolicy("backoff" if process.supervisor else "hold")
        action = policy.action
        clean_exit = report.mrs[1] == FaultCode.EXITED and report.mrs[2] == 0
        if not clean_exit and policy.limit is not None and action in ("restart", "backoff"):
            window = self.clock.cycles(policy.window_ms / 1000)
            comp.failures = [c for c in comp.failures if self.clock.now - c < window] + [self.clock.now]
            if len(comp.failures) > policy.limit:
                log.warning("%s failed %d times in %d ms: %s", process.name, len(comp.failures),
                            policy.window_ms, policy.then)
                action = policy.then
        if action == "hold" and not clean_exit:
            # said aloud when the image asked for it or a limit held it; unsupervised components stop quietly
            (log.warning if comp.restart is not None or action != policy.action else log.info)(
                "%s held (stopped) for inspection", process.name)
            return
        if action == "reboot" and not clean_exit:
            # a clock event, not now: the stopping thread may be the one running in this trap
            self.clock.after(1, self.reboot)
            return
        sup = process.supervisor
        if sup is None:
            if action == "restart" and not clean_exit:
                self.clock.after(1, functools.partial(self._restart_stopped, process))
            return
        if action == "restart":
            report = Message(report.label, (report.mrs[0], report.mrs[1] | FAULT_RESTART_AT_ONCE, *report.mrs[2:]))
        ep = process.fault_endpoint or next((e for e in self.endpoints.values() if e.server is sup), None)
        if ep is None:
            return
        receiver = next((r for r in ep.receivers if r.state is State.RECEIVING and r.recv_endpoint is ep), None)
        if receiver is not None:
            ep.receivers.remove(receiver)
            self._deliver(receiver, report, None)
        else:
            ep.kernel_messages.append(report)

    # -- heartbeats ------------------------------------------------------------------------

    def ping(self, process: Process, timeout_us: int) -> bool:
        """Its supervisor's heartbeat: the kernel's PING message to an endpoint `process` serves
        (queued if it is not receiving), to be answered within `timeout_us`, or `_ping_missed`.
        Whether a ping is out: one already waiting keeps its deadline; a component that serves
        no endpoint, or is down through the fault path (its supervisor knows), is not pinged."""
        if process.ping is not None:
            return True
        if process.stop_reported:
            return False
        ep = self._ping_endpoint(process)
        if ep is None:
            return False
        reply = Reply(None, process.generation, ())
        process.ping = (reply, self._ping_deadline(process, reply, timeout_us))
        msg = Message(Label.PING, (0, 0, 0, 0))
        receiver = next((r for r in ep.receivers if r.state is State.RECEIVING and r.recv_endpoint is ep), None)
        if receiver is not None:
            ep.receivers.remove(receiver)
            self._deliver(receiver, msg, None)
        else:
            ep.kernel_messages.append(msg)
        return True

    def _ping_endpoint(self, process: Process) -> Endpoint | None:
        """Where a heartbeat goes: the endpoint of its own it receives on now, else the first it serves."""
        t = process.thread
        if t.state is State.RECEIVING and t.recv_endpoint is not None and t.recv_endpoint.server is process:
            return t.recv_endpoint
        return next((e for e in self.endpoints.values() if e.server is process), None)

    def _ping_deadline(self, process: Process, reply: Reply, timeout_us: int):
        cycles = max(1, timeout_us * self.clock.frequency_hz // 1_000_000)
        return self.clock.after(cycles, functools.partial(self._ping_missed, process, reply, timeout_us))

    def _answered(self, process: Process, reply: Reply) -> int:
        """A server replied to a heartbeat."""
        if reply.used:
            return Error.DEAD_PEER
        reply.used = True
        process.answered_at = self.clock.now
        if process.ping is not None and process.ping[0] is reply:
            process.ping[1].cancel()
            process.ping = None
        return Error.OK

    def _ping_missed(self, process: Process, reply: Reply, timeout_us: int) -> None:
        """A heartbeat's deadline: unanswered, the component is hung, unless it is waiting for
        the CPU (a more urgent one runs) or on a call of its own (its server is watched, not
        it): then it gets another `timeout_us`."""
        if process.ping is None or process.ping[0] is not reply:
            return
        t = process.thread
        if t.state in (State.READY, State.SENDING, State.REPLY_WAIT):
            process.ping = (reply, self._ping_deadline(process, reply, timeout_us))
            return
        self._drop_ping(process)
        reply.used = True
        pc = self.machine.uc.reg_read(self.cpu.PC) if t is self.current else t.context.reg_read(self.cpu.PC)
        self._fault(t, Fault(FaultKind.HUNG, pc & 0xFFFF_FFFF, process.name,
                             detail=f"no answer to its supervisor's heartbeat within {timeout_us} us"),
                    code=FaultCode.HUNG, address=timeout_us)
        if not self._in_hook:
            self._schedule()

    def _drop_ping(self, process: Process) -> None:
        """Forget the heartbeat waiting on `process`, and any PING still queued for it."""
        if process.ping is not None:
            process.ping[1].cancel()
            process.ping = None
        for ep in self.endpoints.values():
            if ep.server is process and ep.kernel_messages:
                ep.kernel_messages[:] = [m for m in ep.kernel_messages if m.label != Label.PING]

    def _restart_stopped(self, process: Process) -> None:
        if process.thread.state in (State.STOPPED, State.EXITED):
            self.restart(process)

    def reboot(self) -> None:
        """Restart every component from its image, as at boot (the machine's peripherals keep
        their state); every endpoint starts empty."""
        self.stats.reboots += 1
        log.warning("rebooting: every component restarts")
        for p in self.processes:
            if p.thread.state not in (State.STOPPED, State.EXITED):
                p.thread.state = State.STOPPED
                self._forget(p)
        self._switch(None)   # the running thread's registers are dropped with the rest
        for ep in self.endpoints.values():
            ep.kernel_messages.clear()
            ep.senders.clear()
            ep.receivers.clear()
        for p in self.processes:
            comp = self._components[p.name]
            comp.failures.clear()
            self.restart(p, run=comp.start)

    def _forget(self, process: Process) -> None:
        """Nobody is left waiting on a stopped process; it waits on nobody."""
        t = process.thread
        self.scheduler.remove(t)
        for ep in self.endpoints.values():
            if t in ep.senders:
                ep.senders.remove(t)
            if t in ep.receivers:
                ep.receivers.remove(t)
            if ep.server is process:
                for s in list(ep.senders):
                    ep.senders.remove(s)
                    self.ret(s, Error.DEAD_PEER)
                    self._wake(s)
        for _, cap in process.caps.filled():
            if cap.kind is CapKind.REPLY:
                self.drop_reply(cap.obj, Error.DEAD_PEER)
        if t.pending_reply is not None:
            t.pending_reply.used = True
            t.pending_reply = None
        if t.wake_event is not None:
            t.wake_event.cancel()
            t.wake_event = None
        timer = self._timers.pop(t, None)
        if timer is not None:
            timer.cancel()
        self._drop_ping(process)

    def restart(self, process: Process, run: bool = True) -> None:
        """Reload the component's image, re-grant its capabilities, run it as a new generation
        (or leave it stopped, reloaded, when not `run`)."""
        t = process.thread
        if t.state not in (State.STOPPED, State.EXITED):
            self._stop(process, None)  # restarted while running: nothing to report
        comp = self._components[process.name]
        self._drop_ping(process)
        process.stop_reported = False
        load_image(self.machine, comp.image, comp.frames)
        process.caps.clear()
        for slot, cap in comp.grants:
            fresh = Capability(cap.kind, cap.obj, cap.rights, cap.badge, getattr(cap.obj, "generation", 0))
            process.caps.put(slot, fresh)
        process.generation += 1
        process.restarts += 1
        self.stats.restarts += 1
        for slot, cap in comp.grants:  # the server's own capabilities see its new generation
            if cap.kind is CapKind.ENDPOINT and cap.obj.server is process:
                process.caps.get(slot).generation = process.generation
        ctrl = self.machine.interrupts
        for line in process.irq_bits.values():
            ctrl.complete(line)
            ctrl.set_enabled(line, True)
        t.context = self._fresh_context(comp.image.entry)
        t.notifications = 0
        t.recv_endpoint = t.send_endpoint = None
        t.outgoing = None
        if run:
            self.scheduler.make_ready(t)
        if not self._in_hook:
            self._schedule()


def printable(text: str) -> str:
    """`text` with each character that is not printable replaced by its escape."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)
