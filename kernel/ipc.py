"""IPC: send, receive, reply and notify between threads, and the copies leases make.

A SEND or CALL goes to a thread waiting in RECV on the endpoint, or waits in the
endpoint's queue of senders; a RECV takes, in this order, a heartbeat's PING, its
pending notification bits, a message the kernel queued (FAULT, PING), then the
first waiting sender. A CALL leaves its caller in REPLY_WAIT and the receiver
holding a one-shot reply capability in slot 0 (`install_reply`); the reply, or a
`drop_reply` when it can never come, wakes the caller. The policy monitor, when
there is one, sees each request before it is delivered and each reply.

Invariants: a thread is in an endpoint's `receivers` only while RECEIVING on it,
in its `senders` only while SENDING to it; every path that blocks a caller has a
path that answers it (a reply, DEAD_PEER when its server stops, NO_REPLY when the
reply capability is dropped). Lease copies are checked against the lender's own
mappings, and only RAM is ever copied.
"""

from __future__ import annotations

from machine import FaultError, Perm

from .abi import KERNEL_LABELS, REPLY_SLOT, Error, Label, Right
from .caps import Capability, CapKind, SyscallError
from .process import Endpoint, IpcEvent, IpcKind, Message, Process, Reply, State, Thread


class Ipc:
    """Message passing over the kernel's state (see the module's docstring)."""

    def __init__(self, kernel) -> None:
        self.kernel = kernel
        self.s = kernel.state
        self.machine = kernel.machine
        self.clock = kernel.clock
        #: results go through `traps.ret` (looked up at each call: a test may wrap it)
        self.traps = kernel.traps
        self.wake = kernel.dispatcher.wake

    def endpoint_cap(self, t: Thread, slot: int) -> Capability:
        cap = t.process.caps.get(slot, CapKind.ENDPOINT, Right.SEND)
        ep: Endpoint = cap.obj
        if cap.generation != ep.generation:
            cap.generation = ep.generation
            raise SyscallError(Error.DEAD_PEER, f"{ep.name} was restarted")
        if ep.server is None or ep.server.thread.state in (State.STOPPED, State.EXITED):
            raise SyscallError(Error.DEAD_PEER, f"{ep.name} has no running server")
        return cap

    def send(self, t: Thread, cap: Capability, msg: Message) -> None:
        s = self.s
        ep: Endpoint = cap.obj
        monitor = s.monitor
        if msg.label >= KERNEL_LABELS:
            if monitor is not None:
                monitor.kernel_label(t.name, ep, msg.label)
            raise SyscallError(Error.BAD_ARGUMENT, f"label {msg.label:#x} is reserved for the kernel")
        if monitor is not None:
            deliver, verdict, allowed = monitor.request(t.name, ep, msg)
            if not deliver:
                raise SyscallError(Error.DENIED, f"the policy denies {t.name} label {msg.label:#x} on {ep.name}")
            msg.checked = (ep, verdict, allowed)
        s.stats.ipc += 1
        s.ipc_log.append(IpcEvent(self.clock.now, IpcKind.CALL if msg.is_call else IpcKind.SEND, t.name,
                                  ep.server.name if ep.server else ep.name, msg.label))
        while ep.receivers:
            r = ep.receivers.pop(0)
            if r.state is State.RECEIVING and r.recv_endpoint is ep:
                self.deliver(r, msg, t)
                return
        t.state = State.SENDING
        t.send_endpoint = ep
        t.outgoing = msg
        ep.senders.append(t)

    def receive(self, t: Thread, ep: Endpoint | None, mask: int) -> None:
        """RECV on `ep` (messages or notification bits), or WAIT when `ep` is None. A heartbeat's
        PING comes first, whichever of its endpoints it was queued on: a server that receives is
        alive, even when an interrupt storm would hand it notification bits at every RECV."""
        if ep is not None and t.process.ping is not None and ep.server is t.process:
            for queue in (e.kernel_messages for e in self.s.endpoints.values() if e.server is t.process):
                ping = next((m for m in queue if m.label == Label.PING), None)
                if ping is not None:
                    queue.remove(ping)
                    self.deliver(t, ping, None)
                    return
        bits = t.notifications & mask
        if bits:
            t.notifications &= ~bits
            self._ret_notification(t, ep is None, bits)
            return
        if ep is not None:
            if ep.kernel_messages:
                self.deliver(t, ep.kernel_messages.pop(0), None)
                return
            while ep.senders:
                s = ep.senders.pop(0)
                if s.state is State.SENDING and s.send_endpoint is ep:
                    msg, s.outgoing, s.send_endpoint = s.outgoing, None, None
                    self.deliver(t, msg, s)
                    return
            ep.receivers.append(t)
        t.state = State.RECEIVING
        t.recv_endpoint = ep
        t.recv_mask = mask
        t.waiting_only = ep is None

    def _ret_notification(self, t: Thread, wait: bool, bits: int) -> None:
        if wait:  # WAIT: status, bits
            self.traps.ret(t, Error.OK, bits)
        else:     # RECV: status, label NOTIFICATION, mr0 = bits, mr1-3, badge
            self.traps.ret(t, Error.OK, Label.NOTIFICATION, bits, 0, 0, 0, 0)

    def deliver(self, r: Thread, msg: Message, sender: Thread | None) -> None:
        """Hand `msg` to receiver `r`; the sender waits for a reply or goes on."""
        if msg.is_call and sender is not None:
            reply = Reply(sender, sender.process.generation, msg.leases, msg.checked)
            self.install_reply(r.process, reply)
            sender.state = State.REPLY_WAIT
            sender.pending_reply = reply
        elif msg.label == Label.PING and sender is None:   # a heartbeat: answered through slot 0
            if r.process.ping is not None:
                self.install_reply(r.process, r.process.ping[0])
        elif sender is not None:
            self.traps.ret(sender, Error.OK)
            self.wake(sender)
        self.traps.ret(r, Error.OK, msg.label, *msg.mrs, msg.badge)
        r.recv_endpoint = None
        self.wake(r)

    def deliver_kernel_message(self, ep: Endpoint, msg: Message) -> None:
        """A message of the kernel's own (FAULT, PING) to whoever receives on `ep`, or queued."""
        receiver = next((r for r in ep.receivers if r.state is State.RECEIVING and r.recv_endpoint is ep), None)
        if receiver is not None:
            ep.receivers.remove(receiver)
            self.deliver(receiver, msg, None)
        else:
            ep.kernel_messages.append(msg)

    def install_reply(self, process: Process, reply: Reply) -> None:
        """Put `reply` in `process`'s slot 0, dropping the reply capability it replaces."""
        old = process.caps.peek(REPLY_SLOT)
        if old is not None:
            self.drop_reply(old.obj)
        process.caps.put(REPLY_SLOT, Capability(CapKind.REPLY, reply, Right.SEND), replace=True)

    def reply(self, t: Thread, slot: int, msg: Message) -> int:
        cap = t.process.caps.get(slot, CapKind.REPLY)
        reply: Reply = cap.obj
        t.process.caps.delete(slot)
        caller = reply.caller
        if caller is None:
            return self.kernel.heartbeats.answered(t.process, reply)
        if reply.used or caller.pending_reply is not reply or caller.state is not State.REPLY_WAIT:
            return Error.DEAD_PEER
        reply.used = True
        caller.pending_reply = None
        if reply.checked is not None and not self.s.monitor.reply(t.name, caller.name, reply.checked, msg):
            self.traps.ret(caller, Error.DENIED)   # the caller is answered, never left waiting
            self.wake(caller)
            return Error.DENIED
        self.s.ipc_log.append(IpcEvent(self.clock.now, IpcKind.REPLY, t.name, caller.name, msg.label))
        self.traps.ret(caller, Error.OK, msg.label, *msg.mrs)
        self.wake(caller)
        return Error.OK

    def drop_reply(self, reply: Reply, status: int = Error.NO_REPLY) -> None:
        """A reply that will never be sent: its caller gets `status` instead of hanging."""
        caller = reply.caller
        if caller is None:      # a heartbeat dropped unanswered: its deadline stands
            reply.used = True
            return
        if not reply.used and caller.pending_reply is reply and caller.state is State.REPLY_WAIT:
            reply.used = True
            caller.pending_reply = None
            self.traps.ret(caller, status)
            self.wake(caller)

    def notify(self, target: Thread, bits: int) -> None:
        current = self.s.current
        self.s.ipc_log.append(IpcEvent(self.clock.now, IpcKind.NOTIFY, current.name if current else "kernel",
                                       target.name, bits))
        target.notifications |= bits
        if target.state is State.RECEIVING and target.notifications & target.recv_mask:
            got = target.notifications & target.recv_mask
            target.notifications &= ~got
            if target.recv_endpoint is not None and target in target.recv_endpoint.receivers:
                target.recv_endpoint.receivers.remove(target)
            target.recv_endpoint = None
            self._ret_notification(target, target.waiting_only, got)
            self.wake(target)

    # -- memory checks and copies for leases ------------------------------------------------------

    def check_range(self, process: Process, address: int, length: int, write: bool) -> None:
        need = Perm.R | (Perm.W if write else Perm.NONE)
        if length and (address + length > 1 << 32 or not process.space.covers(address, length, need)
                       or not self._ram_backed(process, address, length)):
            raise SyscallError(Error.BAD_ADDRESS, f"{address:#x}+{length} is not {'writable' if write else 'readable'}")

    def _ram_backed(self, process: Process, address: int, length: int) -> bool:
        end = address + length
        while address < end:
            m = process.space.lookup(address)
            region = self.machine.board.region_at(m.pbase + (address - m.vbase))
            if region is None:
                return False
            address = m.vend
        return True

    def copy_in(self, process: Process, address: int, length: int) -> bytes:
        self.check_range(process, address, length, write=False)
        try:
            return self.machine.read_virtual(process.space, address, length)
        except FaultError:
            raise SyscallError(Error.BAD_ADDRESS, f"{address:#x} is not readable") from None

    def copy_out(self, process: Process, address: int, data: bytes) -> None:
        self.check_range(process, address, len(data), write=True)
        self.machine.write_virtual(process.space, address, data)
