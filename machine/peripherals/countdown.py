"""A lazily computed down-counter: the arithmetic the CMSDK dual timer and watchdog share.

Nothing ticks. A `Countdown` holds an anchor (the cycle and the value it was set to) and
answers "what is the value at cycle t" and "at which cycle does it next step onto 0" from
the clock alone. One count happens every `divider` cycles after the anchor (the prescaler
starts again at every anchor). After reaching 0 the counter loads `reload` on its next
count, so a period is `reload + 1` counts; with `reload` None it stops at 0 (one-shot).

Invariants: `value_at(t)` is exact for every t >= anchor cycle; `zero_after(t)` gives the
first cycle strictly after t at which the value becomes 0 by counting (never the anchor
cycle itself, so anchoring at 0 raises nothing), or None if it never will.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Countdown:
    anchor_cycle: int = 0
    anchor_value: int = 0
    divider: int = 1
    reload: int | None = None
    running: bool = False

    def anchor(self, cycle: int, value: int) -> None:
        self.anchor_cycle, self.anchor_value = cycle, value

    def _ticks(self, cycle: int) -> int:
        return max(0, cycle - self.anchor_cycle) // self.divider

    def value_at(self, cycle: int) -> int:
        if not self.running:
            return self.anchor_value
        k, v0 = self._ticks(cycle), self.anchor_value
        if k <= v0:
            return v0 - k
        if self.reload is None:
            return 0
        return self.reload - (k - v0 - 1) % (self.reload + 1)

    def zero_after(self, cycle: int) -> int | None:
        """The first cycle after `cycle` at which counting brings the value to 0."""
        if not self.running:
            return None
        v0 = self.anchor_value
        period = None if self.reload is None else self.reload + 1
        first = v0 if v0 > 0 else period          # tick of the first zero reached by counting
        if first is None:
            return None
        k = self._ticks(cycle)                    # ticks already done by `cycle`
        if first > k:
            tick = first
        elif period is None:
            return None
        else:
            tick = first + ((k - first) // period + 1) * period
        return self.anchor_cycle + tick * self.divider

    def zeros_between(self, after: int, upto: int) -> int:
        """How many zeros counting reaches in cycles (after, upto]."""
        first = self.zero_after(after)
        if first is None or first > upto:
            return 0
        if self.reload is None:
            return 1
        return 1 + (upto - first) // ((self.reload + 1) * self.divider)

    def state(self) -> dict:
        return {"anchor_cycle": self.anchor_cycle, "anchor_value": self.anchor_value,
                "divider": self.divider, "reload": self.reload, "running": self.running}

    def set_state(self, state: dict) -> None:
        for k, v in state.items():
            setattr(self, k, v)
