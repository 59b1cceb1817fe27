"""CMSDK APB dual-input timer (ARM DDI0479, Cortex-M System Design Kit TRM, "APB dual-input
timers"; the programmer's model is the SP804's, ARM DDI0271).

Two down-counters, Timer 1 at 0x00 and Timer 2 at 0x20, each with Load, Value (read-only),
Control, IntClr (write-only), RIS, MIS and BGLoad. Control: OneShot (bit 0), TimerSize (bit 1:
0 = 16-bit, 1 = 32-bit), TimerPre (bits 3:2: divide the clock by 1, 16 or 256), IntEnable
(bit 5, set at reset), TimerMode (bit 6: 0 free-running, 1 periodic), TimerEn (bit 7).
- Writing Load sets Value at once (and BGLoad reads the same); writing BGLoad changes only the
  value loaded at the next wrap;
- on reaching 0 the raw interrupt (RIS) latches whatever IntEnable says; the counter then
  loads Load (periodic), wraps to 0xFFFF/0xFFFF_FFFF (free-running) or stops at 0 (one-shot);
- MIS = RIS & IntEnable drives TIMINTn; TIMINTC is TIMINT1 | TIMINT2 (the AN385 wires only
  TIMINTC, to IRQ 10); any write to IntClr clears RIS.
Not modelled: the integration test registers (ITCR/ITOP read 0, writes are dropped and logged);
the prescaler phase restarts at every register write rather than running free.

Invariant: nothing ticks. Each counter is a `Countdown` anchored at its last write; RIS is
brought up to date before every access, and a clock event is scheduled at the next zero only
while that zero would raise an output (IntEnable set, RIS clear).
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..clock import Clock, Event
from ..peripheral import Peripheral
from ..regs import Access, Field, Register, RegisterMap
from .cmsdk_ids import id_registers
from .countdown import Countdown

_PRESCALE = (1, 16, 256, 256)   # TimerPre 0b11 is undefined; the SP804 treats it as 256


def _timer_registers(n: int, base: int) -> list[Register]:
    t = f"TIMER{n}"
    return [
        Register(base + 0x00, f"{t}LOAD"),
        Register(base + 0x04, f"{t}VALUE", [Field("VALUE", 0, 32, Access.RO, 0xFFFF_FFFF)]),
        Register(base + 0x08, f"{t}CONTROL", [
            Field("ONESHOT", 0), Field("SIZE32", 1), Field("PRE", 2, 2), Field("INTEN", 5, 1, Access.RW, 1),
            Field("PERIODIC", 6), Field("EN", 7)]),
        Register(base + 0x0C, f"{t}INTCLR", [Field("INTCLR", 0, 1, Access.WO)]),
        Register(base + 0x10, f"{t}RIS", [Field("RIS", 0, 1, Access.RO)]),
        Register(base + 0x14, f"{t}MIS", [Field("MIS", 0, 1, Access.RO)]),
        Register(base + 0x18, f"{t}BGLOAD"),
    ]


class CmsdkDualTimer(Peripheral):
    PARAMS: ClassVar[dict[str, type]] = {}
    IRQS = ("timint1", "timint2", "timintc")
    REGISTERS = RegisterMap([
        *_timer_registers(1, 0x00), *_timer_registers(2, 0x20),
        Register(0xF00, "ITCR", implemented=False), Register(0xF04, "ITOP", implemented=False),
        *id_registers(0x823),
    ])

    def __init__(self, name: str, clock: Clock) -> None:
        super().__init__(name, clock)
        self._counters = {1: Countdown(), 2: Countdown()}
        self._event1: Event | None = None   # the next zero of timer 1 (or 2) that raises an output;
        self._event2: Event | None = None   # direct attributes, so machine snapshots see them
        self._checked = clock.now
        for n in (1, 2):
            t = f"TIMER{n}"
            self.on_read(f"{t}VALUE", lambda n=n: self._value_now(n))
            self.on_read(f"{t}RIS", lambda n=n: self._ris(n))
            self.on_read(f"{t}MIS", lambda n=n: self._ris(n) & self.get(f"TIMER{n}CONTROL", "INTEN"))
            self.on_read(f"{t}BGLOAD", lambda n=n: self.get(f"TIMER{n}LOAD"))
            for reg in ("LOAD", "CONTROL", "BGLOAD"):
                self.on_write(f"{t}{reg}", lambda v, n=n, reg=reg: self._rewrite(n, reg, v))
            self.on_write(f"{t}INTCLR", lambda v, n=n: self._clear(n))
        self.reset_state()

    # -- counting ------------------------------------------------------------------------

    def _mask(self, n: int) -> int:
        return 0xFFFF_FFFF if self.get(f"TIMER{n}CONTROL", "SIZE32") else 0xFFFF

    def _configure(self, n: int) -> None:
        """Set counter n's divider, reload and running flag from its registers."""
        c, ctrl = self._counters[n], f"TIMER{n}CONTROL"
        c.divider = _PRESCALE[self.get(ctrl, "PRE")]
        c.running = bool(self.get(ctrl, "EN"))
        if self.get(ctrl, "ONESHOT"):
            c.reload = None
        elif self.get(ctrl, "PERIODIC"):
            c.reload = self.get(f"TIMER{n}LOAD") & self._mask(n)
        else:
            c.reload = self._mask(n)

    def _value_now(self, n: int) -> int:
        return self._counters[n].value_at(self.clock.now) & self._mask(n)

    def _catch_up(self) -> None:
        now = self.clock.now
        for n in (1, 2):
            if self._counters[n].zeros_between(self._checked, now):
                self.set(f"TIMER{n}RIS", 1)
        self._checked = now

    def _ris(self, n: int) -> int:
        self._catch_up()
        return self.get(f"TIMER{n}RIS")

    def _drop_event(self, n: int) -> None:
        ev = getattr(self, f"_event{n}")
        if ev is not None:
            ev.cancel()
            setattr(self, f"_event{n}", None)

    def _schedule(self, n: int, when: int) -> None:
        setattr(self, f"_event{n}", self.clock.schedule(when, self._on_zero1 if n == 1 else self._on_zero2))

    def _on_zero1(self) -> None:
        self._on_zero(1)

    def _on_zero2(self) -> None:
        self._on_zero(2)

    def _reschedule(self, n: int) -> None:
        self._drop_event(n)
        if self.get(f"TIMER{n}CONTROL", "INTEN") and not self.get(f"TIMER{n}RIS"):
            zero = self._counters[n].zero_after(self.clock.now)
            if zero is not None:
                self._schedule(n, zero)

    def _on_zero(self, n: int) -> None:
        setattr(self, f"_event{n}", None)
        self._catch_up()
        self.update_irq()
        self._reschedule(n)

    # -- registers -----------------------------------------------------------------------

    def _rewrite(self, n: int, reg: str, value: int) -> None:
        self._catch_up()
        current = self._value_now(n)
        t = f"TIMER{n}"
        if reg == "CONTROL":
            self.store_write(f"{t}CONTROL", value)
        else:
            self.set(f"{t}LOAD", value)
        if reg == "LOAD":
            current = value
        self._configure(n)
        self._counters[n].anchor(self.clock.now, current & self._mask(n))
        self.set(f"{t}VALUE", current & self._mask(n))   # storage mirrors the anchor (snapshots)
        self._reschedule(n)
        self.update_irq()

    def _clear(self, n: int) -> None:
        self._catch_up()
        self.set(f"TIMER{n}RIS", 0)
        self._reschedule(n)
        self.update_irq()

    def update_irq(self) -> None:
        levels = [self.get(f"TIMER{n}RIS") & self.get(f"TIMER{n}CONTROL", "INTEN") for n in (1, 2)]
        self.irq["timint1"].set(levels[0])
        self.irq["timint2"].set(levels[1])
        self.irq["timintc"].set(levels[0] | levels[1])

    # -- life cycle ----------------------------------------------------------------------

    def reset_state(self) -> None:
        for n in (1, 2):
            self._drop_event(n)
            self._counters[n] = Countdown()
            self._configure(n)
            self._counters[n].anchor(self.clock.now, self.get(f"TIMER{n}VALUE"))
        self._checked = self.clock.now

    def extra_state(self) -> Any:
        return {"checked": self._checked, "counters": {str(n): c.state() for n, c in self._counters.items()},
                "events": {str(n): (e.when if e is not None else None)
                           for n, e in ((1, self._event1), (2, self._event2))}}

    def restore_extra_state(self, state: Any) -> None:
        self._checked = state["checked"]
        for n in (1, 2):
            self._counters[n].set_state(state["counters"][str(n)])
            self._drop_event(n)
            when = state["events"][str(n)]
            if when is not None:   # the event exactly as it was, not recomputed
                self._schedule(n, when)
