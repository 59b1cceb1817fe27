"""SiFive GPIO (FE310-G002 manual, chapter "General Purpose Input/Output Controller").

Models the 32 pins of the GPIO block: direction, output value, pull-up, output
inversion, and the four interrupt kinds (rise, fall, high, low) per pin, each pin
with its own interrupt output (`pin0`..`pin31`), as the FE310 wires GPIO pins to
PLIC sources 8 to 39.

The pad level of pin i is (output_val ^ out_xor)[i] when output_en[i] is set;
otherwise it is what the host drives (`drive`), or the pull-up (1 if pue[i], else
0) when the host releases the pin. An output-enabled pin wins over a host driver.
input_val shows pad levels of input-enabled pins only (0 elsewhere).

Invariants:
- pad levels are resampled after every register write, every `drive` and reset;
- rise_ip/fall_ip latch on edges of input_val (enabling the input of a high pin is
  a rising edge); high_ip/low_ip are set again at every sample while the level of an
  input-enabled pin holds, so clearing one (write 1) only sticks once the level left;
- every change of the pad level of a pin output-enabled before or after the change
  is appended to `edges` as (cycle, pin, level) and passed to `edge_listeners`;
- iof_en, iof_sel and ds are stored only: no hardware function is routed to a pad.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..clock import Clock
from ..peripheral import Peripheral
from ..regs import Access, Field, Register, RegisterMap
from .gpio_pads import GpioPads

NUM_PINS = 32
MASK = (1 << NUM_PINS) - 1



def _pins(offset: int, name: str, access: Access = Access.RW, doc: str = "") -> Register:
    return Register(offset, name, [Field(name, 0, NUM_PINS, access)], doc=doc)


class SifiveGpio(GpioPads, Peripheral):
    """The FE310 GPIO block: 32 pins, host-drivable inputs, logged output edges."""

    NUM_PINS: ClassVar[int] = NUM_PINS

    PARAMS: ClassVar[dict[str, type]] = {}
    IRQS = tuple(f"pin{i}" for i in range(NUM_PINS))
    WINDOW = 0x1000
    REGISTERS = RegisterMap([
        _pins(0x00, "input_val", Access.RO, "pad levels of input-enabled pins"),
        _pins(0x04, "input_en"),
        _pins(0x08, "output_en"),
        _pins(0x0C, "output_val", doc="called 'port' in some SiFive headers"),
        _pins(0x10, "pue", doc="internal pull-up enable"),
        _pins(0x14, "ds", doc="drive strength (stored only)"),
        _pins(0x18, "rise_ie"),
        _pins(0x1C, "rise_ip", Access.W1C),
        _pins(0x20, "fall_ie"),
        _pins(0x24, "fall_ip", Access.W1C),
        _pins(0x28, "high_ie"),
        _pins(0x2C, "high_ip", Access.W1C),
        _pins(0x30, "low_ie"),
        _pins(0x34, "low_ip", Access.W1C),
        _pins(0x38, "iof_en", doc="hardware function enable (stored only)"),
        _pins(0x3C, "iof_sel", doc="hardware function select (stored only)"),
        _pins(0x40, "out_xor", doc="output inversion"),
    ])

    def __init__(self, name: str, clock: Clock) -> None:
        super().__init__(name, clock)
        self._init_pads()     # _pads: the pad levels at the last sample
        self._was_output = 0  # output_en at the last sample
        for reg in self.REGISTERS:
            self.on_write(reg.name, lambda value, name=reg.name: self._write(name, value))
        self._sample()

    # -- host side -------------------------------------------------------------------

    def _pads_may_have_changed(self) -> None:
        self._sample()
        self.update_irq()

    # -- pads ------------------------------------------------------------------------

    def _pad_levels(self) -> int:
        out_en = self.get("output_en")
        outputs = self.get("output_val") ^ self.get("out_xor")
        inputs = self.get("pue")
        for pin, level in self._driven.items():
            inputs = inputs | (1 << pin) if level else inputs & ~(1 << pin)
        return (outputs & out_en) | (inputs & ~out_en & MASK)

    def _sample(self) -> None:
        """Recompute pad levels, log output edges, latch input interrupt conditions."""
        pads = self._pad_levels()
        out_en = self.get("output_en")
        old, self._pads = self._pads, pads
        self._log_edges(old, pads, out_en | self._was_output)
        self._was_output = out_en
        in_en = self.get("input_en")
        old, new = self.get("input_val"), pads & in_en
        self.set("input_val", new)
        self.set("rise_ip", self.get("rise_ip") | (new & ~old & in_en))
        self.set("fall_ip", self.get("fall_ip") | (old & ~new & in_en))
        self.set("high_ip", self.get("high_ip") | new)
        self.set("low_ip", self.get("low_ip") | (~new & in_en & MASK))

    # -- registers -------------------------------------------------------------------

    def _write(self, register: str, value: int) -> None:
        self.store_write(register, value)
        self._sample()
        self.update_irq()

    def pending_pins(self) -> int:
        """Bit mask of pins whose interrupt output is high."""
        return ((self.get("rise_ip") & self.get("rise_ie"))
                | (self.get("fall_ip") & self.get("fall_ie"))
                | (self.get("high_ip") & self.get("high_ie"))
                | (self.get("low_ip") & self.get("low_ie")))

    # -- life cycle ------------------------------------------------------------------

    def update_irq(self) -> None:
        pending = self.pending_pins()
        for pin, line in enumerate(self.irq.values()):
            line.set(pending >> pin & 1)

    def reset_state(self) -> None:
        self._sample()

    def extra_state(self) -> Any:
        return {"driven": dict(self._driven), "pads": self._pads, "was_output": self._was_output}

    def restore_extra_state(self, state: Any) -> None:
        self._driven = {int(pin): bool(level) for pin, level in state["driven"].items()}
        self._pads = state["pads"]
        self._was_output = state["was_output"]
