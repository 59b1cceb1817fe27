"""FE310-G002 PWM block (SiFive FE310-G002 Manual, chapter "Pulse Width Modulator (PWM)"):
PWM0 at 0x1001_5000 with 8-bit comparators, PWM1 and PWM2 at 0x1002_5000 and 0x1003_5000
with 16-bit ones (`comparator_bits`).

Registers (offset, name: fields):
- 0x00 pwmcfg: pwmscale 3:0, pwmsticky 8, pwmzerocmp 9, pwmdeglitch 10, pwmenalways 12,
  pwmenoneshot 13, pwmcmpNcenter 16+N, pwmcmpNgang 24+N, pwmcmpNip 28+N;
- 0x08 pwmcount: the counter, comparator_bits + 15 bits wide;
- 0x10 pwms: (pwmcount >> pwmscale), comparator_bits wide, read-only;
- 0x20, 0x24, 0x28, 0x2C pwmcmp0-3: comparator_bits wide.
Behaviour as modelled:
- pwmcount counts one per cycle of the bus clock (the board's clock) while pwmenalways or
  pwmenoneshot is set; it resets to 0 on the cycle after pwms reaches pwmcmp0 when pwmzerocmp
  is set, else it wraps at its width; a reset or wrap clears pwmenoneshot, which stops a
  one-shot run at 0;
- comparator N fires when pwmcount reaches pwmcmpN << pwmscale: pwmcmpNip latches and drives
  the output "cmpN" (PLIC sources 40-43, 44-47, 48-51 for PWM0-2). A write of pwmcfg sets the
  ip bits to what it writes, except that with pwmsticky set it cannot clear them;
- `duty_cycle(n)`: the fraction of a period in which comparator n's output (pwms >= pwmcmpN)
  is high, as the pin would show it.
Not modelled: pwmdeglitch, centre alignment and ganging (stored and read back, no effect on
the counter, the ip bits or `duty_cycle`), and the outputs on the GPIO pins.

Invariant: nothing ticks; the count is computed from the clock and an anchor taken at every
write, the ip bits are brought up to date before every access, and a clock event is scheduled
only at the next edge that changes something (a comparator whose ip is clear, a one-shot end).
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..clock import Clock, Event
from ..peripheral import Peripheral
from ..regs import Field, Register, RegisterMap

NUM_CMP = 4


def _cfg_fields() -> list[Field]:
    fields = [Field("pwmscale", 0, 4), Field("pwmsticky", 8), Field("pwmzerocmp", 9), Field("pwmdeglitch", 10),
              Field("pwmenalways", 12), Field("pwmenoneshot", 13)]
    for n in range(NUM_CMP):
        fields += [Field(f"pwmcmp{n}center", 16 + n), Field(f"pwmcmp{n}gang", 24 + n), Field(f"pwmcmp{n}ip", 28 + n)]
    return fields


class SifivePwm(Peripheral):
    PARAMS: ClassVar[dict[str, type]] = {"comparator_bits": int}
    IRQS = tuple(f"cmp{n}" for n in range(NUM_CMP))
    REGISTERS = RegisterMap([
        Register(0x00, "pwmcfg", _cfg_fields()),
        Register(0x08, "pwmcount"),
        Register(0x10, "pwms"),
        *(Register(0x20 + 4 * n, f"pwmcmp{n}") for n in range(NUM_CMP)),
    ])

    def __init__(self, name: str, clock: Clock, comparator_bits: int = 16) -> None:
        if comparator_bits not in (8, 16):
            raise ValueError(f"{name}: comparator_bits must be 8 (PWM0) or 16 (PWM1, PWM2), not {comparator_bits}")
        super().__init__(name, clock)
        self.bits = comparator_bits
        self._modulus = 1 << (comparator_bits + 15)
        self._anchor = (clock.now, 0)
        self._checked = clock.now
        self._event: Event | None = None
        self.on_read("pwmcount", lambda: self._count(self.clock.now))
        self.on_read("pwms", lambda: self._count(self.clock.now) >> self.get("pwmcfg", "pwmscale") & self._cmp_mask)
        self.on_read("pwmcfg", self._read_cfg)
        for reg in ("pwmcfg", "pwmcount", "pwms", *(f"pwmcmp{n}" for n in range(NUM_CMP))):
            self.on_write(reg, lambda v, reg=reg: self._write(reg, v))

    @property
    def _cmp_mask(self) -> int:
        return (1 << self.bits) - 1

    # -- counting ------------------------------------------------------------------------

    def _running(self) -> bool:
        return bool(self.get("pwmcfg", "pwmenalways") or self.get("pwmcfg", "pwmenoneshot"))

    def _top(self) -> int | None:
        """With pwmzerocmp, the last count of a period; else None (the counter wraps)."""
        if not self.get("pwmcfg", "pwmzerocmp"):
            return None
        return (self.get("pwmcmp0") & self._cmp_mask) << self.get("pwmcfg", "pwmscale")

    def _count_after(self, j: int) -> int:
        """The count `j` cycles after the anchor, if it kept running."""
        count0, top = self._anchor[1], self._top()
        if top is None:
            return (count0 + j) % self._modulus
        c0 = min(count0, top)
        return c0 + j if j <= top - c0 else (j - (top - c0) - 1) % (top + 1)

    def _first_reset(self) -> int:
        """Cycles after the anchor at which the count first goes back to 0."""
        count0, top = self._anchor[1], self._top()
        if top is None:
            return self._modulus - count0
        return top - min(count0, top) + 1

    def _count(self, cycle: int) -> int:
        return self._count_after(cycle - self._anchor[0]) if self._running() else self._anchor[1]

    def _next_hit(self, n: int, after: int) -> int | None:
        """The first cycle after `after` at which the count reaches comparator n's value."""
        if not self._running():
            return None
        t0, count0 = self._anchor
        target, top = (self.get(f"pwmcmp{n}") & self._cmp_mask) << self.get("pwmcfg", "pwmscale"), self._top()
        if top is None:
            period, j = self._modulus, (target - count0) % self._modulus or self._modulus
        elif target > top:
            return None
        else:
            c0 = min(count0, top)
            period = top + 1
            j = target - c0 if target > c0 else top - c0 + 1 + target
        j_after = after - t0
        if j <= j_after:
            j += ((j_after - j) // period + 1) * period
        if self._oneshot_only() and j >= self._first_reset():
            return None
        return t0 + j

    def _oneshot_only(self) -> bool:
        return bool(self.get("pwmcfg", "pwmenoneshot") and not self.get("pwmcfg", "pwmenalways"))

    def _catch_up(self) -> None:
        now = self.clock.now
        for n in range(NUM_CMP):
            hit = self._next_hit(n, self._checked)
            if hit is not None and hit <= now:
                self.set("pwmcfg", 1, f"pwmcmp{n}ip")
        if self._running() and self._oneshot_only() and self._anchor[0] + self._first_reset() <= now:
            self._anchor = (self._anchor[0] + self._first_reset(), 0)
            self.set("pwmcfg", 0, "pwmenoneshot")
        self._checked = now

    # -- registers -----------------------------------------------------------------------

    def _read_cfg(self) -> int:
        self._catch_up()
        return self.get("pwmcfg")

    def _write(self, reg: str, value: int) -> None:
        self._catch_up()
        count = self._count(self.clock.now)
        if reg == "pwmcfg":
            ips = self.get("pwmcfg") >> 28
            self.store_write("pwmcfg", value)
            if self.get("pwmcfg", "pwmsticky"):
                self.set("pwmcfg", self.get("pwmcfg") | ips << 28)
        elif reg == "pwmcount":
            count = value % self._modulus
        elif reg == "pwms":
            count = (value & self._cmp_mask) << self.get("pwmcfg", "pwmscale")
        else:
            self.set(reg, value & self._cmp_mask)
        self._anchor = (self.clock.now, count)
        self._checked = self.clock.now
        self._reschedule()
        self.update_irq()

    def _reschedule(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None
        when = [self._next_hit(n, self.clock.now) for n in range(NUM_CMP)
                if not self.get("pwmcfg", f"pwmcmp{n}ip")]
        if self._running() and self._oneshot_only():
            when.append(self._anchor[0] + self._first_reset())
        when = [w for w in when if w is not None]
        if when:
            self._event = self.clock.schedule(min(when), self._on_event)

    def _on_event(self) -> None:
        self._event = None
        self._catch_up()
        self._reschedule()
        self.update_irq()

    def update_irq(self) -> None:
        for n in range(NUM_CMP):
            self.irq[f"cmp{n}"].set(self.get("pwmcfg", f"pwmcmp{n}ip"))

    # -- the host's side -----------------------------------------------------------------

    def duty_cycle(self, n: int) -> float:
        """The fraction of each period in which pwms >= pwmcmpN (0 while stopped)."""
        if not self._running():
            return 0.0
        scale, top = self.get("pwmcfg", "pwmscale"), self._top()
        target = (self.get(f"pwmcmp{n}") & self._cmp_mask) << scale
        if top is None:
            return (self._cmp_mask + 1 - (self.get(f"pwmcmp{n}") & self._cmp_mask)) / (self._cmp_mask + 1)
        return max(0, top - target + 1) / (top + 1)

    # -- life cycle ----------------------------------------------------------------------

    def reset_state(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None
        self._anchor = (self.clock.now, 0)
        self._checked = self.clock.now

    def extra_state(self) -> Any:
        return {"anchor": list(self._anchor), "checked": self._checked,
                "event_at": self._event.when if self._event is not None else None}

    def restore_extra_state(self, state: Any) -> None:
        self._anchor, self._checked = tuple(state["anchor"]), state["checked"]
        if self._event is not None:
            self._event.cancel()
            self._event = None
        # the event exactly as it was (recomputing it would miss one due and not yet fired)
        if state["event_at"] is not None:
            self._event = self.clock.schedule(state["event_at"], self._on_event)
