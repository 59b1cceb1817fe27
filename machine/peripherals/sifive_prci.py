"""FE310-G002 PRCI, the power, reset, clock and interrupt block's clock half (SiFive
FE310-G002 Manual, chapter "Clock Generation (PRCI)"), at 0x1000_8000.

Registers (offset, name: fields, reset):
- 0x00 hfrosccfg: hfroscdiv 5:0 (4), hfrosctrim 20:16 (16), hfroscen 30 (1), hfroscrdy 31 (RO);
- 0x04 hfxosccfg: hfxoscen 30 (1), hfxoscrdy 31 (RO);
- 0x08 pllcfg: pllr 2:0 (1), pllf 9:4 (0x1F), pllq 11:10 (3), pllsel 16 (0), pllrefsel 17 (1),
  pllbypass 18 (1), plllock 31 (RO);
- 0x0C plloutdiv: plloutdiv 5:0 (0), plloutdivby1 8 (1);
- 0xF0 procmoncfg: procmondivsel 4:0, procmondelaysel 12:8, procmonen 16, procmonsel 25:24
  (stored; the process monitor itself is not modelled).
Ready and lock bits, which start-up code spins on:
- hfroscrdy and hfxoscrdy read 1 while their oscillator is enabled (the oscillators' start-up
  time is not modelled);
- plllock reads 1 once the PLL has run unbypassed with unchanged pllr/pllf/pllq for
  `PLL_LOCK_SECONDS` of virtual time (the manual's lock time is about 100 us), else 0.
`hfclk_hz()` gives the core clock the settings select (HFROSC at 72 MHz / (hfroscdiv + 1) with
the trim ignored, or the PLL from the 16 MHz HFXOSC or the HFROSC, through plloutdiv). The
machine's clock does not follow it: the board's CPU runs at the fixed frequency its file says.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..clock import Clock
from ..peripheral import Peripheral
from ..regs import Access, Field, Register, RegisterMap

PLL_LOCK_SECONDS = 100e-6
HFROSC_HZ = 72_000_000
HFXOSC_HZ = 16_000_000
_PLL_SHAPE = ("pllr", "pllf", "pllq", "pllbypass")


class SifivePrci(Peripheral):
    PARAMS: ClassVar[dict[str, type]] = {}
    IRQS = ()
    WINDOW = 0x1000
    REGISTERS = RegisterMap([
        Register(0x00, "hfrosccfg", [Field("hfroscdiv", 0, 6, Access.RW, 4), Field("hfrosctrim", 16, 5, Access.RW, 16),
                                     Field("hfroscen", 30, 1, Access.RW, 1), Field("hfroscrdy", 31, 1, Access.RO)]),
        Register(0x04, "hfxosccfg", [Field("hfxoscen", 30, 1, Access.RW, 1), Field("hfxoscrdy", 31, 1, Access.RO)]),
        Register(0x08, "pllcfg", [Field("pllr", 0, 3, Access.RW, 1), Field("pllf", 4, 6, Access.RW, 0x1F),
                                  Field("pllq", 10, 2, Access.RW, 3), Field("pllsel", 16), Field("pllrefsel", 17, 1, Access.RW, 1),
                                  Field("pllbypass", 18, 1, Access.RW, 1), Field("plllock", 31, 1, Access.RO)]),
        Register(0x0C, "plloutdiv", [Field("plloutdiv", 0, 6), Field("plloutdivby1", 8, 1, Access.RW, 1)]),
        Register(0xF0, "procmoncfg", [Field("procmondivsel", 0, 5), Field("procmondelaysel", 8, 5),
                                      Field("procmonen", 16), Field("procmonsel", 24, 2)]),
    ])

    def __init__(self, name: str, clock: Clock) -> None:
        super().__init__(name, clock)
        self._pll_changed = clock.now
        self.on_read("hfrosccfg", lambda: self._with_ready("hfrosccfg", "hfroscen"))
        self.on_read("hfxosccfg", lambda: self._with_ready("hfxosccfg", "hfxoscen"))
        self.on_read("pllcfg", self._read_pllcfg)
        self.on_write("pllcfg", self._write_pllcfg)

    def _with_ready(self, register: str, enable: str) -> int:
        return self.get(register) | self.get(register, enable) << 31

    def pll_locked(self) -> bool:
        if self.get("pllcfg", "pllbypass"):
            return False
        return self.clock.now - self._pll_changed >= self.clock.cycles(PLL_LOCK_SECONDS)

    def _read_pllcfg(self) -> int:
        return self.get("pllcfg") | int(self.pll_locked()) << 31

    def _write_pllcfg(self, value: int) -> None:
        before = [self.get("pllcfg", f) for f in _PLL_SHAPE]
        self.store_write("pllcfg", value)
        if [self.get("pllcfg", f) for f in _PLL_SHAPE] != before:
            self._pll_changed = self.clock.now

    def hfclk_hz(self) -> int:
        """The core clock frequency the current settings select (reported, not applied)."""
        hfrosc = HFROSC_HZ // (self.get("hfrosccfg", "hfroscdiv") + 1)
        if not self.get("pllcfg", "pllsel"):
            return hfrosc
        ref = HFXOSC_HZ if self.get("pllcfg", "pllrefsel") else hfrosc
        if self.get("pllcfg", "pllbypass"):
            out = ref
        else:
            r, f, q = (self.get("pllcfg", n) for n in ("pllr", "pllf", "pllq"))
            out = ref // (r + 1) * 2 * (f + 1) >> q
        if self.get("plloutdiv", "plloutdivby1"):
            return out
        return out // (2 * (self.get("plloutdiv", "plloutdiv") + 1))

    def reset_state(self) -> None:
        self._pll_changed = self.clock.now

    def extra_state(self) -> Any:
        return {"pll_changed": self._pll_changed}

    def restore_extra_state(self, state: Any) -> None:
        self._pll_changed = state["pll_changed"]
