"""Cortex-M3 NVIC, as the peripheral that answers the System Control Space.

Mapped at 0xE000E000 (4 KiB). It models the external-interrupt half of the NVIC
(ARMv7-M ARM B3.4, Cortex-M3 TRM chapter 8): per line an enable, a pending and
an active bit and a priority byte of which the top `priority_bits` bits exist
(the rest read 0), the SET/CLEAR register pairs, IABR, ICTR and STIR, plus a
read-only CPUID (Cortex-M3 r2p1). The SysTick and SCB registers a bare-metal
program uses (SYST_CSR/RVR/CVR/CALIB, ICSR, VTOR, AIRCR, SCR, CCR, SHPR1-3, SHCSR,
CFSR, HFSR, MMFAR, BFAR) are declared and store what is written; their behaviour
comes from the guest exception model when one is attached (`system`, see
machine/exceptions/armv7m.py), which also keeps its state in this peripheral's
snapshot and holds SysTick's clock event here (`systick_event`). The other SCS
registers are declared but not implemented, so guest accesses to them are logged
by name.

Lines are level inputs. A line becomes pending on a rising level, and whenever
it is high while not active; pending stays latched when the level drops (ICPR
clears it, unless the line is still high and not active). The kernel, not the
CPU, takes interrupts: `claim()` moves the most urgent enabled pending line to
active, `complete()` ends it (a line still high becomes pending again). Most
urgent means the lowest priority value, then the lowest number; there is no
preemption or priority grouping. `listener` is called whenever an enabled line
may have become pending.
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar

from ..clock import Clock
from ..irq import InterruptController
from ..peripheral import Peripheral
from ..regs import Access, Field, Register, RegisterMap

CPUID_CORTEX_M3_R2P1 = 0x412FC231
MAX_IRQ = 240   # IPR0-59 hold 240 priority bytes

#: SCS registers this model declares but does not implement (accesses are logged)
_UNMODELLED = (
    (0x008, "ACTLR"), (0xD30, "DFSR"), (0xD3C, "AFSR"),
    (0xD40, "ID_PFR0"), (0xD44, "ID_PFR1"), (0xD48, "ID_DFR0"), (0xD4C, "ID_AFR0"),
    (0xD50, "ID_MMFR0"), (0xD54, "ID_MMFR1"), (0xD58, "ID_MMFR2"), (0xD5C, "ID_MMFR3"),
    (0xD60, "ID_ISAR0"), (0xD64, "ID_ISAR1"), (0xD68, "ID_ISAR2"), (0xD6C, "ID_ISAR3"), (0xD70, "ID_ISAR4"),
    (0xD90, "MPU_TYPE"), (0xD94, "MPU_CTRL"), (0xD98, "MPU_RNR"), (0xD9C, "MPU_RBAR"), (0xDA0, "MPU_RASR"),
    (0xDF0, "DHCSR"), (0xDF4, "DCRSR"), (0xDF8, "DCRDR"), (0xDFC, "DEMCR"),
)

#: SysTick and SCB registers the guest exception model gives behaviour (plain storage without it)
SYSTEM_REGISTERS = (
    (0x010, "SYST_CSR"), (0x014, "SYST_RVR"), (0x018, "SYST_CVR"), (0x01C, "SYST_CALIB"),
    (0xD04, "ICSR"), (0xD08, "VTOR"), (0xD0C, "AIRCR"), (0xD10, "SCR"), (0xD14, "CCR"),
    (0xD18, "SHPR1"), (0xD1C, "SHPR2"), (0xD20, "SHPR3"), (0xD24, "SHCSR"), (0xD28, "CFSR"),
    (0xD2C, "HFSR"), (0xD34, "MMFAR"), (0xD38, "BFAR"),
)

#: the 32-bit-per-word bit arrays: name, base offset
_BANKS = (("ISER", 0x100), ("ICER", 0x180), ("ISPR", 0x200), ("ICPR", 0x280), ("IABR", 0x300))


class Nvic(InterruptController, Peripheral):
    PARAMS: ClassVar[dict[str, type]] = {"num_irq": int, "priority_bits": int}
    IRQS = ()
    REGISTERS = RegisterMap([
        Register(0x004, "ICTR", [Field("INTLINESNUM", 0, 4, Access.RO)]),
        *(Register(base + 4 * n, f"{bank}{n}", [Field(bank, 0, 32)]) for bank, base in _BANKS for n in range(8)),
        *(Register(0x400 + 4 * n, f"IPR{n}", [Field(f"PRI_{4 * n + i}", 8 * i, 8) for i in range(4)])
          for n in range(MAX_IRQ // 4)),
        Register(0xD00, "CPUID", [
            Field("Revision", 0, 4, Access.RO, CPUID_CORTEX_M3_R2P1 & 0xF),
            Field("PartNo", 4, 12, Access.RO, CPUID_CORTEX_M3_R2P1 >> 4 & 0xFFF),
            Field("Constant", 16, 4, Access.RO, CPUID_CORTEX_M3_R2P1 >> 16 & 0xF),
            Field("Variant", 20, 4, Access.RO, CPUID_CORTEX_M3_R2P1 >> 20 & 0xF),
            Field("Implementer", 24, 8, Access.RO, CPUID_CORTEX_M3_R2P1 >> 24)]),
        *(Register(off, name, [Field(name, 0, 32)]) for off, name in SYSTEM_REGISTERS),
        *(Register(off, name, implemented=False) for off, name in _UNMODELLED),
        Register(0xF00, "STIR", [Field("INTID", 0, 9, Access.WO)]),
    ])

    def __init__(self, name: str, clock: Clock, *, num_irq: int = 32, priority_bits: int = 3) -> None:
        if not isinstance(num_irq, int) or not 1 <= num_irq <= MAX_IRQ:
            raise ValueError(f"{name}: num_irq must be an integer in 1..{MAX_IRQ}, not {num_irq!r}")
        if not isinstance(priority_bits, int) or not 1 <= priority_bits <= 8:
            raise ValueError(f"{name}: priority_bits must be an integer in 1..8, not {priority_bits!r}")
        super().__init__(name, clock)
        self.num_lines = num_irq
        self.first_line = 0
        self.priority_bits = priority_bits
        self.listener: Callable[[], None] | None = None
        #: the guest exception model serving the SysTick/SCB registers (None: plain storage)
        self.system: Any = None
        #: SysTick's next clock event, held here so that snapshots recreate it (see `system`)
        self.systick_event: Any = None
        self._all = (1 << num_irq) - 1
        self._enabled = self._pending = self._active = self._level = 0
        for n in range(8):
            self.on_read(f"ISER{n}", lambda n=n: self._word(self._enabled, n))
            self.on_read(f"ICER{n}", lambda n=n: self._word(self._enabled, n))
            self.on_read(f"ISPR{n}", lambda n=n: self._word(self._pending, n))
            self.on_read(f"ICPR{n}", lambda n=n: self._word(self._pending, n))
            self.on_read(f"IABR{n}", lambda n=n: self._word(self._active, n))
            self.on_write(f"ISER{n}", lambda v, n=n: self._enable(self._bits(v, n), True))
            self.on_write(f"ICER{n}", lambda v, n=n: self._enable(self._bits(v, n), False))
            self.on_write(f"ISPR{n}", lambda v, n=n: self._pend(self._bits(v, n)))
            self.on_write(f"ICPR{n}", lambda v, n=n: self._unpend(self._bits(v, n)))
            self.on_write(f"IABR{n}", lambda v: None)   # read-only
        for n in range(MAX_IRQ // 4):
            self.on_write(f"IPR{n}", lambda v, n=n: self.set(f"IPR{n}", v & self._priority_mask(n)))
        self.on_read("ICTR", lambda: (num_irq + 31) // 32 - 1)
        self.on_write("STIR", self._write_stir)

    # -- register helpers ------------------------------------------------------------------

    def _word(self, bits: int, n: int) -> int:
        return bits >> (32 * n) & 0xFFFF_FFFF

    def _bits(self, value: int, n: int) -> int:
        return (value << (32 * n)) & self._all

    def _priority_mask(self, n: int) -> int:
        """Implemented bits of IPRn: the top `priority_bits` of each byte of an existing line."""
        byte = (0xFF << (8 - self.priority_bits)) & 0xFF
        return sum(byte << (8 * i) for i in range(4) if 4 * n + i < self.num_lines)

    def _write_stir(self, value: int) -> None:
        line = value & 0x1FF
        if line < self.num_lines:
            self._pend(1 << line)

    def priority(self, line: int) -> int:
        """The priority byte of `line` as the guest reads it (lower is more urgent)."""
        return self.get(f"IPR{line // 4}") >> (8 * (line % 4)) & 0xFF

    # -- state changes -----------------------------------------------------------------------

    def _notify(self, newly: int) -> None:
        if newly & self._enabled & self._pending and self.listener is not None:
            self.listener()

    def _pend(self, bits: int) -> None:
        newly = bits & ~self._pending
        self._pending |= bits
        self._notify(newly)

    def _unpend(self, bits: int) -> None:
        self._pending &= ~bits
        self._pend(bits & self._level & ~self._active)   # a level still high pends again

    def _enable(self, bits: int, enabled: bool) -> None:
        newly = bits & ~self._enabled
        self._enabled = self._enabled | bits if enabled else self._enabled & ~bits
        if enabled:
            self._notify(newly)

    def _check_line(self, line: int) -> None:
        if not isinstance(line, int) or not 0 <= line < self.num_lines:
            raise ValueError(f"{self.name}: interrupt line must be an integer in 0..{self.num_lines - 1}, "
                             f"not {line!r}")

    # -- InterruptController ---------------------------------------------------------------

    def set_line(self, line: int, level: bool) -> None:
        self._check_line(line)
        bit = 1 << line
        if level:
            rising = not self._level & bit
            self._level |= bit
            if rising or not self._active & bit:
                self._pend(bit)
        else:
            self._level &= ~bit

    def pending(self) -> list[int]:
        ready = self._enabled & self._pending
        lines = [n for n in range(self.num_lines) if ready >> n & 1]
        return sorted(lines, key=lambda n: (self.priority(n), n))

    def set_enabled(self, line: int, enabled: bool) -> None:
        self._check_line(line)
        self._enable(1 << line, enabled)

    def is_enabled(self, line: int) -> bool:
        self._check_line(line)
        return bool(self._enabled >> line & 1)

    def is_pending(self, line: int) -> bool:
        self._check_line(line)
        return bool(self._pending >> line & 1)

    def is_active(self, line: int) -> bool:
        self._check_line(line)
        return bool(self._active >> line & 1)

    def claim(self) -> int | None:
        ready = self.pending()
        if not ready:
            return None
        line = ready[0]
        self._pending &= ~(1 << line)
        self._active |= 1 << line
        return line

    # -- for the guest exception model (the CPU takes the lines itself) ------------------

    @property
    def deliverable(self) -> int:
        """Lines pending and enabled, one bit per line."""
        return self._enabled & self._pending

    @property
    def active_lines(self) -> int:
        """Lines active, one bit per line."""
        return self._active

    def activate(self, line: int) -> None:
        """The CPU takes `line`: pending to active."""
        self._pending &= ~(1 << line)
        self._active |= 1 << line

    def complete(self, line: int) -> None:
        self._check_line(line)
        self._active &= ~(1 << line)
        if self._level >> line & 1:
            self._pend(1 << line)

    # -- life cycle ------------------------------------------------------------------------

    def reset_state(self) -> None:
        """Enables, pending and active bits clear; input levels are the wires' and stay."""
        self._enabled = self._active = 0
        self._pending = self._level
        if self.system is not None:
            self.system.reset()

    def extra_state(self) -> Any:
        return {"enabled": self._enabled, "pending": self._pending, "active": self._active, "level": self._level,
                "system": None if self.system is None else self.system.state()}

    def restore_extra_state(self, state: Any) -> None:
        self._enabled, self._pending = state["enabled"], state["pending"]
        self._active, self._level = state["active"], state["level"]
        if self.system is not None:
            self.system.set_state(state.get("system"))
