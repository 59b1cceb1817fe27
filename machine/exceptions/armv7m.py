"""The ARMv7-M exception model for privileged bare-metal programs (ARMv7-M ARM, DDI 0403E, B1.5).

Attached by `Machine.load_elf` on a Cortex-M board (`Machine.guest`); the kernel never
attaches it, so components keep trapping to Python. What Unicorn 2.1.4 does itself, found
by experiment: `svc` reaches the interrupt hook (EXCP_SWI) with the pc past it; a branch to
an EXC_RETURN value in handler mode reaches it as EXCP_EXCEPTION_EXIT with the pc at the
value; `wfi` returns from `emu_start` early; `wfe` and `yield` end it with "invalid
instruction", the pc past them; `sev` is a no-op; `cpsid`/`cpsie` and `msr` to PRIMASK,
BASEPRI, FAULTMASK or CONTROL take effect and end the translated block; writing xPSR's IPSR
and CONTROL through the register API switches the banked stack pointer as the mode says.
Unicorn has no NVIC and never enters a handler; everything below does that in Python:

- Entry (B1.5.6, PushStack/ExceptionTaken): the 8-word frame r0-r3, r12, lr, return
  address, xPSR on the stack in use (PSP in thread mode with CONTROL.SPSEL, else MSP),
  aligned to 8 bytes when CCR.STKALIGN is set (xPSR bit 9 records the padding); LR =
  EXC_RETURN (0xFFFFFFF1 handler, 0xFFFFFFF9 thread/MSP, 0xFFFFFFFD thread/PSP); IPSR =
  the exception number; CONTROL.SPSEL = 0; pc from the vector table at VTOR. A vector
  with bit 0 clear is taken and then faults as INVSTATE, as on hardware.
- Return (B1.5.8): EXC_RETURN checked (anything else, or a return to thread mode with
  other exceptions active, is an INVPC UsageFault); the exception deactivated, FAULTMASK
  cleared; a pending exception that may preempt the returned-to context is tail-chained
  (entered without unstacking, B1.5.12); otherwise the frame is popped.
- Priorities (B1.5.4): the 3 implemented bits of the AN385 (the NVIC's `priority_bits`),
  AIRCR.PRIGROUP grouping; the execution priority from the active exceptions, BASEPRI,
  PRIMASK and FAULTMASK; the most urgent pending exception (group, subpriority, number)
  is taken when its group priority is higher.
- Faults (B1.5.14-B1.5.16): an undefined instruction (CFSR.UNDEFINSTR, NOCP), a branch
  to ARM state (INVSTATE), a bad EXC_RETURN (INVPC), bus errors on unmapped addresses
  (PRECISERR with BFAR, IBUSERR on fetch) go to UsageFault/BusFault when SHCSR enables it
  and its priority preempts, else escalate to HardFault (HFSR.FORCED); an SVC that cannot
  be taken escalates too. A fault that cannot be taken even as HardFault is lockup (B1.5.15):
  the run ends with a Fault naming it.

Timing: an exception pended during a slice (an NVIC line, PendSV, SysTick) is taken at the
next translated-block boundary (the run loop stops the slice; native/armexc.c stops it when
cpsie/msr unmask one), the same instruction however the run is sliced; SVC and faults are
taken at their instruction. Entry and return cost no virtual cycles of their own.

State: the pending/active bits of the system exceptions and SysTick's anchor are kept in
the NVIC peripheral's snapshot (`state`/`set_state`); everything else is in CPU registers
and the SCS registers. The SCB register behaviour is in machine/exceptions/armv7m_scb.py.
"""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, Any

from unicorn import UcError
from unicorn import arm_const as A

from ..counter import NATIVE_DIR, function_address, mirrors, native_library, uclib
from ..cpu import Trap, TrapKind
from ..memory import AccessKind, Fault, FaultKind
from ..peripherals.systick import SysTick
from .armv7m_scb import SystemControlBlock

if TYPE_CHECKING:
    from ..machine import Machine

NMI, HARDFAULT, MEMMANAGE, BUSFAULT, USAGEFAULT, SVCALL, DEBUGMON, PENDSV, SYSTICK = 2, 3, 4, 5, 6, 11, 12, 14, 15
FIRST_IRQ = 16
NAMES = {NMI: "NMI", HARDFAULT: "HardFault", MEMMANAGE: "MemManage", BUSFAULT: "BusFault",
         USAGEFAULT: "UsageFault", SVCALL: "SVCall", DEBUGMON: "DebugMonitor", PENDSV: "PendSV", SYSTICK: "SysTick"}

