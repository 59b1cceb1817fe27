"""A UART of a test-bench device: text written to the guest, output matched and read.

`UartPort` sits on a `BufferBackend` the device attached to one UART. Writes queue
bytes for the receiver, which take them at the line rate as virtual time runs.
`expect` runs the device's virtual time (`Device.wait`) until a pattern appears in
the output not yet consumed, like pexpect: `expect`, `read_available` and `command`
share one cursor, so what one consumed the others skip, and the same run gives the
same matches at the same virtual times. Output is matched as text; undecodable bytes
never raise.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from machine import BufferBackend

from .bench_errors import BenchError, ExpectTimeout, seconds, tail

if TYPE_CHECKING:
    from .testbench import Device


class UartPort:
    """One UART of the device, on a `BufferBackend`.

    Output is matched as text (UTF-8; undecodable bytes never raise). `expect`
    and `read_available` share one cursor: what one consumed, the other skips. The
    cursor counts bytes since boot; the backend keeps the newest `BufferBackend.keep`
    bytes (1 MiB), so output older than that is gone (`dropped` says how much) and a
    cursor behind it reads from the oldest byte kept.
    """

    def __init__(self, device: "Device", name: str, backend: BufferBackend) -> None:
        self.device = device
        self.name = name
        self.backend = backend
        self.cursor = 0

    # -- host to device

    def write(self, data: bytes | str) -> None:
        """Queue bytes for the UART's receiver; they arrive at the line rate as time runs."""
        if not isinstance(data, (bytes, bytearray, str)):
            raise BenchError(f"write takes bytes or str, not {type(data).__name__}")
        self.backend.send(bytes(data) if not isinstance(data, str) else data)

    def writeline(self, line: str, end: str = "\r") -> None:
        """`line` followed by `end` (a carriage return, as a terminal sends Enter)."""
        self.write(line + end)

    # -- device to host

    @property
    def output(self) -> bytes:
        """The bytes the device sent on this UART since boot (the newest `backend.keep` of them)."""
        return bytes(self.backend.output)

    @property
    def dropped(self) -> int:
        """Bytes sent since boot that are no longer kept (the oldest)."""
        return self.backend.dropped

    @property
    def text(self) -> str:
        """`output` as text."""
        return self.backend.output.decode("utf-8", errors="replace")

    @property
    def timestamps(self) -> list[int]:
        """The virtual cycle at which each byte of `output` left the UART."""
        return list(self.backend.timestamps)

    def read_available(self) -> str:
        """The output not yet consumed by `expect` or `read_available`, consumed now."""
        data = self.backend.since(self.cursor)
        self.cursor = self.backend.total
        return data.decode("utf-8", errors="replace")

    def _unread(self) -> str:
        self.cursor = max(self.cursor, self.backend.dropped)   # what was dropped unread is gone
        return self.backend.since(self.cursor).decode("utf-8", errors="surrogateescape")

    def expect(self, pattern: str | re.Pattern, timeout: float | str = 1.0) -> re.Match:
        """Run until `pattern` appears in the unread output; returns the match.

        A `str` is matched literally, a compiled `re.Pattern` as a regex (on text).
        The output up to the end of the match is consumed. If `timeout` of virtual
        time passes first, `ExpectTimeout` says what was expected, on which UART,
        at what virtual time, and shows the last output.
        """
        regex = pattern if isinstance(pattern, re.Pattern) else re.compile(re.escape(pattern))
        if isinstance(regex.pattern, bytes):
            raise BenchError("expect matches text: compile the pattern from a str, not bytes")
        found: list[re.Match] = []
        seen = [-1]

        def matched() -> bool:
            size = self.backend.total
            if size == seen[0]:
                return False
            seen[0] = size
            m = regex.search(self._unread())
            if m is not None:
                found.append(m)
            return m is not None

        limit = seconds(timeout)
        self.device.wait(matched, limit)
        if not found:
            what = f"/{regex.pattern}/" if isinstance(pattern, re.Pattern) else repr(pattern)
            raise ExpectTimeout(
                f"{self.name}: {what} not seen within {limit:g} s of virtual time "
                f"(now {self.device.now:.6f} s); last output:\n{tail(self.text)}")
        m = found[0]
        self.cursor += len(m.string[:m.end()].encode("utf-8", errors="surrogateescape"))
        return m

    def command(self, line: str, prompt: str | re.Pattern = "atoll> ", timeout: float | str = 1.0) -> str:
        """Send `line` and Enter, wait for the next `prompt`; the output in between
        (the echoed line, the answer), without the prompt."""
        self.read_available()
        self.writeline(line)
        m = self.expect(prompt, timeout)
        return m.string[:m.start()].encode("utf-8", "surrogateescape").decode("utf-8", "replace")
