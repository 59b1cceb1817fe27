"""GPIO pins as a waveform: a Value Change Dump (VCD) for GTKWave or Surfer.

`VcdRecorder(machine)` listens to the `edge_listeners` of every GPIO block of the
board and `write(path)` saves a VCD (written with pyvcd) with one 1-bit wire per
pin, `<peripheral>.pin<n>` (a scope per GPIO block), timescale 1 ns, times in
nanoseconds of virtual time since reset. Each wire starts at its pad level when
recording began; the dump ends at the time of writing, so a viewer shows the
whole run.

Memory is bounded: after `max_changes` edges the recorder stops, and the file's
$comment says when.
"""

from __future__ import annotations

import os
from typing import IO

from vcd import VCDWriter

from machine import GpioBlock

__all__ = ["DEFAULT_MAX_CHANGES", "VcdRecorder"]

DEFAULT_MAX_CHANGES = 2_000_000


class VcdRecorder:
    """Records the edges of every GPIO pin of `machine` until `detach()`."""

    def __init__(self, machine, max_changes: int = DEFAULT_MAX_CHANGES) -> None:
        self.machine = machine
        self.clock = machine.clock
        self.max_changes = max_changes
        self.blocks: dict[str, GpioBlock] = machine.gpio_blocks
        self.start_ns = self.clock.ns
        #: pad levels when recording began: block -> [level of pin 0, pin 1, ...]
        self.initial = {name: [dev.level(pin) for pin in range(dev.NUM_PINS)] for name, dev in self.blocks.items()}
        #: (ns, block, pin, level) in time order
        self.changes: list[tuple[int, str, int, bool]] = []
        self.truncated_at_ns: int | None = None
        self._listeners = {}
        for name, dev in self.blocks.items():
            listener = self._listener(name)
            self._listeners[name] = listener
            dev.edge_listeners.append(listener)

    def _listener(self, block: str):
        frequency = self.clock.frequency_hz

        def heard(cycle: int, pin: int, level: bool) -> None:
            if self.truncated_at_ns is not None:
                return
            ns = cycle * 1_000_000_000 // frequency
            if len(self.changes) >= self.max_changes:
                self.truncated_at_ns = ns
                return
            self.changes.append((ns, block, pin, level))
        return heard

    def detach(self) -> None:
        """Stop listening; what was recorded stays and can still be written."""
        for name, listener in self._listeners.items():
            listeners = self.blocks[name].edge_listeners
            if listener in listeners:
                listeners.remove(listener)
        self._listeners.clear()

    def edges(self, block: str, pin: int) -> list[tuple[int, bool]]:
        """(ns, level) of each recorded change of one pin."""
        return [(ns, level) for ns, b, p, level in self.changes if b == block and p == pin]

    def write(self, target: str | os.PathLike | IO[str]) -> None:
        """Save the waveform as a VCD to a path or an open text file."""
        if hasattr(target, "write"):
            self._write(target)
            return
        with open(target, "w", encoding="ascii") as f:
            self._write(f)

    def _write(self, f: IO[str]) -> None:
        board = self.machine.board.name
        comment = f"GPIO pads of {board}; virtual time since reset"
        if self.truncated_at_ns is not None:
            comment += (f"; recording stopped after {self.max_changes} changes at "
                        f"{self.truncated_at_ns} ns: later changes are missing")
        end = self.truncated_at_ns if self.truncated_at_ns is not None else self.clock.ns
        writer = VCDWriter(f, timescale="1 ns", comment=comment, version="atoll")
        wires = {}
        for name, dev in self.blocks.items():
            for pin in range(dev.NUM_PINS):
                wires[name, pin] = writer.register_var(name, f"pin{pin}", "wire", size=1,
                                                       init=int(self.initial[name][pin]))
        last = self.start_ns
        for ns, block, pin, level in self.changes:
            last = max(last, ns)
            writer.change(wires[block, pin], last, int(level))
        writer.close(max(end, last))
