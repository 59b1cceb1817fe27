"""What every CPU model offers the machine: registers by name, traps, contexts.

A CPU wraps one Unicorn engine for one ISA. It knows its register names (in the
order debuggers list them), how to turn a Unicorn interrupt number into either a
`Trap` (a syscall or breakpoint the kernel or debugger handles) or a `Fault`
(the running code did something it may not), and how to drop to user mode.
"""

from __future__ import annotations

import ctypes
import enum
from dataclasses import dataclass
from typing import Callable, ClassVar

from unicorn import Uc, UcError
from unicorn.unicorn_const import UC_ERR_INSN_INVALID

from ..memory import Fault, FaultKind


class TrapKind(enum.StrEnum):
    SYSCALL = "syscall"
    BREAKPOINT = "breakpoint"
    WAIT = "wait"


@dataclass(frozen=True)
class Trap:
    """A deliberate entry into the kernel or debugger.

    kind (a `TrapKind`): "syscall" (SVC/ECALL; `pc` is already past the instruction),
    "breakpoint" (BKPT/EBREAK; `pc` is at the instruction) or
    "wait" (WFI: the CPU has nothing to do until an interrupt).
    """

    kind: TrapKind
    pc: int
    number: int = 0


class Cpu:
    """Base of the per-ISA CPU models."""

    ISA: ClassVar[str]
    #: the interrupt numbers Unicorn gives a syscall trap
    SYSCALL_TRAPS: ClassVar[tuple[int, ...]]
    #: register names in debugger order, mapped to Unicorn register ids
    REGISTERS: ClassVar[dict[str, int]]
    #: other names accepted by `read`/`write` (ABI names) -> canonical names
    ALIASES: ClassVar[dict[str, str]] = {}
    PC: ClassVar[int]
    SP: ClassVar[int]
    #: syscall argument/return registers, in order
    ARG_REGISTERS: ClassVar[tuple[str, ...]]

    def __init__(self, uc: Uc) -> None:
        self.uc = uc
        self.user_mode = False
        # The pc is read on every trap: straight through Unicorn's C API (pinned
        # exactly) rather than the binding's generic register path.
        from unicorn.unicorn_py3 import unicorn as binding
        self._uc_reg_read = binding.uclib.uc_reg_read
        self._uch = uc._uch
        self._pc_value = ctypes.c_uint64()
        self._pc_ref = ctypes.byref(self._pc_value)

    # -- registers -------------------------------------------------------------

    def _id(self, name: str) -> int:
        canonical = self.ALIASES.get(name, name)
        try:
            return self.REGISTERS[canonical]
        except KeyError:
            raise KeyError(f"{self.ISA} has no register named {name!r}") from None

    def read(self, name: str) -> int:
        return self.uc.reg_read(self._id(name))

    def write(self, name: str, value: int) -> None:
        self.uc.reg_write(self._id(name), value & 0xFFFFFFFF)

    def registers(self) -> dict[str, int]:
        ids = list(self.REGISTERS.values())
        values = self.uc.reg_read_batch(ids)
        return dict(zip(self.REGISTERS, values))

    @property
    def pc(self) -> int:
        if self._uc_reg_read(self._uch, self.PC, self._pc_ref):
            return self.uc.reg_read(self.PC)  # let the binding raise the error
        return self._pc_value.value & 0xFFFF_FFFF

    @pc.setter
    def pc(self, value: int) -> None:
        self.uc.reg_write(self.PC, value)

    @property
    def sp(self) -> int:
        return self.uc.reg_read(self.SP)

    @sp.setter
    def sp(self, value: int) -> None:
        self.uc.reg_write(self.SP, value)

    def start_address(self) -> int:
        """The address to pass to `emu_start` to resume at the current pc."""
        return self.pc

    # -- per ISA -----------------------------------------------------------------

    def decode_trap(self, intno: int, space: str) -> Trap | Fault:
        raise NotImplementedError

    def decode_error(self, error: UcError, space: str, read_code: Callable[[int, int], bytes]) -> Trap | Fault | None:
        """What an emulator error that is not a memory error means, or None.

        `read_code(address, size)` reads instruction bytes through the active space
        (for ISAs whose breakpoints Unicorn reports as invalid instructions).
        """
        if error.errno == UC_ERR_INSN_INVALID:
            return Fault(FaultKind.UNDEFINED_INSTRUCTION, self.pc, space, detail="undefined instruction")
        return None

    def enter_user_mode(self) -> None:
        """From now on the CPU runs unprivileged (ARM thread mode / RISC-V U-mode)."""
        raise NotImplementedError

    def reset(self) -> None:
        """Registers to their reset values (the machine then sets pc and sp)."""
        raise NotImplementedError
