"""RISC-V machine-mode traps and interrupts for privileged bare-metal programs (FE310-G002).

A bare-metal program on the hifive1 runs in M-mode on the E31 core, which follows the
RISC-V privileged spec 1.10. `RiscvMachineMode` gives it what the spec and the
FE310-G002 manual promise, where Unicorn 2.1.4 gives none of it by itself (Unicorn
hands every exception to the machine's interrupt hook instead of QEMU's trap entry, and
ends the run at EBREAK or a bus error):

- Trap entry (spec 1.10 §3.1.7-§3.1.21, §3.2.1; FE310-G002 manual ch. 8 "Interrupts"):
  mepc gets the pc of the trapping instruction (of the next one for an interrupt),
  mcause the cause code with bit 31 set for an interrupt, mtval the faulting address of
  an access or misaligned fault and 0 otherwise (spec 1.10 lets an illegal instruction
  or EBREAK leave 0, as QEMU 5 does); mstatus.MPIE takes MIE, MIE is cleared, MPP set
  to M; the pc goes to mtvec's BASE, or in vectored mode (MODE 1) an interrupt to
  BASE + 4 * cause. `mret` is QEMU's own and needs nothing here.
- Synchronous causes: ECALL from M-mode (11), EBREAK (3), illegal instruction (2),
  instruction/load/store access faults (1/5/7: a fetch, load or store to nothing),
  misaligned faults (0/4/6) where the CPU raises them.
- Interrupts (spec 1.10 §3.1.14): MSIP (3) and MTIP (7) are the CLINT's msip and
  mtime >= mtimecmp, MEIP (11) is "the PLIC has a source pending, enabled and above the
  threshold" (FE310 manual ch. 9-10). One is taken when mstatus.MIE is set and its mie
  bit is set, the most urgent first: MEI, MSI, MTI (§3.1.14).
- WFI (§3.2.3) waits until mip & mie is not 0, whatever mstatus.MIE says; with MIE
  clear the program runs on after the WFI without a trap.

Determinism: interrupts are taken at slice boundaries (the run loop calls
`take_interrupt` as the machine's `interrupt_handler` when one may be deliverable), and
slices end at translated-block boundaries that do not depend on how a run is cut. A
line rising inside a slice (a store to msip) ends the slice at the end of that block;
a CSR write enabling a pending interrupt ends it before the next instruction (QEMU ends
a block after every CSR instruction; machine/native/rvtraps.c tells the model at the
write), and an `mret` re-enabling one at the end of the next block. Entry itself takes
no cycle. The model's only state outside the CPU's CSRs and the peripherals is the
record of the last trap entry (for the trap-loop check), in `state()`. A board reset
(`Machine.reset`, through `reset`) clears mstatus.MIE/MPIE and mie, as at power-on.

A run ends with a Stop FAULT when a trap cannot be taken: the first instruction of the
handler cannot be fetched ("mtvec ... points at nothing"), or the handler's first
instruction raises an exception again ("trap loop"). Faults the CPU model reports
that are no RISC-V exception (a Unicorn error) end the run as before.

Not modelled: U-mode for bare-metal programs (the model assumes M-mode: an `mret` with
MPP = U runs on in U-mode, but a trap from there is reported as from M); misaligned
loads and stores, which Unicorn (like QEMU) performs instead of trapping; the FE310's
local interrupts (mie bits 16+, the E31 has none wired); mtval holding the bits of an
illegal instruction; NMI and the debug module.
"""

from __future__ import annotations

import ctypes
import gc
import pathlib
from dataclasses import dataclass
from typing import Callable

from unicorn import riscv_const as R

from ..counter import function_address, mirrors, native_library, uclib
from ..cpu import Trap, TrapKind
from ..memory import AccessKind, Fault, FaultKind, Perm
from ..peripherals.clint import Clint
from ..peripherals.plic import Plic

_SOURCE = pathlib.Path(__file__).resolve().parent.parent / "native" / "rvtraps.c"

MSTATUS_MIE, MSTATUS_MPIE, MSTATUS_MPP = 1 << 3, 1 << 7, 3 << 11
INTERRUPT = 1 << 31
#: interrupt cause codes, which are also their bit numbers in mip and mie
MSI, MTI, MEI = 3, 7, 11
#: the order in which pending interrupts are taken (spec 1.10 §3.1.14)
URGENCY = (MEI, MSI, MTI)
#: synchronous cause codes
MISALIGNED_FETCH, FETCH_ACCESS, ILLEGAL, BREAKPOINT = 0, 1, 2, 3
MISALIGNED_LOAD, LOAD_ACCESS, MISALIGNED_STORE, STORE_ACCESS, ECALL_M = 4, 5, 6, 7, 11
_ACCESS = {AccessKind.FETCH: FETCH_ACCESS, AccessKind.READ: LOAD_ACCESS, AccessKind.WRITE: STORE_ACCESS}
_MISALIGNED = {AccessKind.FETCH: MISALIGNED_FETCH, AccessKind.READ: MISALIGNED_LOAD,
               AccessKind.WRITE: MISALIGNED_STORE}
