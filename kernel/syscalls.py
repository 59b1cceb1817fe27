"""The syscall table: one handler per number in `abi.Sys`, one signature.

Every handler is `sys_<name>(k, t, a)`: the kernel, the calling thread (the one
running), and its seven argument registers. A handler either writes its results
with `k.traps.ret(t, ...)` or blocks the thread; a `SyscallError` it raises becomes
the caller's status. The table is filled by the `syscall` decorator and checked
at import to cover every number exactly once (`TableError` otherwise). The
handlers reach the kernel's modules through the kernel (`k.ipc`, `k.timers`,
`k.faults`, ...), and write results with `k.traps.ret`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from .abi import (
    LEASE_LAYOUT,
    LEASE_READABLE,
    LEASE_WRITABLE,
    LEASES_COUNT_LAYOUT,
    MAX_LEASE_BYTES,
    MAX_LEASES,
    MAX_PING_TIMEOUT_US,
    MESSAGE_REGISTERS,
    REPLY_SLOT,
    ComponentState,
    Error,
    Lease,
    Right,
    Sys,
)
from .caps import CapKind, SyscallError
from .process import Message, Reply, State, Thread

if TYPE_CHECKING:  # the kernel passes itself in; no import cycle at run time
    from .kernel import Kernel

Handler = Callable[["Kernel", Thread, tuple[int, ...]], None]
TABLE: dict[int, Handler] = {}


class TableError(RuntimeError):
    """The syscall table does not match `abi.Sys` (a kernel bug, found at import)."""


def syscall(number: Sys):
    def register(fn: Handler) -> Handler:
        if number in TABLE:
            raise TableError(f"two handlers for {number.name}: {TABLE[number].__name__} and {fn.__name__}")
        if fn.__name__ != f"sys_{number.name.lower()}":
            raise TableError(f"the handler of {number.name} is named {fn.__name__}, not sys_{number.name.lower()}")
        TABLE[number] = fn
        return fn
    return register


def check_table(table: dict[int, Handler]) -> None:
    """Every number of `abi.Sys` has a handler, and nothing else has one."""
    missing = [s.name for s in Sys if s not in table]
    if missing:
        raise TableError(f"syscalls without a handler: {', '.join(missing)}")
    unknown = sorted(set(table) - set(Sys))
    if unknown:
        raise TableError(f"handlers for numbers abi.Sys does not have: {unknown}")


def _mrs(a: tuple[int, ...], first: int) -> tuple[int, int, int, int]:
    return tuple(a[first:first + MESSAGE_REGISTERS])  # type: ignore[return-value]


@syscall(Sys.DEBUG_PUTC)
def sys_debug_putc(k: Kernel, t: Thread, a: tuple[int, ...]) -> None:
    k.debug.putc(t.process, a[0] & 0xFF)
    k.traps.ret(t, Error.OK)


@syscall(Sys.YIELD)
def sys_yield(k: Kernel, t: Thread, a: tuple[int, ...]) -> None:
    k.traps.ret(t, Error.OK)
    k.dispatcher.yield_current()


@syscall(Sys.EXIT)
def sys_exit(k: Kernel, t: Thread, a: tuple[int, ...]) -> None:
    k.faults.exit(t.process, a[0])


@syscall(Sys.SEND)
def sys_send(k: Kernel, t: Thread, a: tuple[int, ...]) -> None:
    cap = k.ipc.endpoint_cap(t, a[0])
    k.ipc.send(t, cap, Message(a[1], _mrs(a, 2), badge=cap.badge))


@syscall(Sys.CALL)
def sys_call(k: Kernel, t: Thread, a: tuple[int, ...]) -> None:
    t.last_call = (a[0], a[1])
    cap = k.ipc.endpoint_cap(t, a[0])
    leases = read_leases(k, t, a[6]) if a[6] else ()
    k.ipc.send(t, cap, Message(a[1], _mrs(a, 2), badge=cap.badge, leases=leases, is_call=True))


@syscall(Sys.RECV)
def sys_recv(k: Kernel, t: Thread, a: tuple[int, ...]) -> None:
    cap = t.process.caps.get(a[0], CapKind.ENDPOINT, Right.RECV)
    t.recv_slot = a[0]
    k.ipc.receive(t, cap.obj, a[1])


@syscall(Sys.REPLY)
def sys_reply(k: Kernel, t: Thread, a: tuple[int, ...]) -> None:
    status = k.ipc.reply(t, a[0], Message(a[1], _mrs(a, 2)))
    k.traps.ret(t, status)


@syscall(Sys.REPLY_RECV)
def sys_reply_recv(k: Kernel, t: Thread, a: tuple[int, ...]) -> None:
    cap = t.process.caps.get(a[0], CapKind.ENDPOINT, Right.RECV)
    t.recv_slot = a[0]
    if t.process.caps.peek(REPLY_SLOT) is not None:
        k.ipc.reply(t, REPLY_SLOT, Message(a[1], _mrs(a, 2)))
    k.ipc.receive(t, cap.obj, a[6])


@syscall(Sys.NOTIFY)
def sys_notify(k: Kernel, t: Thread, a: tuple[int, ...]) -> None:
    cap = t.process.caps.get(a[0], CapKind.NOTIFICATION, Right.SEND)
    k.ipc.notify(cap.obj, cap.badge)
    k.traps.ret(t, Error.OK)


@syscall(Sys.WAIT)
def sys_wait(k: Kernel, t: Thread, a: tuple[int, ...]) -> None:
    if not a[0]:
        raise SyscallError(Error.BAD_ARGUMENT, "an empty mask would wait forever")
    k.ipc.receive(t, None, a[0])


@syscall(Sys.POLL)
def sys_poll(k: Kernel, t: Thread, a: tuple[int, ...]) -> None:
    bits = t.notifications & a[0]
    t.notifications &= ~bits
    k.traps.ret(t, Error.OK if bits else Error.WOULD_BLOCK, bits)


@syscall(Sys.IRQ_ACK)
def sys_irq_ack(k: Kernel, t: Thread, a: tuple[int, ...]) -> None:
    k.traps.ret(t, Error.OK)
    k.interrupts.ack(t.process, a[0])   # last: a storm found here stops the caller


@syscall(Sys.SLEEP)
def sys_sleep(k: Kernel, t: Thread, a: tuple[int, ...]) -> None:
    k.traps.ret(t, Error.OK)
    k.timers.sleep(t, a[0])


@syscall(Sys.TIMER_SET)
def sys_timer_set(k: Kernel, t: Thread, a: tuple[int, ...]) -> None:
    if not a[2]:
        raise SyscallError(Error.BAD_ARGUMENT, "a timer needs notification bits")
    k.timers.set_timer(t, a[0] | a[1] << 32, a[2])
    k.traps.ret(t, Error.OK)


@syscall(Sys.TIME_NOW)
def sys_time_now(k: Kernel, t: Thread, a: tuple[int, ...]) -> None:
    us = k.timers.now_us()
    k.traps.ret(t, Error.OK, us & 0xFFFFFFFF, us >> 32)


@syscall(Sys.LEASE_READ)
def sys_lease_read(k: Kernel, t: Thread, a: tuple[int, ...]) -> None:
    lease, caller, length = _lease(k, t, a, LEASE_READABLE)
    offset, buf = a[2], a[3]
    data = k.ipc.copy_in(caller.process, lease.address + offset, length)
    k.ipc.copy_out(t.process, buf, data)
    k.traps.ret(t, Error.OK, length)


@syscall(Sys.LEASE_WRITE)
def sys_lease_write(k: Kernel, t: Thread, a: tuple[int, ...]) -> None:
    lease, caller, length = _lease(k, t, a, LEASE_WRITABLE)
    offset, buf = a[2], a[3]
    data = k.ipc.copy_in(t.process, buf, length)
    k.ipc.copy_out(caller.process, lease.address + offset, data)
    k.traps.ret(t, Error.OK, length)


@syscall(Sys.CAP_DERIVE)
def sys_cap_derive(k: Kernel, t: Thread, a: tuple[int, ...]) -> None:
    if a[2] & ~int(Right.SEND | Right.RECV | Right.GRANT):
        raise SyscallError(Error.BAD_ARGUMENT, "unknown rights")
    _not_the_reply_slot(a[1])
    t.process.caps.derive(a[0], a[1], Right(a[2]), a[3])
    k.traps.ret(t, Error.OK)


@syscall(Sys.CAP_REVOKE)
def sys_cap_revoke(k: Kernel, t: Thread, a: tuple[int, ...]) -> None:
    k.traps.ret(t, Error.OK, t.process.caps.revoke(a[0]))


@syscall(Sys.CAP_DELETE)
def sys_cap_delete(k: Kernel, t: Thread, a: tuple[int, ...]) -> None:
    cap = t.process.caps.get(a[0])
    if cap.kind is CapKind.REPLY:
        k.ipc.drop_reply(cap.obj)
    t.process.caps.delete(a[0])
    k.traps.ret(t, Error.OK)


@syscall(Sys.CAP_MOVE)
def sys_cap_move(k: Kernel, t: Thread, a: tuple[int, ...]) -> None:
    _not_the_reply_slot(a[1])
    t.process.caps.move(a[0], a[1])
    k.traps.ret(t, Error.OK)


@syscall(Sys.RESTART)
def sys_restart(k: Kernel, t: Thread, a: tuple[int, ...]) -> None:
    target = k.process_by_index(a[0])
    if target is None:
        raise SyscallError(Error.BAD_ARGUMENT, f"no component {a[0]}")
    if target.supervisor is not t.process:
        raise SyscallError(Error.NO_RIGHTS, f"{t.process.name} does not supervise {target.name}")
    k.faults.restart(target)
    k.traps.ret(t, Error.OK)


@syscall(Sys.COMPONENT_INFO)
def sys_component_info(k: Kernel, t: Thread, a: tuple[int, ...]) -> None:
    # Open to every component for now; the policy monitor is where to restrict it.
    target = k.process_by_index(a[0])
    if target is None:
        raise SyscallError(Error.BAD_ARGUMENT, f"no component {a[0]}")
    name = target.name.encode()[:a[2]]
    if name:
        k.ipc.copy_out(t.process, a[1], name)
    th = target.thread
    k.traps.ret(t, Error.OK, ComponentState[th.state.name], th.priority, target.generation, th.faults)


@syscall(Sys.PING)
def sys_ping(k: Kernel, t: Thread, a: tuple[int, ...]) -> None:
    target = k.process_by_index(a[0])
    if target is None:
        raise SyscallError(Error.BAD_ARGUMENT, f"no component {a[0]}")
    if not 0 < a[1] <= MAX_PING_TIMEOUT_US:
        raise SyscallError(Error.BAD_ARGUMENT, f"a ping's timeout is 1 to {MAX_PING_TIMEOUT_US} us, not {a[1]}")
    if target.supervisor is not t.process:
        raise SyscallError(Error.NO_RIGHTS, f"{t.process.name} does not supervise {target.name}")
    k.traps.ret(t, Error.OK, int(k.heartbeats.ping(target, a[1])))


def _not_the_reply_slot(slot: int) -> None:
    # The kernel overwrites slot 0 with every CALL received; nothing else may live there.
    if slot == REPLY_SLOT:
        raise SyscallError(Error.BAD_SLOT, f"slot {REPLY_SLOT} holds reply capabilities only")


# -- leases -------------------------------------------------------------------------

def read_leases(k: Kernel, t: Thread, pointer: int) -> tuple[Lease, ...]:
    """The caller's lease array (abi.Lease's layout), each range checked against the caller's
    own mappings."""
    count, = LEASES_COUNT_LAYOUT.unpack(k.ipc.copy_in(t.process, pointer, LEASES_COUNT_LAYOUT.size))
    if count > MAX_LEASES:
        raise SyscallError(Error.TOO_LONG, f"{count} leases, at most {MAX_LEASES}")
    raw = k.ipc.copy_in(t.process, pointer + LEASES_COUNT_LAYOUT.size, LEASE_LAYOUT.size * count)
    leases = []
    for i, (address, length, rights) in enumerate(LEASE_LAYOUT.iter_unpack(raw)):
        if rights & ~(LEASE_READABLE | LEASE_WRITABLE) or not rights:
            raise SyscallError(Error.BAD_ARGUMENT, f"lease {i} has rights {rights:#x}")
        if length > MAX_LEASE_BYTES:
            raise SyscallError(Error.TOO_LONG, f"lease {i} is {length} bytes, at most {MAX_LEASE_BYTES}")
        k.ipc.check_range(t.process, address, length, write=bool(rights & LEASE_WRITABLE))
        leases.append(Lease(address, length, rights))
    return tuple(leases)


def _lease(k: Kernel, t: Thread, a: tuple[int, ...], need: int) -> tuple[Lease, Thread, int]:
    """The lease, its caller, and how many bytes to copy: up to the lease's end."""
    reply: Reply = t.process.caps.get(a[0], CapKind.REPLY).obj
    caller = reply.caller
    if caller is None:
        raise SyscallError(Error.BAD_ARGUMENT, "the kernel's PING lends nothing")
    if reply.used or caller.pending_reply is not reply or caller.state is not State.REPLY_WAIT:
        raise SyscallError(Error.DEAD_PEER, "the caller is gone")
    index, offset, length = a[1], a[2], a[4]
    if index >= len(reply.leases):
        raise SyscallError(Error.BAD_ARGUMENT, f"no lease {index}")
    lease = reply.leases[index]
    if not lease.rights & need:
        raise SyscallError(Error.NO_RIGHTS, f"lease {index} does not allow that")
    if offset > lease.length:
        raise SyscallError(Error.TOO_LONG, f"offset {offset} passes the end of lease {index}")
    return lease, caller, min(length, lease.length - offset)


check_table(TABLE)
