"""A GDB remote serial protocol (RSP) stub: gdb-multiarch attaches to a running board.

    atoll boot IMAGE --gdb PORT [--wait]
    gdb-multiarch -ex 'target extended-remote :PORT'

One TCP client at a time on 127.0.0.1. The stub runs in the emulation's own
thread: while the system runs, it runs the kernel (or the bare machine) in short
slices and polls the socket in between (for Ctrl-C, byte 0x03); while it is
stopped, it blocks on the socket. Nothing here is a per-instruction hook:
breakpoints and watchpoints are `machine.MachineDebug` hooks on their own
addresses, so a debugged system runs close to full speed.

Threads are components: thread id N is the kernel's process index N, named by
`qThreadExtraInfo`; a bare-metal machine is one thread. A client that offers the
multiprocess extensions (GDB does) and a system with a kernel get one process per
component (thread id `pN.1`), each with its ELF (`qXfer:exec-file`), so GDB makes every
component an inferior with its own symbols and inserts each breakpoint in the process of
its program space. Registers of the thread GDB selected (`Hg`) come from the CPU if it is
the one running, otherwise from its saved context; memory is read and written, and
break/watchpoints set, through its own address space. The whole system runs whenever GDB
resumes anything; hits in components GDB did not resume (`vCont;c:pP.-1`) are passed over,
as GDB cannot take a stop there.

Steps: a step of a thread that is not running runs the system (breakpoints and Ctrl-C as
in a continue) until that thread is about to run, then it executes one instruction; after
the instruction, what fell due (clock events, a pending interrupt) happens, so time passes.
A watchpoint stops right after the access; GDB is shown the pc of the accessing
instruction (it expects to step over the access itself) until it resumes.

The guest's own stops: while a client is attached the kernel hands a component's CPU
fault or breakpoint instruction to the stub (`Kernel.debugger_takes_stops`) instead of
stopping the component; GDB hears SIGTRAP, SIGSEGV, SIGBUS or SIGILL with that thread
selected and the pc at the instruction. A fault the kernel decides (an unknown syscall, a
missed heartbeat, an interrupt storm) stops GDB too (SIGSYS, SIGXCPU, SIGABRT), after the
kernel has handled it. Resuming moves past a breakpoint instruction, or
hands a fault to the kernel, when the pc still stands there (`take_pending`).

The stub is three modules: `atoll.rsp` (packet framing), this one (the loop,
threads, running and stepping, through `atoll.control`, which the debugger shares)
and `atoll.gdb_packets` (what each packet does).

Robustness: a packet with a bad checksum is refused (`-`, or dropped in no-ack
mode), one longer than `MAX_PACKET` is dropped, one that cannot be understood gets
an `E` reply or the empty reply, and no packet can raise out of the stub. GDB
detaching or disconnecting removes its breakpoints and lets the system run on;
only `kill` ends the run.
"""

from __future__ import annotations

import select
import socket
import sys
from dataclasses import dataclass

from kernel.abi import FaultCode
from machine import DebugHit, Fault, FaultKind, HitKind, Machine, Stop, StopReason, TrapKind

from .control import Control, write_register
from .gdb_packets import GdbPackets
from .rsp import MAX_PACKET, Disconnected, RspConnection

#: virtual time run between two polls of the socket while the system runs (a few
#: milliseconds of wall time at most; shorter costs speed: see bench/tools.py)
SLICE_SECONDS = 0.02

# GDB's own signal numbers (gdb/signals.def), which the remote protocol carries
SIGINT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGSEGV, SIGSYS, SIGXCPU = 2, 4, 5, 6, 10, 11, 12, 24

#: the signal GDB hears for a component's own stop (a fault kind not named here: SIGSEGV)
SIGNAL_OF_FAULT = {
    FaultKind.BREAKPOINT: SIGTRAP, FaultKind.UNDEFINED_INSTRUCTION: SIGILL, FaultKind.ILLEGAL_STATE: SIGILL,
    FaultKind.BUS_ERROR: SIGBUS, FaultKind.MISALIGNED: SIGBUS,
}