# CFSR bits (B3.2.15): UsageFault in 31:16, BusFault in 15:8
UNDEFINSTR, INVSTATE, INVPC, NOCP = 1 << 16, 1 << 17, 1 << 18, 1 << 19
IBUSERR, PRECISERR, BFARVALID = 1 << 8, 1 << 9, 1 << 15
HFSR_FORCED, HFSR_VECTTBL = 1 << 30, 1 << 1
XPSR_T, XPSR_ALIGN, IPSR_MASK = 1 << 24, 1 << 9, 0x1FF
EXC_RETURNS = {0xFFFFFFF1: (False, False), 0xFFFFFFF9: (True, False), 0xFFFFFFFD: (True, True)}
WFE, YIELD = 0xBF20, 0xBF10
NO_PRIORITY = 256
GATE_NONE = 0x7FFFFFFF
#: what an access nothing answers is on a bare-metal bus (no MPU: the bus errors)
_BUS_KINDS = (FaultKind.BUS_ERROR, FaultKind.UNMAPPED, FaultKind.PERMISSION)
_FRAME_REGS = ("r0", "r1", "r2", "r3", "r12", "lr")


@mirrors(NATIVE_DIR / "armexc.c", "atoll_armv7m_gate")
class _GateStruct(ctypes.Structure):
    _fields_ = [("reg_read", ctypes.c_void_p), ("stop", ctypes.c_void_p), ("executed", ctypes.c_void_p),
                ("deadline", ctypes.c_void_p), ("stopped", ctypes.c_void_p), ("exact", ctypes.c_void_p),
                ("pending", ctypes.c_int32),
                ("running", ctypes.c_int32), ("group_mask", ctypes.c_uint32), ("primask", ctypes.c_int32),
                ("faultmask", ctypes.c_int32), ("basepri", ctypes.c_int32), ("fired", ctypes.c_uint64)]


def _numbers(bits: int, first: int) -> list[int]:
    """The exception numbers of the set bits of `bits` (bit n: exception first + n)."""
    numbers = []
    while bits:
        low = bits & -bits
        numbers.append(first + low.bit_length() - 1)
        bits ^= low
    return numbers


class Lockup(Exception):
    """The core locked up (B1.5.15): carries the reason."""


class _Core:
    """The CPU registers and memory as exception entry and return use them: straight through
    Unicorn's C API, several registers in one call (the binding's wrapper costs twice as much)."""

    def __init__(self, machine: "Machine") -> None:
        lib = uclib()
        self.uc = machine.uc
        self._handle, self._value = machine.uc._uch, ctypes.c_uint32()
        self._reg_read, self._reg_write = lib.uc_reg_read, lib.uc_reg_write
        self._read_batch, self._write_batch = lib.uc_reg_read_batch, lib.uc_reg_write_batch
        self._ids = {name: machine.cpu.register_id(name) for name in machine.cpu.REGISTERS}
        #: r0-r3, r12, lr (stacked), then xpsr, control, sp
        self._frame = self._batch((*_FRAME_REGS, "xpsr", "control", "sp"))

    def reg(self, name: str) -> int:
        self._reg_read(self._handle, self._ids[name], ctypes.byref(self._value))
        return self._value.value

    def set_reg(self, name: str, value: int) -> None:
        self._value.value = value & 0xFFFFFFFF
        self._reg_write(self._handle, self._ids[name], ctypes.byref(self._value))

    def _batch(self, names: tuple[str, ...]):
        """(ids, values, pointers) arrays for reading or writing `names` in one C call."""
        count = len(names)
        ids = (ctypes.c_int * count)(*(self._ids[n] for n in names))
        values = (ctypes.c_uint32 * count)()
        pointers = (ctypes.c_void_p * count)(*(ctypes.addressof(values) + 4 * i for i in range(count)))
        return ids, values, pointers

    def read_frame(self) -> list[int]:
        ids, values, pointers = self._frame
        self._read_batch(self._handle, ids, pointers, len(values))
        return list(values)

    def write_frame(self, words: list[int]) -> None:
        ids, values, pointers = self._frame
        values[:len(_FRAME_REGS)] = [w & 0xFFFFFFFF for w in words[:len(_FRAME_REGS)]]
        self._write_batch(self._handle, ids, pointers, len(_FRAME_REGS))

    def write_words(self, address: int, words: list[int], what: str) -> None:
        try:
            self.uc.mem_write(address, b"".join((w & 0xFFFFFFFF).to_bytes(4, "little") for w in words))
        except UcError:
            raise Lockup(f"{what} a frame at {address:#010x} failed: nothing is mapped there") from None

    def read_words(self, address: int, count: int, what: str) -> list[int]:
        try:
            data = self.uc.mem_read(address, 4 * count)
        except UcError:
            raise Lockup(f"{what} a frame at {address:#010x} failed: nothing is mapped there") from None
        return [int.from_bytes(data[i:i + 4], "little") for i in range(0, 4 * count, 4)]

    def halfword(self, address: int) -> int:
        try:
            return int.from_bytes(self.uc.mem_read(address, 2), "little")
        except UcError:
            return 0


