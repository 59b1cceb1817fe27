"""The interactive debugger: `atoll debug IMAGE`.

A booted system, stopped before the first instruction of the first component,
driven by text commands. `Debugger.execute("break main.c:42")` runs one command
and returns what it prints, so tests and other tools drive it the way a person
does; `DebuggerShell` (atoll.debug_shell) is the terminal front end.

What it is made of, one noun per module:
- `atoll.debug_session`: the booted system, its components' symbols
  (`atoll.symbols`: pyelftools, the symbol table and the DWARF line programs),
  the selected component, address expressions and locations;
- `atoll.debug_points`: numbered breakpoints and watchpoints, as
  `machine.MachineDebug` hooks on their own addresses, each in the address space
  of the component it belongs to (every component is linked at the same addresses);
- `atoll.debug_run`: continue, instruction and line steps (through
  `atoll.control`, shared with the GDB stub); a step over SVC/ECALL shows the
  syscall, its result and which component runs next;
- `atoll.debug_look`: registers, memory, disassembly, call stacks
  (`atoll.unwind`, from .debug_frame), source, and the kernel's views
  (`atoll.views`): ps, caps, ipc, irq, time;
- `atoll.debug_data`: print/display/set var over C expressions and the DWARF
  types of the selected component, in its selected frame (frame/up/down), and
  info locals/args.

This module holds the command table and `execute`, which also hands back what the
UART and the components' debug lines printed meanwhile, and the displays after a
command that ran the system. A command word is an alias (`p` is print, as in
GDB), a command's full name, or a prefix of exactly one command name; another
command group adds its commands with `register`.

Commands (`help` lists them): break/tbreak, condition, watch/rwatch/awatch,
delete, info, continue, stepi, step, next, finish, until, print, display,
undisplay, set, whatis, ptype, frame, up, down, regs, x, disas, bt, list, ps,
caps, ipc, irq, time, select, uart, where. Ctrl-C stops a running system.
"""

from __future__ import annotations

import pathlib
import re

from kernel import DEBUG_LOG_LINES, Kernel
from machine import BoundedLog, BufferBackend, Machine
from sysdesc import load_any

from . import debug_reverse
from .debug_data import Data
from .debug_look import Looking
from .debug_points import Breakpoints
from .debug_run import Running
from .debug_session import DebugSession
from .symbols import ComponentSymbols, DebuggerError


#: GDB's short names (an alias wins over a prefix: `p` is print, not ps)
ALIASES = {"b": "break", "c": "continue", "cont": "continue", "si": "stepi", "s": "step",
           "n": "next", "fin": "finish", "u": "until", "d": "delete", "i": "info",
           "registers": "regs", "disassemble": "disas", "backtrace": "bt",
           "l": "list", "rw": "rwatch", "aw": "awatch", "p": "print", "inspect": "print",
           "f": "frame", "cond": "condition", "disp": "display",
           "tb": "tbreak"}


