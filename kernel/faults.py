"""Faults, exits, stops and restarts of components.

A component stops by a fault (the CPU's, or the kernel's: an unknown syscall, a
breakpoint with no debugger, an interrupt storm, a missed heartbeat), by EXIT, or
silently (`stop`, as if it had died without a word). Stopping it leaves nobody
waiting on it and it waiting on nobody (`forget`): its callers get DEAD_PEER, its
reply capabilities are dropped, its sleep, timer and heartbeat are cancelled. A
fault or a non-zero exit goes to its supervisor as a FAULT message, and its restart
policy (the image description's) decides what follows: hold it for inspection,
restart it at once or with the supervisor's backoff, or reboot the whole system,
with a limit of failures in a window past which another action applies.

Invariants: a restarted component runs its image from the entry point as a new
generation, with exactly the capabilities it was granted, its interrupt lines
unmasked, no pending notification bits and nothing half-sent or half-received.
"""

from __future__ import annotations

import functools
import logging

from machine import ElfError, Fault, FaultKind, symbols

from .abi import FAULT_RESTART_AT_ONCE, Error, FaultCode, Label
from .boot import restart_policy
from .caps import Capability, CapKind
from .loader import load_image
from .process import IpcEvent, IpcKind, Message, Process, State, Thread
from .rules import RestartAction

log = logging.getLogger("atoll.kernel")

_FAULT_CODES = {
    FaultKind.UNMAPPED: FaultCode.UNMAPPED, FaultKind.PERMISSION: FaultCode.PERMISSION,
    FaultKind.BUS_ERROR: FaultCode.BUS_ERROR, FaultKind.UNDEFINED_INSTRUCTION: FaultCode.UNDEFINED_INSTRUCTION,
    FaultKind.MISALIGNED: FaultCode.MISALIGNED, FaultKind.BREAKPOINT: FaultCode.BREAKPOINT,
    FaultKind.ILLEGAL_STATE: FaultCode.ILLEGAL_STATE, FaultKind.CPU_ERROR: FaultCode.CPU_ERROR,
}


