"""The debugger's commands that make the system run: continue, stepi, step, next, until, finish.

`continue` runs the kernel in slices of `RUN_SLICE_SECONDS` of virtual time through
the shared `Control`, checking between slices for a hit, Ctrl-C, the end of a
requested duration and every component having exited. `stepi` runs one instruction
of the running component (`Control.step`, which hands back a `StepResult`) with no
timer or interrupt let in, and says what a syscall did and who runs next. `step` and
`next` are instruction steps until a new source line starts; a component that
blocks in a syscall is followed until it runs again. Whether to keep stepping is
decided from each step's `StepResult` and the thread's state, never from the text
shown to the user.
"""

from __future__ import annotations

import signal
import threading

from kernel import State, Sys

from . import views
from .control import StepResult
from .debug_points import Breakpoints
from .debug_session import DebugSession
from .durations import parse_duration
from .symbols import DebuggerError

#: virtual time one run slice covers between checks for Ctrl-C and the end of a run
RUN_SLICE_SECONDS = 0.01
#: the most instructions one line step executes before giving up
MAX_LINE_STEP = 200_000


class Running:
    """Running and stepping one debugged system."""

    def __init__(self, session: DebugSession, points: Breakpoints) -> None:
        self.session = session
        self.points = points
        self._interrupted = False
        self._last_syscall: tuple[str, int] | None = None
        kernel = session.kernel
        previous_syscall = kernel.on_syscall

        def on_syscall(cycle: int, component: str, number: int) -> None:
            self._last_syscall = (component, number)
            if previous_syscall is not None:
                previous_syscall(cycle, component, number)
        kernel.on_syscall = on_syscall

    def interrupt(self) -> None:
        """Stop a running `continue` (from a signal handler or another thread)."""
        self._interrupted = True
        self.session.machine.request_stop()

    # -- running ---------------------------------------------------------------------------------

    def _resume_past_breakpoints(self) -> None:
        """The component that stopped on a breakpoint runs past it once (others that have not
        run yet and sit at the same address, such as every component's _start, still stop)."""
        current = self.session.kernel.current
        if current is not None:
            self.session.control.resume_past_breakpoints([(current.process.space, current)])

    def run(self, seconds: float | None = None, stop_when=None) -> str:
        """Run the system until a hit (that `stop_when` accepts), Ctrl-C, or `seconds` pass."""
        clock = self.session.machine.clock
        end = None if seconds is None else clock.now + clock.cycles(seconds)
        self._interrupted = False
        restore = None
        if threading.current_thread() is threading.main_thread():
            try:
                restore = signal.signal(signal.SIGINT, lambda *_: self.interrupt())
            except ValueError:
                restore = None
        try:
            self._resume_past_breakpoints()
            while True:
                if self.session.kernel.all_exited():
                    return "every component has exited\n"
                cycles = clock.cycles(RUN_SLICE_SECONDS)
                if end is not None:
                    if clock.now >= end:
                        return f"stopped after {seconds:g} s of virtual time\n" + self._stopped_text()
                    cycles = min(cycles, end - clock.now)
                hit = self.session.control.run(cycles).hit
                if hit is not None:
                    text = self.points.report(hit, stop_when)
                    if text is not None:
                        return text
                    self._resume_past_breakpoints()
                    continue
                if self._interrupted:
                    return "Interrupted\n" + self._stopped_text()
        finally:
            if restore is not None:
                signal.signal(signal.SIGINT, restore)

    def _stopped_text(self) -> str:
        current = self.session.kernel.current
        if current is None:
            return "no component runs (every one waits); stopped in the kernel's idle loop\n"
        self.session.selected = current.process
        return self.session.where(current.process) + "\n"

    def cmd_continue(self, arg: str) -> str:
        seconds = None
        if arg.strip():
            try:
                seconds = parse_duration(arg.strip())
            except Exception as e:
                raise DebuggerError(f"continue: {e}") from None
        return self.run(seconds)

    def _run_to(self, process, address: int) -> str | None:
        """Run until `process` reaches `address` (None) or something else stops the run (its text)."""
        self.points.add_hook(address, process.name)
        try:
            out = self.run(stop_when=lambda p, a: p is process and a == address)
        finally:
            self.points.remove_hook(address, process.name)
        kernel = self.session.kernel
        if kernel.current is not None and kernel.current.process is process and \
                self.session.pc(process) == address:
            return None
        return out

    # -- instruction steps -----------------------------------------------------------------------

    def _running_process(self):
        """The component that runs now; if none does, let time pass until one does."""
        if not self.session.control.wait_until_ready():
            raise DebuggerError("no component is ready to run")
        return self.session.kernel.current.process

    def _step_instruction(self) -> tuple[object, StepResult, str]:
        """One instruction of the running component: (its process, the step's result, what
        happened worth telling)."""
        process = self._running_process()
        thread = process.thread
        self._last_syscall = None
        result = self.session.control.step(thread, process.space)
        notes = ""
        if self._last_syscall is not None and self._last_syscall[0] == process.name:
            notes += self._syscall_text(process, self._last_syscall[1])
        if result.faulted or thread.state in (State.STOPPED, State.EXITED):
            fault = process.last_fault
            notes += f"{process.name} {thread.state.value}" + (f": {fault}" if fault is not None else "") + "\n"
        elif self._last_syscall is None and self.session.kernel.current is not thread and \
                thread.state is not State.RUNNING:
            notes += f"{process.name} is now {thread.state.value}\n"
        if result.watchpoint is not None:
            notes += self.points.report(result.watchpoint) or ""
        return process, result, notes

    def _syscall_text(self, process, number: int) -> str:
        try:
            name = Sys(number).name
        except ValueError:
            name = f"unknown syscall {number}"
        thread = process.thread
        if thread.state is State.RUNNING or thread.state is State.READY:
            status = self.session.reg(process, self.session.cpu.RETURN_REGISTER)
            status -= (1 << 32) if status & 0x80000000 else 0
            result = f"returned {status}"
        else:
            result = f"{process.name} is {thread.state.value}" + (
                f" ({views.waits_on(self.session.kernel, thread)})" if thread.state not in (State.STOPPED,) else "")
        current = self.session.kernel.current
        runs = current.name if current is not None else "nobody (idle)"
        return f"syscall {name} from {process.name}: {result}; next runs: {runs}\n"

    def cmd_stepi(self, arg: str) -> str:
        count = self.session.count(arg)
        notes = ""
        process = None
        for _ in range(count):
            process, result, note = self._step_instruction()
            notes += note
            if process.thread.state is State.STOPPED or result.watchpoint is not None:
                break
        current = self.session.kernel.current
        shown = current.process if current is not None else process
        self.session.selected = shown
        return notes + self.session.where_short(shown) + "\n"

    # -- line steps ------------------------------------------------------------------------------

    def _step_line(self, over: bool) -> str:
        s = self.session
        process = self._running_process()
        syms = s.syms(process)
        if syms is None:
            raise DebuggerError(f"no symbols for {process.name}")
        start_pc = s.pc(process)
        start_line = syms.line_at(start_pc)
        start_fn = syms.function_at(start_pc)
        notes = ""
        for _ in range(MAX_LINE_STEP):
            before_pc = s.pc(process)
            _, result, note = self._step_instruction()
            notes += note
            thread = process.thread
            if thread.state in (State.STOPPED, State.EXITED):
                s.selected = process
                return notes
            if s.kernel.current is not thread:
                # blocked or preempted in a syscall: follow it until it runs again
                out = self._run_to(process, s.pc(process))
                if out is not None:
                    return notes + out
            if result.watchpoint is not None:
                s.selected = process
                return notes
            pc = s.pc(process)
            fn = syms.function_at(pc)
            if over and fn is not None and pc == fn.start and fn is not start_fn and before_pc != pc:
                # a call: run to its return address
                out = self._run_to(process, s.cpu.code_address(s.reg(process, s.cpu.LINK_REGISTER)))
                if out is not None:
                    return notes + out
                pc = s.pc(process)
            here = syms.line_starts.get(pc)
            if here is not None and (here != start_line or pc == start_pc or
                                     (pc < start_pc and syms.function_at(pc) is start_fn)):
                if here != start_line or pc <= start_pc:
                    s.selected = process
                    return notes + s.where(process) + "\n"
            if self.points.user_breakpoint_at(process, pc) and pc != start_pc:
                s.selected = process
                return notes + "Breakpoint, " + s.where(process) + "\n"
        s.selected = process
        return notes + f"gave up after {MAX_LINE_STEP} instructions\n" + s.where(process) + "\n"

    def cmd_step(self, arg: str) -> str:
        return "".join(self._step_line(over=False) for _ in range(self.session.count(arg)))

    def cmd_next(self, arg: str) -> str:
        return "".join(self._step_line(over=True) for _ in range(self.session.count(arg)))

    def cmd_until(self, arg: str) -> str:
        if not arg.strip():
            return self._step_line(over=True)
        process = self._running_process()
        address = self.session.locations(arg.strip(), process.name)[0][1]
        out = self._run_to(process, address)
        return out if out is not None else self.session.where(process) + "\n"

    def cmd_finish(self, arg: str) -> str:
        s = self.session
        process = self._running_process()
        frames = s.frames(process, 2)
        if len(frames) < 2:
            raise DebuggerError("finish: no caller frame (no call frame information here)")
        caller = frames[1]
        syms = s.syms(process)
        name = syms.describe(frames[0].pc) if syms else ""
        out = self._run_to(process, caller.pc)
        if out is not None:
            return out
        value = s.reg(process, s.cpu.RETURN_REGISTER)
        return f"Run till exit from {name or hex(frames[0].pc)}\n" + s.where(process) + \
            f"\nValue returned: {value} ({value:#x})\n"