CAUSE_NAMES = {MISALIGNED_FETCH: "misaligned fetch", FETCH_ACCESS: "instruction access fault",
               ILLEGAL: "illegal instruction", BREAKPOINT: "breakpoint", MISALIGNED_LOAD: "misaligned load",
               LOAD_ACCESS: "load access fault", MISALIGNED_STORE: "misaligned store",
               STORE_ACCESS: "store access fault", ECALL_M: "environment call from M-mode"}
INTERRUPT_NAMES = {MSI: "machine software interrupt", MTI: "machine timer interrupt",
                   MEI: "machine external interrupt"}
_WORD = 0xFFFF_FFFF

_NOTIFY = ctypes.CFUNCTYPE(None)
_MIP = ctypes.CFUNCTYPE(ctypes.c_uint32)


@mirrors(_SOURCE, "atoll_rv_gate")
class _Gate(ctypes.Structure):
    _fields_ = [("lines", ctypes.c_uint32), ("notify", ctypes.c_void_p), ("mip", ctypes.c_void_p),
                ("reg_read", ctypes.c_void_p), ("env", ctypes.c_void_p)]


def effective_address(code: int, register) -> int | None:
    """The address a load, store or AMO of RV32IMAC accesses (`code`: the instruction's
    first 4 bytes, `register(name)` reads x<n> by name "x<n>"); None for anything else."""
    def x(n: int) -> int:
        return register(f"x{n}") & _WORD

    def signed12(v: int) -> int:
        return v - (1 << 12) if v & 0x800 else v

    if code & 3 != 3:                     # compressed
        half, op, funct3 = code & 0xFFFF, code & 3, (code >> 13) & 7
        if op == 0 and funct3 in (2, 6):      # c.lw, c.sw
            offset = ((half >> 10) & 7) << 3 | ((half >> 6) & 1) << 2 | ((half >> 5) & 1) << 6
            return (x(8 + ((half >> 7) & 7)) + offset) & _WORD
        if op == 2 and funct3 == 2:           # c.lwsp
            offset = ((half >> 4) & 7) << 2 | ((half >> 12) & 1) << 5 | ((half >> 2) & 3) << 6
            return (x(2) + offset) & _WORD
        if op == 2 and funct3 == 6:           # c.swsp
            offset = ((half >> 9) & 0xF) << 2 | ((half >> 7) & 3) << 6
            return (x(2) + offset) & _WORD
        return None
    opcode, rs1 = code & 0x7F, (code >> 15) & 0x1F
    if opcode == 0x03:                        # loads
        return (x(rs1) + signed12(code >> 20)) & _WORD
    if opcode == 0x23:                        # stores
        return (x(rs1) + signed12((code >> 25) << 5 | (code >> 7) & 0x1F)) & _WORD
    if opcode == 0x2F:                        # AMOs, LR/SC
        return x(rs1)
    return None


@dataclass(frozen=True)
class TrapEntry:
    """The last trap taken: its cause, where the handler starts and the count of
    instructions executed then (a fault there before anything ran is a trap loop)."""

    cause: int
    interrupt: bool
    handler: int
    executed: int


