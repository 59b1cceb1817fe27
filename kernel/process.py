"""Processes, their threads, and the kernel objects IPC moves between them.

A `Process` is one component: an address space built from its ELF, a capability
table, and (for now) one `Thread`. A thread is either the running one (its
registers live in the CPU) or switched out (its registers live in its saved
context); the kernel writes a syscall's results to whichever place holds them,
so a result can be delivered to a thread that is not running.

A process's `generation` counts its restarts. Endpoints remember the generation
of their server; a client capability that last saw an older one gets DEAD_PEER
once and then works again (it "reconnects").
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NamedTuple

from machine import AddressSpace, Fault

from .caps import CapTable


class State(enum.Enum):
    READY = "ready"
    RUNNING = "running"
    SENDING = "sending"        # blocked: a SEND or CALL waits for a receiver
    REPLY_WAIT = "reply-wait"  # blocked: a CALL was received, the reply has not come
    RECEIVING = "receiving"    # blocked: RECV on an endpoint and/or notification bits
    SLEEPING = "sleeping"
    STOPPED = "stopped"        # faulted or exited; waits for its supervisor
    EXITED = "exited"


@dataclass(slots=True)
class Message:
    label: int
    mrs: tuple[int, int, int, int]
    badge: int = 0
    leases: tuple = ()
    is_call: bool = False
    #: set when the policy monitor passed it: (endpoint, verdict, allowed), for checking its reply
    checked: tuple | None = None


class IpcKind(enum.StrEnum):
    """What an entry of the IPC log records."""

    CALL = "call"
    SEND = "send"
    REPLY = "reply"
    NOTIFY = "notify"
    FAULT = "fault"
    IRQ = "irq"


class IpcEvent(NamedTuple):
    """One entry of the IPC log (a tuple: several are made per round trip)."""

    cycle: int
    kind: IpcKind
    source: str
    destination: str
    label: int = 0

    def __deepcopy__(self, memo) -> "IpcEvent":
        return self   # immutable: a snapshot shares it


class Endpoint:
    """A rendezvous point: one server receives, holders of send capabilities call."""

    def __init__(self, name: str, server: "Process | None" = None) -> None:
        self.name = name
        self.server = server
        self.senders: list[Thread] = []       # blocked in SEND/CALL, in arrival order
        self.receivers: list[Thread] = []     # blocked in RECV
        #: messages from the kernel (faults to a supervisor) waiting for a receiver
        self.kernel_messages: list[Message] = []

    @property
    def generation(self) -> int:
        return self.server.generation if self.server is not None else 0


class Reply:
    """A one-shot right to answer one CALL (lives in the receiver's slot 0)."""

    __slots__ = ("caller", "generation", "leases", "name", "used", "checked")

    def __init__(self, caller: "Thread | None", generation: int, leases: tuple, checked: tuple | None = None) -> None:
        self.caller = caller        # None: the kernel's PING (a heartbeat), which nobody waits on
        self.generation = generation
        self.leases = leases
        self.checked = checked      # the request's monitor check: (endpoint, verdict, allowed), or None
        self.name = f"reply-to-{caller.process.name}" if caller is not None else "reply-to-kernel"
        self.used = False


class Thread:
    def __init__(self, process: "Process", priority: int, context) -> None:
        self.process = process
        self.priority = priority
        self.context = context
        self.state = State.READY
        self.notifications = 0
        #: while RECEIVING: the endpoint (or None) and the notification mask
        self.recv_endpoint: Endpoint | None = None
        self.recv_mask = 0
        self.waiting_only = False  # blocked in WAIT rather than RECV
        #: while SENDING: the endpoint and the message
        self.send_endpoint: Endpoint | None = None
        self.outgoing: Message | None = None
        #: while REPLY_WAIT: the reply object that will answer it
        self.pending_reply: Reply | None = None
        #: the slot and label of its last CALL, and the slot of its last RECV (for the fast path)
        self.last_call: tuple[int, int] | None = None
        self.recv_slot: int | None = None
        self.wake_event = None
        self.faults = 0

    @property
    def name(self) -> str:
        return self.process.name

    def __repr__(self) -> str:
        return f"<Thread {self.name} {self.state.value} prio {self.priority}>"


class Process:
    def __init__(self, name: str, index: int, space: AddressSpace) -> None:
        self.name = name
        self.index = index
        self.space = space
        self.caps = CapTable(name)
        self.threads: list[Thread] = []
        self.generation = 0
        self.supervisor: Process | None = None
        #: where this process's faults are reported (an endpoint its supervisor serves)
        self.fault_endpoint: Endpoint | None = None
        self.last_fault: Fault | None = None
        self.restarts = 0
        #: notification bit -> interrupt controller line, for IRQ_ACK
        self.irq_bits: dict[int, int] = {}
        self.exit_code: int | None = None
        #: its supervisor's heartbeat waiting for an answer: (the PING's reply object, the clock
        #: event of its deadline), or None
        self.ping: tuple | None = None
        #: the cycle at which it last answered a heartbeat (None: never)
        self.answered_at: int | None = None
        #: it stopped through the fault path (its supervisor was told, or the kernel held it or
        #: rebooted): heartbeats leave it alone until it runs again. A stop nobody was told of
        #: (`Kernel.stop`) leaves this False, and the next heartbeat finds it.
        self.stop_reported = False

    @property
    def thread(self) -> Thread:
        return self.threads[0]

    def __repr__(self) -> str:
        return f"<Process {self.name} #{self.index} gen {self.generation}>"
