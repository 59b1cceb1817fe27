"""The terminal front end of the debugger: `atoll debug IMAGE` at a prompt.

`DebuggerShell` wraps a `Debugger` in the `cmd` module: readline line editing and
history (kept in ~/.atoll_debug_history when stdin is a terminal), `help`, an
empty line repeats the last command, Ctrl-C at the prompt abandons the line.
"""

from __future__ import annotations

import cmd
import os
import pathlib
import sys

from .debugger import Debugger


class DebuggerShell(cmd.Cmd):
    """The terminal front end of a `Debugger`: readline line editing and history."""

    prompt = "(atoll) "

    def __init__(self, debugger: Debugger, history: pathlib.Path | None = None) -> None:
        super().__init__()
        self.debugger = debugger
        self.history = history
        self.intro = ("atoll debug: stopped before the first instruction of the first component. "
                      "Type 'help' for commands.\n" + debugger.cmd_where(""))

    def preloop(self) -> None:
        try:
            import readline
            if self.history is not None and self.history.exists():
                readline.read_history_file(str(self.history))
        except (ImportError, OSError):
            pass

    def postloop(self) -> None:
        try:
            import readline
            if self.history is not None:
                readline.set_history_length(1000)
                readline.write_history_file(str(self.history))
        except (ImportError, OSError):
            pass

    def default(self, line: str) -> bool:
        if line.strip() in ("EOF",):
            print()
            return True
        print(self.debugger.execute(line), end="")
        return False

    def do_quit(self, arg: str) -> bool:
        """quit: leave the debugger"""
        return True

    do_q = do_quit
    do_exit = do_quit

    def do_help(self, arg: str) -> None:
        print(self.debugger.execute("help " + arg), end="")

    def completenames(self, text: str, *ignored) -> list[str]:
        return [c for c in list(self.debugger.commands) + ["quit"] if c.startswith(text)]

    def cmdloop_with_interrupts(self) -> None:
        """`cmdloop`, where Ctrl-C at the prompt abandons the line rather than the debugger."""
        intro = self.intro
        while True:
            try:
                self.cmdloop(intro)
                return
            except KeyboardInterrupt:
                print("^C")
                intro = ""


def run_terminal(image: str | pathlib.Path) -> int:
    """`atoll debug IMAGE`: the terminal debugger until quit."""
    debugger = Debugger.from_image(image)
    for warning in debugger.warnings:
        print(f"atoll: warning: {warning}", file=sys.stderr)
    # at the terminal, idle time passes at the wall clock's pace (as in `atoll boot`)
    debugger.machine.realtime = True
    history = pathlib.Path(os.path.expanduser("~")) / ".atoll_debug_history" if sys.stdin.isatty() else None
    DebuggerShell(debugger, history).cmdloop_with_interrupts()
    return 0


__all__ = ["DebuggerShell", "run_terminal"]
