"""The host side of `atoll boot`: where each UART goes, and the signals that end a run.

`--uart SPEC` (the board's first UART) and `--uart NAME=SPEC` (any UART) are read into
one backend per UART: the terminal, a TCP port on 127.0.0.1 (`tcp:PORT,wait` holds the
run, with no virtual time passing, until a client connects) or a file. At most one UART
is on the terminal; a UART is given at most once.

`ending_signals` turns SIGTERM and SIGINT into a request: the machine stops at its next
instruction boundary (`Machine.request_stop`), the run loop ends, and the caller writes
its files and summary as after any other end. The handlers never raise into a Unicorn
callback; a second signal while the files are written only asks again, so the files are
always whole. The handlers that were there before are put back afterwards.
"""

from __future__ import annotations

import contextlib
import pathlib
import signal
import sys
from typing import Callable

from machine import BufferBackend, Machine, StdioBackend, StopReason, TcpBackend


class UartSpecError(Exception):
    """A wrong `--uart`: its message is the whole line after `atoll: `."""


class FileBackend(BufferBackend):
    """A UART's output written to a file as it is sent (no input)."""

    def __init__(self, path: pathlib.Path) -> None:
        super().__init__()
        try:
            self._file = path.open("wb", buffering=0)
        except OSError as e:
            raise UartSpecError(f"--uart: cannot write {path}: {e.strerror}") from None

    def transmit(self, byte: int, cycle: int) -> None:
        self._file.write(bytes((byte,)))


def split_uart_specs(specs: list[str] | None, names: list[str], board: str) -> dict[str, str]:
    """{UART name: SPEC} from the `--uart` options; the first UART is on stdio unless told
    otherwise (or unless another UART is on stdio, when it is not connected)."""
    if not names:
        raise UartSpecError(f"board {board} has no UART")
    chosen: dict[str, str] = {}
    for item in specs or []:
        head, eq, spec = item.partition("=")
        if eq and ":" not in head:
            name = head
            if name not in names:
                raise UartSpecError(f"--uart: {board} has no UART named {name!r} (it has: {', '.join(names)})")
        else:
            name, spec = names[0], item
        if name in chosen:
            raise UartSpecError(f"--uart: {name} given twice")
        chosen[name] = spec
    on_stdio = [name for name, spec in chosen.items() if spec == "stdio"]
    if len(on_stdio) > 1:
        raise UartSpecError(f"--uart: only one UART can be on stdio, not {' and '.join(on_stdio)}")
    if names[0] not in chosen and not on_stdio:
        chosen[names[0]] = "stdio"
    return chosen


def uart_backend(name: str, spec: str):
    """(backend, wait for a client first) for one UART."""
    if spec == "stdio":
        return StdioBackend(), False
    kind, _, arg = spec.partition(":")
    if kind == "tcp":
        port, _, option = arg.partition(",")
        if option not in ("", "wait"):
            raise UartSpecError(f"--uart: tcp takes only the option wait (tcp:PORT,wait), not {option!r}")
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise UartSpecError(f"--uart: tcp needs a port number from 1 to 65535, not {port!r}")
        try:
            backend = TcpBackend(int(port))
        except OSError as e:
            raise UartSpecError(f"--uart: cannot listen on 127.0.0.1:{port}: {e.strerror}") from None
        print(f"atoll: {name} on tcp 127.0.0.1:{backend.port}", file=sys.stderr, flush=True)
        return backend, option == "wait"
    if kind == "file":
        if not arg:
            raise UartSpecError("--uart: file needs a path, as in file:uart.log")
        return FileBackend(pathlib.Path(arg)), False
    raise UartSpecError(f"--uart: must be stdio, tcp:PORT[,wait] or file:PATH, not {spec!r}")


def wait_for_clients(waiting: dict[str, TcpBackend], stopping: Callable[[], bool]) -> None:
    """Hold the run (no virtual time passes) until every waiting port has a client,
    or a signal asks the run to end."""
    for name, backend in waiting.items():
        print(f"atoll: {name}: waiting for a client on tcp 127.0.0.1:{backend.port}", file=sys.stderr, flush=True)
        while not stopping() and not backend.wait_for_client(0.2):
            pass


class RunEnd:
    """Whether a signal asked the run to end; `also` is called with it (the GDB stub's end)."""

    def __init__(self, machine: Machine) -> None:
        self.machine = machine
        self.requested = False
        self.also: Callable[[], None] | None = None

    def request(self, signum=None, frame=None) -> None:
        self.requested = True
        self.machine.request_stop()
        if self.also is not None:
            self.also()


@contextlib.contextmanager
def ending_signals(machine: Machine):
    """SIGTERM and SIGINT end the run cleanly for as long as the block lasts (its
    writing of the files included); a signal the process inherited as ignored stays so."""
    end = RunEnd(machine)
    saved = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(signum)
        if previous is signal.SIG_IGN:
            continue
        saved[signum] = previous
        signal.signal(signum, end.request)
    try:
        yield end
    finally:
        for signum, previous in saved.items():
            signal.signal(signum, previous if previous is not None else signal.SIG_DFL)


def run(machine: Machine, kernel, duration: float | None, end: RunEnd):
    """Run until the duration ends, a signal, a bare-metal fault, or every component exited."""
    runner = kernel if kernel is not None else machine
    until = None if duration is None else machine.clock.now + machine.clock.cycles(duration)
    stop = None
    while not end.requested and (until is None or machine.clock.now < until):
        chunk = machine.clock.cycles(0.1)
        if until is not None:
            chunk = min(chunk, until - machine.clock.now)
        stop = runner.run(chunk)
        if stop.reason is not StopReason.TIME:
            break
        if kernel is not None and kernel.all_exited():
            break
    return stop
