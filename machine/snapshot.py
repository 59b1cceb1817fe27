"""Snapshots of a whole machine, restored into the same `Machine` they were taken from.

A snapshot holds everything that decides what the machine does next: the CPU context,
the bytes of every memory region, the instruction count and the clock's base, every
peripheral's state (`Peripheral.snapshot`), the clock's pending events, the levels of
the interrupt lines, the GPIO edge logs and the run loop's flags. After `restore` the
machine runs exactly as it ran from the moment of the snapshot: the same instructions,
the same UART bytes at the same cycles, the same edges. A snapshot can be restored any
number of times; it is never changed by a restore.

Clock events come in two kinds:
- a peripheral's own events (an `Event` held in one of its attributes) are recreated by
  the peripheral's `restore`, at the cycle its `extra_state` recorded; the machine then
  gives each the sequence number the original had, so events at the same cycle fire in
  the same order. A model that fails to recreate exactly its events is a SnapshotError;
- every other event (the kernel's sleeps, timers and time slices) is deep-copied
  together with an `attached` object graph the caller passes (the kernel's state), with
  a memo that maps the machine's own host objects (and any `keep` objects; address
  spaces among them are checked to be unchanged on restore) to themselves: a callback
  that is a bound method, or a `functools.partial` of one, is rebound to the copies of
  the objects it names. A plain closure is not rebound, so
  event callbacks that capture state must be methods or partials.

Host backends (UART buffers, terminals, sockets) are not part of a snapshot: they are
the outside world. Snapshots are taken and restored between runs, never from inside one.

Every piece comes from the object that owns it, through its public save and restore:
`Clock.state`/`set_state`, `Machine.state`/`set_state` (the run loop's flags, the active
space, the OR gates' levels), `Machine.host_objects` (what a copied graph shares),
`Peripheral.snapshot`/`restore`; memory goes through `counter.read_memory`/`write_memory`.
This module reads or writes no private attribute of another, and `Machine` imports it
(never the other way round at run time).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

from .clock import ClockState, Event
from .counter import read_memory, write_memory
from .memory import AddressSpace
from .roles import GpioBlock

if TYPE_CHECKING:
    from .machine import Machine, MachineState


class SnapshotError(RuntimeError):
    """A snapshot cannot be taken or restored exactly."""


@dataclass(frozen=True, eq=False)
class MachineSnapshot:
    """One machine's state at one cycle (opaque: restore it with `restore`)."""

    board: str
    cycle: int
    context: Any                                  # a UcContext, never restored into
    memory: tuple[tuple[int, Any], ...]           # (base, ctypes char array) per region
    executed: int
    clock_base: int
    next_seq: int
    peripherals: dict[str, dict]
    #: (when, seq, peripheral, attribute) of every pending event a peripheral holds
    device_events: tuple[tuple[int, int, str, str], ...]
    #: {"events": [(when, seq, Event)], "attached": ...}, deep-copied (copied again on restore)
    graph: dict
    line_levels: dict[str, dict[str, bool]]
    edges: dict[str, tuple[list, int]]     # GPIO name -> (edges, edges dropped)
    unimplemented: dict[str, dict[str, int]]
    machine: "MachineState"
    space_versions: tuple[tuple[Any, int], ...]
    #: the `keep` objects the graph shares with the live system (used again on restore)
    shared: tuple = ()


def _shared(machine: "Machine", keep: Iterable[object]) -> dict[int, object]:
    """A deepcopy memo in which the machine's host objects (and `keep`) stand for themselves."""
    return {id(o): o for o in (*machine.host_objects(), *keep) if o is not None}


def _held_events(machine: "Machine") -> list[tuple[str, str, Event]]:
    """(peripheral, attribute, event) for every live event a peripheral holds."""
    held = []
    for name, dev in machine.peripherals.items():
        for attr, value in vars(dev).items():
            if isinstance(value, Event) and not value.cancelled:
                held.append((name, attr, value))
    return held