class RiscvMachineMode:
    """The M-mode trap and interrupt model of one bare-metal RISC-V machine."""

    def __init__(self, machine, poke: Callable[[], None]) -> None:
        """`poke()` tells the run loop an interrupt may be deliverable (the slice ends at the
        next block boundary and `take_interrupt` runs there)."""
        self.machine = machine
        self.uc = machine.uc
        self.clint = next((d for d in machine.peripherals.values() if isinstance(d, Clint)), None)
        self.plic = machine.interrupts if isinstance(machine.interrupts, Plic) else None
        self.last: TrapEntry | None = None
        self._held = 0            # MSIP and MTIP as the CLINT drives them
        self._poke = poke
        self._lib = native_library(_SOURCE)
        lib = uclib()
        self._lib.atoll_rv_install(ctypes.c_void_p(function_address(lib.riscv_get_csr_ops_riscv32)),
                                   ctypes.c_void_p(function_address(lib.riscv_set_csr_ops_riscv32)))
        self._notify = _NOTIFY(self._enabled_by_guest)   # kept alive as long as the gate
        self._mip = _MIP(self._read_mip)
        self._gate = _Gate(0, function_address(self._notify), function_address(self._mip),
                           function_address(lib.uc_reg_read), None)
        if not self._lib.atoll_rv_register(ctypes.byref(self._gate)):
            gc.collect()   # machines no longer referenced unregister when collected
            if not self._lib.atoll_rv_register(ctypes.byref(self._gate)):
                raise RuntimeError("too many RISC-V machines with a trap model in this process (256)")
        self.uc.reg_read(R.UC_RISCV_REG_MIP)          # tells the gate its CPU (rvtraps.c)
        self._counter = machine.counter
        machine.counter.attach_gate(self._lib.atoll_rv_block, self._gate)
        if self.clint is not None:
            self.clint.irq["software"].connect(self, MSI)
            self.clint.irq["timer"].connect(self, MTI)
        machine.interrupt_handler = self.take_interrupt

    def close(self) -> None:
        """Detach from the CPU (the machine goes away, or a kernel takes it over)."""
        self._lib.atoll_rv_unregister(ctypes.byref(self._gate))

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    # -- the interrupt lines --------------------------------------------------------------

    def set_line(self, number: int, level: bool) -> None:
        """A CLINT output changed (an `IrqSink`): MSIP (3) or MTIP (7)."""
        bit = 1 << number
        self._held = self._held | bit if level else self._held & ~bit
        self._set_lines(self.mip)
        if level and self.mip & self._csr(R.UC_RISCV_REG_MIE):
            self._poke()

    def _set_lines(self, mip: int) -> None:
        """The lines held high, for the gate; it looks at block starts while one is."""
        self._gate.lines = mip
        self._counter.armed = mip != 0

    @property
    def mip(self) -> int:
        """The machine-mode bits of mip: MSIP, MTIP, and MEIP while the PLIC has a source to claim."""
        meip = 1 << MEI if self.plic is not None and self.plic.pending() else 0
        return self._held | meip

    def _read_mip(self) -> int:
        try:
            return self.mip
        except BaseException as e:
            self.machine.carry(e)
            return 0

    def _enabled_by_guest(self) -> None:
        try:
            self._poke()
        except BaseException as e:
            self.machine.carry(e)

    # -- taking interrupts ------------------------------------------------------------------

    def take_interrupt(self) -> None:
        """At a slice boundary: end a WFI if mip & mie, and take the most urgent interrupt
        if mstatus.MIE allows it (the machine's `interrupt_handler`)."""
        mip = self.mip
        self._set_lines(mip)
        pending = mip & self._csr(R.UC_RISCV_REG_MIE)
        if not pending:
            return
        self.machine.waiting = False
        if not self._csr(R.UC_RISCV_REG_MSTATUS) & MSTATUS_MIE:
            return
        cause = next(c for c in URGENCY if pending >> c & 1)
        self._enter(cause, True, self.machine.cpu.pc, 0)

    # -- synchronous exceptions -------------------------------------------------------------

    def take(self, event: Trap | Fault) -> Fault | None:
        """The run loop's hand-off of a trap or fault (machine/runloop.py): `exception`."""
        return self.exception(event)

    def exception(self, event: Trap | Fault) -> Fault | None:
        """A trap or fault the CPU raised in a bare-metal run: taken into the guest's
        handler (None), or the Fault that ends the run."""
        if isinstance(event, Trap):
            if event.kind is TrapKind.WAIT:
                self.wait()
                return None
            if event.kind is TrapKind.SYSCALL:
                return self._synchronous(ECALL_M, (event.pc - 4) & _WORD, 0, None)
            return self._synchronous(BREAKPOINT, event.pc, 0, None)
        cause = self.cause_of(event)
        if cause is None:
            return event
        tval = 0
        if cause in (LOAD_ACCESS, STORE_ACCESS, MISALIGNED_LOAD, MISALIGNED_STORE):
            tval = self._data_address(event)
        elif cause in (FETCH_ACCESS, MISALIGNED_FETCH):
            tval = event.address if event.address is not None else event.pc
        return self._synchronous(cause, event.pc, tval, event)

    def _data_address(self, fault: Fault) -> int:
        """The effective address of the load or store at the fault's pc (the TLB names only
        the page it refused), from the instruction's base register and offset."""
        try:
            code = int.from_bytes(self.uc.mem_read(fault.pc, 4), "little")
        except Exception:
            code = None
        found = None if code is None else effective_address(code, self.machine.cpu.read)
        if found is not None:
            return found
        return fault.address if fault.address is not None else 0

    @staticmethod
    def cause_of(fault: Fault) -> int | None:
        """The mcause exception code of a fault the CPU model reported (None: not a RISC-V exception)."""
        if fault.kind is FaultKind.UNDEFINED_INSTRUCTION:
            return ILLEGAL
        if fault.kind is FaultKind.MISALIGNED and fault.access is not None:
            return _MISALIGNED[fault.access]
        if fault.kind in (FaultKind.UNMAPPED, FaultKind.BUS_ERROR, FaultKind.PERMISSION) and fault.access is not None:
            return _ACCESS[fault.access]
        return None

    def wait(self) -> None:
        """WFI: wait unless an interrupt is pending and enabled in mie (MIE need not be set)."""
        if self.mip & self._csr(R.UC_RISCV_REG_MIE):
            self._poke()
        else:
            self.machine.waiting = True

    def _synchronous(self, cause: int, pc: int, tval: int, fault: Fault | None) -> Fault | None:
        last, executed = self.last, self.machine.counter.executed
        if last is not None and pc == last.handler and executed - last.executed <= 1:
            return self._cannot_take(cause, pc, fault, last)
        return self._enter(cause, False, pc, tval, fault)

    def _cannot_take(self, cause: int, pc: int, fault: Fault | None, last: TrapEntry) -> Fault:
        came = (INTERRUPT_NAMES if last.interrupt else CAUSE_NAMES).get(last.cause, f"cause {last.cause}")
        if cause == FETCH_ACCESS:
            why = f"{came} trapped to mtvec's handler at {pc:#010x}, where nothing can be fetched"
        else:
            why = (f"trap loop: the handler at {pc:#010x} (entered for {came}) raised "
                   f"{CAUSE_NAMES[cause]} at its first instruction")
        kind = fault.kind if fault is not None else FaultKind.CPU_ERROR
        access = fault.access if fault is not None else None
        address = fault.address if fault is not None else None
        return Fault(kind, pc, self.machine.space.name, address, access, detail=why)

    # -- entry --------------------------------------------------------------------------------

    def _enter(self, cause: int, interrupt: bool, epc: int, tval: int, fault: Fault | None = None) -> Fault | None:
        uc = self.uc
        mtvec = self._csr(R.UC_RISCV_REG_MTVEC)
        base = mtvec & ~3
        handler = base + 4 * cause if interrupt and mtvec & 3 == 1 else base
        if not self._executable(handler):
            came = (INTERRUPT_NAMES if interrupt else CAUSE_NAMES)[cause]
            detail = f"{came} at pc {epc:#010x}: mtvec {mtvec:#010x} points at nothing ({handler:#010x})"
            if fault is not None and fault.detail:
                detail = f"{fault.detail}; {detail}"
            return Fault(fault.kind if fault is not None else FaultKind.CPU_ERROR, epc, self.machine.space.name,
                         fault.address if fault is not None else None, fault.access if fault is not None else None,
                         detail=detail)
        mstatus = self._csr(R.UC_RISCV_REG_MSTATUS)
        mpie = MSTATUS_MPIE if mstatus & MSTATUS_MIE else 0
        uc.reg_write(R.UC_RISCV_REG_MSTATUS, (mstatus & ~(MSTATUS_MIE | MSTATUS_MPIE)) | mpie | MSTATUS_MPP)
        uc.reg_write(R.UC_RISCV_REG_MEPC, epc)
        uc.reg_write(R.UC_RISCV_REG_MCAUSE, cause | (INTERRUPT if interrupt else 0))
        uc.reg_write(R.UC_RISCV_REG_MTVAL, tval & _WORD)
        self.machine.cpu.pc = handler
        self.last = TrapEntry(cause, interrupt, handler, self.machine.counter.executed)
        return None

    def _executable(self, address: int) -> bool:
        mapping = self.machine.bare_space.lookup(address)
        return mapping is not None and bool(mapping.perms & Perm.X)

    def _csr(self, register: int) -> int:
        return self.uc.reg_read(register) & _WORD

    def reset(self) -> None:
        """Power-on (spec 1.10 §3.3): interrupts off (mstatus.MIE, MPIE and mie clear), no trap taken."""
        mstatus = self._csr(R.UC_RISCV_REG_MSTATUS)
        self.uc.reg_write(R.UC_RISCV_REG_MSTATUS, mstatus & ~(MSTATUS_MIE | MSTATUS_MPIE) | MSTATUS_MPP)
        self.uc.reg_write(R.UC_RISCV_REG_MIE, 0)
        self.set_state(None)

    # -- snapshots ---------------------------------------------------------------------------------

    def state(self) -> TrapEntry | None:
        """The model's own state (the CSRs are the CPU's, the lines the peripherals')."""
        return self.last

    def set_state(self, state: TrapEntry | None) -> None:
        self.last = state
        if self.clint is not None:   # the lines as the restored CLINT holds them
            irq = self.clint.irq
            self._held = irq["software"].level << MSI | irq["timer"].level << MTI
        self._set_lines(self.mip)
