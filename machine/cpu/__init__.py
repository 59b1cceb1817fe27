"""CPU models, one module per ISA, resolved by the name a board file gives."""

from .arm import CortexM3
from .base import Cpu, Trap, TrapKind
from .riscv import Rv32

CPU_TYPES: dict[str, type[Cpu]] = {
    CortexM3.ISA: CortexM3,
    Rv32.ISA: Rv32,
}

#: CPU models each ISA accepts in a board file
CPU_MODELS: dict[str, tuple[str, ...]] = {
    CortexM3.ISA: ("cortex-m3",),
    Rv32.ISA: ("sifive-e31",),
}

__all__ = ["CPU_MODELS", "CPU_TYPES", "CortexM3", "Cpu", "Rv32", "Trap", "TrapKind"]
