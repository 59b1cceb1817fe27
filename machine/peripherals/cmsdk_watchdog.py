"""CMSDK APB watchdog (ARM DDI0479, Cortex-M System Design Kit TRM, "APB watchdog"; the
programmer's model is the SP805's, ARM DDI0270).

A 32-bit down-counter clocked by WDOGCLK (the board's clock here):
- WDOGLOAD (reset 0xFFFF_FFFF) is the value loaded when the counter is enabled, on every
  write of WDOGLOAD, on every write of WDOGINTCLR and after each timeout;
- WDOGCONTROL: INTEN (bit 0) enables counting and the interrupt (setting it from 0 reloads
  the counter), RESEN (bit 1) enables the reset output;
- on reaching 0 with the interrupt clear, WDOGRIS latches and WDOGINT (= WDOGMIS) rises; on
  reaching 0 again with it still set and RESEN set, WDOGRES is asserted: the model calls
  `request_board_reset`, which the machine turns into a board reset request;
- WDOGLOCK: writing 0x1ACCE551 enables write access to the other registers, any other value
  disables it; it reads 1 while writes are disabled. Writes while locked are dropped (and
  reported once with `note_dropped`).
On the AN385 WDOGINT drives the NMI (not an NVIC line): the board leaves the output unwired
until the exception model takes NMIs. Not modelled: the integration test registers (logged).

Invariant: nothing ticks; the counter is a `Countdown` anchored at the last reload, brought
up to date before every access, with a clock event at each zero while counting.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..clock import Clock, Event
from ..peripheral import Peripheral
from ..regs import Access, Field, Register, RegisterMap
from .cmsdk_ids import id_registers
from .countdown import Countdown

UNLOCK_KEY = 0x1ACCE551


class CmsdkWatchdog(Peripheral):
    PARAMS: ClassVar[dict[str, type]] = {}
    IRQS = ("wdogint",)
    REGISTERS = RegisterMap([
        Register(0x000, "WDOGLOAD", reset=0xFFFF_FFFF),
        Register(0x004, "WDOGVALUE", [Field("VALUE", 0, 32, Access.RO, 0xFFFF_FFFF)]),
        Register(0x008, "WDOGCONTROL", [Field("INTEN", 0), Field("RESEN", 1)]),
        Register(0x00C, "WDOGINTCLR", [Field("INTCLR", 0, 32, Access.WO)]),
        Register(0x010, "WDOGRIS", [Field("RIS", 0, 1, Access.RO)]),
        Register(0x014, "WDOGMIS", [Field("MIS", 0, 1, Access.RO)]),
        Register(0xC00, "WDOGLOCK", [Field("LOCKED", 0, 32)]),
        Register(0xF00, "WDOGITCR", implemented=False), Register(0xF04, "WDOGITOP", implemented=False),
        *id_registers(0x824),
    ])

    def __init__(self, name: str, clock: Clock) -> None:
        super().__init__(name, clock)
        self._counter = Countdown()
        self._event: Event | None = None
        self._checked = clock.now
        #: how many times WDOGRES was asserted
        self.resets_requested = 0
        self.on_read("WDOGVALUE", lambda: self._counter.value_at(self.clock.now))
        self.on_read("WDOGRIS", self._ris)
        self.on_read("WDOGMIS", lambda: self._ris() & self.get("WDOGCONTROL", "INTEN"))
        self.on_read("WDOGLOCK", lambda: 1 if self.get("WDOGLOCK") else 0)
        self.on_write("WDOGLOCK", lambda v: self.set("WDOGLOCK", 0 if v == UNLOCK_KEY else 1))
        self.on_write("WDOGLOAD", self._write_load)
        self.on_write("WDOGCONTROL", self._write_control)
        self.on_write("WDOGINTCLR", self._write_intclr)
        self.reset_state()

    def _locked(self, what: str) -> bool:
        if self.get("WDOGLOCK"):
            self.note_dropped(f"write of {what} while WDOGLOCK disables writes")
            return True
        return False

    def _reload(self) -> None:
        c = self._counter
        c.running = bool(self.get("WDOGCONTROL", "INTEN"))
        c.reload = self.get("WDOGLOAD")
        c.anchor(self.clock.now, self.get("WDOGLOAD"))
        self._reschedule()

    def _catch_up(self) -> None:
        now, zeros = self.clock.now, self._counter.zeros_between(self._checked, self.clock.now)
        self._checked = now
        if zeros and not self.get("WDOGRIS"):
            self.set("WDOGRIS", 1)
            zeros -= 1
        if zeros and self.get("WDOGCONTROL", "RESEN"):
            self.resets_requested += 1
            self.request_board_reset("watchdog timed out twice (WDOGRES)")

    def _ris(self) -> int:
        self._catch_up()
        return self.get("WDOGRIS")

    def _reschedule(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None
        zero = self._counter.zero_after(self.clock.now)
        if zero is not None:
            self._event = self.clock.schedule(zero, self._on_zero)

    def _on_zero(self) -> None:
        self._event = None
        self._catch_up()
        self.update_irq()
        self._reschedule()

    def _write_load(self, value: int) -> None:
        if self._locked("WDOGLOAD"):
            return
        self._catch_up()
        self.set("WDOGLOAD", value)
        self._reload()
        self.update_irq()

    def _write_control(self, value: int) -> None:
        if self._locked("WDOGCONTROL"):
            return
        self._catch_up()
        was = self.get("WDOGCONTROL", "INTEN")
        self.store_write("WDOGCONTROL", value)
        if self.get("WDOGCONTROL", "INTEN") and not was:
            self._reload()
        elif not self.get("WDOGCONTROL", "INTEN"):
            self._counter.anchor(self.clock.now, self._counter.value_at(self.clock.now))
            self._counter.running = False
            self._reschedule()
        self.update_irq()

    def _write_intclr(self, value: int) -> None:
        if self._locked("WDOGINTCLR"):
            return
        self._catch_up()
        self.set("WDOGRIS", 0)
        self._reload()
        self.update_irq()

    def update_irq(self) -> None:
        self.irq["wdogint"].set(self.get("WDOGRIS") & self.get("WDOGCONTROL", "INTEN"))

    def reset_state(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None
        self._counter = Countdown(reload=0xFFFF_FFFF)
        self._counter.anchor(self.clock.now, 0xFFFF_FFFF)
        self._checked = self.clock.now

    def extra_state(self) -> Any:
        return {"checked": self._checked, "counter": self._counter.state(),
                "event_at": self._event.when if self._event is not None else None}

    def restore_extra_state(self, state: Any) -> None:
        self._checked = state["checked"]
        self._counter.set_state(state["counter"])
        if self._event is not None:
            self._event.cancel()
            self._event = None
        if state["event_at"] is not None:
            self._event = self.clock.schedule(state["event_at"], self._on_zero)
