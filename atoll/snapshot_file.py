"""Snapshot files: `atoll boot IMAGE --save-snapshot FILE --at TIME` and `--from-snapshot FILE`.

A snapshot file is Atoll's own JSON, never a pickle of host objects. Runs are
deterministic, so a running system's state at virtual time T is fully named by what it
booted (the image's board and SHA-256), T, and what came in from outside before T: the
bytes each UART's host side delivered, with the cycle of each delivery. The file holds
exactly that, plus a digest of the state reached (memory, CPU registers, cycle and
instruction count). `--from-snapshot` boots the same image, runs it to T at full speed
with those bytes handed in at their cycles -- UART output, debug lines and other kernel
callbacks muted, as they were already seen -- checks the digest, and goes on from there
(`--for` counts from the snapshot's time).

Every wrong file gets one message naming it: not readable, not JSON, not a snapshot
file, another version, another board or image, a field missing or of the wrong kind, a
state that the replay did not reach. Reading keeps to the first `MAX_BYTES` bytes.
"""

from __future__ import annotations

import hashlib
import json
import pathlib

from machine import StopReason

from .boot_host import run as run_boot

FORMAT = "atoll-snapshot"
VERSION = 1
MAX_BYTES = 64 * 1024 * 1024


class SnapshotFileError(Exception):
    """A snapshot file cannot be written, read or restored (the message names the file)."""


def add_options(boot) -> None:
    """The `atoll boot` options (one line in cli.py's parser)."""
    boot.add_argument("--save-snapshot", metavar="FILE", default=None,
                      help="write a snapshot of the running system to FILE when virtual time reaches --at")
    boot.add_argument("--at", metavar="TIME", default=None,
                      help="with --save-snapshot: the virtual time to take it at (e.g. 2s, 500ms)")
    boot.add_argument("--from-snapshot", metavar="FILE", default=None,
                      help="start from a snapshot FILE that --save-snapshot wrote for the same image")


def check_options(args, parse_duration, image: pathlib.Path) -> tuple[float | None, dict | None]:
    """(the --at time in seconds or None, the --from-snapshot file's content or None), before
    anything boots; ValueError for a wrong mix of options, SnapshotFileError for a wrong file."""
    data = None
    if args.from_snapshot is not None:
        if args.gdb is not None:
            raise ValueError("--from-snapshot does not go with --gdb (in GDB: monitor snapshot restore NAME)")
        data = load(args.from_snapshot, image)
    return _at(args, parse_duration), data


def _at(args, parse_duration) -> float | None:
    if args.at is not None and args.save_snapshot is None:
        raise ValueError("--at needs --save-snapshot FILE")
    if args.save_snapshot is None:
        return None
    if args.at is None:
        raise ValueError("--save-snapshot needs --at TIME (the virtual time to take it at)")
    if args.gdb is not None:
        raise ValueError("--save-snapshot does not go with --gdb (in GDB: monitor snapshot save NAME)")
    try:
        return parse_duration(args.at)
    except Exception as e:
        raise ValueError(f"--at: {e}") from None


def image_digest(path: pathlib.Path) -> str:
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def state_digest(machine) -> str:
    """A digest of what a snapshot must reproduce: RAM, CPU registers, cycle and instruction count."""
    h = hashlib.sha256()
    for region in machine.board.regions:
        h.update(machine.read_physical(region.base, region.size))
    for name in machine.cpu.GDB_REGISTERS:
        h.update(machine.uc.reg_read(machine.cpu.register_id(name)).to_bytes(8, "little", signed=False))
    h.update(f"{machine.clock.now}:{machine.counter.executed}".encode())
    return h.hexdigest()


class InputLog:
    """Every byte the UARTs' host sides deliver, with its cycle (wraps each backend's poll)."""

    def __init__(self, machine) -> None:
        self.machine = machine
        self.entries: list[list] = []
        for name, uart in machine.uarts.items():
            backend = getattr(uart, "backend", None)
            if backend is not None:
                backend.poll = self._logged(name, backend.poll)

    def _logged(self, name: str, poll):
        def logged_poll() -> bytes:
            data = poll()
            if data:
                self.entries.append([name, self.machine.clock.now, bytes(data).hex()])
            return data
        return logged_poll


def save(path: str, machine, image: pathlib.Path, inputs: InputLog, at_cycle: int) -> None:
    data = {"format": FORMAT, "version": VERSION, "board": machine.board.name,
            "image": {"name": pathlib.Path(image).name, "sha256": image_digest(image)},
            "at_cycle": at_cycle, "cycle": machine.clock.now, "executed": machine.counter.executed,
            "seconds": machine.clock.seconds, "realtime": machine.realtime, "inputs": inputs.entries,
            "state": state_digest(machine)}
    try:
        pathlib.Path(path).write_text(json.dumps(data, indent=1) + "\n")
    except OSError as e:
        raise SnapshotFileError(f"--save-snapshot: cannot write {path}: {e.strerror}") from None


