"""ARM Cortex-M3 (ARMv7-M, Thumb-2) on Unicorn.

User code runs in unprivileged thread mode (CONTROL.nPRIV = 1). Unicorn reports
exceptions through its interrupt hook with QEMU's numbers; SVC arrives with the pc
already past the instruction. Unicorn does not enter guest exception handlers, so
nothing here models exception entry: the kernel above handles every trap.
A Cortex-M start address carries the Thumb bit (`start_address`).

Every engine gets an `ItStateGuard` before anything else hooks it: Unicorn writes a
stale Thumb IT state into the CPU on a TLB miss inside an IT block, which then turns
later ordinary instructions into conditional ones (machine/native/itstate.c).
"""

from __future__ import annotations

from typing import Callable

import capstone
from unicorn import Uc, UcError
from unicorn.unicorn_const import UC_ERR_INSN_INVALID
from unicorn import arm_const as A
from unicorn.unicorn_const import UC_ARCH_ARM, UC_MODE_MCLASS, UC_MODE_THUMB

from ..itstate import ItStateGuard
from ..memory import Fault, FaultKind
from .base import Cpu, Trap, TrapKind

# QEMU's ARM exception numbers, as Unicorn hands them to the interrupt hook.
EXCP_UDEF = 1
EXCP_SWI = 2
EXCP_PREFETCH_ABORT = 3
EXCP_DATA_ABORT = 4
EXCP_BKPT = 7
EXCP_EXCEPTION_EXIT = 8
EXCP_NOCP = 17
EXCP_INVSTATE = 18
EXCP_UNALIGNED = 22
XPSR_T = 1 << 24

_FAULTS = {
    EXCP_UDEF: (FaultKind.UNDEFINED_INSTRUCTION, "undefined instruction"),
    EXCP_NOCP: (FaultKind.UNDEFINED_INSTRUCTION, "coprocessor instruction on a core without one"),
    EXCP_INVSTATE: (FaultKind.ILLEGAL_STATE, "branch to ARM state on a Thumb-only core"),
    EXCP_EXCEPTION_EXIT: (FaultKind.ILLEGAL_STATE, "exception return outside an exception"),
    EXCP_UNALIGNED: (FaultKind.MISALIGNED, "unaligned access"),
    EXCP_PREFETCH_ABORT: (FaultKind.BUS_ERROR, "prefetch abort"),
    EXCP_DATA_ABORT: (FaultKind.BUS_ERROR, "data abort"),
}

_CORE = {f"r{i}": getattr(A, f"UC_ARM_REG_R{i}") for i in range(13)}


class CortexM3(Cpu):
    ISA = "armv7m"
    #: the interrupt numbers Unicorn gives a syscall trap (SVC)
    SYSCALL_TRAPS = (EXCP_SWI,)
    REGISTERS = {
        **_CORE,
        "sp": A.UC_ARM_REG_SP,
        "lr": A.UC_ARM_REG_LR,
        "pc": A.UC_ARM_REG_PC,
        "xpsr": A.UC_ARM_REG_XPSR,
        "msp": A.UC_ARM_REG_MSP,
        "psp": A.UC_ARM_REG_PSP,
        "primask": A.UC_ARM_REG_PRIMASK,
        "basepri": A.UC_ARM_REG_BASEPRI,
        "faultmask": A.UC_ARM_REG_FAULTMASK,
        "control": A.UC_ARM_REG_CONTROL,
    }
    ALIASES = {"r13": "sp", "r14": "lr", "r15": "pc", "ip": "r12", "fp": "r7"}
    PC = A.UC_ARM_REG_PC
    SP = A.UC_ARM_REG_SP
    ARG_REGISTERS = ("r0", "r1", "r2", "r3", "r4", "r5", "r6")
    #: r7 is the Thumb frame pointer for clang, so the number travels in r12 (ip)
    SYSCALL_NUMBER_REGISTER = "r12"
    RETURN_REGISTER = "r0"
    LINK_REGISTER = "lr"
    GDB_REGISTERS = (*_CORE, "sp", "lr", "pc", "xpsr")
    GDB_ARCHITECTURE = "arm"
    GDB_FEATURE = "org.gnu.gdb.arm.m-profile"
    DWARF_REGISTERS = (*_CORE, "sp", "lr", "pc")
    #: `udf #0xfe` (0xdefe, little-endian)
    UNDEFINED_FILL = b"\xfe\xde"
    CAPSTONE = (capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)

    @classmethod
    def create(cls, model: str) -> "CortexM3":
        uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
        uc.ctl_set_cpu_model(A.UC_CPU_ARM_CORTEX_M3)
        cpu = cls(uc)
        cpu.it_guard = ItStateGuard(uc)   # the first TLB-fill hook, so it sees every miss
        return cpu

    @Cpu.pc.getter
    def pc(self) -> int:
        return Cpu.pc.fget(self)

    @pc.setter
    def pc(self, value: int) -> None:
        # ARMv7-M has only Thumb state: keep the Thumb bit whatever the caller passes
        self.uc.reg_write(self.PC, value | 1)

    def start_address(self) -> int:
        return self.pc | 1

    @staticmethod
    def code_address(value: int) -> int:
        return value & ~1       # the Thumb bit is not part of the address

    @staticmethod
    def code_pointer(address: int) -> int:
        return address | 1      # Thumb state only

    @staticmethod
    def instruction_length(first_halfword: int) -> int:
        return 4 if first_halfword >> 11 in (0b11101, 0b11110, 0b11111) else 2   # Thumb-2 32-bit prefixes

    def decode_trap(self, intno: int, space: str) -> Trap | Fault:
        pc = self.pc
        if intno == EXCP_SWI:
            return Trap(TrapKind.SYSCALL, pc)
        if intno == EXCP_BKPT:
            return Trap(TrapKind.BREAKPOINT, pc)
        kind, detail = _FAULTS.get(intno, (FaultKind.CPU_ERROR, f"exception {intno}"))
        return Fault(kind, pc, space, detail=detail)

    def decode_error(self, error: UcError, space: str, read_code: Callable[[int, int], bytes]) -> Trap | Fault | None:
        # A branch with the Thumb bit clear leaves xPSR.T clear; Unicorn then fails
        # to decode ARM-state code and reports an invalid instruction.
        if error.errno == UC_ERR_INSN_INVALID and not self.read("xpsr") & XPSR_T:
            return Fault(FaultKind.ILLEGAL_STATE, self.pc, space,
                         detail="execution in ARM state (Thumb bit clear) on a Thumb-only core")
        return super().decode_error(error, space, read_code)

    def enter_user_mode(self) -> None:
        self.write("control", self.read("control") | 1)
        self.user_mode = True

    def reset(self) -> None:
        for name in _CORE:
            self.write(name, 0)
        self.write("lr", 0xFFFFFFFF)
        self.write("control", 0)
        self.write("primask", 0)
        self.write("xpsr", XPSR_T)  # Thumb state
        self.user_mode = False