class Faults:
    """Stopping and restarting components (see the module's docstring)."""

    def __init__(self, kernel) -> None:
        self.kernel = kernel
        self.s = kernel.state
        self.machine = kernel.machine
        self.clock = kernel.clock

    def fault(self, t: Thread, fault: Fault, code: FaultCode | None = None, address: int | None = None) -> None:
        """Stop `t`'s component for `fault`; its supervisor gets a FAULT message (kind `code`,
        by default the fault's; MR2 `address`, by default the fault's)."""
        process = t.process
        self.s.stats.faults += 1
        t.faults += 1
        process.last_fault = fault
        code = code or _FAULT_CODES.get(fault.kind, FaultCode.CPU_ERROR)
        log.info("%s stopped: %s", process.name, fault)
        mr2 = address if address is not None else fault.address or 0
        self._stop(process, Message(Label.FAULT, (process.index, code, mr2, fault.pc)))
        k = self.kernel
        if k.on_fault is not None:
            k.on_fault(process, fault, code)
        if k.debugger_takes_stops:
            self.machine.request_stop()

    def stop(self, process: Process) -> None:
        """Stop `process` and tell nobody (as if it died silently): no FAULT message goes out,
        but if it serves an endpoint its supervisor's next heartbeat finds it (HUNG)."""
        if process.thread.state not in (State.STOPPED, State.EXITED):
            self._stop(process, None)

    def exit(self, process: Process, code: int) -> None:
        process.exit_code = code
        self._stop(process, Message(Label.FAULT, (process.index, FaultCode.EXITED, code, 0)), exited=True)

    def _stop(self, process: Process, report: Message | None, exited: bool = False) -> None:
        """Stop `process`; `report` (a FAULT message) goes to its supervisor, if any."""
        t = process.thread
        t.state = State.EXITED if exited else State.STOPPED
        process.stop_reported = report is not None
        self.forget(process)
        if report is not None:
            self.s.ipc_log.append(IpcEvent(self.clock.now, IpcKind.FAULT, process.name,
                                           process.supervisor.name if process.supervisor else "-", report.mrs[1]))
            self._failed(process, report)
        if self.s.current is t:
            self.kernel.dispatcher.schedule()

    def _failed(self, process: Process, report: Message) -> None:
        """A fault or an exit: the component's restart policy says what follows."""
        comp = self.s.components[process.name]
        policy = restart_policy(comp, process.supervisor is not None)
        action = policy.action
        clean_exit = report.mrs[1] == FaultCode.EXITED and report.mrs[2] == 0
        if not clean_exit and policy.limit is not None and action in (RestartAction.RESTART, RestartAction.BACKOFF):
            window = self.clock.cycles(policy.window_ms / 1000)
            comp.failures = [c for c in comp.failures if self.clock.now - c < window] + [self.clock.now]
            if len(comp.failures) > policy.limit:
                log.warning("%s failed %d times in %d ms: %s", process.name, len(comp.failures),
                            policy.window_ms, policy.then)
                action = policy.then
        if action is RestartAction.HOLD and not clean_exit:
            if process.supervisor is None and report.mrs[1] not in (FaultCode.IRQ_STORM, FaultCode.HUNG):
                # nobody else hears of it: say what stopped it, where, in which function (a storm
                # or a missed heartbeat is said aloud where it is found)
                log.warning("%s %s; held (stopped) for inspection", process.name, self._what_stopped(process, report))
            else:  # said aloud when the image asked for it or a limit held it
                (log.warning if comp.restart is not None or action != policy.action else log.info)(
                    "%s held (stopped) for inspection", process.name)
            return
        if action is RestartAction.REBOOT and not clean_exit:
            # a clock event, not now: the stopping thread may be the one running in this trap
            self.clock.after(1, self.reboot)
            return
        sup = process.supervisor
        if sup is None:
            if action is RestartAction.RESTART and not clean_exit:
                self.clock.after(1, functools.partial(self._restart_stopped, process))
            return
        if action is RestartAction.RESTART:
            report = Message(report.label, (report.mrs[0], report.mrs[1] | FAULT_RESTART_AT_ONCE, *report.mrs[2:]))
        ep = process.fault_endpoint or next((e for e in self.s.endpoints.values() if e.server is sup), None)
        if ep is not None:
            self.kernel.ipc.deliver_kernel_message(ep, report)

    def _what_stopped(self, process: Process, report: Message) -> str:
        """'exited with status N', or the fault with its kind, address and pc, and the function the
        pc is in (from the ELF's symbol table, when it has one)."""
        if report.mrs[1] == FaultCode.EXITED:
            return f"exited with status {report.mrs[2] - (1 << 32) if report.mrs[2] >> 31 else report.mrs[2]}"
        fault = process.last_fault
        if fault is None:
            return f"stopped by fault kind {report.mrs[1] & 0xFFFF} at pc {report.mrs[3]:#010x}"
        text = f"stopped: {fault}"
        try:
            table = symbols(self.s.components[process.name].image)
        except ElfError:
            return text
        below = [(addr, name) for name, addr in table.items() if addr <= fault.pc and not name.startswith(("$", "."))]
        if below:
            addr, name = max(below)
            text += f", pc in {name}+{fault.pc - addr:#x}"
        return text

    def _restart_stopped(self, process: Process) -> None:
        if process.thread.state in (State.STOPPED, State.EXITED):
            self.restart(process)

    def reboot(self) -> None:
        """Restart every component from its image, as at boot (the machine's peripherals keep
        their state); every endpoint starts empty."""
        s = self.s
        s.stats.reboots += 1
        log.warning("rebooting: every component restarts")
        for p in s.processes:
            if p.thread.state not in (State.STOPPED, State.EXITED):
                p.thread.state = State.STOPPED
                self.forget(p)
        self.kernel.dispatcher.switch(None)   # the running thread's registers are dropped with the rest
        for ep in s.endpoints.values():
            ep.kernel_messages.clear()
            ep.senders.clear()
            ep.receivers.clear()
        for p in s.processes:
            comp = s.components[p.name]
            comp.failures.clear()
            self.restart(p, run=comp.start)

    def forget(self, process: Process) -> None:
        """Nobody is left waiting on a stopped process; it waits on nobody."""
        k = self.kernel
        t = process.thread
        self.s.scheduler.remove(t)
        for ep in self.s.endpoints.values():
            if t in ep.senders:
                ep.senders.remove(t)
            if t in ep.receivers:
                ep.receivers.remove(t)
            if ep.server is process:
                for sender in list(ep.senders):
                    ep.senders.remove(sender)
                    k.traps.ret(sender, Error.DEAD_PEER)
                    k.dispatcher.wake(sender)
        for _, cap in process.caps.filled():
            if cap.kind is CapKind.REPLY:
                k.ipc.drop_reply(cap.obj, Error.DEAD_PEER)
        if t.pending_reply is not None:
            t.pending_reply.used = True
            t.pending_reply = None
        k.timers.cancel(t)
        k.heartbeats.drop(process)

    def restart(self, process: Process, run: bool = True) -> None:
        """Reload the component's image, re-grant its capabilities, run it as a new generation
        (or leave it stopped, reloaded, when not `run`)."""
        k = self.kernel
        t = process.thread
        if t.state not in (State.STOPPED, State.EXITED):
            self._stop(process, None)  # restarted while running: nothing to report
        comp = self.s.components[process.name]
        k.heartbeats.drop(process)
        process.stop_reported = False
        load_image(self.machine, comp.image, comp.frames)
        self._regrant(process, comp.grants)
        self.s.stats.restarts += 1
        k.interrupts.reopen(process)
        t.context = k.builder.fresh_context(comp.image.entry, comp.start_args)
        t.notifications = 0
        t.recv_endpoint = t.send_endpoint = None
        t.outgoing = None
        if run:
            self.s.scheduler.make_ready(t)
        if not self.s.in_hook:
            k.dispatcher.schedule()

    @staticmethod
    def _regrant(process: Process, grants: list[tuple[int, Capability]]) -> None:
        """Exactly the granted capabilities, fresh, for the process's next generation."""
        process.caps.clear()
        for slot, cap in grants:
            fresh = Capability(cap.kind, cap.obj, cap.rights, cap.badge, getattr(cap.obj, "generation", 0))
            process.caps.put(slot, fresh)
        process.generation += 1
        process.restarts += 1
        for slot, cap in grants:  # the server's own capabilities see its new generation
            if cap.kind is CapKind.ENDPOINT and cap.obj.server is process:
                process.caps.get(slot).generation = process.generation
