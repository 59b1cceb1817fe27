"""The host side every GPIO model shares: pins driven from Python, pad levels, edges.

A GPIO model keeps its pad levels in `_pads` (bit n = pin n) and, after every change
that may move a pad, calls `_log_edges(old, new, watched)` with the pins that were
output-enabled before or after; each change of such a pin is appended to `edges` as
(cycle, pin, level) and passed to every function in `edge_listeners` (the VCD writer
and the test benches listen there). `edges` is a `BoundedLog` of the newest `EDGE_LOG`
edges (a guest toggling a pin in a loop makes millions a second): `edges.dropped`
counts the older ones let go. `drive` and `level` are the API tests use;
a model reacts to a drive in `_pads_may_have_changed`.
"""

from __future__ import annotations

from typing import Callable, ClassVar

from ..bounded import BoundedLog
from ..roles import GpioBlock

EdgeListener = Callable[[int, int, bool], None]

#: edges each GPIO block keeps (a tuple of three small ints: about 100 bytes each, ~2 MB)
EDGE_LOG = 16_384


class GpioPads(GpioBlock):
    NUM_PINS: ClassVar[int]

    def _init_pads(self) -> None:
        self.edges: BoundedLog = BoundedLog(EDGE_LOG)
        self.edge_listeners: list[EdgeListener] = []
        self._driven: dict[int, bool] = {}
        self._pads = 0

    def drive(self, pin: int, level: bool | None) -> None:
        """Drive input `pin` high (True) or low (False) from outside, or release it (None)."""
        self._check_pin(pin)
        if level is None:
            self._driven.pop(pin, None)
        else:
            self._driven[pin] = bool(level)
        self._pads_may_have_changed()

    def level(self, pin: int) -> bool:
        """The level on `pin`'s pad now."""
        self._check_pin(pin)
        return bool(self._pads >> pin & 1)

    def _pads_may_have_changed(self) -> None:
        raise NotImplementedError

    def _driven_high(self) -> int:
        """Bit mask of the pins driven high from outside."""
        return sum(1 << pin for pin, high in self._driven.items() if high)

    def _check_pin(self, pin: int) -> None:
        if not isinstance(pin, int) or isinstance(pin, bool) or not 0 <= pin < self.NUM_PINS:
            raise ValueError(f"{self.name}: pin must be an integer from 0 to {self.NUM_PINS - 1}, not {pin!r}")

    def _log_edges(self, old: int, new: int, watched: int) -> None:
        changed = (old ^ new) & watched
        if not changed:
            return
        now = self.clock.now
        for pin in range(self.NUM_PINS):
            if changed >> pin & 1:
                level = bool(new >> pin & 1)
                self.edges.append((now, pin, level))
                for listener in self.edge_listeners:
                    listener(now, pin, level)
