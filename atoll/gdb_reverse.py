"""Reverse execution and snapshots in the GDB stub: the `bs`/`bc` packets and
`monitor snapshot ...` / `monitor record ...`.

`install(packets)` puts a `Recording` on the stub's `Control` (every run, wait and step
the stub makes is recorded from then on) and the `b` packets into the packet table:

- `bs` goes back one instruction of the selected thread (`Reverse.step_back`);
- `bc` goes back to the latest breakpoint or watchpoint hit (`Reverse.continue_back`); a
  watchpoint is reported just after the accessing instruction, as going forward, and GDB
  itself steps back over that instruction (its watchpoints on these targets are
  "non-steppable"), so it shows the state before the access.

Both answer with a stop reply, `T05...thread:N;` (with `watch:ADDR;`/`rwatch:`/`awatch:`
for a watchpoint), or `T05replaylog:begin;thread:N;` when the start of the recording was
reached (GDB then says "No more reverse-execution history."). GDB's `reverse-step`,
`reverse-next` and `reverse-finish` are built from these and breakpoints. `ReverseStep+`
and `ReverseContinue+` are in the stub's qSupported reply (`SUPPORTED`).

Monitor commands: `snapshot save NAME`, `snapshot restore NAME`, `snapshot list`,
`snapshot delete NAME` keep whole-system snapshots in memory for this stub (restoring one
starts a new recording there: GDB should `maintenance flush register-cache`);
`record` shows the recording, `record interval N`, `record keep N`, `record off|on`.
"""

from __future__ import annotations

from .recording import DEFAULT_INTERVAL, DEFAULT_KEEP, Recording
from .reverse import Reverse
from .snapshots import NamedSnapshots, record_command

#: what the stub adds to its qSupported reply
SUPPORTED = "ReverseStep+;ReverseContinue+"
SIGTRAP = 5
_WATCH_WORD = {"write": "watch", "read": "rwatch", "access": "awatch"}


class GdbReverse:
    """The reverse packets and monitor commands of one `GdbPackets`."""

    def __init__(self, packets, interval: int = DEFAULT_INTERVAL, keep: int = DEFAULT_KEEP) -> None:
        self.packets = packets
        self.stub = packets.stub
        self.recording = Recording(self.stub.control, interval, keep)
        self.reverse = Reverse(self.recording)
        self.snapshots = NamedSnapshots(self.stub.machine, self.stub.kernel, self.recording)

    def handle_b(self, packet: bytes) -> str | None:
        """`bs` (one instruction back) or `bc` (back to the latest hit)."""
        if packet == b"bs":
            t = self.stub.thread()
            moved = self.reverse.step_back(t.space if self.stub.kernel is not None else None)
            self._stopped(None, begin=not moved)
            return None
        if packet == b"bc":
            hit = self.reverse.continue_back()
            if hit is None:
                self._stopped(None, begin=True)
            else:
                extra = ""
                if hit.kind == "watchpoint":
                    # reported just after the access, as going forward: GDB steps back over
                    # the accessing instruction itself (its watchpoints are not steppable)
                    self.recording.goto(hit.position + 1)
                    extra = f"{_WATCH_WORD[hit.watch]}:{hit.address:x};"
                self._stopped(self.stub.tid_of_space(hit.space), extra=extra)
            return None
        return ""

    def _stopped(self, tid: int | None, begin: bool = False, extra: str = "") -> None:
        self.stub.pending = None
        if tid is None:
            tid = self.stub.selected if begin and self.stub.kernel is not None else self.stub.current_tid()
        self.stub.stopped_at(SIGTRAP, tid, "replaylog:begin;" if begin else extra)

    def monitor(self, command: str) -> str:
        """`monitor snapshot ...` and `monitor record ...`."""
        words = command.split()
        if words[0] == "record":
            return record_command(self.recording, words[1:], "monitor record")
        out = self.snapshots.command(words[1:], "monitor snapshot")
        if len(words) > 1 and words[1] == "restore" and "restored" in out:
            self.stub.pending = None
            self.stub.selected = self.stub.current_tid()
            out = out.rstrip("\n") + " (GDB: maintenance flush register-cache)\n"
        return out


def install(packets) -> GdbReverse:
    """Record the stub's runs and answer `b` packets (one line in `GdbPackets.__init__`)."""
    reverse = GdbReverse(packets)
    packets.handlers["b"] = reverse.handle_b
    packets.reverse = reverse
    return reverse


__all__ = ["SUPPORTED", "GdbReverse", "install"]
