"""Benchmarks of the tools on top of the kernel, run by `make bench` after bench/kernel.py.

- Idle fast-forward (test benches): a duty-cycled component (bench/guest/sensor, awake
  a few hundred instructions once a second) simulated for one virtual hour; reported as
  the ratio of virtual to wall time (aim: at least 1,000x).
- Debugging cost (GDB stub): the compute component run under the real GDB stub, with a
  client attached over TCP on this machine that set a breakpoint at an address the
  component never reaches again and then continued, next to the same run without any
  debugger, in the same run; goal: at least 50% of the speed. Each run is 300M instructions
  (under a second undebugged with per-block counting): a shorter one measures mostly what
  attaching costs once (the reverse-execution recording's first snapshot), not the speed.
- Restoring a snapshot versus booting (test benches): the demo image booted to its shell
  prompt (a new `Device`, then `expect("atoll> ")`) next to `Device.restore` of a snapshot
  taken at that prompt, after the device ran on; wall milliseconds, best of `--repeat`
  (the first restore, which also touches the snapshot's memory pages, is not counted).
  Both are reported; the time to take the snapshot is shown too.

Prints a table per board and writes build/bench/tools.json.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import save_results  # noqa: E402
from kernel import Kernel  # noqa: E402
from machine import Machine, read_elf, symbols  # noqa: E402
from atoll.gdbstub import GdbStub  # noqa: E402
from firmware import components  # noqa: E402

BOARDS = ("mps2-an385", "hifive1")
ISA_OF = {"mps2-an385": "armv7m", "hifive1": "rv32imac"}
FAST_FORWARD_GOAL = 1000.0
DEBUG_GOAL = 0.5


def build_guests(out: Path) -> dict[tuple[str, str], Path]:
    return {(isa, name): components.build_component(name, REPO / "bench" / "guest" / name, isa, out)
            for name in ("sensor", "compute") for isa in ISA_OF.values()}


def fast_forward(board: str, elves: dict, virtual_seconds: float) -> dict:
    kernel = Kernel(Machine(board))
    sensor = kernel.create_process("sensor", elves[ISA_OF[board], "sensor"], priority=4, stack=1024)
    lines: list[str] = []
    kernel.on_debug_line = lambda c, text: lines.append(text)
    kernel.start()
    start = time.perf_counter()
    kernel.run_for(virtual_seconds)
    wall = time.perf_counter() - start
    wakes_at = symbols(read_elf(elves[ISA_OF[board], "sensor"], ISA_OF[board]))["wakes"]
    wakes = int.from_bytes(kernel.machine.read_virtual(sensor.space, wakes_at, 4), "little")
    return {"virtual_s": virtual_seconds, "wall_s": wall, "ratio": virtual_seconds / wall, "wakes": wakes,
            "instructions": kernel.machine.counter.executed, "lines": len(lines)}


def _compute_system(board: str, elf: Path) -> tuple[Kernel, object]:
    kernel = Kernel(Machine(board))
    proc = kernel.create_process("compute", elf, priority=4)
    kernel.start()
    kernel.run(10_000)  # past the entry point, which never runs again
    return kernel, proc


def _plain_mips(board: str, elf: Path, instructions: int) -> float:
    kernel, _ = _compute_system(board, elf)
    start_exec = kernel.machine.counter.executed
    start = time.perf_counter()
    stop = kernel.run(instructions)
    wall = time.perf_counter() - start
    if stop.reason != "time":
        raise SystemExit(f"compute on {board} ended by {stop.reason}")
    return (kernel.machine.counter.executed - start_exec) / wall / 1e6


def _rsp_send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(b"$" + payload + b"#%02x" % (sum(payload) & 0xFF))


def _rsp_reply(sock: socket.socket, pending: bytearray) -> bytes:
    """The next packet from the stub (acknowledged), skipping its acknowledgements."""
    while True:
        start = pending.find(b"$")
        end = pending.find(b"#", start + 1) if start >= 0 else -1
        if start >= 0 and end >= 0 and len(pending) >= end + 3:
            payload = bytes(pending[start + 1:end])
            del pending[:end + 3]
            sock.sendall(b"+")
            return payload
        chunk = sock.recv(4096)
        if not chunk:
            raise SystemExit("the GDB stub closed the connection")
        pending += chunk


def _gdb_attached_mips(board: str, elf: Path, instructions: int) -> float:
    """MIPS of the compute run under the GDB stub, with a client attached and a breakpoint set."""
    kernel, proc = _compute_system(board, elf)
    stub = GdbStub(kernel.machine, kernel, 0)
    until = kernel.machine.clock.now + instructions
    served = threading.Thread(target=stub.serve, kwargs={"wait": True, "until": until})
    served.start()
    pending = bytearray()
    with socket.create_connection(("127.0.0.1", stub.port)) as client:
        _rsp_send(client, b"Hg%x" % proc.index)
        _rsp_reply(client, pending)
        entry = read_elf(elf, ISA_OF[board]).entry & ~1
        _rsp_send(client, b"Z0,%x,2" % entry)
        if _rsp_reply(client, pending) != b"OK":
            raise SystemExit("the GDB stub refused the breakpoint")
        start_exec = kernel.machine.counter.executed
        start = time.perf_counter()
        _rsp_send(client, b"c")
        reply = _rsp_reply(client, pending)
        wall = time.perf_counter() - start
    served.join()
    if not reply.startswith(b"W"):
        raise SystemExit(f"under the GDB stub the run stopped early: {reply!r}")
    return (kernel.machine.counter.executed - start_exec) / wall / 1e6


def debug_cost(board: str, elves: dict, instructions: int, repeat: int) -> dict:
    elf = elves[ISA_OF[board], "compute"]
    plain = max(_plain_mips(board, elf, instructions) for _ in range(repeat))
    attached = max(_gdb_attached_mips(board, elf, instructions) for _ in range(repeat))
    return {"plain_mips": plain, "breakpoint_mips": attached, "ratio": attached / plain}


def restore_vs_boot(board: str, repeat: int) -> dict:
    from atoll.testbench import Device
    image = REPO / "firmware" / "images" / f"demo-{board}.toml"
    boots = []
    for _ in range(repeat):
        start = time.perf_counter()
        dut = Device(image)
        dut.expect("atoll> ")
        boots.append(time.perf_counter() - start)
    start = time.perf_counter()
    snap = dut.snapshot()
    taking = time.perf_counter() - start
    restores = []
    for _ in range(repeat + 1):
        dut.command("echo a command to undo")
        start = time.perf_counter()
        dut.restore(snap)
        restores.append(time.perf_counter() - start)
    return {"boot_ms": min(boots) * 1e3, "restore_ms": min(restores[1:]) * 1e3,
            "first_restore_ms": restores[0] * 1e3, "snapshot_ms": taking * 1e3,
            "virtual_s_at_prompt": snap.time}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Atoll tool benchmarks (idle fast-forward, debugging cost, "
                                                 "restoring a snapshot versus booting).")
    parser.add_argument("--board", action="append", choices=BOARDS, help="only this board (repeatable)")
    parser.add_argument("--hours", type=float, default=1.0, help="virtual hours to fast-forward (default 1)")
    parser.add_argument("--instructions", type=float, default=300e6, help="compute instructions per run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "build" / "bench" / "tools.json")
    args = parser.parse_args(argv)
    elves = build_guests(REPO / "build" / "bench" / "guest")
    results = {}
    for board in args.board or BOARDS:
        ff = fast_forward(board, elves, args.hours * 3600)
        dc = debug_cost(board, elves, int(args.instructions), max(1, args.repeat))
        rb = restore_vs_boot(board, max(1, args.repeat))
        results[board] = {"fast_forward": ff, "debug": dc, "restore_vs_boot": rb}
        print(f"\n== {board}: tools")
        print(f"idle fast-forward: {ff['virtual_s']:.0f} s virtual ({ff['wakes']} wakes, {ff['instructions']:,} "
              f"instructions) in {ff['wall_s']:.2f} s wall: {ff['ratio']:,.0f}x  "
              f"goal >= {FAST_FORWARD_GOAL:,.0f}x: {'meets goal' if ff['ratio'] >= FAST_FORWARD_GOAL else 'below goal'}")
        print(f"compute with GDB attached and a breakpoint set elsewhere: {dc['breakpoint_mips']:.1f} MIPS vs "
              f"{dc['plain_mips']:.1f} without a debugger: {dc['ratio']:.1%}  goal >= {DEBUG_GOAL:.0%}: "
              f"{'meets goal' if dc['ratio'] >= DEBUG_GOAL else 'below goal'}")
        print(f"demo to its prompt ({rb['virtual_s_at_prompt'] * 1e3:.2f} ms virtual): "
              f"boot {rb['boot_ms']:.2f} ms wall, restore of a snapshot {rb['restore_ms']:.2f} ms wall "
              f"({rb['boot_ms'] / rb['restore_ms']:.1f}x faster; "
              f"first restore {rb['first_restore_ms']:.2f} ms, taking the snapshot {rb['snapshot_ms']:.2f} ms)")
    save_results(args.out, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