def load(path: str, image: pathlib.Path) -> dict:
    """The snapshot in `path`, checked against the image being booted."""
    def bad(problem: str) -> SnapshotFileError:
        return SnapshotFileError(f"{path}: {problem}")
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise bad(f"cannot read: {e.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise bad(f"larger than {MAX_BYTES} bytes: not a snapshot file")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise bad("not a snapshot file (not JSON text); write one with --save-snapshot") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise bad("not a snapshot file (no \"format\": \"atoll-snapshot\")")
    if data.get("version") != VERSION:
        raise bad(f"snapshot version {data.get('version')!r}; this atoll reads version {VERSION}")
    _check_fields(data, bad)
    if data["image"]["sha256"] != image_digest(image):
        raise bad(f"a snapshot of another image ({data['image']['name']}, sha256 "
                  f"{data['image']['sha256'][:16]}...), not of {pathlib.Path(image).name}")
    return data


def _check_fields(data: dict, bad) -> None:
    kinds = {"board": str, "image": dict, "at_cycle": int, "cycle": int, "executed": int,
             "realtime": bool, "inputs": list, "state": str}
    nouns = {str: "a string", dict: "an object", int: "a whole number", list: "a list", bool: "true or false"}
    for key, kind in kinds.items():
        if not isinstance(data.get(key), kind) or (kind is not bool and isinstance(data.get(key), bool)):
            raise bad(f"field {key!r} missing or not {nouns[kind]}")
    if not isinstance(data["image"].get("sha256"), str) or not isinstance(data["image"].get("name"), str):
        raise bad("field 'image' needs 'name' and 'sha256' strings")
    for i, entry in enumerate(data["inputs"]):
        ok = (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], str)
              and isinstance(entry[1], int) and isinstance(entry[2], str))
        if not ok:
            raise bad(f"inputs[{i}]: not [UART name, cycle, hex bytes]")
        try:
            bytes.fromhex(entry[2])
        except ValueError:
            raise bad(f"inputs[{i}]: not hex bytes: {entry[2][:20]!r}") from None
    if not data["at_cycle"] <= data["cycle"]:
        raise bad("field 'cycle' is before 'at_cycle'")


def fast_forward(path: str, machine, kernel, data: dict, end) -> None:
    """Run the freshly booted system to the snapshot's time, replaying its UART input muted."""
    if data["board"] != machine.board.name:
        raise SnapshotFileError(f"{path}: a snapshot of board {data['board']}, not {machine.board.name}")
    pending: dict[str, list] = {}
    for name, cycle, hexdata in data["inputs"]:
        if name not in machine.uarts:
            raise SnapshotFileError(f"{path}: inputs name UART {name!r}; {machine.board.name} has "
                                    f"{', '.join(machine.uarts)}")
        pending.setdefault(name, []).append((cycle, bytes.fromhex(hexdata)))
    saved = []
    for name, uart in machine.uarts.items():
        backend = getattr(uart, "backend", None)
        if backend is not None:
            saved.append((backend, backend.poll, backend.transmit))
            backend.poll = _replayed(machine, pending.get(name, []))
            backend.transmit = lambda byte, cycle: None
    callbacks = {n: v for n, v in vars(kernel).items() if n.startswith("on_") and callable(v)} if kernel else {}
    for name in callbacks:
        setattr(kernel, name, None)
    # idle time stepped as the saving run stepped it (its input came at those steps), not slept
    realtime, machine.realtime, machine.realtime_sleep = machine.realtime, data["realtime"], False
    try:
        stops = sorted({c for items in pending.values() for c, _ in items} | {data["at_cycle"]})
        for cycle in stops:
            if cycle > machine.clock.now:
                _run_to(machine, kernel, cycle, end)
    finally:
        machine.realtime, machine.realtime_sleep = realtime, True
        for backend, poll, transmit in saved:
            backend.poll, backend.transmit = poll, transmit
        for name, value in callbacks.items():
            setattr(kernel, name, value)
    if machine.clock.now != data["cycle"]:
        raise SnapshotFileError(f"{path}: replaying it ended at cycle {machine.clock.now}, not at the saved "
                                f"cycle {data['cycle']}: the file was changed, or the image's programs were")
    if state_digest(machine) != data["state"]:
        raise SnapshotFileError(f"{path}: replaying it did not reach the saved state at cycle {data['cycle']}: "
                                "the file was changed, or the image's programs were")


def _run_to(machine, kernel, cycle: int, end):
    """Run until virtual time reaches `cycle` (exactly as `boot_host.run` runs, in cycles)."""
    runner = kernel if kernel is not None else machine
    stop = None
    while not end.requested and machine.clock.now < cycle:
        stop = runner.run(min(machine.clock.cycles(0.1), cycle - machine.clock.now))
        if stop.reason is not StopReason.TIME or (kernel is not None and kernel.all_exited()):
            break
    return stop


def _replayed(machine, items: list):
    queue = list(items)

    def replayed_poll() -> bytes:
        out = b""
        while queue and queue[0][0] <= machine.clock.now:
            out += queue.pop(0)[1]
        return out
    return replayed_poll


def boot_run(machine, kernel, args, end, image: pathlib.Path, checked: tuple):
    """`atoll boot`'s run with the snapshot options (`checked`: what `check_options` gave):
    from a snapshot, and/or saving one."""
    at_seconds, data = checked
    if data is not None:
        fast_forward(args.from_snapshot, machine, kernel, data, end)
    until = None if args.duration is None else machine.clock.now + machine.clock.cycles(args.duration)
    if args.save_snapshot is None:
        return run_boot(machine, kernel, args.duration, end)
    at = machine.clock.cycles(at_seconds)
    if at < machine.clock.now or (until is not None and at > until):
        raise SnapshotFileError(f"--at {args.at}: outside this run (from {machine.clock.seconds:g} s"
                                + (f" to {until / machine.clock.frequency_hz:g} s)" if until else ")"))
    inputs = InputLog(machine)
    if data is not None:
        inputs.entries = [list(e) for e in data["inputs"]]
    stop = _run_to(machine, kernel, at, end)
    if machine.clock.now < at:
        return stop     # ended early (a signal, a fault, every component exited): nothing saved
    save(args.save_snapshot, machine, image, inputs, at)
    rest = None if until is None else max(0, until - machine.clock.now) / machine.clock.frequency_hz
    return run_boot(machine, kernel, rest, end)


__all__ = ["FORMAT", "VERSION", "InputLog", "SnapshotFileError", "add_options", "boot_run", "check_options",
           "fast_forward", "load", "save", "state_digest"]
