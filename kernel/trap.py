"""The trap path: a guest's syscall from the machine's hook to its handler and back.

The machine's trap hook calls `Traps.trap`; the syscall number picks a handler from
`syscalls.TABLE`; a handler writes results (`ret`), blocks the caller or wakes
others; the dispatcher then decides who runs, switching contexts inside the hook
when it must, and after a CALL, RECV or REPLY_RECV the IPC fast path may be armed.
A Python exception never leaves a handler as a status: `SyscallError` becomes the
caller's status, anything else is a kernel bug and is raised out of the run.

This is the hottest path of the kernel: one register read per syscall, one write
per result, through `RegisterBatch`, whose ctypes arrays are built once.
"""

from __future__ import annotations

import ctypes

from unicorn import UcError
from unicorn.unicorn_py3 import unicorn as binding

from machine import Fault, FaultKind, Trap, TrapKind

from . import syscalls
from .abi import FaultCode, Sys
from .caps import SyscallError
from .process import Thread

#: syscalls after which the IPC fast path may be armed (see fastpath.py)
ARMING = frozenset({Sys.CALL, Sys.RECV, Sys.REPLY_RECV})


class RegisterBatch:
    """A fixed list of 32-bit registers, read or written in one call into Unicorn's C API, on the
    CPU or on a saved context.

    The trap path's fast lane: the binding's `reg_read_batch`/`reg_write` build ctypes objects on
    every call (several microseconds each); these arrays are built once. Unicorn is pinned
    exactly, which keeps this use of its C API safe (as machine/counter.py does).
    """

    def __init__(self, uc, ids: list[int]) -> None:
        self._lib = binding.uclib
        self._uch = uc._uch
        n = len(ids)
        self._n = n
        self._ids = (ctypes.c_int * n)(*ids)
        self._values = (ctypes.c_uint32 * n)()
        base = ctypes.addressof(self._values)
        self._pointers = (ctypes.c_void_p * n)(*(base + 4 * i for i in range(n)))
        self._pointers_arg = ctypes.cast(self._pointers, ctypes.c_void_p)

    def read(self) -> list[int]:
        """Every register of the list, from the CPU."""
        status = self._lib.uc_reg_read_batch(self._uch, self._ids, self._pointers, self._n)
        if status:
            raise UcError(status)
        return self._values[:]

    def write(self, values) -> None:
        """The first len(values) registers of the list, into the CPU (values wrap to 32 bits)."""
        n = len(values)
        self._values[:n] = values
        status = self._lib.uc_reg_write_batch(self._uch, self._ids, self._pointers, n)
        if status:
            raise UcError(status)

    def write_context(self, context, values) -> None:
        """As `write`, into a saved context (a `UcContext`)."""
        n = len(values)
        self._values[:n] = values
        status = self._lib.uc_context_reg_write_batch(context.context, self._ids, self._pointers_arg, n)
        if status:
            raise UcError(status)



class Traps:
    """Syscalls and WFI of the running thread (see the module's docstring)."""

    def __init__(self, kernel) -> None:
        self.kernel = kernel
        self.s = kernel.state
        self.clock = kernel.clock
        cpu = kernel.cpu
        #: Unicorn's ids of the argument registers, then of the number register
        self.register_ids = [cpu.register_id(r) for r in (*cpu.ARG_REGISTERS, cpu.SYSCALL_NUMBER_REGISTER)]
        #: one read per syscall, one write per result
        self._registers = RegisterBatch(kernel.machine.uc, self.register_ids)
        #: set once the kernel's modules exist (see `Kernel.__init__`)
        self.fast = None

    def trap(self, trap: Trap) -> bool:
        k = self.kernel
        s = self.s
        t = s.current
        if t is None:
            return False
        if trap.kind is TrapKind.BREAKPOINT:
            return False  # the run ends; `run` turns it into a fault unless a debugger takes it
        s.in_hook = True
        try:
            if trap.kind is TrapKind.SYSCALL:
                s.stats.syscalls += 1
                regs = self._registers.read()
                number = regs[-1]
                if k.on_syscall is not None:
                    k.on_syscall(self.clock.now, t.name, number)
                handler = syscalls.TABLE.get(number)
                if handler is None:
                    k.faults.fault(t, Fault(FaultKind.CPU_ERROR, trap.pc, t.name, detail=f"unknown syscall {number}"),
                                   code=FaultCode.BAD_SYSCALL)
                else:
                    args = tuple(regs[:-1])
                    try:
                        handler(k, t, args)
                    except SyscallError as e:
                        self.ret(t, e.code)
            else:  # "wait": WFI in user mode is a yield
                number = None
                k.dispatcher.yield_current()
            k.dispatcher.schedule()
            if number in ARMING and self.fast is not None:
                self.fast.arm()
        finally:
            s.in_hook = False
        return True

    def ret(self, t: Thread, status: int, *values: int) -> None:
        """Write a syscall's results into `t`'s registers (running or not)."""
        if t is self.s.current:
            self._registers.write((status, *values))
        else:
            self._registers.write_context(t.context, (status, *values))
