"""The roles a peripheral model can play, declared by inheriting them.

A tool or the kernel that needs "a UART", "a GPIO block" or "an interrupt controller"
asks the machine for one by role (`Machine.uarts`, `Machine.gpio_blocks`,
`Machine.peripheral(name, Uart)`) instead of probing a model for methods. A model says
which roles it plays by naming them among its base classes; every role method is
abstract, so a model that declares a role and lacks one of its methods cannot be built.

- `Uart`: a serial line with a host side (`attach` a backend, `feed` received bytes);
- `GpioBlock`: pins driven from the host (`drive`, `level`) and a log of output `edges`;
- `InterruptController` (machine/irq.py) and `PriorityController`, one whose lines
  have priorities the kernel sets.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar


class Role(ABC):
    """Base of every role: `ROLE` names it in messages ("a UART")."""

    ROLE: ClassVar[str]


class Uart(Role):
    """A serial port whose far side is a host backend."""

    ROLE = "a UART"

    @abstractmethod
    def attach(self, backend) -> None:
        """Send transmitted bytes to `backend` (a `UartBackend`; None discards them)."""

    @abstractmethod
    def feed(self, data: bytes) -> None:
        """Queue bytes on the line into the receiver."""


class GpioBlock(Role):
    """Pins the host can drive, with a log of their output edges (`edges`, `edge_listeners`)."""

    ROLE = "a GPIO block"
    #: pins 0 .. NUM_PINS - 1
    NUM_PINS: ClassVar[int]
    #: called with (cycle, pin, level) at each output edge
    edge_listeners: list

    @abstractmethod
    def drive(self, pin: int, level: bool | None) -> None:
        """Drive input `pin` high, low, or release it (None)."""

    @abstractmethod
    def level(self, pin: int) -> bool:
        """The level on `pin`'s pad now."""