class Debugger:
    """One booted system under the debugger, driven by `execute(command)`."""

    def __init__(self, machine: Machine, kernel: Kernel, elves: dict[str, pathlib.Path],
                 uart: BufferBackend | None = None) -> None:
        self.machine = machine
        self.kernel = kernel
        self.isa = machine.isa
        self.session = session = DebugSession(machine, kernel, elves)
        self.symbols = session.symbols
        self.uart = uart
        self._uart_seen = 0
        #: debug lines not yet shown (the newest DEBUG_LOG_LINES; a long `continue` may make millions)
        self._debug_lines = BoundedLog(DEBUG_LOG_LINES)
        #: components debugged without symbols, and why (shown when the debugger starts)
        self.warnings = [f"{name}: {sym.problem}" for name, sym in self.symbols.items() if sym.problem]
        self.breakpoints = pts = Breakpoints(session)
        self.running = run = Running(session, pts)
        self.looking = look = Looking(session)
        self.data = data = Data(session)
        previous_debug_line = kernel.on_debug_line

        def debug_line(component: str, line: str) -> None:
            self._debug_lines.append(f"[{component}] {line}")
            if previous_debug_line is not None:
                previous_debug_line(component, line)
        kernel.on_debug_line = debug_line
        self.commands = {**self._stopping_commands(pts, run), **self._looking_commands(look, data)}
        self.aliases = dict(ALIASES)
        debug_reverse.install(self)   # reverse-stepi/step/next/finish/continue, record, snapshot

    def _stopping_commands(self, pts: Breakpoints, run: Running) -> dict:
        return {
            "break": (pts.cmd_break, "break LOCATION [COMPONENT] [if EXPR]: stop at a symbol, file:line, "
                                      "*ADDRESS (only in COMPONENT if named; only when EXPR is true)"),
            "tbreak": (pts.cmd_tbreak, "tbreak LOCATION [COMPONENT] [if EXPR]: a breakpoint deleted when hit"),
            "condition": (pts.cmd_condition, "condition N [EXPR]: stop at breakpoint N only when EXPR is true "
                                              "(without EXPR: always)"),
            "watch": (pts.cmd_watch, "watch EXPR|ADDRESS [LENGTH] [COMPONENT]: stop after a write to it "
                                      "(stats.tx_bytes, ring.data[3], *ptr, 0x20000000)"),
            "rwatch": (pts.cmd_watch, "rwatch EXPR|ADDRESS [LENGTH] [COMPONENT]: stop after a read of it"),
            "awatch": (pts.cmd_watch, "awatch EXPR|ADDRESS [LENGTH] [COMPONENT]: stop after any access"),
            "delete": (pts.cmd_delete, "delete [N...]: delete breakpoints/watchpoints (all without N)"),
            "info": (self.cmd_info, "info breakpoints|registers [REG...]|locals|args|display|frame|components|"
                                    "symbol ADDRESS|line LOCATION"),
            "continue": (run.cmd_continue, "continue [DURATION]: run until a breakpoint, Ctrl-C, or DURATION "
                                            "of virtual time (e.g. 2s, 500ms)"),
            "stepi": (run.cmd_stepi, "stepi [N]: execute N instructions of the running component"),
            "step": (run.cmd_step, "step [N]: run to the next source line, into calls"),
            "next": (run.cmd_next, "next [N]: run to the next source line, over calls"),
            "finish": (run.cmd_finish, "finish: run until the current function returns"),
            "until": (run.cmd_until, "until [LOCATION]: run to LOCATION (without one: as next)"),
        }

    def _looking_commands(self, look: Looking, data: Data) -> dict:
        return {
            "print": (data.cmd_print, "print[/F] EXPR: a C expression over the selected component's variables "
                                      "(F: x d u o t c a z)"),
            "display": (data.cmd_display, "display[/F] EXPR: print EXPR after every command that runs the system"),
            "undisplay": (data.cmd_undisplay, "undisplay [N...]: stop displaying (all without N)"),
            "set": (data.cmd_set, "set var NAME = EXPR: change a variable (memory or register) or $REGISTER"),
            "whatis": (data.cmd_whatis, "whatis EXPR|TYPE: the type of EXPR"),
            "ptype": (data.cmd_ptype, "ptype EXPR|TYPE: the type of EXPR, a struct with its members"),
            "frame": (data.cmd_frame, "frame [N]: select frame N of the selected component (print and info "
                                      "locals look there)"),
            "up": (data.cmd_up, "up [N]: select the frame N (default 1) calls out"),
            "down": (data.cmd_down, "down [N]: select the frame N (default 1) calls in"),
            "regs": (look.cmd_regs, "regs [REG...]: the selected component's registers (in its selected frame)"),
            "x": (look.cmd_x, "x/NFU ADDRESS: examine memory (F: x d u c s i, U: b h w) in the selected "
                              "component's address space"),
            "disas": (look.cmd_disas, "disas [ADDRESS] [N]: N instructions (default 10) from ADDRESS (default pc)"),
            "bt": (look.cmd_bt, "bt: the call stack of the selected component, from .debug_frame"),
            "list": (look.cmd_list, "list [LOCATION]: source lines around LOCATION (default: where it stopped)"),
            "where": (look.cmd_where, "where: the selected component's location"),
            "select": (look.cmd_select, "select COMPONENT: show that component's registers and memory"),
            "ps": (look.cmd_ps, "ps: components, state, priority, pc, faults, generation, what each waits on"),
            "caps": (look.cmd_caps, "caps [COMPONENT]: the capability table of a component"),
            "ipc": (look.cmd_ipc, "ipc [N]: the last N (default 20) IPC, notification, irq and fault events"),
            "irq": (look.cmd_irq, "irq: interrupt lines, their drivers and notification bits"),
            "time": (look.cmd_time, "time: virtual time, instructions, and the kernel's counters"),
            "uart": (self.cmd_uart, "uart TEXT: type TEXT (and a newline) into UART0"),
            "help": (self.cmd_help, "help [COMMAND]: this list"),
        }

    def register(self, name: str, handler, help_text: str, aliases: tuple[str, ...] = ()) -> None:
        """Add a command (and its short names) to the table: `handler(arg) -> text`."""
        self.commands[name] = (handler, help_text)
        for alias in aliases:
            self.aliases[alias] = name

    # -- building one ---------------------------------------------------------------------

    @classmethod
    def from_image(cls, path: str | pathlib.Path) -> "Debugger":
        """Boot a system description (.toml) or packed image, stopped before its first instruction."""
        system = load_any(path)
        machine = Machine(system.board)
        kernel = Kernel(machine)
        uart = BufferBackend()
        kernel.boot(system)
        name = next(iter(machine.uarts), None)
        if name is not None:
            machine.attach_uart(name, uart)
        return cls(machine, kernel, {c.name: c.elf for c in system.components}, uart)

    @property
    def selected(self):
        """The component the looking commands show."""
        return self.session.selected

    # -- the command interface ---------------------------------------------------------------

    def execute(self, line: str) -> str:
        """Run one command line; returns its output (errors as one line)."""
        line = line.strip()
        if not line:
            return ""
        m = re.match(r"([A-Za-z][\w-]*)(.*)$", line)
        if m is not None and self._command_name(m.group(1)) is None:
            m = re.match(r"([A-Za-z]+)(.*)$", line)      # `p-1`: the command word is `p`
        if m is None:
            return f"unknown command {line.split()[0]!r}; try 'help'\n"
        word, rest = m.group(1), m.group(2).strip() if not m.group(2).startswith("/") else m.group(2)
        name = self._command_name(word)
        if name is None:
            matches = sorted(c for c in self.commands if c.startswith(word))
            if len(matches) > 1:
                return f"ambiguous command {word!r}: {', '.join(matches)}\n"
            return f"unknown command {word!r}; try 'help'\n"
        handler = self.commands[name][0]
        executed = self.machine.counter.executed
        try:
            out = handler(rest, name) if name in ("watch", "rwatch", "awatch") else handler(rest)
        except DebuggerError as e:
            out = f"{e}\n"
        if self.machine.counter.executed != executed:
            out += self.data.show_displays()
        return out + self._take_output()

    def _command_name(self, word: str) -> str | None:
        """The command `word` names: an alias, a full name, or the only command it begins."""
        if word in self.aliases:
            return self.aliases[word]
        if word in self.commands:
            return word
        matches = [c for c in self.commands if c.startswith(word)]
        return matches[0] if len(matches) == 1 else None

    def _take_output(self) -> str:
        text = ""
        if self.uart is not None and self.uart.total > self._uart_seen:
            if self.uart.dropped > self._uart_seen:
                text += f"[atoll] {self.uart.dropped - self._uart_seen} older UART byte(s) dropped\n"
            new = self.uart.since(self._uart_seen).decode("utf-8", errors="replace")
            self._uart_seen = self.uart.total
            text += "".join(f"uart| {line}\n" for line in new.splitlines())
        if self._debug_lines.dropped:
            text += f"[atoll] {self._debug_lines.dropped} older debug line(s) dropped\n"
            self._debug_lines.dropped = 0
        if self._debug_lines:
            text += "".join(f"{line}\n" for line in self._debug_lines)
            self._debug_lines.clear()
        return text

    def interrupt(self) -> None:
        """Stop a running `continue` (from a signal handler or another thread)."""
        self.running.interrupt()

    def cmd_where(self, arg: str) -> str:
        return self.looking.cmd_where(arg)

    def cmd_info(self, arg: str) -> str:
        words = arg.split()
        what = words[0] if words else ""
        if "breakpoints".startswith(what) and what or "watchpoints".startswith(what) and what:
            return self.breakpoints.table()
        if what and "registers".startswith(what):
            return self.looking.cmd_regs(" ".join(words[1:]))
        if what and len(what) >= 2 and "locals".startswith(what):
            return self.data.info_locals(params=False)
        if what and "args".startswith(what):
            return self.data.info_locals(params=True)
        if what and len(what) >= 2 and "display".startswith(what):
            return self.data.info_display()
        if what and "frame".startswith(what):
            return self.data.cmd_frame("")
        if what and ("components".startswith(what) or "threads".startswith(what)):
            return self.looking.cmd_ps("")
        if what == "symbol" and len(words) == 2:
            address = self.session.address(words[1])
            syms = self.session.syms(self.session.selected)
            name = syms.describe(address) if syms else ""
            return f"{address:#010x} is {name or 'not in a known function'} in {self.session.selected.name}\n"
        if what == "line" and len(words) == 2:
            return "".join(f"{where} is at {address:#010x} in {comp or 'every component'}\n"
                           for comp, address, where in self.session.locations(words[1], None))
        raise DebuggerError("usage: info breakpoints|registers [REG...]|locals|args|display|frame|components|"
                            "symbol ADDRESS|line LOCATION")

    def cmd_uart(self, arg: str) -> str:
        if self.uart is None:
            raise DebuggerError("UART0 is not connected to the debugger")
        self.uart.send(arg + "\n")
        return f"queued {len(arg) + 1} bytes for UART0 (they arrive when the system runs)\n"

    def cmd_help(self, arg: str) -> str:
        word = arg.strip()
        if word:
            name = self._command_name(word)
            if name is None:
                raise DebuggerError(f"unknown command {word!r}")
            return self.commands[name][1] + "\n"
        return "".join(f"  {text}\n" for _, text in self.commands.values()) + \
            "  quit: leave the debugger\nAn empty line repeats the last command; Ctrl-C stops a running system.\n"


__all__ = ["ComponentSymbols", "Debugger", "DebuggerError"]
