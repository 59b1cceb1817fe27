"""The debug output of components: DEBUG_PUTC bytes gathered into escaped lines.

Each component's bytes collect until a newline ends a line; the line goes into the
kernel's `debug_log` (bounded: the newest lines are kept, the rest counted) and to
`Kernel.on_debug_line`. Invariants: a line keeps at most DEBUG_LINE_BYTES bytes, and
every character that is not printable is written as its escape, so that no component
can move the host terminal's cursor or forge a line that seems to come from another
component or the kernel.
"""

from __future__ import annotations

from .process import Process
from .state import DEBUG_LINE_BYTES


class DebugOutput:
    """DEBUG_PUTC, a byte at a time (see the module's docstring)."""

    def __init__(self, kernel) -> None:
        self.kernel = kernel
        self.s = kernel.state
        self.clock = kernel.clock

    def putc(self, process: Process, byte: int) -> None:
        """One byte of `process`'s debug output; a newline ends a line. A line keeps its first
        DEBUG_LINE_BYTES bytes, and every character that is not printable (a carriage return,
        an escape sequence, a bidirectional override) is written as its escape (`\\r`,
        `\\x1b`, `\\u202e`)."""
        buf = self.s.debug_partial.setdefault(process.name, bytearray())
        if byte == 0x0A:
            line = printable(buf.decode("utf-8", errors="replace"))
            buf.clear()
            self.s.debug_log.append((self.clock.now, process.name, line))
            on_debug_line = self.kernel.on_debug_line
            if on_debug_line is not None:
                on_debug_line(process.name, line)
        elif len(buf) < DEBUG_LINE_BYTES:
            buf.append(byte)


def printable(text: str) -> str:
    """`text` with each character that is not printable replaced by its escape."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)
