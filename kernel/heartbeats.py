"""Heartbeats: a supervisor's PING, and the HUNG fault of a component that does not answer.

A supervisor's PING puts the kernel's PING message on an endpoint the component
serves (firmware/lib answers it in every server loop); a ping still unanswered at
its deadline, while the component could have answered (it is not waiting for the
CPU or on a call of its own), stops it as a fault (HUNG), reported like any other.
So a driver that hangs, spins or was stopped silently is noticed.

Invariants: at most one ping is out per component (`Process.ping`: its reply object
and the clock event of its deadline); the deadline is a clock event bound to this
module, so a snapshot's copy fires it for the copy's process.
"""

from __future__ import annotations

import functools

from machine import Fault, FaultKind

from .abi import Error, FaultCode, Label
from .process import Endpoint, Message, Process, Reply, State


class Heartbeats:
    """Pings and their deadlines (see the module's docstring)."""

    def __init__(self, kernel) -> None:
        self.kernel = kernel
        self.s = kernel.state
        self.clock = kernel.clock

    def ping(self, process: Process, timeout_us: int) -> bool:
        """Its supervisor's heartbeat: the kernel's PING message to an endpoint `process` serves
        (queued if it is not receiving), to be answered within `timeout_us`, or `_ping_missed`.
        Whether a ping is out: one already waiting keeps its deadline; a component that serves
        no endpoint, or is down through the fault path (its supervisor knows), is not pinged."""
        if process.ping is not None:
            return True
        if process.stop_reported:
            return False
        ep = self._ping_endpoint(process)
        if ep is None:
            return False
        reply = Reply(None, process.generation, ())
        process.ping = (reply, self._ping_deadline(process, reply, timeout_us))
        self.kernel.ipc.deliver_kernel_message(ep, Message(Label.PING, (0, 0, 0, 0)))
        return True

    def _ping_endpoint(self, process: Process) -> Endpoint | None:
        """Where a heartbeat goes: the endpoint of its own it receives on now, else the first it serves."""
        t = process.thread
        if t.state is State.RECEIVING and t.recv_endpoint is not None and t.recv_endpoint.server is process:
            return t.recv_endpoint
        return next((e for e in self.s.endpoints.values() if e.server is process), None)

    def _ping_deadline(self, process: Process, reply: Reply, timeout_us: int):
        cycles = max(1, timeout_us * self.clock.frequency_hz // 1_000_000)
        return self.clock.after(cycles, functools.partial(self._ping_missed, process, reply, timeout_us))

    def answered(self, process: Process, reply: Reply) -> int:
        """A server replied to a heartbeat."""
        if reply.used:
            return Error.DEAD_PEER
        reply.used = True
        process.answered_at = self.clock.now
        if process.ping is not None and process.ping[0] is reply:
            process.ping[1].cancel()
            process.ping = None
        return Error.OK

    def _ping_missed(self, process: Process, reply: Reply, timeout_us: int) -> None:
        """A heartbeat's deadline: unanswered, the component is hung, unless it is waiting for
        the CPU (a more urgent one runs) or on a call of its own (its server is watched, not
        it): then it gets another `timeout_us`."""
        if process.ping is None or process.ping[0] is not reply:
            return
        k = self.kernel
        t = process.thread
        if t.state in (State.READY, State.SENDING, State.REPLY_WAIT):
            process.ping = (reply, self._ping_deadline(process, reply, timeout_us))
            return
        self.drop(process)
        reply.used = True
        cpu = k.cpu
        pc = k.machine.uc.reg_read(cpu.PC) if t is self.s.current else t.context.reg_read(cpu.PC)
        k.faults.fault(t, Fault(FaultKind.HUNG, pc & 0xFFFF_FFFF, process.name,
                                detail=f"no answer to its supervisor's heartbeat within {timeout_us} us"),
                       code=FaultCode.HUNG, address=timeout_us)
        if not self.s.in_hook:
            k.dispatcher.schedule()

    def drop(self, process: Process) -> None:
        """Forget the heartbeat waiting on `process`, and any PING still queued for it."""
        if process.ping is not None:
            process.ping[1].cancel()
            process.ping = None
        for ep in self.s.endpoints.values():
            if ep.server is process and ep.kernel_messages:
                ep.kernel_messages[:] = [m for m in ep.kernel_messages if m.label != Label.PING]