#: the signal GDB hears for a fault the kernel decided (by its fault code; else by its kind): an
#: unknown syscall is a bad system call, a missed heartbeat a time limit exceeded, an interrupt
#: storm an abort (each one GDB stops at by default: not SIGALRM or SIGIO, which it passes on)
SIGNAL_OF_KERNEL_FAULT = {FaultCode.BAD_SYSCALL: SIGSYS, FaultCode.HUNG: SIGXCPU, FaultCode.IRQ_STORM: SIGABRT}


@dataclass
class GdbThread:
    tid: int
    name: str
    space: object
    thread: object | None   # the kernel's Thread, None on bare metal


class GdbStub:
    """Serves one board (and its kernel, if any) to GDB clients."""

    def __init__(self, machine: Machine, kernel=None, port: int = 0, host: str = "127.0.0.1") -> None:
        self.machine = machine
        self.kernel = kernel
        self.control = Control(machine, kernel)
        self.debug = self.control.debug
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, port))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.conn: RspConnection | None = None
        self.running = True
        self.selected = 0
        self._stop = (SIGTRAP, 1, "")
        self.killed = False
        self.last_machine_stop: Stop | None = None
        #: the guest's own stop GDB was told of and has not resumed from: (thread id, fault)
        self.pending: tuple[int, Fault] | None = None
        #: a step waiting for its thread to run: (thread id, its pc, its space, whether the
        #: breakpoint there is the step's own)
        self._stepping: tuple[int, int, object, bool] | None = None
        #: the components GDB resumed last (vCont with thread ids); None: all of them
        self.resumed: set[int] | None = None
        #: after a watchpoint stop, until GDB resumes: (thread id, pc of the access, pc after it)
        self._watch_access: tuple[int, int, int] | None = None
        #: a fault the kernel decided during the last slice, for GDB: (thread id, fault, code)
        self.kernel_fault: tuple[int, Fault, object] | None = None
        #: the kernel's fault GDB last stopped at: (thread id, fault, how it was stopped)
        self.last_fault: tuple[int, Fault, str] | None = None
        self.packets = GdbPackets(self)

    # -- the loop ----------------------------------------------------------------

    def serve(self, wait: bool = False, until: int | None = None) -> Stop | None:
        """Run the system under the stub until `until` (a clock cycle), every component exited,
        or GDB kills it. With `wait`, nothing runs until a client connects and continues."""
        self.running = not wait
        if wait:
            self.stopped_at(SIGTRAP, None)
        try:
            while not self.killed:
                if self.conn is None:
                    self._accept(block=not self.running)
                    if self.conn is not None and self.running:
                        self.running = False               # attaching stops the target
                        self.stopped_at(SIGINT, None)
                if self.running:
                    if self._finished(until):
                        if self.conn is not None:
                            self.send("W00")
                        break
                    self._run_slice(until)
                    if self.conn is not None:
                        self._poll(0)
                elif self.conn is not None:
                    self._poll(0.25)
        finally:
            self.close()
        return self.last_machine_stop

    def close(self) -> None:
        if self.conn is not None:
            self.conn.sock.close()
            self.conn = None
        self.listener.close()

    def _finished(self, until: int | None) -> bool:
        if until is not None and self.machine.clock.now >= until:
            return True
        return self.kernel is not None and self.kernel.all_exited()

    def _accept(self, block: bool) -> None:
        ready, _, _ = select.select([self.listener], [], [], None if block else 0)
        if not ready:
            return
        sock, _ = self.listener.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn = RspConnection(sock)
        if self.kernel is not None:
            self.kernel.debugger_takes_stops = True
            self.kernel.on_fault = self._kernel_fault

    def _run_slice(self, until: int | None) -> None:
        clock = self.machine.clock
        cycles = clock.cycles(SLICE_SECONDS)
        if until is not None:
            cycles = max(0, min(cycles, until - clock.now))
        result = self.control.run(cycles)
        stop = self.last_machine_stop = result.stop
        if self.kernel_fault is not None:
            self._report_kernel_fault()
        elif result.hit is not None:
            if not self._step_reached(result.hit) and not self._passed_over(result.hit):
                self._report_hit(result.hit)
        elif stop.reason is StopReason.FAULT and stop.fault is not None:
            self._report_own_stop(stop.fault)
        elif stop.reason is StopReason.TRAP and stop.trap is not None and stop.trap.kind is TrapKind.BREAKPOINT:
            self._report_own_stop(Fault(FaultKind.BREAKPOINT, stop.trap.pc, self.thread(self.current_tid()).name))

    def _passed_over(self, hit: DebugHit) -> bool:
        """Whether `hit` is in a component GDB did not resume, and so runs on past it. The whole
        system always runs, but with GDB's `schedule-multiple` off, `continue` resumes only the
        selected inferior in GDB's eyes, and GDB 13 cannot take a stop of a thread it did not
        resume (it fails an internal assertion): such hits are passed over."""
        if self.resumed is None or self.tid_of_space(hit.space) in self.resumed:
            return False
        if hit.kind is HitKind.BREAKPOINT:
            self.debug.skip_once(hit.space, hit.address)
        return True

    def _show_before_access(self, hit: DebugHit) -> None:
        """GDB has non-steppable watchpoints on ARM and RISC-V: it expects the stop *before* the
        access, and steps over the accessing instruction itself (a single step, or on RISC-V a
        breakpoint after it). The machine stops after the access, so GDB is shown the pc of the
        accessing instruction until it resumes; the first resume then puts the thread back
        after the access without running it again (`_complete_watch_access`), and GDB's step
        over it stops there: the watchpoint reports at the instruction after the access."""
        t = self.thread(self.tid_of_space(hit.space))
        after = self.control.pc(t.thread)
        if hit.pc is None or hit.pc == after:
            return
        # shown, and put back before anything runs: not a change of the system, so not
        # `Control.write` (which a recording counts as the debugger's own change)
        write_register(self.machine, self.kernel, t.thread, "pc", hit.pc)
        self._watch_access = (t.tid, hit.pc, after)

    def _complete_watch_access(self) -> int | None:
        """Resuming after a watchpoint stop: the thread goes back after the access it made (if GDB
        left its pc at the access); that thread's id, else None."""
        if self._watch_access is None:
            return None
        (tid, at, after), self._watch_access = self._watch_access, None
        t = self.thread(tid)
        if t.tid != tid or self.control.pc(t.thread) != at:
            return None
        write_register(self.machine, self.kernel, t.thread, "pc", after)   # (as in _show_before_access)
        return tid

    def _report_own_stop(self, fault: Fault) -> None:
        """The running component (or bare-metal program) faulted or ran a breakpoint instruction:
        GDB stops there, the pc at that instruction, until it resumes (see `resume`)."""
        tid = self.current_tid()
        self.control.write(self.thread(tid).thread, "pc", fault.pc)
        self.pending = (tid, fault)
        self.stopped_at(SIGNAL_OF_FAULT.get(fault.kind, SIGSEGV), tid)

    def take_pending(self) -> bool:
        """Resuming from the guest's own stop: past a breakpoint instruction the pc still stands on
        (True), or a fault the kernel now handles as without a debugger (the component stops or
        restarts by its policy). A pc GDB moved away (`set $pc`, `jump`) is left as it is."""
        if self.pending is None:
            return False
        (tid, fault), self.pending = self.pending, None
        t = self.thread(tid)
        if t.tid != tid or self.control.pc(t.thread) != fault.pc:
            return False
        if fault.kind is FaultKind.BREAKPOINT:
            self.control.skip_instruction(t.thread, t.space)
            return True
        if self.kernel is not None:
            self.kernel.on_fault = None            # handed back: not news to GDB
            self.kernel.fault(self.kernel.process_by_index(tid), fault)
            self.kernel.on_fault = self._kernel_fault if self.conn is not None else None
        return False

    def _kernel_fault(self, process, fault: Fault, code) -> None:
        """The kernel stopped a component by a fault of its own deciding: the run ends (the
        kernel asked the machine to stop) and GDB hears of it once the slice is over."""
        self.kernel_fault = (process.index, fault, code)

    def _report_kernel_fault(self) -> None:
        tid, fault, code = self.kernel_fault
        self.kernel_fault = None
        self.last_fault = (tid, fault, "stopped by the kernel")
        self.stopped_at(SIGNAL_OF_KERNEL_FAULT.get(code, SIGNAL_OF_FAULT.get(fault.kind, SIGSEGV)), tid)

    def fault_report(self) -> str:
        """`monitor fault`: the fault GDB stopped at, else the selected component's last fault."""
        t = self.thread()
        if self.pending is not None and self.pending[0] == t.tid:
            fault, when = self.pending[1], "stopped at (continuing hands it to the kernel)"
        elif self.last_fault is not None and self.last_fault[0] == t.tid:
            fault, when = self.last_fault[1], self.last_fault[2]
        else:
            process = self.kernel.process_by_index(t.tid) if self.kernel is not None else None
            fault, when = getattr(process, "last_fault", None), "last fault"
        if fault is None:
            return f"thread {t.tid} ({t.name}): no fault\n"
        address = "-" if fault.address is None else f"{fault.address:#010x}"
        access = "-" if fault.access is None else fault.access.value
        return (f"thread {t.tid} ({t.name}) {when}: {fault}\n"
                f"kind={fault.kind.value} address={address} access={access} pc={fault.pc:#010x}\n")

    def _report_hit(self, hit: DebugHit) -> None:
        self.running = False
        extra = ""
        if hit.kind is HitKind.WATCHPOINT:
            word = {"write": "watch", "read": "rwatch", "access": "awatch"}[hit.watch]
            extra = f"{word}:{hit.address:x};"
            self._show_before_access(hit)
        elif self.packets.swbreak:
            extra = "swbreak:;"
        self.stopped_at(SIGTRAP, self.tid_of_space(hit.space), extra)

    def stopped_at(self, signal: int, tid: int | None, extra: str = "") -> None:
        """Record a stop (and tell the client, if one is connected and waiting)."""
        self.running = False
        self._cancel_step()
        if tid is None:
            tid = self.current_tid()
        self.selected = tid
        self._stop = (signal, tid, extra)
        if self.conn is not None:
            self.send(self.last_stop)

    @property
    def last_stop(self) -> str:
        """The stop reply of the last stop, thread ids written as the client reads them."""
        signal, tid, extra = self._stop
        return f"T{signal:02x}{extra}thread:{self.packets.thread_text(tid)};"

    def _poll(self, timeout: float) -> None:
        conn = self.conn
        try:
            conn.fill(timeout)
            while self.conn is conn:
                event = conn.next_event()
                if event is None:
                    break
                if event is RspConnection.INTERRUPT:
                    if self.running:
                        self.stopped_at(SIGINT, None)
                    continue
                self._dispatch(event)
        except Disconnected:
            self.disconnect()

    def send(self, payload: bytes | str) -> None:
        try:
            self.conn.send(payload)
        except Disconnected:
            self.disconnect()

    def disconnect(self) -> None:
        """The client left: its breakpoints go, and the system runs on."""
        if self.conn is not None:
            self.conn.sock.close()
            self.conn = None
        self._cancel_step()
        self._complete_watch_access()    # the access was made: the thread goes on after it
        self.packets.clear_points()
        self.take_pending()
        if self.kernel is not None:
            self.kernel.debugger_takes_stops = False
            self.kernel.on_fault = None
        self.running = True

    def _dispatch(self, packet: bytes) -> None:
        try:
            reply = self.packets.handle(packet)
        except Exception as e:  # never out of the stub: an error reply instead
            print(f"atoll gdb: {packet[:40]!r}: {type(e).__name__}: {e}", file=sys.stderr)
            reply = "E01"
        if reply is not None and self.conn is not None:
            self.send(reply)

    # -- threads -----------------------------------------------------------------

    def threads(self) -> list[GdbThread]:
        if self.kernel is None:
            return [GdbThread(1, "bare-metal", self.machine.space, None)]
        return [GdbThread(p.index, p.name, p.space, p.thread) for p in self.kernel.processes]

    def thread(self, tid: int | None = None) -> GdbThread:
        tid = self.selected if tid is None else tid
        threads = self.threads()
        for t in threads:
            if t.tid == tid:
                return t
        return next((t for t in threads if t.tid == self.current_tid()), threads[0])

    def current_tid(self) -> int:
        if self.kernel is None or not self.kernel.processes:
            return 1
        current = self.kernel.current
        if current is not None:
            return current.process.index
        return self.selected if self.selected > 0 else self.kernel.processes[0].index

    def tid_of_space(self, space) -> int:
        for t in self.threads():
            if t.space is space:
                return t.tid
        return self.current_tid()

    # -- running -----------------------------------------------------------------

    def resume(self) -> None:
        """Let every thread that sits on a breakpoint run past it once, and run."""
        watched = self._complete_watch_access()
        self.take_pending()
        # GDB steps over a watched access with a breakpoint at the next instruction where it has
        # no hardware step (RISC-V): that one must stop at once
        self.control.resume_past_breakpoints((t.space, t.thread) for t in self.threads() if t.tid != watched)
        self.running = True

    def step(self) -> None:
        """One instruction of the selected thread, as GDB defines a step: while that thread is
        not the one running, the system runs (its breakpoints and Ctrl-C stop it as in a
        continue) until the thread runs again, then the thread executes one instruction, and
        virtual time advances with it (due clock events and interrupts are taken after the
        instruction). From a breakpoint instruction GDB stopped at, the step moves past it."""
        tid = self.thread().tid
        if self._complete_watch_access() == tid:
            self.stopped_at(SIGTRAP, tid)          # GDB's step over the access: done already
            return
        if self.take_pending():
            self.stopped_at(SIGTRAP, tid)
            return
        t = self.thread(tid)
        if self.kernel is None or (self.kernel.current is t.thread and not self.machine.waiting):
            self._step_now(t)
            return
        # run the others until this thread is about to execute its next instruction
        pc = self.control.pc(t.thread)
        temporary = not self.debug.breakpoint_at(pc, t.space)
        if temporary:
            self.debug.add_breakpoint(pc, t.space)
        self._stepping = (tid, pc, t.space, temporary)
        self.control.resume_past_breakpoints((u.space, u.thread) for u in self.threads() if u.tid != tid)
        self.running = True

    def _step_now(self, t: GdbThread) -> None:
        result = self.control.step(t.thread, t.space)
        self.last_machine_stop = result.stop
        if result.watchpoint is not None:
            self._report_hit(result.watchpoint)
            return
        if result.stop.reason is StopReason.FAULT and result.stop.fault is not None and self.kernel is not None \
                and not result.faulted:
            self._report_own_stop(result.stop.fault)
            return
        self.control.advance()          # what fell due during the instruction happens now
        if self.kernel_fault is not None:
            self._report_kernel_fault()
            return
        self.stopped_at(SIGSEGV if result.stop.reason is StopReason.FAULT else SIGTRAP, t.tid)

    def _step_reached(self, hit: DebugHit) -> bool:
        """Whether `hit` is the thread being stepped arriving at its next instruction (then it
        steps, and the stop is reported)."""
        if self._stepping is None or hit.kind is not HitKind.BREAKPOINT:
            return False
        tid, pc, space, _ = self._stepping
        if hit.space is not space or self.machine.cpu.code_address(hit.address) != self.machine.cpu.code_address(pc):
            return False
        self._cancel_step()
        self.running = False
        self._step_now(self.thread(tid))
        return True

    def _cancel_step(self) -> None:
        if self._stepping is not None:
            _, pc, space, temporary = self._stepping
            self._stepping = None
            if temporary:
                self.debug.remove_breakpoint(pc, space)


__all__ = ["MAX_PACKET", "GdbStub", "GdbThread", "SLICE_SECONDS"]
