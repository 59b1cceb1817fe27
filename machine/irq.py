"""Interrupt wiring: lines from peripherals into an interrupt controller.

A peripheral drives each of its outputs through an `IrqLine`, as a level. The
board connects a line to one input of the board's interrupt controller. The
controller (NVIC on ARM, PLIC on RISC-V) implements `InterruptController`: it
latches what is pending, knows what is enabled and in which order of urgency,
and tells a listener (the machine) when something may have become deliverable.

The CPU never takes these interrupts itself: the kernel, in Python, asks the
controller what is pending at slice boundaries and delivers it to user space.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Callable, Protocol

from .roles import Role


class IrqSink(Protocol):
    def set_line(self, line: int, level: bool) -> None: ...


class IrqLine:
    """One interrupt output: a level, and where it is wired (if anywhere)."""

    __slots__ = ("name", "level", "_sink", "_number")

    def __init__(self, name: str) -> None:
        self.name = name
        self.level = False
        self._sink: IrqSink | None = None
        self._number = -1

    def connect(self, sink: IrqSink, number: int) -> None:
        self._sink = sink
        self._number = number
        if self.level:
            sink.set_line(number, True)

    @property
    def number(self) -> int | None:
        return self._number if self._sink is not None else None

    def set(self, level: bool) -> None:
        level = bool(level)
        if level == self.level:
            return
        self.level = level
        if self._sink is not None:
            self._sink.set_line(self._number, level)


class InterruptController(Role):
    """What the machine and the kernel need from an interrupt controller (a role:
    a controller model inherits it, see machine/roles.py)."""

    ROLE = "an interrupt controller"
    num_lines: int
    #: the lowest line a peripheral may be wired to (the PLIC reserves source 0)
    first_line: int
    listener: Callable[[], None] | None

    @abstractmethod
    def set_line(self, line: int, level: bool) -> None:
        """A wired peripheral output changed level."""

    @abstractmethod
    def pending(self) -> list[int]:
        """Lines pending and enabled, the most urgent first."""

    @abstractmethod
    def set_enabled(self, line: int, enabled: bool) -> None:
        """Mask or unmask one line (what the kernel does around a driver's handling)."""

    @abstractmethod
    def is_enabled(self, line: int) -> bool: ...

    @abstractmethod
    def claim(self) -> int | None:
        """Take the most urgent pending line (it stops being pending until completed)."""

    @abstractmethod
    def complete(self, line: int) -> None:
        """The handling of a claimed line is finished."""


class PriorityController(InterruptController):
    """An interrupt controller whose lines have priorities the kernel sets."""

    ROLE = "an interrupt controller with priorities"

    @abstractmethod
    def set_priority(self, line: int, priority: int) -> None: ...