def take(machine: "Machine", attached: Any = None, keep: Iterable[object] = ()) -> MachineSnapshot:
    """The machine's state now; `attached` (with the events it schedules) is deep-copied along."""
    clock_state = machine.clock.state()
    seq_of = {id(ev): (when, seq) for when, seq, ev in clock_state.events}
    device_events = []
    owned = set()
    for name, attr, ev in _held_events(machine):
        if id(ev) not in seq_of:
            raise SnapshotError(f"{name}.{attr} holds an event that is not in the clock's queue")
        when, seq = seq_of[id(ev)]
        device_events.append((when, seq, name, attr))
        owned.add(id(ev))
    foreign = [entry for entry in clock_state.events if id(entry[2]) not in owned]
    keep = tuple(keep)
    graph = copy.deepcopy({"events": foreign, "attached": attached}, _shared(machine, keep))
    memory = tuple((region.base, read_memory(machine.uc, region.base, region.size))
                   for region in machine.board.regions)
    state = machine.state()
    spaces = {id(s): s for s in (state.space, machine.bare_space, *keep) if isinstance(s, AddressSpace)}
    return MachineSnapshot(
        board=machine.board.name,
        cycle=machine.clock.now,
        context=machine.uc.context_save(),
        memory=memory,
        executed=machine.counter.executed,
        clock_base=clock_state.base,
        next_seq=clock_state.next_seq,
        peripherals={name: copy.deepcopy(dev.snapshot()) for name, dev in machine.peripherals.items()},
        device_events=tuple(sorted(device_events)),
        graph=graph,
        line_levels={name: {out: line.level for out, line in dev.irq.items()}
                     for name, dev in machine.peripherals.items()},
        edges={name: (list(dev.edges), dev.edges.dropped) for name, dev in machine.gpio_blocks.items()},
        unimplemented={name: dict(dev.unimplemented_accesses) for name, dev in machine.peripherals.items()},
        machine=state,
        space_versions=tuple((s, s.version) for s in spaces.values()),
        shared=keep,
    )


def restore(machine: "Machine", snap: MachineSnapshot, keep: Iterable[object] = ()) -> Any:
    """Put the machine back to `snap`; returns a fresh copy of the graph attached to it
    (whoever attached it installs it: a kernel's snapshot is restored by `Kernel.restore`)."""
    if snap.board != machine.board.name:
        raise SnapshotError(f"a snapshot of board {snap.board} cannot be restored on {machine.board.name}")
    for space, version in snap.space_versions:
        if space.version != version:
            raise SnapshotError(f"address space {space.name!r} changed since the snapshot was taken")

    # memory and CPU; translations of the old code and the TLB are dropped
    for base, buf in snap.memory:
        write_memory(machine.uc, base, buf)
    machine.uc.context_restore(snap.context)
    machine.flush_code()

    # time first: peripherals compute from clock.now as they restore
    machine.counter.rewind(snap.executed)
    machine.clock.set_state(ClockState(snap.clock_base, snap.next_seq, ()))
    _restore_peripherals(machine, snap)

    # the peripherals' events, each with the sequence number it had
    recreated = {(name, attr, ev.when): ev for name, attr, ev in _held_events(machine)}
    live = {id(ev) for _, _, ev in machine.clock.state().events}
    queue = []
    for when, seq, name, attr in snap.device_events:
        ev = recreated.pop((name, attr, when), None)
        if ev is None or id(ev) not in live:
            raise SnapshotError(f"{name} did not recreate its event {attr} at cycle {when} on restore")
        queue.append((when, seq, ev))
    if recreated or len(live) != len(queue):
        extra = ", ".join(f"{n}.{a} at {w}" for n, a, w in recreated) or "an event it does not hold"
        raise SnapshotError(f"peripherals scheduled events on restore that the snapshot does not have: {extra}")

    graph = copy.deepcopy(snap.graph, _shared(machine, (*snap.shared, *keep)))
    machine.clock.set_state(ClockState(snap.clock_base, snap.next_seq, (*queue, *graph["events"])))
    machine.set_state(snap.machine)
    return graph["attached"]


def _restore_peripherals(machine: "Machine", snap: MachineSnapshot) -> None:
    """Every peripheral's state, the interrupt controller last (the others' lines drive it
    as they restore); then the line levels, GPIO edge logs and unimplemented counts."""
    # (`Peripheral.restore` copies the register dict; the extra state is copied here)
    ctrl = machine.interrupts
    order = [dev for dev in machine.peripherals.values() if dev is not ctrl] + ([ctrl] if ctrl else [])
    for dev in order:
        state = snap.peripherals[dev.name]
        dev.restore({"registers": state["registers"], "extra": copy.deepcopy(state["extra"])})
    for name, dev in machine.peripherals.items():
        for out, level in snap.line_levels[name].items():
            dev.irq[out].level = level     # as they were, without telling the controller again
        if name in snap.edges and isinstance(dev, GpioBlock):
            dev.edges[:], dev.edges.dropped = snap.edges[name]
        dev.unimplemented_accesses.clear()
        dev.unimplemented_accesses.update(snap.unimplemented[name])
