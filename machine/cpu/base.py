"""What every CPU model offers the machine: registers by name, traps, ISA facts.

A CPU wraps one Unicorn engine for one ISA. It knows its register names (in the
order debuggers list them), how to turn a Unicorn interrupt number into either a
`Trap` (a syscall or breakpoint the kernel or debugger handles) or a `Fault`
(the running code did something it may not), and how to drop to user mode.

Everything a tool needs to know about the ISA is here too, so nothing outside
`machine/cpu/` asks which ISA it is: the registers of the syscall ABI, the return
and link registers, how a code address and a code pointer differ (the Thumb bit),
the register list and names GDB expects, DWARF register numbers, the capstone
disassembler and the fill pattern that makes a page undefined instructions.
"""

from __future__ import annotations

import ctypes
import enum
from dataclasses import dataclass
from typing import Callable, ClassVar

import capstone
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
    #: the register that carries the syscall number
    SYSCALL_NUMBER_REGISTER: ClassVar[str]
    #: where a function returns its value
    RETURN_REGISTER: ClassVar[str]
    #: where a call leaves its return address
    LINK_REGISTER: ClassVar[str]
    #: the registers GDB reads with `g`, in its order (the target description's regnums)
    GDB_REGISTERS: ClassVar[tuple[str, ...]]
    #: the target description's architecture and feature names
    GDB_ARCHITECTURE: ClassVar[str]
    GDB_FEATURE: ClassVar[str]
    #: register names by DWARF register number (call frame information), up to the pc
    DWARF_REGISTERS: ClassVar[tuple[str, ...]]
    #: two bytes that, repeated over a page, make every instruction in it undefined
    UNDEFINED_FILL: ClassVar[bytes]
    #: capstone's architecture and mode for this ISA
    CAPSTONE: ClassVar[tuple[int, int]]

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

    @classmethod
    def register_id(cls, name: str) -> int:
        """The Unicorn id of register `name` (a canonical or ABI name); `KeyError` if there is none."""
        canonical = cls.ALIASES.get(name, name)
        try:
            return cls.REGISTERS[canonical]
        except KeyError:
            raise KeyError(f"{cls.ISA} has no register named {name!r}") from None

    def read(self, name: str) -> int:
        return self.uc.reg_read(self.register_id(name))

    def write(self, name: str, value: int) -> None:
        self.uc.reg_write(self.register_id(name), value & 0xFFFFFFFF)

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

    # -- code addresses --------------------------------------------------------

    @staticmethod
    def code_address(value: int) -> int:
        """The address of the instruction a code pointer or pc value names."""
        return value

    @staticmethod
    def code_pointer(address: int) -> int:
        """The value a pc (or a branch) needs to run the instruction at `address`."""
        return address

    @staticmethod
    def instruction_length(first_halfword: int) -> int:
        """The length in bytes of the instruction whose first (little-endian) halfword is given."""
        return 2 if first_halfword & 3 != 3 else 4   # RISC-V: 16-bit unless the low bits are 11

    @classmethod
    def disassembler(cls) -> capstone.Cs:
        """A capstone disassembler for this ISA's code."""
        return capstone.Cs(*cls.CAPSTONE)

    @classmethod
    def dwarf_number(cls, name: str) -> int:
        """The DWARF register number of register `name`."""
        return cls.DWARF_REGISTERS.index(name)

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
