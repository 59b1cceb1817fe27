"""The IPC fast path (kernel/native/fastpath.c): a round trip between one armed pair, in C.

seL4 keeps a short path for the common case of CALL and REPLY_RECV next to its
ordinary kernel; Atoll does the same, because two syscalls' worth of Python cost
several times the trap itself. This module is the Python half: it arms the C
half and reads back what it did.

The Python kernel stays the authority, by two rules:

- Arming: at the end of a CALL, RECV or REPLY_RECV that leaves a client running
  and the server it last called waiting in RECV on that endpoint (phase 0), the
  kernel checks here everything the C path relies on and that only Python can
  change: the client's capability (kind, right, generation, badge), the server's
  receive capability and empty reply slot, the endpoint's queues, the server's
  pending notifications, the most urgent ready thread, the policy monitor's
  verdict for the label the client used (allowed, no leases, audit below "all"),
  and that no observer wants to see each switch or syscall.
- Syncing: whenever Python takes the machine back (any trap the C path
  declined, or `emu_start` returning), `sync` runs before anything else: it adds
  the round trips to the statistics, the IPC log and the monitor's count, gives
  the time slice its start at the last switch, and if the server is running
  (phase 1) builds the reply capability and thread states exactly as the Python
  CALL would have; then it disarms. So no Python code ever sees a stale kernel,
  and arming lasts at most until the CPU stops.

It reaches the kernel through a small public interface: the kernel's state
(`KernelState`: the running thread, ready queues, statistics, IPC log, monitor),
the trap path's syscall register ids (`Traps.register_ids`), the dispatcher's
`slice_started` and IPC's `install_reply`, and the observers `on_switch` and
`on_syscall`; it never touches another module's private attributes.

Both paths leave the guest in the same state: `tests/kernel/test_ipc_fastpath.py`
runs the same systems with and without it and compares registers, memory, logs
and statistics.
"""

from __future__ import annotations

import ctypes
import pathlib
from typing import TYPE_CHECKING

from unicorn.unicorn_py3 import unicorn as binding

from machine import function_address, mirrors, native_library

from .abi import KERNEL_LABELS, MESSAGE_REGISTERS, REPLY_SLOT, Error, Right, Sys
from .caps import CapKind
from .process import IpcEvent, IpcKind, Reply, State
from .scheduler import LEVELS

if TYPE_CHECKING:
    from .kernel import Kernel
    from .process import Endpoint, Thread

_SOURCE = pathlib.Path(__file__).with_name("native") / "fastpath.c"
#: fastpath.c's EVENTS; its MESSAGE_REGISTERS is the ABI's, 4
EVENTS = 4096
if MESSAGE_REGISTERS != 4:
    raise ImportError(f"kernel/native/fastpath.c hands over four message registers, the ABI has {MESSAGE_REGISTERS}")


@mirrors(_SOURCE, "fp_thread")
class _Thread(ctypes.Structure):
    _fields_ = [("context", ctypes.c_void_p), ("space", ctypes.c_int32), ("priority", ctypes.c_int32)]


@mirrors(_SOURCE, "fp_event")
class _Event(ctypes.Structure):
    _fields_ = [("executed", ctypes.c_uint64), ("kind", ctypes.c_uint32), ("label", ctypes.c_uint32)]


@mirrors(_SOURCE, "atoll_fastpath")
class _FastPath(ctypes.Structure):
    _fields_ = [
        ("reg_read_batch", ctypes.c_void_p), ("context_reg_write_batch", ctypes.c_void_p),
        ("context_save", ctypes.c_void_p), ("context_restore", ctypes.c_void_p),
        ("executed", ctypes.c_void_p), ("ids", ctypes.c_int32 * 8), ("intno", ctypes.c_uint32 * 2),
        ("sys_call", ctypes.c_uint32), ("sys_reply_recv", ctypes.c_uint32), ("kernel_labels", ctypes.c_uint32),
        ("ok", ctypes.c_uint32),
        ("armed", ctypes.c_uint32), ("phase", ctypes.c_uint32), ("client", _Thread), ("server", _Thread),
        ("call_slot", ctypes.c_uint32), ("badge", ctypes.c_uint32), ("recv_slot", ctypes.c_uint32),
        ("any_label", ctypes.c_uint32), ("label", ctypes.c_uint32), ("request_registers", ctypes.c_uint32),
        ("reply_registers", ctypes.c_uint32), ("server_notifications", ctypes.c_uint32),
        ("top_ready", ctypes.c_int32),
        ("recv_mask", ctypes.c_uint32), ("calls", ctypes.c_uint32), ("replies", ctypes.c_uint32),
        ("failed", ctypes.c_uint32), ("last_switch", ctypes.c_uint64), ("events_total", ctypes.c_uint64),
        ("events", _Event * EVENTS),
    ]


class FastPathError(RuntimeError):
    """Unicorn refused to save or restore a context on the fast path."""


