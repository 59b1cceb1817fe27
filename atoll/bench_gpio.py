"""A GPIO block of a test-bench device: inputs driven, pad levels and output edges read.

`GpioPort` wraps the board's `GpioBlock` of a given name. Driving an input changes
its pad level at once, and the model latches the interrupt conditions the guest
enabled, so a driver waiting on a pin interrupt wakes as on the real part. Output
edges come from the block's bounded edge log, timed in virtual seconds and cycles
(`Edge`); `toggles_with_period` measures a blinking output over that log, running
the device's virtual time (`Device.wait`) until it holds enough periods, and answers
with a `PeriodCheck` whose repr says what was measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from machine import GpioBlock

from .bench_errors import BenchError, seconds

if TYPE_CHECKING:
    from .testbench import Device


@dataclass(frozen=True)
class Edge:
    """A change of an output pin's pad level: when (virtual seconds and cycle), which pin, to what."""

    time: float
    cycle: int
    pin: int
    level: bool


@dataclass(frozen=True)
class PeriodCheck:
    """The answer of `GpioPort.toggles_with_period`: true when every measured period
    is within tolerance; its repr says what was measured, for assertion messages."""

    pin: int
    period: float
    tolerance: float
    cycles: int
    periods: tuple[float, ...]

    def __bool__(self) -> bool:
        return len(self.periods) >= self.cycles and all(
            abs(p - self.period) <= self.tolerance for p in self.periods)

    def __repr__(self) -> str:
        got = ", ".join(f"{p:.6f}" for p in self.periods) or "none"
        verdict = "ok" if self else "FAILED"
        return (f"<PeriodCheck {verdict}: pin {self.pin}, wanted {self.cycles} periods of "
                f"{self.period:g} s +/- {self.tolerance:g} s, measured [{got}] s>")


class GpioPort:
    """One GPIO block: inputs driven from the host, outputs read, output edges logged.

    Driving an input changes its pad level at once; the model latches the
    interrupt conditions the guest enabled and raises its interrupt outputs, so
    a driver waiting on a pin interrupt wakes as on the real part.
    """

    def __init__(self, device: "Device", name: str) -> None:
        self.device = device
        self.name = name
        try:
            self.peripheral = device.machine.peripheral(name, GpioBlock)
        except TypeError as e:
            raise BenchError(str(e)) from None

    def drive(self, pin: int, level: bool) -> None:
        """Drive input `pin` high (True) or low (False)."""
        self.peripheral.drive(pin, bool(level))

    def release(self, pin: int) -> None:
        """Stop driving `pin` (it reads its pull-up or 0)."""
        self.peripheral.drive(pin, None)

    def level(self, pin: int) -> bool:
        """The pad level of `pin` now (an output's latch, or what is driven)."""
        return self.peripheral.level(pin)

    def edges(self, pin: int | None = None, since: float | str | None = None) -> list[Edge]:
        """Logged output edges, oldest first; of one pin, and from a virtual time on, if given."""
        hz = self.device.machine.clock.frequency_hz
        start = 0 if since is None else round(seconds(since) * hz)
        return [Edge(cycle / hz, cycle, p, level) for cycle, p, level in self.peripheral.edges
                if (pin is None or p == pin) and cycle >= start]

    @property
    def edges_dropped(self) -> int:
        """Older edges the block's log let go (it keeps the newest machine EDGE_LOG)."""
        return self.peripheral.edges.dropped

    def toggles_with_period(self, pin: int, period: float | str, tolerance: float | str,
                            cycles: int = 3, timeout: float | str | None = None) -> PeriodCheck:
        """Whether output `pin` toggles with full period `period` (rising edge to rising
        edge) within +/- `tolerance`, over the last `cycles` periods of its edge log.

        If the log does not hold `cycles` periods yet, virtual time runs until it does
        or until `timeout` (default: enough for them, plus one period). The result is
        true or false; its repr lists the periods measured, so `assert` shows them.
        """
        if cycles < 1:
            raise BenchError(f"cycles must be at least 1, not {cycles!r}")
        want, tol = seconds(period), seconds(tolerance)

        def rising() -> list[Edge]:
            return [e for e in self.edges(pin) if e.level]

        limit = seconds(timeout) if timeout is not None else (cycles + 2) * (want + tol)
        if len(rising()) < cycles + 1:
            self.device.wait(lambda: len(rising()) >= cycles + 1, limit)
        edges = self.edges(pin)
        alternating = all(a.level != b.level for a, b in zip(edges, edges[1:]))
        ups = rising()[-(cycles + 1):]
        periods = tuple(b.time - a.time for a, b in zip(ups, ups[1:]))
        if not alternating:   # two rising edges in a row: not a clean toggle
            periods = periods + (float("nan"),)
        return PeriodCheck(pin, want, tol, cycles, periods)
