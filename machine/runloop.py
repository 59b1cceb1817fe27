"""The run loop: slices of CPU execution between deadlines, and what ends a run.

`RunLoop` executes the CPU up to the next deadline (a peripheral's event, a requested
stop, the end of the run) in one `emu_start`, counted exactly by the native
instruction counter (in host timing, timed by `Machine.host_time` instead:
machine/hosttime.py), then fires due events and polls host backends. It owns the
flags of one run (a stop requested, an interrupt pending, a fault, trap or bus error
met inside `emu_start`, a Python error carried out of a Unicorn callback) and turns
them into a `Stop`. The machine's public settings it follows (`trap_handler`,
`interrupt_handler`, `guest`, `waiting`, `realtime`, `max_slice`) stay on the `Machine`.
A bare-metal guest's exception model (`guest`, machine/exceptions/) is asked at every
slice boundary and sees every trap and CPU fault first, unless a kernel's handlers are set.

Invariants: an exception raised in a Unicorn callback is carried out of `emu_start`
and raised again, never swallowed; an `emu_start` that executed nothing with nothing
to explain it is a "no progress" fault, so the loop never spins with time standing still.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from unicorn import UcError
from unicorn.unicorn_const import (
    UC_ERR_EXCEPTION,
    UC_ERR_FETCH_UNMAPPED,
    UC_ERR_READ_UNMAPPED,
    UC_ERR_WRITE_UNMAPPED,
    UC_HOOK_MEM_INVALID,
    UC_MEM_FETCH_UNMAPPED,
    UC_MEM_READ_UNMAPPED,
    UC_MEM_WRITE_UNMAPPED,
)

from .cpu import Trap, TrapKind
from .csr import VirtualCounters
from .memory import PAGE_SIZE, AccessKind, Fault, FaultKind
from .trapfront import ActiveSpace

if TYPE_CHECKING:
    from .machine import Machine

_INVALID = {UC_MEM_READ_UNMAPPED: AccessKind.READ, UC_MEM_WRITE_UNMAPPED: AccessKind.WRITE,
            UC_MEM_FETCH_UNMAPPED: AccessKind.FETCH}
_BUS_ERRORS = {UC_ERR_READ_UNMAPPED, UC_ERR_WRITE_UNMAPPED, UC_ERR_FETCH_UNMAPPED}

#: a page of the machine's own, outside every board's map, holding the RISC-V user-entry
#: trampoline; guest code may not touch it
SENTINEL_PAGE = 0xFFFF_F000
_SENTINEL_DETAIL = "the machine's own page"
#: what `emu_start` is given as `until`: ignored, since exits are on and there are none
NO_EXIT = 0
#: with `realtime`, idle time advances in steps of at most this much, each slept on the wall clock
REALTIME_STEP_SECONDS = 0.005


class StopReason(enum.StrEnum):
    """Why a run ended (a `str`, so "time" == StopReason.TIME)."""

    TIME = "time"             # the requested duration passed
    CONDITION = "condition"   # run_until's condition held
    FAULT = "fault"
    TRAP = "trap"             # a syscall or breakpoint with no handler to take it
    STOPPED = "stopped"       # `request_stop`
    TIMEOUT = "timeout"       # run_until gave up


@dataclass(frozen=True)
class Stop:
    """Why a run ended (`reason`, a `StopReason`), at which cycle, with what."""

    reason: StopReason
    cycle: int
    fault: Fault | None = None
    trap: Trap | None = None


class RunLoop:
    """The slices of one machine's runs (see the module's doc)."""

    def __init__(self, machine: "Machine", counters: VirtualCounters | None) -> None:
        self.machine = machine
        self.cpu, self.uc, self.clock, self.counter = machine.cpu, machine.uc, machine.clock, machine.counter
        #: set by the machine once its trap front exists (the front calls `interrupt`)
        self.spaces: ActiveSpace | None = None
        self.counters = counters
        self.stop_requested = False
        self.irq_pending = False
        self.backends: list[tuple[object, object]] = []
        self._pending_error: BaseException | None = None
        self._fault: Fault | None = None
        self._trap: Trap | None = None
        self._bus_error: tuple[int, AccessKind] | None = None
        # Only outside RAM: a memory hook of any kind over a RAM page keeps Unicorn from
        # ever putting that page's stores on the fast path (see native/tlb.c).
        for begin, end in _outside(machine.board.regions):
            self.uc.hook_add(UC_HOOK_MEM_INVALID, self._invalid_access, begin=begin, end=end)

    def clear(self, irq_pending: bool = False) -> None:
        """No run under way: no stop requested, nothing met, nothing carried."""
        self.stop_requested = False
        self.irq_pending = irq_pending
        self._pending_error = None
        self._fault = self._trap = self._bus_error = None
        self.spaces.tlb.clear_refusal()

    # -- the loop ------------------------------------------------------------------------

    def run(self, until: int | None, condition: Callable[[], bool] | None,
            check: int | None = None, instructions: int | None = None) -> Stop:
        m, clock = self.machine, self.clock
        self.stop_requested = False
        budget_end = None if instructions is None else self.counter.executed + instructions
        while True:
            self.poll_backends()
            clock.fire_due()
            if m.guest is not None and m.interrupt_handler is None:
                self.irq_pending = False
                fault = m.guest.interrupt()   # the guest's own exception model takes it
                if fault is not None:
                    return Stop(StopReason.FAULT, clock.now, fault=fault)
            elif self.irq_pending:
                self.irq_pending = False
                if m.interrupt_handler is not None:
                    m.interrupt_handler()  # a kernel decides what runs next
                else:
                    m.waiting = False      # bare metal: WFI ends when an interrupt pends
            if self.stop_requested:
                self.stop_requested = False
                return Stop(StopReason.STOPPED, clock.now)
            if condition is not None and condition():
                return Stop(StopReason.CONDITION, clock.now)
            now = clock.now
            if until is not None and now >= until:
                return Stop(StopReason.TIME, now)
            if budget_end is not None and self.counter.executed >= budget_end:
                return Stop(StopReason.TIME, now)
            target = now + m.max_slice if until is None else min(until, now + m.max_slice)
            if check is not None:
                target = min(target, now + check)
            deadline = clock.next_deadline()
            if deadline is not None:
                target = min(target, deadline)
            if m.waiting:
                if budget_end is not None:
                    return Stop(StopReason.TIME, now)
                if m.realtime:
                    step = min(target - now, clock.cycles(REALTIME_STEP_SECONDS))
                    if m.realtime_sleep:   # a replay takes the same steps without sleeping
                        time.sleep(step / clock.frequency_hz)
                    target = now + step
                clock.skip_to(target)
                continue
            slice_len = target - now
            if budget_end is not None:
                slice_len = min(slice_len, budget_end - self.counter.executed)
            # a counted step stops exactly; any other slice ends at a block boundary
            result = self.execute(max(slice_len, 0), exact=budget_end is not None)
            if result is not None:
                return result
            if self.counter.limited:   # a replay's instruction limit (InstructionCounter.set_limit)
                return Stop(StopReason.STOPPED, clock.now)

    def _host_slice(self, host) -> None:
        counters = self.counters
        if counters is not None:
            counters.enter()
        try:
            host.emulate(self.cpu.start_address(), NO_EXIT)
        finally:
            if counters is not None:
                counters.leave()

    def step_quietly(self, instructions: int) -> Stop:
        """Exactly `instructions` instructions with no clock event or interrupt taken."""
        m = self.machine
        self.stop_requested = False
        end = self.counter.executed + instructions
        while self.counter.executed < end and not m.waiting:
            before = self.counter.executed
            result = self.execute(end - before, exact=True)
            if result is not None:
                return result
            if self.stop_requested:
                self.stop_requested = False
                return Stop(StopReason.STOPPED, self.clock.now)
            if self.counter.executed == before:
                break
        return Stop(StopReason.TIME, self.clock.now)

    def execute(self, instructions: int, exact: bool = False) -> Stop | None:
        """One `emu_start` of `instructions` (to the end of that block unless `exact`, see
        native/counter.c); a Stop if a fault or trap ended the run."""
        self._fault = None
        self._trap = None
        self._bus_error = None
        spaces = self.spaces
        spaces.tlb.clear_refusal()
        if instructions <= 0:
            return None
        m = self.machine
        before = self.counter.executed
        m.executing = True
        try:
            try:
                host = m.host_time
                if host is None:   # armed, and the counter CSRs entered, natively
                    self.counter.run(NO_EXIT, instructions, exact)
                else:   # host timing: a timed slice, no counter (machine/hosttime.py)
                    host.arm(instructions, exact)
                    self._host_slice(host)
            finally:   # however it ended (a hook's exception too), Python has the machine back
                m.executing = False
                spaces.regain()
        except UcError as e:
            if self._pending_error is None and self._fault is None:
                event = self._event_from(e)
                # the count becomes exact before the guest's model moves the pc away
                self.counter.settle(event.pc, started=True)
                event = self._guest_takes(event)
                if event is None:
                    return None            # the guest's handler runs from the next slice
                if isinstance(event, Trap):
                    return self._take_trap(event)
                self._fault = event
        if self._pending_error is not None:
            err, self._pending_error = self._pending_error, None
            raise err
        # A trap ends its block; anything else may have left the block in the middle: the
        # count becomes exact there (a faulting instruction counts as started).
        if self._trap is not None:
            return Stop(StopReason.TRAP, self.clock.now, trap=self._trap)
        if self.counter.mid_block:
            self.counter.settle(self.cpu.pc, started=self._fault is not None)
        if self._fault is not None:
            return Stop(StopReason.FAULT, self.clock.now, fault=self._fault)
        if not self.counter.reached_deadline and not self.stop_requested:
            if self.counter.executed == before:
                return Stop(StopReason.FAULT, self.clock.now, fault=self._no_progress())
            # Unicorn returns early, with no hook, when the CPU halts in WFI.
            return self._wait_for_interrupt()
        return None

    # -- what ended a slice ----------------------------------------------------------------

    def _no_progress(self) -> Fault:
        """The fault of an `emu_start` that executed nothing and said nothing: running it
        again would do the same, forever, with time standing still."""
        pc = self.cpu.pc
        return Fault(FaultKind.CPU_ERROR, pc, self.spaces.followed.name,
                     detail=f"no progress: the CPU stopped at {pc:#010x} without executing an instruction")

    def _wait_for_interrupt(self) -> Stop | None:
        m = self.machine
        trap = Trap(TrapKind.WAIT, self.cpu.pc)
        if m.trap_handler is None:
            if m.guest is not None:
                m.guest.wait()   # waits only when no exception can wake it
            else:
                m.waiting = True
            return None
        if m.trap_handler(trap):
            return None
        return Stop(StopReason.TRAP, self.clock.now, trap=trap)

    def _take_trap(self, trap: Trap) -> Stop | None:
        """A trap that ended emu_start (rather than arriving in the interrupt hook)."""
        handler = self.machine.trap_handler
        if handler is not None and handler(trap):
            if self._pending_error is not None:
                err, self._pending_error = self._pending_error, None
                raise err
            return None
        return Stop(StopReason.TRAP, self.clock.now, trap=trap)

    def _event_from(self, error: UcError) -> Fault | Trap:
        pc = self.cpu.pc
        name = self.spaces.followed.name
        refusal = self.spaces.tlb.refusal
        if error.errno == UC_ERR_EXCEPTION and refusal is not None:
            # the TLB sees the page of an access (Unicorn's page: 1 KiB on ARM); a fetch
            # refused in the pc's own page is at the pc (one in the next page straddles it)
            address = refusal.address
            if refusal.access is AccessKind.FETCH and address <= pc < address + PAGE_SIZE:
                address = pc
            return Fault(refusal.kind, pc, name, address, refusal.access,
                         detail=_SENTINEL_DETAIL if address >= SENTINEL_PAGE else "")
        if error.errno in _BUS_ERRORS and self._bus_error is not None:
            address, access = self._bus_error
            return Fault(FaultKind.BUS_ERROR, pc, name, address, access, detail="nothing at that physical address")
        space = self.spaces.space
        decoded = self.cpu.decode_error(error, name, lambda a, n: self.machine.read_virtual(space, a, n))
        if decoded is not None:
            return decoded
        return Fault(FaultKind.CPU_ERROR, pc, name, detail=str(error))

    # -- Unicorn callbacks (exceptions are carried out, never swallowed) ----------------------

    def interrupt(self, intno: int) -> None:
        try:
            self.spaces.regain()
            event = self.cpu.decode_trap(intno, self.spaces.followed.name)
            # an exception ends its block where it was raised (a system call: after the
            # instruction, which ends its block): the count is settled there
            self.counter.settle(event.pc, started=not (isinstance(event, Trap) and event.kind is TrapKind.SYSCALL))
            event = self._guest_takes(event)
            if event is None:
                return                     # the guest's handler runs on
            if isinstance(event, Fault):
                self._fault = event
                self.uc.emu_stop()
                return
            handler = self.machine.trap_handler
            if handler is None or not handler(event):
                self._trap = event
                self.uc.emu_stop()
        except BaseException as e:
            self.carry(e)

    def _guest_takes(self, event: Trap | Fault) -> Trap | Fault | None:
        """A bare-metal guest's exception model sees a trap or fault first (None: it took it)."""
        guest = self.machine.guest
        if guest is None or self.machine.trap_handler is not None:
            return event
        return guest.take(event)

    def _invalid_access(self, uc, access: int, address: int, size: int, value: int, _) -> bool:
        self._bus_error = (address, _INVALID.get(access, AccessKind.READ))
        return False

    def carry(self, error: BaseException) -> None:
        """Stop the run and raise `error` out of it (from a callback inside `emu_start`)."""
        if self._pending_error is None:
            self._pending_error = error
        self.uc.emu_stop()

    def event_scheduled(self, when: int) -> None:
        self.counter.limit(when - self.clock.now)

    def interrupt_became_pending(self) -> None:
        self.irq_pending = True
        if self.machine.interrupt_handler is not None or self.machine.guest is not None:
            self.counter.stop_now()

    def poll_backends(self) -> None:
        for uart, backend in self.backends:
            data = backend.poll()
            if data:
                uart.feed(data)


def _outside(regions) -> list[tuple[int, int]]:
    """The inclusive address ranges of the 32-bit space that no region covers."""
    gaps, at = [], 0
    for r in sorted(regions, key=lambda r: r.base):
        if r.base > at:
            gaps.append((at, r.base - 1))
        at = max(at, r.base + r.size)
    if at <= 0xFFFF_FFFF:
        gaps.append((at, 0xFFFF_FFFF))
    return gaps
