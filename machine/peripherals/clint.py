"""SiFive CLINT (FE310-G002 manual, chapter "Core-Local Interruptor").

The CLINT gives hart 0 its machine timer and software interrupts:

    0x0000  msip          bit 0: the software interrupt line
    0x4000  mtimecmp      64 bits, as two words (lo, hi)
    0xBFF8  mtime         64 bits, as two words (lo, hi)

On the FE310 mtime counts the 32.768 kHz real-time clock (`timebase_hz`), not the
core clock. Here it is derived from virtual time when read, never ticked:
mtime = clock.now * timebase_hz // clock.frequency_hz + offset, where the offset
changes only when software writes mtime. The timer line is high while
mtime >= mtimecmp; one clock event is kept at the exact cycle at which mtime next
reaches mtimecmp, and it is recomputed on every write.

Invariants:
- `update_irq()` is the one place that sets both lines and (re)schedules the event;
- mtime starts from the clock's own zero (the machine resets clock and devices
  together), so a device reset sets the offset back to 0;
- mtimecmp has no defined reset value in the manual (the RTL does not reset it);
  this model resets it to all ones so that no timer interrupt fires until software
  programs it. msip resets to 0.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..clock import Clock, Event
from ..peripheral import Peripheral
from ..regs import Field, Register, RegisterMap

MASK64 = (1 << 64) - 1
WORD = 0xFFFF_FFFF


class Clint(Peripheral):
    """Machine timer and software interrupt of hart 0."""

    PARAMS: ClassVar[dict[str, type]] = {"timebase_hz": int}
    IRQS = ("timer", "software")
    WINDOW = 0x10000
    REGISTERS = RegisterMap([
        Register(0x0000, "msip", [Field("msip", 0, doc="software interrupt pending")]),
        Register(0x4000, "mtimecmp_lo", reset=WORD),
        Register(0x4004, "mtimecmp_hi", reset=WORD),
        Register(0xBFF8, "mtime_lo"),
        Register(0xBFFC, "mtime_hi"),
    ])

    def __init__(self, name: str, clock: Clock, timebase_hz: int = 32768) -> None:
        if not isinstance(timebase_hz, int) or timebase_hz <= 0:
            raise ValueError(f"{name}: timebase_hz must be a positive integer, not {timebase_hz!r}")
        super().__init__(name, clock)
        self.timebase_hz = timebase_hz
        self._offset = 0
        self._event: Event | None = None
        self.on_read("mtime_lo", lambda: self.mtime & WORD)
        self.on_read("mtime_hi", lambda: self.mtime >> 32)
        self.on_write("mtime_lo", lambda value: self._write_mtime((self.mtime & ~WORD) | value))
        self.on_write("mtime_hi", lambda value: self._write_mtime((self.mtime & WORD) | value << 32))
        self.update_irq()

    # -- time ------------------------------------------------------------------------

    def _ticks(self, cycle: int) -> int:
        return cycle * self.timebase_hz // self.clock.frequency_hz

    @property
    def mtime(self) -> int:
        return (self._ticks(self.clock.now) + self._offset) & MASK64

    @property
    def mtimecmp(self) -> int:
        return self.get("mtimecmp_hi") << 32 | self.get("mtimecmp_lo")

    def _write_mtime(self, value: int) -> None:
        self._offset = value - self._ticks(self.clock.now)
        self.update_irq()

    def _cycle_of_tick(self, raw: int) -> int:
        """The first cycle at which the unwrapped tick count reaches `raw`."""
        return -(-raw * self.clock.frequency_hz // self.timebase_hz)

    # -- life cycle ------------------------------------------------------------------

    def update_irq(self) -> None:
        self.irq["software"].set(self.get("msip", "msip"))
        raw = self._ticks(self.clock.now) + self._offset
        mtime, cmp = raw & MASK64, self.mtimecmp
        self.irq["timer"].set(mtime >= cmp)
        if self._event is not None:
            self._event.cancel()
            self._event = None
        if mtime < cmp:
            target = raw - mtime + cmp - self._offset
            self._event = self.clock.schedule(self._cycle_of_tick(target), self.update_irq)

    def reset_state(self) -> None:
        self._offset = 0

    def extra_state(self) -> Any:
        return {"offset": self._offset, "event_at": self._event.when if self._event is not None else None}

    def restore_extra_state(self, state: Any) -> None:
        self._offset = state["offset"]

    def restore(self, state: dict[str, Any]) -> None:
        super().restore(state)   # update_irq: the lines, and an event recomputed from now
        if "event_at" in state["extra"]:
            # the event exactly as it was (one due and not yet fired is not recomputed)
            if self._event is not None:
                self._event.cancel()
                self._event = None
            if state["extra"]["event_at"] is not None:
                self._event = self.clock.schedule(state["extra"]["event_at"], self.update_irq)
