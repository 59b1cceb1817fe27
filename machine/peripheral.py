"""The base of every peripheral model: declared registers on a bus window.

A peripheral subclass declares `REGISTERS` (a `RegisterMap`) and the names of its
interrupt outputs in `IRQS`, then adds behaviour by attaching handlers to the
registers that need more than storage:

    self.on_read("DATA", self._read_data)        # () -> int
    self.on_write("DATA", self._write_data)      # (bus_value) -> None

A register without handlers stores what the bus writes, merged by its field
access kinds, and reads back its stored value. After any change of state the
subclass calls `update_irq()`, its one place that computes output line levels.

Invariants:
- `reset()` restores every register from its declared reset value and calls
  `reset_state()` (the subclass's own non-register state) and `update_irq()`;
- a bus access to an offset with no register, or to a register declared
  `implemented=False`, is logged with the register's name (or offset) and
  counted in `unimplemented_accesses`; reads of it give 0, writes are dropped;
- narrower accesses read or merge the bytes of the enclosing register;
- a guest write the part drops as the manual says (a UART's transmit overrun) is reported
  with `note_dropped`: logged as a warning the first time, with the peripheral and the guest's
  pc, and counted in `dropped_writes` every time;
- a part that resets the whole board (a watchdog's reset output) calls `request_board_reset`:
  logged with the peripheral's name, then passed to `board_reset` (set by the machine) if any.
"""

from __future__ import annotations

import collections
import logging
from typing import Any, Callable, ClassVar

from .clock import Clock
from .irq import IrqLine
from .regs import Register, RegisterMap

log = logging.getLogger("atoll.machine")

ReadHandler = Callable[[], int]
WriteHandler = Callable[[int], None]


class Peripheral:
    """A memory-mapped device model with declared registers."""

    REGISTERS: ClassVar[RegisterMap] = RegisterMap(())
    IRQS: ClassVar[tuple[str, ...]] = ()
    #: bytes of bus window the device decodes (the board may give a larger window)
    WINDOW: ClassVar[int] = 0x1000

    def __init__(self, name: str, clock: Clock) -> None:
        self.name = name
        self.clock = clock
        self.irq: dict[str, IrqLine] = {n: IrqLine(f"{name}.{n}") for n in self.IRQS}
        self.unimplemented_accesses: collections.Counter[str] = collections.Counter()
        self.dropped_writes: collections.Counter[str] = collections.Counter()
        #: gives the pc of the guest instruction accessing the device (set by the machine)
        self.pc_source: Callable[[], int] | None = None
        #: called with the requesting peripheral's name when it asks for a board reset (the machine)
        self.board_reset: Callable[[str], None] | None = None
        self._values: dict[str, int] = self.REGISTERS.reset_values()
        self._readers: dict[str, ReadHandler] = {}
        self._writers: dict[str, WriteHandler] = {}

    # -- behaviour hooks ---------------------------------------------------------

    def on_read(self, register: str, handler: ReadHandler | None) -> None:
        """Answer reads of `register` with `handler()`; None drops the handler (stored value)."""
        name = self.REGISTERS[register].name
        if handler is None:
            self._readers.pop(name, None)
        else:
            self._readers[name] = handler

    def read_handler(self, register: str) -> ReadHandler | None:
        """The handler answering reads of `register`, if any (to put it back after replacing it)."""
        return self._readers.get(self.REGISTERS[register].name)

    def on_write(self, register: str, handler: WriteHandler) -> None:
        self._writers[self.REGISTERS[register].name] = handler

    # -- register storage ----------------------------------------------------------

    def get(self, register: str, field: str | None = None) -> int:
        value = self._values[register]
        if field is None:
            return value
        return self.REGISTERS[register].field(field).extract(value)

    def set(self, register: str, value: int, field: str | None = None) -> None:
        reg = self.REGISTERS[register]
        if field is None:
            self._values[register] = value & ((1 << reg.width) - 1)
        else:
            self._values[register] = reg.field(field).insert(self._values[register], value)

    def store_write(self, register: str, bus_value: int) -> None:
        """Merge a bus write into a register the way its field access kinds say."""
        reg = self.REGISTERS[register]
        self._values[register] = reg.apply_write(self._values[register], bus_value)

    # -- the bus -----------------------------------------------------------------

    def read(self, offset: int, size: int) -> int:
        reg = self.REGISTERS.at(offset)
        if reg is None or not reg.implemented:
            self._note_unimplemented("read", offset, reg)
            return 0
        handler = self._readers.get(reg.name)
        value = handler() if handler is not None else self._values[reg.name] & reg.read_mask
        shift = (offset - reg.offset) * 8
        return (value >> shift) & ((1 << (size * 8)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        reg = self.REGISTERS.at(offset)
        if reg is None or not reg.implemented:
            self._note_unimplemented("write", offset, reg)
            return
        lane = (1 << reg.width) - 1
        if size < reg.size:
            shift = (offset - reg.offset) * 8
            lane = ((1 << (size * 8)) - 1) << shift
            value = (self._values[reg.name] & ~lane) | ((value << shift) & lane)
        handler = self._writers.get(reg.name)
        if handler is not None:
            handler(value & ((1 << reg.width) - 1))
        else:
            old = self._values[reg.name]
            self.store_write(reg.name, value)
            # bytes the bus did not write keep their value (a W1C/W1S field must not
            # see its own old bits written back)
            self._values[reg.name] = (old & ~lane) | (self._values[reg.name] & lane)
            self.update_irq()

    def _note_unimplemented(self, kind: str, offset: int, reg: Register | None) -> None:
        what = reg.name if reg is not None else f"offset {offset:#x}"
        first = what not in self.unimplemented_accesses
        self.unimplemented_accesses[what] += 1
        (log.warning if first else log.debug)(
            "%s: %s of unimplemented register %s", self.name, kind, what)

    def note_dropped(self, what: str) -> None:
        """A guest write the part drops (`what` says which and why): warned once, always counted."""
        first = what not in self.dropped_writes
        self.dropped_writes[what] += 1
        if first:
            at = f" at pc {self.pc_source():#x}" if self.pc_source is not None else ""
            log.warning("%s: %s%s (said once; every one is counted)", self.name, what, at)

    def request_board_reset(self, why: str) -> None:
        """The part asserts its board reset output (`why` says which and why)."""
        at = f" at pc {self.pc_source():#x}" if self.pc_source is not None else ""
        log.warning("%s: requests a board reset: %s%s", self.name, why, at)
        if self.board_reset is not None:
            self.board_reset(self.name)

    # -- life cycle ----------------------------------------------------------------

    def reset(self) -> None:
        self._values = self.REGISTERS.reset_values()
        self.reset_state()
        self.update_irq()

    def reset_state(self) -> None:
        """Reset state kept outside registers (FIFOs, timers). Subclasses extend."""

    def update_irq(self) -> None:
        """Recompute the level of every interrupt output from the current state."""

    def snapshot(self) -> dict[str, Any]:
        """The device's whole state as plain data (registers plus `extra_state`)."""
        return {"registers": dict(self._values), "extra": self.extra_state()}

    def restore(self, state: dict[str, Any]) -> None:
        self._values = dict(state["registers"])
        self.restore_extra_state(state["extra"])
        self.update_irq()

    def extra_state(self) -> Any:
        """State outside registers, as plain data. Subclasses with such state override."""
        return None

    def restore_extra_state(self, state: Any) -> None:
        """Inverse of `extra_state`."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
