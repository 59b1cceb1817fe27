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
"""

from __future__ import annotations

import copy
import ctypes
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

from unicorn import UcError

from .clock import Event
from .counter import uclib
from .memory import AddressSpace

if TYPE_CHECKING:
    from .machine import Machine


class SnapshotError(RuntimeError):
    """A snapshot cannot be taken or restored exactly."""


@dataclass(frozen=True, eq=False)
class MachineSnapshot:
    """One machine's state at one cycle (opaque: restore it with `Machine.restore`)."""

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
    gate_levels: tuple[dict[int, bool], ...]
    edges: dict[str, tuple[list, int]]     # GPIO name -> (edges, edges dropped)
    unimplemented: dict[str, dict[str, int]]
    waiting: bool
    irq_pending: bool
    user_mode: bool
    space: Any
    space_versions: tuple[tuple[Any, int], ...]
    #: the `keep` objects the graph shares with the live system (used again on restore)
    shared: tuple = ()


def _shared(machine: "Machine", keep: Iterable[object]) -> dict[int, object]:
    """A deepcopy memo in which the machine's host objects (and `keep`) stand for themselves."""
    objects = [machine, machine.clock, machine.cpu, machine.uc, machine.counter, machine._tlb,
               machine.board, machine.image, machine.bare_space, *machine.peripherals.values(),
               *_gates(machine), *(b for _, b in machine._backends), *keep]
    return {id(o): o for o in objects if o is not None}


def _gates(machine: "Machine") -> list:
    from .machine import _OrGate
    gates = []
    for dev in machine.peripherals.values():
        for line in dev.irq.values():
            sink = line._sink
            if isinstance(sink, _OrGate) and all(sink is not g for g in gates):
                gates.append(sink)
    return gates


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
    clock = machine.clock
    queue = [(when, seq, ev) for when, seq, ev in clock._queue if not ev.cancelled]
    seq_of = {id(ev): (when, seq) for when, seq, ev in queue}
    device_events = []
    owned = set()
    for name, attr, ev in _held_events(machine):
        if id(ev) not in seq_of:
            raise SnapshotError(f"{name}.{attr} holds an event that is not in the clock's queue")
        when, seq = seq_of[id(ev)]
        device_events.append((when, seq, name, attr))
        owned.add(id(ev))
    foreign = [entry for entry in queue if id(entry[2]) not in owned]
    next_seq = next(clock._seq)
    clock._seq = itertools.count(next_seq)
    keep = tuple(keep)
    graph = copy.deepcopy({"events": foreign, "attached": attached}, _shared(machine, keep))

    lib, uch = uclib(), machine.uc._uch
    memory = []
    for region in machine.board.regions:
        buf = (ctypes.c_char * region.size)()
        status = lib.uc_mem_read(uch, region.base, buf, region.size)
        if status:
            raise UcError(status)
        memory.append((region.base, buf))

    spaces = {id(s): s for s in (machine.space, machine.bare_space, *keep) if isinstance(s, AddressSpace)}
    return MachineSnapshot(
        board=machine.board.name,
        cycle=clock.now,
        context=machine.uc.context_save(),
        memory=tuple(memory),
        executed=machine.counter.executed,
        clock_base=clock._base,
        next_seq=next_seq,
        peripherals={name: copy.deepcopy(dev.snapshot()) for name, dev in machine.peripherals.items()},
        device_events=tuple(sorted(device_events)),
        graph=graph,
        line_levels={name: {out: line.level for out, line in dev.irq.items()}
                     for name, dev in machine.peripherals.items()},
        gate_levels=tuple(dict(g.levels) for g in _gates(machine)),
        edges={name: (list(dev.edges), dev.edges.dropped) for name, dev in machine.peripherals.items()
               if hasattr(dev, "edges")},
        unimplemented={name: dict(dev.unimplemented_accesses) for name, dev in machine.peripherals.items()},
        waiting=machine.waiting,
        irq_pending=machine._irq_pending,
        user_mode=machine.cpu.user_mode,
        space=machine.space,
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
    clock = machine.clock

    # memory and CPU; translations of the old code and the TLB are dropped
    lib, uch = uclib(), machine.uc._uch
    for base, buf in snap.memory:
        status = lib.uc_mem_write(uch, base, buf, len(buf))
        if status:
            raise UcError(status)
    machine.uc.context_restore(snap.context)
    machine.cpu.user_mode = snap.user_mode
    machine.flush_code()

    # time first: peripherals compute from clock.now as they restore
    machine.counter.rewind(snap.executed)
    clock._base = snap.clock_base
    clock._queue = []
    clock._seq = itertools.count(snap.next_seq)

    # peripherals, the interrupt controller last (the others' lines drive it as they restore)
    # (`Peripheral.restore` copies the register dict; the extra state is copied here)
    ctrl = machine.interrupts
    order = [dev for dev in machine.peripherals.values() if dev is not ctrl] + ([ctrl] if ctrl else [])
    for dev in order:
        state = snap.peripherals[dev.name]
        dev.restore({"registers": state["registers"], "extra": copy.deepcopy(state["extra"])})
    for name, dev in machine.peripherals.items():
        for out, level in snap.line_levels[name].items():
            dev.irq[out].level = level     # as they were, without telling the controller again
        if name in snap.edges:
            dev.edges[:], dev.edges.dropped = snap.edges[name]
        dev.unimplemented_accesses.clear()
        dev.unimplemented_accesses.update(snap.unimplemented[name])
    for gate, levels in zip(_gates(machine), snap.gate_levels):
        gate.levels = dict(levels)

    # the peripherals' events, each with the sequence number it had
    recreated = {(name, attr, ev.when): ev for name, attr, ev in _held_events(machine)}
    live = {id(ev) for _, _, ev in clock._queue if not ev.cancelled}
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
    queue.extend(graph["events"])
    queue.sort(key=lambda entry: entry[:2])     # a sorted list is a heap
    clock._queue = queue
    clock._seq = itertools.count(snap.next_seq)

    machine.waiting = snap.waiting
    machine._irq_pending = snap.irq_pending
    machine._stop_requested = False
    machine._pending_error = None
    machine._fault = machine._trap = machine._bus_error = None
    machine._space = None  # so that activate switches even to the same space
    machine.activate(snap.space)
    machine._tlb.clear_refusal()
    return graph["attached"]
