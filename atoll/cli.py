"""The `atoll` command line.

Every user error (a missing file, a bad board, a bad ELF, a bad argument) is one
line on stderr and exit status 2, never a traceback. Subcommands:

    atoll boot SYSTEM.toml|IMAGE [--for DURATION] [--uart [NAME=]stdio|tcp:PORT[,wait]|file:PATH]...
    atoll boot IMAGE --trust NAME.pub      (boots only an image signed by that key)
    atoll boot FIRMWARE.elf --board BOARD [--for DURATION] [--uart ...]
    atoll boot ... --gdb PORT [--wait]     (GDB: target extended-remote :PORT)
    atoll boot ... --trace FILE.json --vcd FILE.vcd   (timeline for ui.perfetto.dev; GPIO waveform)
    atoll boot ... --audit FILE.jsonl [--permissive]   (the policy monitor's decisions, one JSON per line)
    atoll boot ... --timing host           (faster, not deterministic: time follows the host's clock)
    atoll policy check SYSTEM.toml|IMAGE [--dot FILE.dot] [--strict]   (reachability, unused rules)
    atoll build SYSTEM.toml -o IMAGE [--sign NAME.key]
    atoll keygen NAME                      (writes NAME.key, private, and NAME.pub)
    atoll debug SYSTEM.toml|IMAGE          (interactive stepping; `help` at its prompt)
    atoll build-component DIR [--isa ISA] [--out OUT] [--print-commands]   (a component.toml folder)
    atoll boards
    atoll campaign fault|fuzz IMAGE --runs N [--workers N] [--cluster ADDRESS] [--seed S] [--out DIR]
    atoll replay FINDING.json              (atoll.campaign.commands; docs/campaigns.md)

A run ends cleanly, files and summary line written, exit status 0, on SIGINT (Ctrl-C) or
SIGTERM (atoll.boot_host). What `atoll policy check` prints and its Graphviz graph are `atoll.policy_report`'s.
"""

from __future__ import annotations

import argparse
import contextlib
import pathlib
import sys
from typing import Sequence

from kernel import JsonLinesSink, Kernel, LoadError
from machine import TIMINGS, BoardError, ElfError, Machine, StdioBackend, StopReason, known_boards, load_board
from sysdesc import ImageError, SystemPolicy, generate_keys, load_any, load_public_key, pack

from . import boot_host, component_build, policy_report, snapshot_file
from .campaign import commands as campaign_commands
from .debug_shell import run_terminal
from .durations import parse_duration
from .gdbstub import GdbStub
from .trace import TraceRecorder


EXIT_USAGE = 2


class UsageError(Exception):
    """A user mistake: reported in one line, exit status 2."""