class Armv7mExceptions:
    """The exception model of one Cortex-M machine (see the module's doc)."""

    def __init__(self, machine: "Machine") -> None:
        self.machine = machine
        self.cpu, self.uc, self.clock = machine.cpu, machine.uc, machine.clock
        self.nvic = machine.interrupts
        self.sys_pending = 0   # bit n: system exception n pending
        self.sys_active = 0    # bit n: system exception n active
        self.event = False     # the WFE event register (B1.5.18)
        self.reset_requested = False
        self.scb = SystemControlBlock(self)
        self.systick = SysTick(self.nvic, lambda: self.pend(SYSTICK))
        counter = machine.counter
        lib = uclib()
        self._gate = _GateStruct(function_address(lib.uc_reg_read), function_address(lib.uc_emu_stop),
                                 counter.field_address("executed"), counter.field_address("deadline"),
                                 counter.field_address("stopped"), counter.field_address("exact"),
                                 GATE_NONE, NO_PRIORITY, 0xFF, A.UC_ARM_REG_PRIMASK, A.UC_ARM_REG_FAULTMASK,
                                 A.UC_ARM_REG_BASEPRI, 0)
        self._counter = counter
        counter.attach_gate(native_library(NATIVE_DIR / "armexc.c").atoll_armv7m_gate, self._gate)
        self.nvic.system = self
        # the NVIC tells the model of a newly pending line; the model tells the run loop
        self._notify, self.nvic.listener = self.nvic.listener, self.update
        self.core = _Core(machine)
        self.reg, self.set_reg = self.core.reg, self.core.set_reg
        self.reset()

    # -- priorities (B1.5.4) -------------------------------------------------------------------

    def priority(self, exc: int) -> int:
        if exc == NMI:
            return -2
        if exc == HARDFAULT:
            return -1
        if exc >= FIRST_IRQ:
            return self.nvic.priority(exc - FIRST_IRQ)
        return self.scb.system_priority(exc)

    def group(self, priority: int) -> int:
        return priority if priority < 0 else priority & self.scb.group_mask

    def active(self) -> list[int]:
        return _numbers(self.sys_active, 0) + _numbers(self.nvic.active_lines, FIRST_IRQ)

    def running_priority(self, exclude: int | None = None) -> int:
        return min((self.group(self.priority(e)) for e in self.active() if e != exclude), default=NO_PRIORITY)

    def execution_priority(self, running: int | None = None, primask: bool = True) -> int:
        execution = self.running_priority() if running is None else running
        basepri = self.reg("basepri") & 0xFF
        if basepri:
            execution = min(execution, self.group(basepri))
        if primask and self.reg("primask") & 1:
            execution = min(execution, 0)
        if self.reg("faultmask") & 1:
            execution = -1
        return execution

    def best_pending(self) -> int | None:
        """The pending exception taken first (B1.5.4: group, subpriority, number), if any."""
        candidates = _numbers(self.sys_pending, 0) + _numbers(self.nvic.deliverable, FIRST_IRQ)
        if not candidates:
            return None
        return min(candidates, key=lambda e: (self.group(self.priority(e)), self.priority(e), e))

    def _refresh_gate(self) -> int | None:
        """Tell the native gate what is pending and running, and arm it while a pending
        exception outranks the running ones (only a mask can hold it off then); the most
        urgent pending exception."""
        gate = self._gate
        if not self.sys_pending and not self.nvic.deliverable:
            gate.pending = GATE_NONE
            self._counter.armed = False
            return None
        best = self.best_pending()
        gate.pending = GATE_NONE if best is None else self.group(self.priority(best))
        gate.running = self.running_priority()
        gate.group_mask = self.scb.group_mask
        self._counter.armed = gate.pending < gate.running
        return best

    def update(self) -> None:
        """After any change of pending, active or priority state (the NVIC's listener too):
        refresh the gate, and tell the run loop that something may be taken."""
        if self._refresh_gate() is not None and self._notify is not None:
            self._notify()

    def pend(self, exc: int) -> None:
        self.sys_pending |= 1 << exc
        self.update()

    # -- what the run loop asks ------------------------------------------------------------------

    def interrupt(self) -> Fault | None:
        """At a slice boundary: reset if asked, wake a WFI, take what may preempt."""
        m = self.machine
        if self.reset_requested:
            self._system_reset()
        best = self._refresh_gate()   # a priority or enable written since may have changed it
        if best is None:
            return None
        group = self.group(self.priority(best))
        if m.waiting:
            if group >= self.execution_priority(primask=False):
                return None
            m.waiting = False   # WFI/WFE wake even with PRIMASK set (B1.5.19)
        if group >= self.execution_priority():
            return None
        return self._guarded(lambda: self._enter(best, self.cpu.pc))

    def take(self, event: Trap | Fault) -> Trap | Fault | None:
        """A trap or CPU fault met while running: None when the guest takes it (the run goes
        on), else what ends the run."""
        if isinstance(event, Trap):
            if event.kind is TrapKind.SYSCALL:
                return self._guarded(lambda: self._synchronous(SVCALL, 0, event.pc))
            if event.kind is TrapKind.WAIT:
                self.machine.waiting = True
                return None
            return event   # a breakpoint stays the debugger's
        return self._guarded(lambda: self._fault(event))

    def _guarded(self, action) -> Fault | None:
        try:
            action()
        except Lockup as lockup:
            return Fault(FaultKind.CPU_ERROR, self.cpu.pc, self.machine.space.name, detail=f"lockup: {lockup}")
        return None

    # -- faults (B1.5.14) -----------------------------------------------------------------------

    def _fault(self, fault: Fault) -> None:
        pc = fault.pc
        if fault.kind is FaultKind.UNDEFINED_INSTRUCTION and pc >= 2 and self.core.halfword(pc - 2) in (WFE, YIELD):
            if self.core.halfword(pc - 2) == WFE:
                self._wait_for_event()
            return
        if fault.kind is FaultKind.ILLEGAL_STATE and (pc | 0xF) == 0xFFFFFFFF:
            self._exception_return(pc | 1)   # the hook sees the EXC_RETURN value without bit 0
            return
        if fault.kind is FaultKind.UNDEFINED_INSTRUCTION:
            bit = NOCP if "coprocessor" in fault.detail else UNDEFINSTR
            self._synchronous(USAGEFAULT, bit, pc)
        elif fault.kind is FaultKind.ILLEGAL_STATE:
            self._synchronous(USAGEFAULT, INVSTATE, pc)
        elif fault.kind in _BUS_KINDS and fault.access is AccessKind.FETCH:
            self._synchronous(BUSFAULT, IBUSERR, pc)
        elif fault.kind in _BUS_KINDS and fault.address is not None:
            self._synchronous(BUSFAULT, PRECISERR | BFARVALID, pc, fault.address)
        else:
            raise Lockup(f"{fault} is not a fault the model takes")

    def _synchronous(self, exc: int, cfsr: int, return_address: int, bfar: int | None = None) -> None:
        """Take synchronous exception `exc` at once, or escalate it to HardFault (B1.5.14)."""
        name = NAMES[exc]
        execution = self.execution_priority()
        enabled = exc == SVCALL or self.scb.fault_enabled(exc)
        if cfsr:
            self.scb.record_fault(cfsr, bfar)
        if enabled and self.group(self.priority(exc)) < execution:
            self._enter(exc, return_address)
            return
        if execution <= -1:
            raise Lockup(f"{name} ({self.scb.describe(cfsr)}) at pc {return_address:#010x} while the execution "
                         f"priority is {execution} ({self._context()})")
        self.scb.escalated(HFSR_FORCED)
        self._enter(HARDFAULT, return_address)

    def _context(self) -> str:
        ipsr = self.reg("xpsr") & IPSR_MASK
        return "thread mode" if ipsr == 0 else f"in {self.name(ipsr)}"

    def name(self, exc: int) -> str:
        return NAMES.get(exc, f"IRQ {exc - FIRST_IRQ}" if exc >= FIRST_IRQ else f"exception {exc}")

    def _wait_for_event(self) -> None:
        if self.event:
            self.event = False
        else:
            self.machine.waiting = True

    # -- entry (B1.5.6) and return (B1.5.8) ---------------------------------------------------

    def _enter(self, exc: int, return_address: int, exc_return: int | None = None) -> None:
        """Take `exc`: stack a frame (not when tail-chaining, `exc_return` given), then
        enter its handler."""
        *stacked, xpsr, control, sp = self.core.read_frame()
        if exc_return is None:
            thread = xpsr & IPSR_MASK == 0
            psp = thread and bool(control & 2)
            stack_align = self.scb.stack_align
            align = 4 if stack_align and sp & 4 else 0
            frame = (sp - 0x20) & ~(4 if stack_align else 0)
            words = stacked + [return_address & ~1, (xpsr & ~XPSR_ALIGN) | (XPSR_ALIGN if align else 0)]
            self.core.write_words(frame, words, "stacking")
            self.set_reg("sp", frame)
            if psp:
                self.set_reg("control", control & ~2)   # handler mode runs on MSP
            exc_return = 0xFFFFFFF1 if not thread else (0xFFFFFFFD if psp else 0xFFFFFFF9)
        vector = self._vector(exc)
        self.set_reg("xpsr", (xpsr & 0xF800_0000) | (XPSR_T if vector & 1 else 0) | exc)
        self.set_reg("lr", exc_return)
        self.set_reg("pc", vector | 1)
        if exc >= FIRST_IRQ:
            self.nvic.activate(exc - FIRST_IRQ)
        else:
            self.sys_pending &= ~(1 << exc)
            self.sys_active |= 1 << exc
        self.event = True
        self.update()
        if not vector & 1:   # the handler's first instruction would run in ARM state
            self._synchronous(USAGEFAULT, INVSTATE, vector)

    def _vector(self, exc: int) -> int:
        address = self.scb.vtor + 4 * exc
        try:
            return int.from_bytes(self.uc.mem_read(address, 4), "little")
        except UcError:
            raise Lockup(f"the vector of {self.name(exc)} at {address:#010x} cannot be read") from None

    def _exception_return(self, value: int) -> None:
        exc = self.reg("xpsr") & IPSR_MASK
        mode = EXC_RETURNS.get(value)
        others = [e for e in self.active() if e != exc]
        if mode is None or (mode[0] and others and not self.scb.nonbase_thread) or (not mode[0] and not others):
            self._synchronous(USAGEFAULT, INVPC, value)
            return
        if exc >= FIRST_IRQ:
            self.nvic.complete(exc - FIRST_IRQ)
        else:
            self.sys_active &= ~(1 << exc)
        if exc != NMI:
            self.set_reg("faultmask", 0)
        self.event = True
        self.update()
        best = self.best_pending()
        if best is not None and self.group(self.priority(best)) < self.execution_priority():
            self._enter(best, 0, exc_return=value)   # tail-chaining (B1.5.12): the frame stays
            return
        self._pop(value, *mode)

    def _pop(self, value: int, to_thread: bool, psp: bool) -> None:
        frame = self.reg("psp" if psp else "msp")
        words = self.core.read_words(frame, 8, "unstacking")
        xpsr = words[7]
        size = 0x20 + (4 if self.scb.stack_align and xpsr & XPSR_ALIGN else 0)
        control = self.reg("control")
        self.set_reg("control", (control | 2) if psp else (control & ~2))
        self.core.write_frame(words)
        self.set_reg("xpsr", (xpsr & ~XPSR_ALIGN) | XPSR_T)
        self.set_reg("psp" if psp else "msp", frame + size)
        self.set_reg("pc", words[6] | 1)
        if to_thread and self.scb.sleep_on_exit:
            self.machine.waiting = True
            self.machine.counter.stop_now()

    # -- reset and state -----------------------------------------------------------------------

    def request_reset(self) -> None:
        """AIRCR.SYSRESETREQ: the board resets at the next instruction boundary."""
        self.reset_requested = True
        self.machine.counter.stop_now()

    def _system_reset(self) -> None:
        """A system reset: every peripheral and the core as at reset; memory and time go on."""
        self.reset_requested = False
        for dev in self.machine.peripherals.values():
            dev.reset()
        self.machine.reset_cpu()
        self.set_reg("basepri", 0)
        self.set_reg("faultmask", 0)

    def wait(self) -> None:
        """WFI: the core sleeps; a pending exception wakes it at the next slice boundary
        (`interrupt`)."""
        self.machine.waiting = True

    def reset(self) -> None:
        self.sys_pending = self.sys_active = 0
        self.event = False
        self.scb.reset()
        self.systick.reset()
        self.update()

    def state(self) -> dict[str, Any]:
        return {"pending": self.sys_pending, "active": self.sys_active, "event": self.event,
                "reset": self.reset_requested, "systick": self.systick.state()}

    def set_state(self, state: dict[str, Any] | None) -> None:
        if state is None:
            return
        self.sys_pending, self.sys_active = state["pending"], state["active"]
        self.event, self.reset_requested = state["event"], state["reset"]
        self.systick.set_state(state["systick"])
        self.update()

    @property
    def gate_stops(self) -> int:
        """Slices the native gate ended because an unmasked exception could be taken."""
        return self._gate.fired
