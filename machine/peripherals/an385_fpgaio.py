"""MPS2 FPGA I/O block of the AN385 image (AN385, "FPGA system control and I/O" registers,
at 0x4002_8000): user LEDs, user buttons, free-running counters and MISC control bits.

Registers (offset, name):
- 0x000 LED0: bits 1:0 drive the two user LEDs (read back); `leds` gives them to the host;
- 0x008 BUTTON: bits 1:0, the two user push buttons (1 = pressed), read-only to the guest,
  driven from the host with `set_button`;
- 0x010 CLK1HZ, 0x014 CLK100HZ: counters that count up at 1 Hz and 100 Hz of the board's
  virtual time; a write sets the count, and the count goes on from there;
- 0x018 COUNTER, 0x01C PRESCALE, 0x020 PSCNTR: PSCNTR counts down by one each cycle; on the
  cycle after it reads 0 it loads PRESCALE and COUNTER counts up by one (so COUNTER counts
  every PRESCALE + 1 cycles). All three read back and can be written;
- 0x04C MISC: bits 9:0 (CLCD and SPI chip selects and control lines) read back; the display
  and SPI devices they drive are not modelled.
Switches are in the SCC (CFG_REG3, machine/peripherals/an385_scc.py), not here.

Invariant: nothing ticks; each counter is computed from `clock.now` and an anchor (the cycle
and value of its last write, or of reset), so a read at any cycle is exact.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..clock import Clock
from ..peripheral import Peripheral
from ..regs import Access, Field, Register, RegisterMap

MASK32 = 0xFFFF_FFFF


class An385FpgaIo(Peripheral):
    PARAMS: ClassVar[dict[str, type]] = {}
    IRQS = ()
    REGISTERS = RegisterMap([
        Register(0x000, "LED0", [Field("LED", 0, 2)]),
        Register(0x008, "BUTTON", [Field("BUTTON", 0, 2, Access.RO)]),
        Register(0x010, "CLK1HZ"),
        Register(0x014, "CLK100HZ"),
        Register(0x018, "COUNTER"),
        Register(0x01C, "PRESCALE"),
        Register(0x020, "PSCNTR"),
        Register(0x04C, "MISC", [Field("MISC", 0, 10)]),
    ])

    def __init__(self, name: str, clock: Clock) -> None:
        super().__init__(name, clock)
        self._anchors: dict[str, tuple[int, int]] = {}
        for reg, hz in (("CLK1HZ", 1), ("CLK100HZ", 100)):
            self.on_read(reg, lambda reg=reg, hz=hz: self._slow_count(reg, hz))
            self.on_write(reg, lambda v, reg=reg: self._anchor(reg, v))
        self.on_read("COUNTER", lambda: self._prescaled()[0])
        self.on_read("PSCNTR", lambda: self._prescaled()[1])
        for reg in ("COUNTER", "PSCNTR", "PRESCALE"):
            self.on_write(reg, lambda v, reg=reg: self._write_prescaled(reg, v))
        self.reset_state()

    # -- the host's side ---------------------------------------------------------------

    @property
    def leds(self) -> int:
        """The user LEDs, bit n = LEDn lit."""
        return self.get("LED0")

    def set_button(self, button: int, pressed: bool) -> None:
        if button not in (0, 1):
            raise ValueError(f"{self.name}: no button {button}; the AN385 has buttons 0 and 1")
        value = self.get("BUTTON")
        self.set("BUTTON", value | 1 << button if pressed else value & ~(1 << button))

    # -- counters ---------------------------------------------------------------------

    def _anchor(self, reg: str, value: int) -> None:
        self._anchors[reg] = (self.clock.now, value & MASK32)
        self.set(reg, value)

    def _slow_count(self, reg: str, hz: int) -> int:
        cycle, value = self._anchors[reg]
        return (value + (self.clock.now - cycle) * hz // self.clock.frequency_hz) & MASK32

    def _prescaled(self) -> tuple[int, int]:
        """(COUNTER, PSCNTR) now."""
        cycle, _ = self._anchors["PSCNTR"]
        counter0, pscntr0, prescale = self.get("COUNTER"), self.get("PSCNTR"), self.get("PRESCALE")
        elapsed = self.clock.now - cycle
        if elapsed <= pscntr0:
            return counter0, pscntr0 - elapsed
        steps = elapsed - pscntr0 - 1
        return (counter0 + 1 + steps // (prescale + 1)) & MASK32, prescale - steps % (prescale + 1)

    def _write_prescaled(self, reg: str, value: int) -> None:
        counter, pscntr = self._prescaled()
        self.set("COUNTER", counter)
        self.set("PSCNTR", pscntr)
        self.set(reg, value)
        self._anchors["PSCNTR"] = (self.clock.now, self.get("PSCNTR"))

    # -- life cycle ----------------------------------------------------------------------

    def reset_state(self) -> None:
        now = self.clock.now
        self._anchors = {"CLK1HZ": (now, 0), "CLK100HZ": (now, 0), "PSCNTR": (now, 0)}

    def extra_state(self) -> Any:
        return {k: list(v) for k, v in self._anchors.items()}

    def restore_extra_state(self, state: Any) -> None:
        self._anchors = {k: (v[0], v[1]) for k, v in state.items()}
