"""What a `Recording` (atoll/recording.py) does about the world outside its snapshots.

A snapshot holds the whole system, but not the host: UART bytes a host backend delivered
are logged per operation and cycle (`Input`) and handed in again on replay instead of
reading the host; UART output, the kernel's callbacks (debug lines, traces) and GPIO edge
listeners are muted while replaying, so nothing is said twice. The debugger's own writes
(a register, memory, a fault handed over, a restart) mark the state changed, and a board
reset starts the history afresh.

Invariant: while `Recording.replaying`, no host backend is read or written and no
listener outside the machine hears anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .recording import Recording


@dataclass
class Input:
    """UART bytes a host backend handed in during operation `op`, at `cycle`."""

    op: int
    cycle: int
    backend: int
    data: bytes


class OutsideWorld:
    """What a recording does about the world outside the snapshot: UART backends (input logged
    and handed in again, output muted while replaying), the kernel's callbacks and GPIO
    listeners (muted while replaying), and the debugger's writes (they mark the state changed)."""

    def __init__(self, recording: "Recording") -> None:
        self.rec = recording
        self.wrapped: set[int] = set()

    def mute(self) -> dict:
        muted = {}
        if self.rec.kernel is not None:
            for name, value in list(vars(self.rec.kernel).items()):
                if name.startswith("on_") and callable(value):
                    muted[name] = value
                    setattr(self.rec.kernel, name, None)
        for name, block in self.rec.machine.gpio_blocks.items():
            muted[("gpio", name)] = list(block.edge_listeners)
            block.edge_listeners.clear()
        return muted

    def unmute(self, muted: dict) -> None:
        for key, value in muted.items():
            if isinstance(key, tuple):
                self.rec.machine.gpio_blocks[key[1]].edge_listeners[:] = value
            else:
                setattr(self.rec.kernel, key, value)

    def wrap_backends(self) -> None:
        for uart in self.rec.machine.uarts.values():
            backend = getattr(uart, "backend", None)
            if backend is None or id(backend) in self.wrapped:
                continue
            self.wrapped.add(id(backend))
            backend.poll = self._poll_of(id(backend), backend.poll)
            backend.transmit = self._transmit_of(backend.transmit)

    def _poll_of(self, key: int, poll):
        def recorded_poll() -> bytes:
            if self.rec.replaying:
                inputs = self.rec.replay_inputs
                if inputs and inputs[0].backend == key and inputs[0].op == self.rec.current_op and \
                        inputs[0].cycle == self.rec.machine.clock.now:
                    return inputs.pop(0).data
                return b""
            data = poll()
            if data and self.rec.enabled and self.rec.in_op:
                self.rec.inputs.append(Input(len(self.rec.ops), self.rec.machine.clock.now, key, bytes(data)))
            return data
        return recorded_poll

    def _transmit_of(self, transmit):
        def recorded_transmit(byte: int, cycle: int) -> None:
            if not self.rec.replaying:
                transmit(byte, cycle)
        return recorded_transmit

    def wrap_writes(self) -> None:
        """A register or memory write, a fault handed over or a restart marks the state changed;
        a board reset (time back to zero) starts the history afresh."""
        machine = self.rec.machine
        reset = machine.reset

        def resetting() -> None:
            reset()
            self.rec.clear()
        machine.reset = resetting
        targets = [(self.rec.control, "write"), (machine, "write_virtual"), (machine, "write_physical")]
        if self.rec.kernel is not None:
            targets += [(self.rec.kernel, "fault"), (self.rec.kernel, "restart")]
        for owner, name in targets:
            original = getattr(owner, name)

            def changing(*args, _original=original, **kwargs):
                self.rec.changed()
                return _original(*args, **kwargs)
            setattr(owner, name, changing)


__all__ = ["Input", "OutsideWorld"]
