"""RISC-V RV32IMAC on Unicorn (the SiFive E31 core of the FE310).

User code runs in U-mode. Unicorn 2.1 has no register for the privilege level, so
the machine drops to U-mode by running one `mret` with MSTATUS.MPP = U from a
trampoline page (`USER_ENTRY_CODE`); afterwards the level travels inside every
saved context, because traps caught by the interrupt hook do not change it.
ECALL arrives with the pc already past the instruction (Unicorn adds 4).
Interrupt numbers are the RISC-V exception cause codes.
"""

from __future__ import annotations

from typing import Callable

import capstone
from unicorn import Uc, UcError
from unicorn.unicorn_const import UC_ERR_INSN_INVALID
from unicorn import riscv_const as R
from unicorn.unicorn_const import UC_ARCH_RISCV, UC_MODE_RISCV32

from ..memory import AccessKind, Fault, FaultKind
from .base import Cpu, Trap, TrapKind

ABI_NAMES = ("zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "fp", "s1",
             "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7",
             "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11",
             "t3", "t4", "t5", "t6")

CAUSE_ECALL_U = 8
CAUSE_ECALL_M = 11
CAUSE_BREAKPOINT = 3
MSTATUS_MPP = 3 << 11
EBREAK = (0x00100073).to_bytes(4, "little")
C_EBREAK = (0x9002).to_bytes(2, "little")

_FAULTS = {
    0: (FaultKind.MISALIGNED, AccessKind.FETCH, "misaligned instruction fetch"),
    1: (FaultKind.BUS_ERROR, AccessKind.FETCH, "instruction access fault"),
    2: (FaultKind.UNDEFINED_INSTRUCTION, None, "illegal instruction"),
    4: (FaultKind.MISALIGNED, AccessKind.READ, "misaligned load"),
    5: (FaultKind.BUS_ERROR, AccessKind.READ, "load access fault"),
    6: (FaultKind.MISALIGNED, AccessKind.WRITE, "misaligned store"),
    7: (FaultKind.BUS_ERROR, AccessKind.WRITE, "store access fault"),
}


class Rv32(Cpu):
    ISA = "rv32imac"
    #: the interrupt numbers Unicorn gives a syscall trap (ECALL from U- or M-mode)
    SYSCALL_TRAPS = (CAUSE_ECALL_U, CAUSE_ECALL_M)
    REGISTERS = {name: getattr(R, f"UC_RISCV_REG_X{i}") for i, name in enumerate(ABI_NAMES)}
    REGISTERS["pc"] = R.UC_RISCV_REG_PC
    ALIASES = {"s0": "fp", **{f"x{i}": name for i, name in enumerate(ABI_NAMES)}}
    PC = R.UC_RISCV_REG_PC
    SP = R.UC_RISCV_REG_SP
    ARG_REGISTERS = ("a0", "a1", "a2", "a3", "a4", "a5", "a6")
    SYSCALL_NUMBER_REGISTER = "a7"
    RETURN_REGISTER = "a0"
    LINK_REGISTER = "ra"
    GDB_REGISTERS = (*ABI_NAMES, "pc")
    GDB_ARCHITECTURE = "riscv:rv32"
    GDB_FEATURE = "org.gnu.gdb.riscv.cpu"
    DWARF_REGISTERS = ABI_NAMES
    #: all-zero halfwords are illegal instructions
    UNDEFINED_FILL = b"\0\0"
    CAPSTONE = (capstone.CS_ARCH_RISCV, capstone.CS_MODE_RISCV32 | capstone.CS_MODE_RISCVC)
    #: `mret`: with MEPC and MSTATUS.MPP set, drops to U-mode at MEPC
    USER_ENTRY_CODE = (0x30200073).to_bytes(4, "little")

    @classmethod
    def create(cls, model: str) -> "Rv32":
        uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV32)
        uc.ctl_set_cpu_model(R.UC_CPU_RISCV32_SIFIVE_E31)
        return cls(uc)

    def decode_trap(self, intno: int, space: str) -> Trap | Fault:
        # Unicorn advances the pc by 4 past every exception it hands to the hook (even
        # a compressed instruction's): right for ECALL, which resumes after itself;
        # faults and breakpoints are moved back onto the instruction that raised them.
        pc = self.pc
        if intno in (CAUSE_ECALL_U, CAUSE_ECALL_M):
            return Trap(TrapKind.SYSCALL, pc)
        self.pc = pc = (pc - 4) & 0xFFFF_FFFF  # the pc after a trap at 0xFFFFFFFC wrapped to 0
        if intno == CAUSE_BREAKPOINT:
            return Trap(TrapKind.BREAKPOINT, pc)
        kind, access, detail = _FAULTS.get(intno, (FaultKind.CPU_ERROR, None, f"exception cause {intno}"))
        return Fault(kind, pc, space, access=access, detail=detail)

    def decode_error(self, error: UcError, space: str, read_code: Callable[[int, int], bytes]) -> Trap | Fault | None:
        # Unicorn 2.1.4 ends emu_start with UC_ERR_INSN_INVALID on EBREAK and C.EBREAK
        # instead of calling the interrupt hook with cause 3.
        if error.errno == UC_ERR_INSN_INVALID:
            pc = self.pc
            try:
                code = read_code(pc, 4)
            except Exception:
                code = b""
            if code[:2] == C_EBREAK or code[:4] == EBREAK:
                return Trap(TrapKind.BREAKPOINT, pc)
        return super().decode_error(error, space, read_code)

    def prepare_user_entry(self, resume_at: int) -> None:
        """Set MEPC and MSTATUS.MPP so that the trampoline's `mret` lands in U-mode at `resume_at`."""
        self.uc.reg_write(R.UC_RISCV_REG_MEPC, resume_at)
        self.uc.reg_write(R.UC_RISCV_REG_MSTATUS, self.uc.reg_read(R.UC_RISCV_REG_MSTATUS) & ~MSTATUS_MPP)

    def enter_user_mode(self) -> None:
        # The machine runs USER_ENTRY_CODE after prepare_user_entry; this records it.
        self.user_mode = True

    def reset(self) -> None:
        for name in ABI_NAMES[1:]:
            self.write(name, 0)
        self.user_mode = False
