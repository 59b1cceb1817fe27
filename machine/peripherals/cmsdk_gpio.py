"""CMSDK AHB GPIO (ARM DDI0479, Cortex-M System Design Kit TRM, "AHB GPIO").

Sixteen pins. Each has an output latch (DATAOUT), an output enable, an alternate
function select, and an interrupt configured by enable, type (0 level, 1 edge)
and polarity (0 low/falling, 1 high/rising). The enable, type, polarity, output
enable and alternate function registers are written through SET/CLR pairs, and
both registers of a pair read the current value. DATA reads the pad levels and
writes the output latch; the masked areas MASKLOWBYTE (0x400-0x7FC) and
MASKHIGHBYTE (0x800-0xBFC) use address bits [9:2] as a bit mask over pins 7:0
or 15:8, for reads and writes, so code changes single pins without
read-modify-write.

Invariants (as the part's RTL): INTSTATUS bits latch for both types; a level
interrupt re-latches as long as its level holds, so clearing it only sticks once
the level is gone; an edge latches once per edge. Conditions are masked by the
interrupt enable when they occur. The pad level of a pin is its output latch if
output-enabled, else what the host drives (a released pin reads 0). The 2-cycle
input synchroniser is not modelled: a driven level is visible at once.
Alternate functions are stored but route nothing (no alternate peripherals are
modelled), so a pin keeps its GPIO behaviour.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..clock import Clock
from ..peripheral import Peripheral
from ..regs import Access, Field, Register, RegisterMap
from .cmsdk_ids import id_registers
from .gpio_pads import GpioPads

NUM_PINS = 16
PINS_MASK = (1 << NUM_PINS) - 1

#: SET/CLR pairs; the value lives in the SET register's storage
_PAIRS = (("OUTEN", 0x010), ("ALTFUNC", 0x018), ("INTEN", 0x020), ("INTTYPE", 0x028), ("INTPOL", 0x030))


def _pins(name: str) -> list[Field]:
    return [Field(name, 0, NUM_PINS)]


def _masked(base: int, prefix: str, lsb: int) -> list[Register]:
    return [Register(base + 4 * m, f"{prefix}{m:02X}", [Field("DATA", lsb, 8)]) for m in range(256)]


class CmsdkGpio(GpioPads, Peripheral):

    NUM_PINS: ClassVar[int] = NUM_PINS
    PARAMS: ClassVar[dict[str, type]] = {}
    IRQS = ("combined", *(f"pin{i}" for i in range(NUM_PINS)))
    REGISTERS = RegisterMap([
        Register(0x000, "DATA", _pins("DATA"), doc="read: pad levels; write: DATAOUT"),
        Register(0x004, "DATAOUT", _pins("DATAOUT")),
        *(r for name, off in _PAIRS for r in (Register(off, f"{name}SET", _pins(name)),
                                              Register(off + 4, f"{name}CLR", _pins(name)))),
        Register(0x038, "INTSTATUS", [Field("INTSTATUS", 0, NUM_PINS, Access.W1C)],
                 doc="read: INTSTATUS; write: INTCLEAR"),
        *_masked(0x400, "MASKLOWBYTE", 0),
        *_masked(0x800, "MASKHIGHBYTE", 8),
        *id_registers(0x820),
    ])

    def __init__(self, name: str, clock: Clock) -> None:
        super().__init__(name, clock)
        self._init_pads()
        self._intstat = 0
        self._pads = 0
        self._outen_before = 0   # output enables as of the last pad update
        self.on_read("DATA", lambda: self._pads)
        self.on_write("DATA", self._write_dataout)
        self.on_write("DATAOUT", self._write_dataout)
        for name, _ in _PAIRS:
            self.on_read(f"{name}CLR", lambda s=f"{name}SET": self.get(s))
            self.on_write(f"{name}SET", lambda v, s=f"{name}SET": self._set_bits(s, self.get(s) | v))
            self.on_write(f"{name}CLR", lambda v, s=f"{name}SET": self._set_bits(s, self.get(s) & ~v))
        self.on_read("INTSTATUS", lambda: self._intstat)
        self.on_write("INTSTATUS", self._write_intclear)
        for m in range(256):
            self.on_read(f"MASKLOWBYTE{m:02X}", lambda m=m: self._pads & m)
            self.on_write(f"MASKLOWBYTE{m:02X}", lambda v, m=m: self._write_masked(v, m))
            self.on_read(f"MASKHIGHBYTE{m:02X}", lambda m=m: self._pads & (m << 8))
            self.on_write(f"MASKHIGHBYTE{m:02X}", lambda v, m=m: self._write_masked(v, m << 8))

    # -- host side ---------------------------------------------------------------------

    def _pads_may_have_changed(self) -> None:
        self._update_pads()

    # -- registers -----------------------------------------------------------------------

    def _write_dataout(self, value: int) -> None:
        # DATA mirrors DATAOUT in storage so that a byte write to DATA keeps the other byte.
        self.set("DATAOUT", value & PINS_MASK)
        self.set("DATA", value & PINS_MASK)
        self._update_pads()

    def _write_masked(self, value: int, mask: int) -> None:
        self._write_dataout(self.get("DATAOUT") & ~mask | value & mask)

    def _set_bits(self, register: str, value: int) -> None:
        self.set(register, value & PINS_MASK)
        self._update_pads()

    def _write_intclear(self, value: int) -> None:
        self._intstat &= ~value
        self._latch(self._pads, self._pads)   # a level still present latches again
        self.update_irq()

    # -- pads and interrupts -----------------------------------------------------------

    def _compute_pads(self) -> int:
        outen = self.get("OUTENSET")
        return (self.get("DATAOUT") & outen) | (self._driven_high() & ~outen & PINS_MASK)

    def _update_pads(self) -> None:
        old, new = self._pads, self._compute_pads()
        self._pads = new
        outen = self.get("OUTENSET")
        self._log_edges(old, new, outen | self._outen_before)  # output-enabled before or after
        self._outen_before = outen
        self._latch(old, new)
        self.update_irq()

    def _latch(self, old: int, new: int) -> None:
        inttype, intpol = self.get("INTTYPESET"), self.get("INTPOLSET")
        level = ~inttype & (new & intpol | ~new & ~intpol)
        edge = inttype & (new & ~old & intpol | old & ~new & ~intpol)
        self._intstat |= (level | edge) & self.get("INTENSET") & PINS_MASK

    def update_irq(self) -> None:
        self.irq["combined"].set(self._intstat != 0)
        for pin in range(NUM_PINS):
            self.irq[f"pin{pin}"].set(self._intstat >> pin & 1)

    # -- life cycle ----------------------------------------------------------------------

    def reset_state(self) -> None:
        """Output latches and enables are back to 0; what the host drives stays driven."""
        self._intstat = 0
        self._pads = self._compute_pads()
        self._outen_before = 0

    def extra_state(self) -> Any:
        return {"intstat": self._intstat, "driven": dict(self._driven)}

    def restore_extra_state(self, state: Any) -> None:
        self._intstat = state["intstat"]
        self._driven = {int(pin): bool(high) for pin, high in state["driven"].items()}
        self._pads = self._compute_pads()
        self._outen_before = self.get("OUTENSET")
