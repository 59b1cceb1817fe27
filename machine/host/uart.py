"""Host side of a UART: where the bytes a guest sends go, and where its input comes from.

A UART model calls `transmit(byte, cycle)` for every byte that leaves its shift
register, with the virtual cycle at which it completed. The machine calls `poll()`
on each attached backend at slice boundaries and feeds what it returns into the
UART's receive side, which delivers it at the line rate.

Backends: `BufferBackend` (tests), `StdioBackend` (the terminal), `TcpBackend`
(a localhost port for nc, socat or picocom).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from ..bounded import BoundedLog


class UartBackend(ABC):
    """What every backend offers; `flush` does nothing unless the backend holds output back."""

    @abstractmethod
    def transmit(self, byte: int, cycle: int) -> None:
        """A byte left the UART at virtual `cycle`."""

    @abstractmethod
    def poll(self) -> bytes:
        """Bytes the host has for the UART now (never blocks)."""

    def flush(self) -> None:
        """Write out whatever the backend holds (at the end of a run)."""


class BufferBackend(UartBackend):
    """Collects output in memory, with the cycle of every byte; input is queued by `send`.

    `output` and `timestamps` hold the newest `keep` bytes (1 MiB unless told; up to `keep`/8
    more between trims, which drop the oldest in one batch); `dropped` counts the bytes let
    go, so `total` (= dropped + len(output)) is the position of the next byte since the
    start. A guest printing for ever fills at most about 45 MB (mostly the timestamps).
    """

    KEEP = 1 << 20

    def __init__(self, keep: int = KEEP) -> None:
        if keep < 1:
            raise ValueError(f"a UART buffer keeps at least one byte, not {keep}")
        self.keep = keep
        self.output = bytearray()
        self.timestamps: list[int] = []
        self.dropped = 0
        self._input = bytearray()

    @property
    def total(self) -> int:
        """Bytes transmitted since the start, kept or dropped."""
        return self.dropped + len(self.output)

    def since(self, position: int) -> bytes:
        """The kept output from `position` (counted from the start) on."""
        return bytes(self.output[max(0, position - self.dropped):])

    def transmit(self, byte: int, cycle: int) -> None:
        self.output.append(byte)
        self.timestamps.append(cycle)
        if len(self.output) > self.keep + max(1, self.keep // 8):
            excess = len(self.output) - self.keep
            del self.output[:excess]
            del self.timestamps[:excess]
            self.dropped += excess

    def poll(self) -> bytes:
        data = bytes(self._input)
        self._input.clear()
        return data

    def send(self, data: bytes | str) -> None:
        self._input += data.encode() if isinstance(data, str) else data

    def state(self) -> tuple:
        """Everything the buffer holds, to give back to `set_state` (a snapshot's part)."""
        return bytes(self.output), tuple(self.timestamps), self.dropped, bytes(self._input)

    def set_state(self, state: tuple) -> None:
        output, timestamps, self.dropped, queued = state
        self.output[:] = output
        self.timestamps[:] = timestamps
        self._input[:] = queued

    @property
    def text(self) -> str:
        return self.output.decode("utf-8", errors="replace")


class StdioBackend(UartBackend):
    """The terminal: output to stdout as it is sent, input from stdin when it is readable.

    Input is read without blocking (the run loop polls at slice boundaries); when
    stdin is not readable (closed, or not a terminal with data) nothing is fed.
    `print_aside` shows other messages (a kernel's debug lines) on stderr between
    the UART's lines, never in the middle of one. While a UART line stays open, at most
    `ASIDE_LINES` messages are held (the newest); when they are printed, a line says how
    many older ones were dropped.
    """

    #: messages held while the UART is in the middle of a line
    ASIDE_LINES = 1000

    def __init__(self, stdin=None, stdout=None, stderr=None) -> None:
        import sys
        self._in = stdin if stdin is not None else sys.stdin
        self._out = stdout if stdout is not None else sys.stdout
        self._err = stderr if stderr is not None else sys.stderr
        self._eof = False
        self._mid_line = False
        self._aside = BoundedLog(self.ASIDE_LINES)

    def transmit(self, byte: int, cycle: int) -> None:
        out = getattr(self._out, "buffer", None)
        if out is not None:
            out.write(bytes((byte,)))
            if byte == 0x0A:
                out.flush()
        else:
            self._out.write(chr(byte))
        self._mid_line = byte != 0x0A
        if not self._mid_line and self._aside:
            self._print_held()

    def print_aside(self, text: str) -> None:
        """Print `text` on stderr now if the UART is between lines, else after its line ends."""
        self._aside.append(text)
        if not self._mid_line:
            self._print_held()

    def _print_held(self) -> None:
        self._out.flush()
        if self._aside.dropped:
            print(f"[atoll] {self._aside.dropped} debug line(s) dropped while the UART's line was open",
                  file=self._err, flush=True)
            self._aside.dropped = 0
        for text in self._aside:
            print(text, file=self._err, flush=True)
        self._aside.clear()

    def flush(self) -> None:
        """Write out everything, held messages included, and end a line the UART left
        open, so what is printed after the run starts on a line of its own."""
        self._out.flush()
        if self._mid_line:
            print(file=self._err, flush=True)
            self._mid_line = False
        self._print_held()

    def poll(self) -> bytes:
        import os
        import select
        if self._eof:
            return b""
        try:
            fd = self._in.fileno()
        except (AttributeError, ValueError, OSError):
            return b""
        try:
            ready, _, _ = select.select([fd], [], [], 0)
            if not ready:
                return b""
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        if not data:
            self._eof = True
        return data


class TcpBackend(UartBackend):
    """A TCP port on localhost: connect with `nc`, `socat` or `picocom`.

    One client at a time; output sent while nobody is connected is kept (up to
    `keep` bytes) and delivered on connection. The listening socket is opened at
    construction, so an error such as a port in use is reported at once;
`wait_for_client` lets a caller hold a run until someone is listening.
    """

    def __init__(self, port: int, host: str = "127.0.0.1", keep: int = 64 * 1024) -> None:
        import socket
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, port))
        self._listener.listen(1)
        self._listener.setblocking(False)
        self.port = self._listener.getsockname()[1]
        self._client = None
        self._pending = bytearray()
        self._keep = keep

    def _accept(self) -> None:
        if self._client is None:
            try:
                client, _ = self._listener.accept()
            except BlockingIOError:
                return
            client.setblocking(False)
            self._client = client
            self._flush()

    def _flush(self) -> None:
        if self._client is None or not self._pending:
            return
        try:
            sent = self._client.send(self._pending)
            del self._pending[:sent]
        except BlockingIOError:
            pass
        except OSError:
            self._drop()

    def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def transmit(self, byte: int, cycle: int) -> None:
        self._pending.append(byte)
        if len(self._pending) > self._keep:
            del self._pending[:len(self._pending) - self._keep]
        self._accept()
        self._flush()

    def poll(self) -> bytes:
        self._accept()
        if self._client is None:
            return b""
        self._flush()
        try:
            data = self._client.recv(4096)
        except BlockingIOError:
            return b""
        except OSError:
            data = b""
        if not data:
            self._drop()
        return data

    @property
    def connected(self) -> bool:
        self._accept()
        return self._client is not None

    def wait_for_client(self, timeout: float) -> bool:
        """Block up to `timeout` wall-clock seconds for a client; whether one is connected."""
        import select
        if self._client is None:
            select.select([self._listener], [], [], timeout)
        return self.connected

    def close(self) -> None:
        self._drop()
        self._listener.close()
