"""Snapshots of a test-bench device: one booted system forked into many tests.

`take` records the whole device at one moment: the kernel's snapshot (which holds the
machine's: CPU, memory, peripherals) or, for a bare-metal ELF, the machine's; each
UART buffer's state with its bench cursor; the debug lines and the history of earlier
boots; the virtual time. `restore` puts all of it back into the same device, so the
same output at the same virtual times follows, as often as a bench likes.

Invariants: a snapshot goes back only into the device it came from and only while
that device runs the machine it was taken on (a `reset` boots a new one, and older
snapshots are refused with a `BenchError`). Fault-injection wiring is the host's, not
the device's: restoring neither adds nor removes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .bench_errors import BenchError

if TYPE_CHECKING:
    from .testbench import Device


@dataclass(frozen=True, eq=False)
class DeviceSnapshot:
    """A device at one moment (see `Device.snapshot`); restore it any number of times."""

    device: "Device"
    system: object                 # a KernelSnapshot, or a MachineSnapshot for bare metal
    uarts: dict                    # name -> (output, timestamps, dropped, queued input, cursor)
    debug_lines: tuple
    history: tuple
    time: float


def take(device: "Device") -> DeviceSnapshot:
    """`device` now, as `Device.snapshot` describes."""
    system = device.kernel.snapshot() if device.kernel is not None else device.machine.snapshot()
    uarts = {name: (port.backend.state(), port.cursor) for name, port in device.uarts.items()}
    return DeviceSnapshot(device, system, uarts, tuple(device.debug_lines), tuple(device.history), device.now)


def restore(device: "Device", snap: DeviceSnapshot) -> None:
    """Put `device` back to `snap`, as `Device.restore` describes."""
    if snap.device is not device:
        raise BenchError("a snapshot can only be restored into the device it was taken from")
    if device.kernel is not None:
        if snap.system.machine.board != device.board or snap.system.shared[0] is not device.kernel:
            raise BenchError("this snapshot was taken before the device was reset")
        device.kernel.restore(snap.system)
    else:
        if snap.system.board != device.board or snap.system.space is not device.machine.bare_space:
            raise BenchError("this snapshot was taken before the device was reset")
        device.machine.restore(snap.system)
    for name, (state, cursor) in snap.uarts.items():
        device.uarts[name].backend.set_state(state)
        device.uarts[name].cursor = cursor
    device.debug_lines[:] = snap.debug_lines
    device.history[:] = snap.history
