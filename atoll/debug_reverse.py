"""Reverse execution and snapshots in `atoll debug`.

    reverse-stepi [N]   rsi    back N instructions of the running component
    reverse-step [N]    rs     back to the start of the previous source line (into calls)
    reverse-next [N]    rn     the same, over calls
    reverse-finish      rfin   back to the call of the current function
    reverse-continue    rc     back to the latest breakpoint or watchpoint hit
    record [on|off|interval N|keep N]          the recording and its memory bound
    snapshot save NAME | restore NAME | list | delete NAME

`install(debugger)` puts a `Recording` on the debugger's `Control` (from then on every
continue, step and wait is recorded) and these commands into its command table. The
component they follow is the one running now (if none runs, the selected one). The line
steps walk that component's instruction trail backwards (`Reverse.instructions_back`)
with its line table: `reverse-step` skips the rest of the current line and stops at the
first instruction of the line before it, which may be the last line of a function it
called; `reverse-next` passes over the instructions of callees; both go on into the
caller once they pass the current function's entry. Reaching the start of the history
says "No more reverse-execution history." Going forward again runs on from there (the
history after it is dropped).
"""

from __future__ import annotations

import bisect

from machine import DebugHit, HitKind

from .recording import Recording
from .reverse import Reverse
from .snapshots import NamedSnapshots, record_command
from .symbols import DebuggerError

AT_START = "No more reverse-execution history.\n"


class DebugReverse:
    """The reverse commands of one `Debugger`."""

    def __init__(self, debugger) -> None:
        self.debugger = debugger
        self.session = debugger.session
        self.recording = Recording(self.session.control)
        self.reverse = Reverse(self.recording)
        self.snapshots = NamedSnapshots(self.session.machine, self.session.kernel, self.recording)

    # -- helpers -----------------------------------------------------------------------------

    def _process(self):
        kernel = self.session.kernel
        return kernel.current.process if kernel.current is not None else self.session.selected

    def _landed(self, index: int, text: str = "") -> str:
        """After going back: the processes are the restored ones; show where `index` is."""
        kernel = self.session.kernel
        process = kernel.process_by_index(index) or kernel.processes[0]
        self.session.selected = process
        return text + self.session.where(process) + "\n"

    # -- commands -------------------------------------------------------------------------------

    def cmd_reverse_stepi(self, arg: str) -> str:
        process = self._process()
        for _ in range(self.session.count(arg)):
            if not self.reverse.step_back(process.space):
                return self._landed(process.index, AT_START)
        return self._landed(process.index)

    def cmd_reverse_step(self, arg: str) -> str:
        return "".join(self._line_back(over=False) for _ in range(self.session.count(arg)))

    def cmd_reverse_next(self, arg: str) -> str:
        return "".join(self._line_back(over=True) for _ in range(self.session.count(arg)))

    def cmd_reverse_finish(self, arg: str) -> str:
        process = self._process()
        syms = self._syms(process)
        fn = syms.function_at(self.session.pc(process))
        if fn is None:
            raise DebuggerError("reverse-finish: not in a known function")
        entered = False
        for position, pc in self.reverse.instructions_back(process.space, self.recording.executed):
            if entered:
                self.recording.goto(position)
                return self._landed(process.index, f"Run back to call of {fn.name}\n")
            entered = pc == fn.start
        self.recording.goto(self.recording.start)
        return self._landed(process.index, AT_START)

    def cmd_reverse_continue(self, arg: str) -> str:
        process = self._process()
        hit = self.reverse.continue_back()
        if hit is None:
            return self._landed(process.index, AT_START)
        if hit.kind == "breakpoint":
            debug_hit = DebugHit(HitKind.BREAKPOINT, hit.address, hit.space)
        else:
            debug_hit = DebugHit(HitKind.WATCHPOINT, hit.address, hit.space, hit.access, hit.watch)
        owner = self.session.process_of_space(hit.space) or process
        self.session.selected = owner
        return self.debugger.breakpoints.report(debug_hit) or self._landed(owner.index)

    def cmd_record(self, arg: str) -> str:
        return record_command(self.recording, arg.split(), "record")

    def cmd_snapshot(self, arg: str) -> str:
        out = self.snapshots.command(arg.split(), "snapshot")
        if arg.split()[:1] == ["restore"] and "restored" in out:
            kernel = self.session.kernel
            current = kernel.current.process if kernel.current is not None else kernel.processes[0]
            out += self._landed(self.session.selected.index if self.session.selected else current.index)
        return out

    # -- line steps --------------------------------------------------------------------------

    def _syms(self, process):
        syms = self.session.syms(process)
        if syms is None:
            raise DebuggerError(f"no symbols for {process.name}")
        return syms

    def _line_back(self, over: bool) -> str:
        process = self._process()
        syms = self._syms(process)
        line_of = _line_entries(syms)
        pc0 = self.session.pc(process)
        fn0 = syms.function_at(pc0)
        here = (line_of(pc0), fn0.start if fn0 else None)
        target = previous = None
        for position, pc in self.reverse.instructions_back(process.space, self.recording.executed):
            fn = syms.function_at(pc)
            place = (line_of(pc), fn.start if fn else None)
            if over and fn0 is not None and place[1] != fn0.start:
                continue                        # a callee's instruction
            if previous is None:
                if place == here:
                    if fn0 is not None and pc == fn0.start:
                        over, fn0 = False, None  # going on back is going into the caller
                    continue
                previous = place
            elif place != previous:
                previous = place    # entered the middle of a row by a jump: on back to some row's start
            target = position
            if pc == place[0]:
                break               # a row's start: where a forward step stops too
        if target is None:
            self.recording.goto(self.recording.start)
            return self._landed(process.index, AT_START)
        self.recording.goto(target)
        return self._landed(process.index)


def _line_entries(syms):
    """pc -> the start of the line-table row that holds it (forward steps stop at row starts)."""
    starts = sorted(syms.line_starts)

    def line_of(pc: int) -> int | None:
        i = bisect.bisect_right(starts, pc) - 1
        return starts[i] if i >= 0 else None
    return line_of


def install(debugger) -> DebugReverse:
    """Add the reverse and snapshot commands to `debugger` (one line in `Debugger.__init__`)."""
    r = DebugReverse(debugger)
    debugger.commands.update({
        "rsi": (r.cmd_reverse_stepi, "reverse-stepi|rsi [N]: go back N instructions of the running component"),
        "rs": (r.cmd_reverse_step, "reverse-step|rs [N]: go back to the start of the previous source line"),
        "rn": (r.cmd_reverse_next, "reverse-next|rn [N]: go back one source line, over calls"),
        "rfinish": (r.cmd_reverse_finish, "reverse-finish|rfinish: go back to where the current function "
                                          "was called"),
        "rc": (r.cmd_reverse_continue, "reverse-continue|rc: go back to the latest breakpoint or watchpoint hit"),
        "record": (r.cmd_record, "record [on|off|interval INSTRUCTIONS|keep SNAPSHOTS]: the recording that "
                                 "reverse commands replay"),
        "snapshot": (r.cmd_snapshot, "snapshot save NAME|restore NAME|list|delete NAME: whole-system snapshots"),
    })
    debugger.aliases.update({"reverse-stepi": "rsi", "reverse-step": "rs", "reverse-next": "rn",
                             "reverse-finish": "rfinish", "reverse-continue": "rc"})
    debugger.reverse = r
    return r


__all__ = ["AT_START", "DebugReverse", "install"]
