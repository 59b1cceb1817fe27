"""CMSDK APB timer (ARM DDI0479, Cortex-M System Design Kit TRM, "APB timer").

A 32-bit down-counter. Reload semantics, as the part's RTL has them:
- while counting, VALUE decreases by one per cycle; on the cycle after it reads
  0 it loads RELOAD, so a free-running period is RELOAD + 1 cycles;
- the interrupt status latches on the cycle VALUE steps from 1 to 0, and only if
  INTEN is set at that moment; it stays set until INTCLEAR is written with 1,
  and TIMERINT follows it (clearing INTEN does not lower a latched interrupt);
- with RELOAD = 0 the counter stops at 0 and never interrupts again; enabling
  the timer at VALUE = 0 reloads first (no interrupt for that 0);
- a write to VALUE takes effect at once and counting resumes the next cycle;
  writing RELOAD does not touch VALUE.
Counting sources: the clock (one per cycle) when EN; with SELEXTEN only while
EXTIN is high; with SELEXTCLK one count per EXTIN rising edge. EXTIN is driven
from the host with `set_extin` (the 2-cycle synchroniser is not modelled).

Invariant: nothing ticks. VALUE is computed from `clock.now` and an anchor
(cycle, value) taken at every register write; the interrupt status is brought
up to date lazily before every access (`_catch_up`), and a clock event is
scheduled at the next 1->0 step only while that step would change an output
(INTEN set, status clear), so a read at any cycle is exact.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..clock import Clock, Event
from ..peripheral import Peripheral
from ..regs import Access, Field, Register, RegisterMap
from .cmsdk_ids import id_registers

MASK32 = 0xFFFF_FFFF


class CmsdkTimer(Peripheral):
    PARAMS: ClassVar[dict[str, type]] = {}
    IRQS = ("timer",)
    REGISTERS = RegisterMap([
        Register(0x000, "CTRL", [Field("EN", 0), Field("SELEXTEN", 1), Field("SELEXTCLK", 2),
                                 Field("INTEN", 3)]),
        Register(0x004, "VALUE", [Field("VALUE", 0, 32)]),
        Register(0x008, "RELOAD", [Field("RELOAD", 0, 32)]),
        Register(0x00C, "INTSTATUS", [Field("INT", 0, 1, Access.W1C)], doc="read: INTSTATUS; write: INTCLEAR"),
        *id_registers(0x822),
    ])

    def __init__(self, name: str, clock: Clock) -> None:
        super().__init__(name, clock)
        self.extin = False
        self._event: Event | None = None
        self._anchor_cycle = clock.now   # VALUE was `_anchor_value` at `_anchor_cycle`
        self._anchor_value = 0
        self._checked = clock.now        # interrupt status is up to date up to this cycle
        self.on_read("VALUE", self._value_now)
        self.on_write("VALUE", lambda v: self._rewrite("VALUE", v))
        self.on_write("CTRL", lambda v: self._rewrite("CTRL", v))
        self.on_write("RELOAD", lambda v: self._rewrite("RELOAD", v))
        self.on_read("INTSTATUS", self._read_intstatus)
        self.on_write("INTSTATUS", self._write_intclear)

    # -- counting ------------------------------------------------------------------------

    def _counting(self) -> bool:
        """Whether VALUE decreases once per clock cycle right now."""
        return bool(self.get("CTRL", "EN") and not self.get("CTRL", "SELEXTCLK")
                    and (self.extin or not self.get("CTRL", "SELEXTEN")))

    def _value_now(self) -> int:
        if not self._counting():
            return self._anchor_value
        elapsed, v0, reload = self.clock.now - self._anchor_cycle, self._anchor_value, self.get("RELOAD")
        if elapsed <= v0:
            return v0 - elapsed
        return reload - (elapsed - v0 - 1) % (reload + 1)

    def _zero_after(self, cycle: int) -> int | None:
        """The first cycle after `cycle` at which VALUE steps from 1 to 0, if any."""
        if not self._counting():
            return None
        reload, period = self.get("RELOAD"), self.get("RELOAD") + 1
        first = self._anchor_cycle + (self._anchor_value if self._anchor_value else period)
        if self._anchor_value == 0 and reload == 0:
            return None
        if first > cycle:
            return first
        if reload == 0:
            return None
        return first + ((cycle - first) // period + 1) * period

    def _catch_up(self) -> None:
        now = self.clock.now
        if self.get("CTRL", "INTEN"):
            zero = self._zero_after(self._checked)
            if zero is not None and zero <= now:
                self.set("INTSTATUS", 1)
        self._checked = now

    def _reanchor(self, value: int) -> None:
        self._anchor_cycle, self._anchor_value = self.clock.now, value & MASK32
        self.set("VALUE", self._anchor_value)   # storage mirrors the anchor, for snapshots

    def _reschedule(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None
        if self.get("CTRL", "INTEN") and not self.get("INTSTATUS"):
            zero = self._zero_after(self.clock.now)
            if zero is not None:
                self._event = self.clock.schedule(zero, self._on_zero)

    def _on_zero(self) -> None:
        self._event = None
        self._catch_up()
        self.update_irq()
        self._reschedule()

    # -- registers -----------------------------------------------------------------------

    def _rewrite(self, register: str, value: int) -> None:
        """A write to CTRL, VALUE or RELOAD: settle the past, apply, re-anchor the count."""
        self._catch_up()
        current = self._value_now()
        self.store_write(register, value)
        self._reanchor(value if register == "VALUE" else current)
        self._reschedule()
        self.update_irq()

    def _read_intstatus(self) -> int:
        self._catch_up()
        return self.get("INTSTATUS")

    def _write_intclear(self, value: int) -> None:
        self._catch_up()
        self.store_write("INTSTATUS", value)
        self._reschedule()
        self.update_irq()

    def set_extin(self, level: bool) -> None:
        """Drive the EXTIN input (external enable or external clock)."""
        self._catch_up()
        current = self._value_now()
        rising = level and not self.extin
        self.extin = bool(level)
        if rising and self.get("CTRL", "EN") and self.get("CTRL", "SELEXTCLK"):
            if current == 0:
                current = self.get("RELOAD")
            else:
                current -= 1
                if current == 0 and self.get("CTRL", "INTEN"):
                    self.set("INTSTATUS", 1)
        self._reanchor(current)
        self._reschedule()
        self.update_irq()

    def update_irq(self) -> None:
        self.irq["timer"].set(self.get("INTSTATUS"))

    # -- life cycle ----------------------------------------------------------------------

    def reset_state(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None
        self.extin = False
        self._anchor_cycle = self._checked = self.clock.now
        self._anchor_value = 0

    def extra_state(self) -> Any:
        return {"anchor_cycle": self._anchor_cycle, "anchor_value": self._anchor_value,
                "checked": self._checked, "extin": self.extin,
                "event_at": self._event.when if self._event is not None else None}

    def restore_extra_state(self, state: Any) -> None:
        self._anchor_cycle, self._anchor_value = state["anchor_cycle"], state["anchor_value"]
        self._checked, self.extin = state["checked"], state["extin"]
        if self._event is not None:
            self._event.cancel()
            self._event = None
        # the event exactly as it was (recomputing it would miss one due and not yet fired)
        if state.get("event_at") is not None:
            self._event = self.clock.schedule(state["event_at"], self._on_zero)
        elif "event_at" not in state:
            self._reschedule()
