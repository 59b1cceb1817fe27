"""Interrupts: lines routed to drivers as notification bits, acks, and storms.

Boot routes each interrupt line a driver handles to one of its notification bits
(`route`). The machine calls `deliver` at a slice boundary; each claimed line is
masked and becomes that bit, and the driver's IRQ_ACK (`ack`) completes and unmasks
it. A line its driver cannot clear (asserted again at every ack for IRQ_STORM_ACKS
acks and IRQ_STORM_MS) is masked and faults the driver (IRQ_STORM).

Invariants: a line has at most one driver; a line without one is masked for good;
a restarted driver's lines are completed and unmasked (`reopen`).
"""

from __future__ import annotations

import logging

from machine import Fault, FaultKind, PriorityController

from .abi import FaultCode
from .loader import LoadError
from .process import IpcEvent, IpcKind, Process, State

log = logging.getLogger("atoll.kernel")

#: a line found asserted again at each of its driver's acks, at least IRQ_STORM_ACKS acks in a
#: row over at least IRQ_STORM_MS of virtual time, is an interrupt storm (see `Interrupts.ack`)
IRQ_STORM_ACKS = 1000
IRQ_STORM_MS = 100


class Interrupts:
    """Interrupt routes, delivery and acks (see the module's docstring)."""

    def __init__(self, kernel) -> None:
        self.kernel = kernel
        self.s = kernel.state
        self.machine = kernel.machine
        self.clock = kernel.clock
        self._storm_cycles = self.clock.cycles(IRQ_STORM_MS / 1000)

    def route(self, process: Process, peripheral: str, output: str, bit: int) -> int:
        """Deliver `peripheral.output` to `process` as notification `bit`; returns the line."""
        spec = self.machine.board.peripheral(peripheral)
        if output not in spec.irq:
            raise LoadError(f"{peripheral}.{output} is not wired to the interrupt controller")
        line = spec.irq[output]
        self.s.irq_owner[line] = (process, bit)
        process.irq_bits[bit] = line
        ctrl = self.machine.interrupts
        if isinstance(ctrl, PriorityController):
            ctrl.set_priority(line, 1)
        ctrl.set_enabled(line, True)
        return line

    def deliver(self) -> None:
        """The machine's interrupt hook: every claimed line becomes its driver's notification bit."""
        s = self.s
        ctrl = self.machine.interrupts
        notify = self.kernel.ipc.notify
        while True:
            line = ctrl.claim()
            if line is None:
                break
            s.stats.interrupts += 1
            ctrl.set_enabled(line, False)
            owner = s.irq_owner.get(line)
            if owner is None:
                log.warning("interrupt line %d has no driver; masked", line)
                ctrl.complete(line)
                continue
            process, bit = owner
            s.ipc_log.append(IpcEvent(self.clock.now, IpcKind.IRQ, f"line {line}", process.name, 1 << bit))
            if process.thread.state not in (State.STOPPED, State.EXITED):
                notify(process.thread, 1 << bit)
        self.kernel.dispatcher.schedule()

    def ack(self, process: Process, bits: int) -> None:
        """The driver handled the interrupts behind `bits`: complete and unmask their lines.

        A line asserted again the moment its driver acks it, at every ack for IRQ_STORM_ACKS
        acks in a row and IRQ_STORM_MS of virtual time, fires without end: its driver cannot
        clear what raises it (a level it never clears, or another device on a shared line),
        and at its priority it would starve everything below it. Such a line is masked and
        stays masked until the driver is restarted; it is counted in `stats.irq_storms` and
        is a fault of the driver (IRQ_STORM: MR2 the line), so its supervisor hears of it, or,
        unsupervised, it is stopped. Acks and virtual time are the same on every run and
        every host, and so is the verdict. (A line held high for a moment, as a device under
        a burst of input may do, is not a storm: the window is far longer than any burst.)
        """
        unclear = self.s.irq_unclear
        ctrl = self.machine.interrupts
        for bit, line in process.irq_bits.items():
            if bits >> bit & 1:
                ctrl.complete(line)
                ctrl.set_enabled(line, True)
                if line not in ctrl.pending():
                    unclear.pop(line, None)
                    continue
                acks, since = unclear.get(line, (0, self.clock.now))
                unclear[line] = (acks + 1, since)
                if acks + 1 >= IRQ_STORM_ACKS and self.clock.now - since >= self._storm_cycles:
                    self._storm(process, line, acks + 1)
                    return

    def _storm(self, process: Process, line: int, acks: int) -> None:
        self.machine.interrupts.set_enabled(line, False)
        del self.s.irq_unclear[line]
        self.s.stats.irq_storms += 1
        log.warning("interrupt line %d was asserted again at each of %d acks by %s in %d ms: masked, a fault of %s",
                    line, acks, process.name, IRQ_STORM_MS, process.name)
        self.kernel.faults.fault(process.thread, Fault(FaultKind.CPU_ERROR, self.kernel.cpu.pc, process.name, line,
                                                       detail=f"interrupt storm on line {line}"),
                                 code=FaultCode.IRQ_STORM)

    def reopen(self, process: Process) -> None:
        """A restarted driver's lines: completed and unmasked."""
        ctrl = self.machine.interrupts
        for line in process.irq_bits.values():
            ctrl.complete(line)
            ctrl.set_enabled(line, True)