class _ArgumentError(UsageError):
    """An argparse complaint; its message already starts with the program's name."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        raise _ArgumentError(f"{self.prog}: {message}")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="atoll", description="Boot and inspect firmware on emulated boards.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    boot = sub.add_parser("boot", help="boot a firmware image on a board")
    boot.add_argument("image", help="a system description (.toml), a packed image, or a bare-metal ELF (with --board)")
    boot.add_argument("--board", help="for a bare-metal ELF: board name or board file (see `atoll boards`)")
    boot.add_argument("--for", dest="duration", type=parse_duration, default=None,
                      help="virtual time to run (e.g. 10s, 500ms); default: until Ctrl-C")
    boot.add_argument("--uart", action="append", metavar="[NAME=]SPEC",
                      help="where a UART goes (NAME: e.g. uart1; the first UART if none): stdio (the "
                           "first UART's default), tcp:PORT, tcp:PORT,wait (hold the run until a client "
                           "connects) or file:PATH; repeatable")
    boot.add_argument("--gdb", metavar="PORT", type=_port, default=None,
                      help="serve the GDB remote protocol on 127.0.0.1:PORT (0: any free port)")
    boot.add_argument("--wait", action="store_true",
                      help="with --gdb: hold the system at its first instruction until GDB continues")
    boot.add_argument("--trace", metavar="FILE.json", default=None,
                      help="write scheduling, syscalls, IPC, IRQs and faults as a Chrome/Perfetto trace "
                           "(open in ui.perfetto.dev) when the run ends")
    boot.add_argument("--vcd", metavar="FILE.vcd", default=None,
                      help="write every GPIO pin as a VCD waveform (open in GTKWave or Surfer) when the run ends")
    boot.add_argument("--trust", metavar="NAME.pub", default=None,
                      help="boot only a packed image signed by this public key (see atoll keygen)")
    boot.add_argument("--audit", metavar="FILE.jsonl", default=None,
                      help="write the policy monitor's audit records (what the policy's audit level selects) "
                           "to FILE, one JSON object per line, as they are made")
    boot.add_argument("--permissive", action="store_true",
                      help="run the policy in permissive mode: record would-deny, deliver anyway")
    boot.add_argument("--timing", type=_timing, default="exact", metavar="exact|host",
                      help="exact (the default): virtual time counts executed instructions, the same on "
                           "every run; host: virtual time follows the host's clock, several times faster, "
                           "not deterministic, no instruction count and no --gdb")
    snapshot_file.add_options(boot)   # --save-snapshot FILE --at TIME, --from-snapshot FILE

    policy = sub.add_parser("policy", help="questions about a system's security policy")
    policy_sub = policy.add_subparsers(dest="policy_command", required=True, parser_class=_Parser)
    check = policy_sub.add_parser("check", help="who can reach whom, and rules that decide nothing")
    check.add_argument("image", help="a system description (.toml) or a packed image")
    check.add_argument("--dot", metavar="FILE.dot", default=None,
                       help="also write the reachability graph for Graphviz (dot -Tsvg FILE.dot)")
    check.add_argument("--strict", action="store_true", help="exit with status 1 when a rule is never used")

    sub.add_parser("boards", help="list the known boards")

    build = sub.add_parser("build", help="check a system description and pack it into one image file")
    build.add_argument("description", help="a system description (firmware/images/NAME.toml)")
    build.add_argument("-o", "--output", required=True, help="the packed image to write (NAME.atoll)")
    build.add_argument("--sign", metavar="NAME.key", default=None,
                       help="sign the image with this private key (see atoll keygen)")

    keygen = sub.add_parser("keygen", help="make an Ed25519 key pair for signing images")
    keygen.add_argument("name", help="writes NAME.key (private; keep it secret) and NAME.pub (public)")

    debug = sub.add_parser("debug", help="step through a system interactively (break, step, disas, ps, ...)")
    debug.add_argument("image", help="a system description (.toml) or a packed image")
    campaign_commands.add_parsers(sub)
    component_build.add_parser(sub)
    return parser


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) < 65536:
        raise argparse.ArgumentTypeError(f"must be a port number from 0 to 65535, not {text!r}")
    return int(text)


def _timing(text: str) -> str:
    if text not in TIMINGS:
        raise argparse.ArgumentTypeError(f"must be exact or host, not {text!r}")
    return text


def _check_boot_args(args: argparse.Namespace, path: pathlib.Path):
    """The options of `atoll boot` that do not go together; the trusted key, if one is given."""
    is_elf = _starts_like_elf(path)
    if args.wait and args.gdb is None:
        raise UsageError("--wait needs --gdb PORT")
    if args.gdb is not None and args.timing != "exact":
        raise UsageError("--gdb needs exact timing: breakpoints and single steps count instructions, "
                         "which --timing host does not")
    if is_elf and args.board is None:
        raise UsageError(f"{path}: a bare-metal ELF needs --board (one of: {', '.join(known_boards())})")
    if (args.audit is not None or args.permissive) and (is_elf or args.board is not None):
        raise UsageError("--audit and --permissive need a system with a policy; a bare-metal ELF has none")
    if args.trace is not None and args.board is not None:
        raise UsageError("--trace needs a system (a .toml description or a packed image); "
                         "a bare-metal ELF has no components to trace (--vcd works)")
    _check_snapshot_args(args, path)
    trusted = None
    if args.trust is not None:
        if is_elf or args.board is not None:
            raise UsageError("--trust needs a packed image; a bare-metal ELF is not signed")
        trusted = load_public_key(args.trust)
    return trusted


def _boot_machine(args: argparse.Namespace, path: pathlib.Path, trusted, vcd_type):
    """(machine, kernel or None, trace recorder or None, VCD recorder or None) for `atoll boot`."""
    trace = vcd = None
    if args.board is not None:  # a bare-metal ELF on a named board
        machine = Machine(load_board(args.board), timing=args.timing)
        machine.load_elf(path)
        if args.vcd is not None:
            vcd = vcd_type(machine)
        return machine, None, None, vcd
    # a system: a description or a packed image names its board
    system = load_any(path, trusted_key=trusted)
    if (args.audit is not None or args.permissive) and system.policy is None:
        flag = "--audit" if args.audit is not None else "--permissive"
        raise UsageError(f"{flag}: {path.name} has no policy (add [system] policy = \"NAME.policy.toml\")")
    machine = Machine(system.board, timing=args.timing)
    kernel = Kernel(machine)
    kernel.on_debug_line = _print_debug_line
    if args.trace is not None:
        trace = TraceRecorder(kernel, name=system.name)
    if args.vcd is not None:
        vcd = vcd_type(machine)
    try:
        kernel.boot(system)
    except LoadError as e:
        raise UsageError(f"{path}: {e}") from None
    if kernel.monitor is not None and args.permissive:
        kernel.monitor.permissive = True
    return machine, kernel, trace, vcd


def _cmd_boot(args: argparse.Namespace) -> int:
    path = pathlib.Path(args.image)
    trusted = _check_boot_args(args, path)
    VcdRecorder = None
    if args.vcd is not None:
        try:  # pyvcd is imported only when a waveform is wanted
            from .vcd import VcdRecorder
        except ImportError:
            raise UsageError("--vcd needs the pyvcd package (pip install pyvcd)") from None
    outputs: dict = {}
    try:
        machine, kernel, trace, vcd = _boot_machine(args, path, trusted, VcdRecorder)
        backends, waiting = _attach_uarts(machine, kernel, args.uart)
        # The output files are opened (truncated) only now that the system is known good:
        # a refused boot leaves files of an earlier run as they were.
        outputs = _open_outputs(args)
        if "audit" in outputs:
            kernel.on_audit = JsonLinesSink(outputs["audit"])
        # Without --for the run is interactive: idle time passes at the wall clock's pace,
        # so virtual time does not race ahead of the person typing.
        machine.realtime = args.duration is None
    except BaseException:
        for f in outputs.values():  # nothing ran: nothing to write
            f.close()
        raise
    # From here on SIGTERM and SIGINT end the run at an instruction boundary; the files
    # and the summary are written with the handlers still in place, so a second signal
    # cannot cut them short.
    with boot_host.ending_signals(machine) as end:
        try:
            boot_host.wait_for_clients(waiting, lambda: end.requested)
            with _terminal_keys(any(isinstance(b, StdioBackend) for b in backends)):
                if args.gdb is not None:
                    stop = _serve_gdb(machine, kernel, args, end)
                else:
                    stop = _run_with_snapshots(machine, kernel, args, end, path)
        finally:
            _write_outputs(outputs, trace, vcd, kernel.on_audit if kernel is not None else None)
        for backend in backends:
            backend.flush()
        return _summary(machine, kernel, stop)


def _check_snapshot_args(args: argparse.Namespace, path: pathlib.Path) -> None:
    """--save-snapshot/--at/--from-snapshot (atoll/snapshot_file.py), checked before anything boots."""
    try:
        args.snapshots = snapshot_file.check_options(args, parse_duration, path)
    except (ValueError, snapshot_file.SnapshotFileError) as e:
        raise UsageError(str(e)) from None


def _run_with_snapshots(machine, kernel, args, end, path: pathlib.Path):
    """`boot_host.run`, from and/or saving a snapshot file (atoll/snapshot_file.py)."""
    try:
        return snapshot_file.boot_run(machine, kernel, args, end, path, args.snapshots)
    except snapshot_file.SnapshotFileError as e:
        raise UsageError(str(e)) from None


def _attach_uarts(machine: Machine, kernel: "Kernel | None", specs: "list[str] | None"):
    """Attach every UART the options name (the first on the terminal unless told otherwise);
    (the backends, {name: backend} of the ports that wait for a client)."""
    try:
        chosen = boot_host.split_uart_specs(specs, list(machine.uarts), machine.board.name)
        backends, waiting = [], {}
        for name, spec in chosen.items():
            backend, wait = boot_host.uart_backend(name, spec)
            machine.attach_uart(name, backend)
            backends.append(backend)
            if wait:
                waiting[name] = backend
            if kernel is not None and isinstance(backend, StdioBackend):
                # debug lines go between the terminal's UART lines, not into them
                kernel.on_debug_line = lambda component, line, b=backend: b.print_aside(f"[{component}] {line}")
    except boot_host.UartSpecError as e:
        raise UsageError(str(e)) from None
    return backends, waiting


def _starts_like_elf(path: pathlib.Path) -> bool:
    """Whether `path` is an ELF file (else a description or a packed image); a path that cannot
    be read is a usage error."""
    try:
        with path.open("rb") as f:
            return f.read(4) == b"\x7fELF"
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: a directory, not an image, a description or an ELF file") from None
    except (OSError, ValueError) as e:
        raise UsageError(f"{path}: cannot read: {getattr(e, 'strerror', None) or 'not a valid file name'}") from None


def _open_outputs(args: argparse.Namespace) -> dict:
    """The --trace, --vcd and --audit files, opened (so a bad path is reported before the run,
    and after everything else was checked)."""
    outputs = {}
    for key, flag in (("trace", "--trace"), ("vcd", "--vcd"), ("audit", "--audit")):
        name = getattr(args, key)
        if name is None:
            continue
        try:
            outputs[key] = open(name, "w", encoding="utf-8")
        except OSError as e:
            for f in outputs.values():
                f.close()
            raise UsageError(f"{flag}: cannot write {name}: {e.strerror}") from None
    return outputs


def _write_outputs(outputs: dict, trace: "TraceRecorder | None", vcd, sink=None) -> None:
    """Write the recordings into the files opened for them (also after Ctrl-C); the audit
    log was written as the run went."""
    audit = outputs.get("audit")
    if audit is not None:
        if isinstance(sink, JsonLinesSink):
            sink.close()   # says what the rate limit dropped and was not yet said
        audit.close()
        print(f"atoll: wrote {audit.name}", file=sys.stderr)
    for key, recorder in (("trace", trace), ("vcd", vcd)):
        f = outputs.get(key)
        if f is None:
            continue
        with f:
            if recorder is not None:
                recorder.write(f)
        if recorder is not None:
            print(f"atoll: wrote {f.name}", file=sys.stderr)


def _print_debug_line(component: str, line: str) -> None:
    """A component's DEBUG_PUTC line, on stderr, after whatever the UART already printed."""
    sys.stdout.flush()
    print(f"[{component}] {line}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _terminal_keys(wanted: bool):
    """Keys reach the guest as they are typed (cbreak: no line editing, no local
    echo; Ctrl-C still stops the run); the terminal is restored afterwards."""
    if not wanted or not sys.stdin.isatty():
        yield
        return
    import termios
    import tty
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _serve_gdb(machine: Machine, kernel: "Kernel | None", args: argparse.Namespace, end):
    """Run under the GDB stub until the duration ends, GDB kills the run, or a signal."""
    try:
        stub = GdbStub(machine, kernel, args.gdb)
    except OSError as e:
        raise UsageError(f"--gdb: cannot listen on 127.0.0.1:{args.gdb}: {e.strerror}") from None
    end.also = lambda: _end_gdb(stub)   # from here on a signal ends the stub's loop too
    print(f"atoll: GDB stub on 127.0.0.1:{stub.port}; attach with: gdb-multiarch -ex "
          f"'target extended-remote :{stub.port}'" + (" (waiting for GDB)" if args.wait else ""),
          file=sys.stderr, flush=True)
    until = None if args.duration is None else machine.clock.now + machine.clock.cycles(args.duration)
    try:
        if end.requested:   # a signal came before the stub was there to be told
            stub.close()
            return None
        return stub.serve(wait=args.wait, until=until)
    except _Ended:
        stub.close()
        return stub.last_machine_stop
    finally:
        end.also = None


class _Ended(Exception):
    """A signal while the stub blocks for its first client (no run is under way)."""


def _end_gdb(stub: GdbStub) -> None:
    """A signal's end of a GDB run: the stub's loop ends after the slice it runs (the
    machine stops at once); blocked waiting for GDB to attach, it is woken out of that."""
    stub.killed = True
    if stub.conn is None and not stub.running:
        raise _Ended


def _summary(machine: Machine, kernel: "Kernel | None", stop) -> int:
    clock = machine.clock
    counted = f"{machine.counter.executed} instructions" if machine.timing == "exact" else \
        "host timing, instructions not counted"
    summary = f"atoll: {machine.board.name}: {clock.seconds:.6f} s virtual, {counted}"
    if kernel is not None:
        st = kernel.stats
        summary += (f", {st.switches} context switches, {st.ipc} IPC, {st.faults} faults, "
                    f"{st.restarts} restarts")
        if kernel.monitor is not None:
            verb = "would deny" if kernel.monitor.permissive else "denied"
            summary += f", {kernel.monitor.denied} {verb}"
        if st.reboots:
            summary += f", {st.reboots} reboot{'s' if st.reboots != 1 else ''}"
        if st.irq_storms:
            summary += f", {st.irq_storms} interrupt storm{'s' if st.irq_storms != 1 else ''} masked"
        if kernel.debug_log.dropped:
            summary += f", {kernel.debug_log.dropped} old debug lines dropped"
        if isinstance(kernel.on_audit, JsonLinesSink) and kernel.on_audit.dropped:
            summary += f", {kernel.on_audit.dropped} audit records not written (rate limit)"
    if kernel is None and stop is not None and stop.reason is StopReason.FAULT:
        print(f"{summary}; stopped by {stop.fault}", file=sys.stderr)
        return 1
    if kernel is None and stop is not None and stop.reason is StopReason.TRAP:
        print(f"{summary}; stopped by an unhandled {stop.trap.kind} at {stop.trap.pc:#010x}", file=sys.stderr)
        return 1
    print(summary, file=sys.stderr)
    return 0


def _cmd_boards(args: argparse.Namespace) -> int:
    for name in known_boards():
        spec = load_board(name)
        print(f"{name:14} {spec.description}")
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    description = pathlib.Path(args.description)
    if not description.is_file():
        raise UsageError(f"{description}: no such file")
    output = pathlib.Path(args.output)
    system = pack(description, output, signing_key=args.sign)
    n = len(system.components)
    signed = "" if args.sign is None else f", signed with {args.sign}"
    print(f"packed {n} component{'' if n == 1 else 's'} into {output} ({output.stat().st_size} bytes{signed})")
    return 0


def _cmd_keygen(args: argparse.Namespace) -> int:
    if args.name.endswith((".key", ".pub")):
        stem = args.name[:-4]
        raise UsageError(f"keygen: give the name without .key or .pub (atoll keygen {stem} writes "
                         f"{stem}.key and {stem}.pub)")
    private, public, fp = generate_keys(args.name)
    print(f"wrote {private} (private: keep it secret) and {public} (public; SHA256:{fp[:16]})")
    return 0


def _cmd_policy(args: argparse.Namespace) -> int:
    path = pathlib.Path(args.image)
    if not path.exists():
        raise UsageError(f"{path}: no such file")
    system = load_any(path)
    report = SystemPolicy(system)
    edges = report.reachability()
    dot = None
    if args.dot is not None:   # opened once the system is known good: a bad one leaves the file alone
        try:
            dot = open(args.dot, "w", encoding="utf-8")
        except OSError as e:
            raise UsageError(f"--dot: cannot write {args.dot}: {e.strerror}") from None
        with dot:
            dot.write(policy_report.dot(system.name, edges))
    unused = policy_report.print_report(system, report, edges)
    if dot is not None:
        print(f"atoll: wrote {args.dot}", file=sys.stderr)
    return 1 if args.strict and unused else 0


def _cmd_debug(args: argparse.Namespace) -> int:
    path = pathlib.Path(args.image)
    if _starts_like_elf(path):
        raise UsageError(f"{path}: atoll debug needs a system (a .toml description or a packed image); "
                         "for a bare-metal ELF use atoll boot --gdb")
    try:
        return run_terminal(path)
    except LoadError as e:
        raise UsageError(f"{path}: {e}") from None


def _cmd_build_component(args: argparse.Namespace) -> int:
    try:
        return component_build.run(args)
    except component_build.ManifestError as e:
        raise UsageError(str(e)) from None


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _build_parser().parse_args(argv)
        if args.command == "boot":
            return _cmd_boot(args)
        if args.command == "build":
            return _cmd_build(args)
        if args.command == "debug":
            return _cmd_debug(args)
        if args.command == "keygen":
            return _cmd_keygen(args)
        if args.command == "policy":
            return _cmd_policy(args)
        if args.command in ("campaign", "replay"):
            return campaign_commands.run(args)
        if args.command == "build-component":
            return _cmd_build_component(args)
        return _cmd_boards(args)
    except (UsageError, BoardError, ElfError, ImageError, campaign_commands.CampaignError) as e:
        print(str(e) if isinstance(e, _ArgumentError) else f"atoll: {e}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
