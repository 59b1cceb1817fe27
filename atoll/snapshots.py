"""Named whole-system snapshots and the recording's settings, as debugger commands.

What `monitor snapshot ...`/`monitor record ...` in the GDB stub and `snapshot ...`/
`record ...` in `atoll debug` do, in one place so both say the same:

    snapshot save NAME | restore NAME | list | delete NAME
    record [on | off | interval N | keep N]

A named snapshot is the kernel's (`Kernel.snapshot`: machine and kernel) or, on bare
metal, the machine's, held in memory for as long as the debugger runs. Restoring one puts
the system back there and starts the recording afresh (the positions of the old history
would not follow on). Host backends (the UARTs' far sides) are the outside world and are
not part of it. Every wrong use gets one line naming the problem.
"""

from __future__ import annotations

import re

from .recording import Recording

_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}$")


class NamedSnapshots:
    """Snapshots of one system under a debugger, by name."""

    def __init__(self, machine, kernel, recording: Recording | None) -> None:
        self.machine = machine
        self.kernel = kernel
        self.recording = recording
        self.saved: dict[str, tuple[object, int, float]] = {}

    def command(self, words: list[str], usage_prefix: str) -> str:
        usage = f"usage: {usage_prefix} save NAME | restore NAME | list | delete NAME\n"
        if not words:
            return usage
        verb, args = words[0], words[1:]
        if verb == "list" and not args:
            return self.listing()
        if verb not in ("save", "restore", "delete") or len(args) != 1:
            return usage
        name = args[0]
        if not _NAME.match(name):
            return f"snapshot name {name!r}: use 1 to 64 letters, digits, '_', '.' or '-'\n"
        return getattr(self, verb)(name)

    def save(self, name: str) -> str:
        snap = self.kernel.snapshot() if self.kernel is not None else self.machine.snapshot()
        clock = self.machine.clock
        self.saved[name] = (snap, self.machine.counter.executed, clock.seconds)
        return f"snapshot {name!r} saved at {clock.seconds:.6f} s (instruction {self.machine.counter.executed})\n"

    def restore(self, name: str) -> str:
        if name not in self.saved:
            return f"no snapshot named {name!r}{self._known()}\n"
        snap, executed, seconds = self.saved[name]
        if self.kernel is not None:
            self.kernel.restore(snap)
        else:
            self.machine.restore(snap)
        if self.recording is not None:
            self.recording.clear()
        return f"snapshot {name!r} restored: {seconds:.6f} s (instruction {executed}); a new recording starts here\n"

    def delete(self, name: str) -> str:
        if self.saved.pop(name, None) is None:
            return f"no snapshot named {name!r}{self._known()}\n"
        return f"snapshot {name!r} deleted\n"

    def listing(self) -> str:
        if not self.saved:
            return "no snapshots saved\n"
        return "".join(f"{name:20} {seconds:12.6f} s  instruction {executed}\n"
                       for name, (_, executed, seconds) in self.saved.items())

    def _known(self) -> str:
        return f" (saved: {', '.join(self.saved)})" if self.saved else " (none saved)"


def record_command(recording: Recording, words: list[str], usage_prefix: str) -> str:
    """`record` (what is recorded), `record on|off`, `record interval N`, `record keep N`."""
    if not words:
        return describe(recording)
    if words in (["on"], ["off"]):
        recording.set_enabled(words[0] == "on")
        return f"recording {words[0]}\n"
    if len(words) == 2 and words[0] in ("interval", "keep"):
        try:
            value = int(words[1], 0)
            (recording.set_interval if words[0] == "interval" else recording.set_keep)(value)
        except ValueError as e:
            return f"{usage_prefix} {words[0]}: {e if 'must' in str(e) or 'least' in str(e) else 'not a number: ' + repr(words[1])}\n"
        return describe(recording)
    return f"usage: {usage_prefix} [on | off | interval INSTRUCTIONS | keep SNAPSHOTS]\n"


def describe(recording: Recording) -> str:
    i = recording.info()
    if not i.enabled:
        return "recording off\n"
    return (f"recording on: a snapshot every {i.interval} instructions, at most {i.keep} kept\n"
            f"history: instructions {i.start} to {i.end} ({i.marks} snapshots, {i.pinned} pinned, "
            f"{i.snapshot_bytes // 1024} KiB of memory pages; {i.ops} operations); now at {i.position}\n")


__all__ = ["NamedSnapshots", "describe", "record_command"]