class FastPath:
    def __init__(self, kernel: "Kernel") -> None:
        self.kernel = kernel
        #: the kernel's state, read and (in `_take_in`) changed as the Python CALL would
        self.state = kernel.state
        machine = kernel.machine
        lib = native_library(_SOURCE)
        uclib = binding.uclib
        address = function_address
        s = self._s = _FastPath()
        s.reg_read_batch = address(uclib.uc_reg_read_batch)
        s.context_reg_write_batch = address(uclib.uc_context_reg_write_batch)
        s.context_save = address(uclib.uc_context_save)
        s.context_restore = address(uclib.uc_context_restore)
        s.executed = machine.counter.executed_address
        s.ids[:] = kernel.traps.register_ids
        traps = type(kernel.cpu).SYSCALL_TRAPS
        s.intno[:] = (traps[0], traps[-1])
        s.sys_call, s.sys_reply_recv = Sys.CALL, Sys.REPLY_RECV
        s.kernel_labels, s.ok = KERNEL_LABELS, Error.OK
        #: what was armed: (client, server, endpoint, the request's monitor check or None)
        self._pair: tuple | None = None
        self._function = address(lib.atoll_fastpath)
        machine.set_trap_filter(self._function, ctypes.addressof(s), self.sync)

    # -- arming ------------------------------------------------------------------------

    def arm(self) -> None:
        """Arm the pair the running thread forms with the server of its last CALL, if it can
        go fast: see the module's docstring for the conditions."""
        k = self.kernel
        st = self.state
        client = st.current
        if client is None or client.last_call is None or not k.machine.executing \
                or k.on_switch is not None or k.on_syscall is not None:
            return
        slot, label = client.last_call
        cap = client.process.caps.peek(slot)
        if cap is None or cap.kind is not CapKind.ENDPOINT or not cap.rights & Right.SEND:
            return
        ep: Endpoint = cap.obj
        if ep.server is None or cap.generation != ep.generation or ep.senders or ep.kernel_messages:
            return
        server = ep.server.thread
        if server is client or server.state is not State.RECEIVING or server.recv_endpoint is not ep \
                or server.waiting_only or len(ep.receivers) != 1 or ep.receivers[0] is not server:
            return
        recv = server.process.caps.peek(server.recv_slot) if server.recv_slot is not None else None
        if recv is None or recv.kind is not CapKind.ENDPOINT or recv.obj is not ep or not recv.rights & Right.RECV \
                or server.process.caps.peek(REPLY_SLOT) is not None:
            return
        checked = None
        s = self._s
        if st.monitor is not None:
            allowance = st.monitor.fast_allowance(client.name, ep, label)
            if allowance is None:
                return
            s.request_registers, s.reply_registers, verdict = allowance
            s.any_label, s.label = 0, label
            checked = (ep, verdict, True)
        else:
            s.request_registers = s.reply_registers = MESSAGE_REGISTERS
            s.any_label = 1
        best = st.scheduler.best()
        top = LEVELS if best is None else best.priority
        machine = k.machine
        client_space = machine.space_index(client.process.space)
        server_space = machine.space_index(server.process.space)
        if client_space is None or server_space is None:
            return
        s.client.context, s.client.space, s.client.priority = client.context.context, client_space, client.priority
        s.server.context, s.server.space, s.server.priority = server.context.context, server_space, server.priority
        s.call_slot, s.badge, s.recv_slot = slot, cap.badge, server.recv_slot
        s.server_notifications = server.notifications
        s.recv_mask = server.recv_mask
        s.top_ready = top
        s.phase = 0
        s.calls = s.replies = 0
        s.events_total = 0
        self._pair = (client, server, ep, checked)
        s.armed = 1

    # -- syncing -----------------------------------------------------------------------------

    def sync(self) -> None:
        """Python has the machine back: take in what the C path did, then disarm."""
        s = self._s
        if not s.armed:
            return
        s.armed = 0
        calls, replies = s.calls, s.replies
        if calls or replies:
            self._take_in(calls, replies)
        self._pair = None
        if s.failed:
            s.failed = 0
            raise FastPathError("unicorn refused a context save or restore on the IPC fast path")

    def _take_in(self, calls: int, replies: int) -> None:
        k = self.kernel
        st = self.state
        s = self._s
        client, server, ep, checked = self._pair
        stats = st.stats
        stats.syscalls += calls + replies
        stats.fastpath += calls + replies
        stats.switches += calls + replies
        stats.ipc += calls
        if checked is not None:
            st.monitor.allowed += calls + replies
        clock = k.clock
        base = clock.now - k.machine.counter.executed   # the clock's cycles before the counter's
        total = s.events_total
        events = s.events
        log = st.ipc_log
        names = ((client.name, server.name, IpcKind.CALL), (server.name, client.name, IpcKind.REPLY))
        first = max(0, total - (log.maxlen or total))
        if first:   # events that would have been pushed out of the ring at once: counted, not made
            log.dropped += first
        made = []
        for i in range(first, total):   # total <= EVENTS
            e = events[i]
            source, destination, kind = names[e.kind]
            made.append(IpcEvent(base + e.executed, kind, source, destination, e.label))
        log.extend(made)   # one call for the batch: Ring.append is Python, list.append is not
        k.dispatcher.slice_started(base + s.last_switch)
        server.recv_mask = s.recv_mask
        if s.phase == 1:   # the server runs with the client's request; as Ipc.deliver leaves it
            reply = Reply(client, client.process.generation, (), checked)
            k.ipc.install_reply(server.process, reply)
            client.state = State.REPLY_WAIT
            client.pending_reply = reply
            ep.receivers.clear()
            server.recv_endpoint = None
            server.state = State.RUNNING
            st.current = server
