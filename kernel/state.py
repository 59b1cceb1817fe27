"""The kernel's state: every field a snapshot copies, named in one dataclass.

`KernelState` holds everything the kernel changes while the system runs: the
processes and their threads, endpoints, the ready queues, the running thread,
timers, interrupt routes, counters and logs. The kernel's modules (boot, ipc,
scheduler, interrupts, timers, faults, heartbeats) each work on the parts of
it they need; none keeps state of its own. Wiring to the machine and the host
(the machine, observers set by tools, the fast path) is not here.

Invariants: a snapshot copies exactly these fields (the dataclass has slots, so
a field cannot be added anywhere but here, and so every new piece of state is
placed deliberately); clock events the kernel schedules are bound methods or
partials of the kernel's modules, which a snapshot shares, never closures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from machine import BoundedLog, Ring

from .caps import Capability
from .loader import FrameAllocator
from .monitor import Monitor
from .process import Endpoint, Process, Thread
from .scheduler import Scheduler

#: IPC, notification, interrupt and fault events the kernel keeps (`ipc_log`)
IPC_LOG = 4096
#: DEBUG_PUTC lines the kernel keeps (`debug_log`); a line holds at most DEBUG_LINE_BYTES
DEBUG_LOG_LINES = 16_384
DEBUG_LINE_BYTES = 4096


@dataclass
class Stats:
    syscalls: int = 0
    ipc: int = 0
    switches: int = 0
    faults: int = 0
    restarts: int = 0
    reboots: int = 0
    interrupts: int = 0
    #: of `syscalls`, those the IPC fast path handled (kernel/fastpath.py)
    fastpath: int = 0
    #: interrupt lines masked for good because they fired without end (see `Interrupts.ack`)
    irq_storms: int = 0


@dataclass
class Component:
    """What the kernel keeps to (re)create a process: its image and its grants."""

    image: object
    frames: dict[int, int]
    stack: int
    priority: int
    grants: list[tuple[int, Capability]] = field(default_factory=list)
    start: bool = True
    #: the image description's restart policy; None: backoff when supervised, else hold
    restart: object | None = None
    failures: list[int] = field(default_factory=list)   # cycles of recent faults, for the limit
    #: the first argument registers of every start: (heap size, stdout) as abi.py describes
    start_args: tuple[int, ...] = ()


@dataclass(slots=True, eq=False)
class KernelState:
    """Everything the kernel changes while the system runs (see the module's docstring)."""

    frames: FrameAllocator
    processes: list[Process] = field(default_factory=list)
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    #: what `boot` needs to restart each component, by name
    components: dict[str, Component] = field(default_factory=dict)
    #: the running thread (its registers are in the CPU), or None while the machine idles
    current: Thread | None = None
    scheduler: Scheduler = field(default_factory=Scheduler)
    stats: Stats = field(default_factory=Stats)
    #: the policy monitor (kernel.monitor), when the system has a policy
    monitor: Monitor | None = None
    #: the last IPC_LOG events (IPC, notifications, interrupts, faults); `ipc_log.dropped` counts the rest
    ipc_log: Ring = field(default_factory=lambda: Ring(maxlen=IPC_LOG))
    #: complete lines written with DEBUG_PUTC: (cycle, component, text), the newest
    #: DEBUG_LOG_LINES of them (`debug_log.dropped` counts the older ones let go)
    debug_log: BoundedLog = field(default_factory=lambda: BoundedLog(DEBUG_LOG_LINES))
    #: each component's debug line not yet ended by a newline
    debug_partial: dict[str, bytearray] = field(default_factory=dict)
    #: interrupt line -> (its driver, the notification bit it becomes)
    irq_owner: dict[int, tuple[Process, int]] = field(default_factory=dict)
    #: line -> (acks in a row after which it was asserted again, the cycle of the first of them)
    irq_unclear: dict[int, tuple[int, int]] = field(default_factory=dict)
    #: each thread's TIMER_SET clock event
    timers: dict[Thread, object] = field(default_factory=dict)
    #: the one clock event that ends time slices, and the cycle the running thread's slice ends
    slice_event: object | None = None
    slice_deadline: int = 0
    #: inside the machine's trap or interrupt hook (always False between runs)
    in_hook: bool = False
