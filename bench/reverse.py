"""The cost of reverse execution, run by `make bench` after bench/tools.py.

- Recording: the compute component (bench/guest/compute, CPU-bound) run through a
  debugger's `Control` in the GDB stub's slices (`SLICE_SECONDS`), with a `Recording` on
  (its default interval and bound) and off, in the same run; reported as MIPS and as the
  ratio on/off, with the snapshots taken and the memory they hold.
- Reverse-continue: the demo image (every server and app, their timers, interrupts and
  IPC) run forward under a recording for 1 s and for 60 s of virtual time with a
  breakpoint that is never hit, then one `Reverse.continue_back`, which replays the whole
  history looking for a hit and ends at its start; wall seconds for the forward run and
  for the reverse-continue.

Best of `--repeat` for the speeds. Prints a table per board and writes build/bench/reverse.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import save_results  # noqa: E402
from atoll.control import Control  # noqa: E402
from atoll.gdbstub import SLICE_SECONDS  # noqa: E402
from atoll.recording import Recording  # noqa: E402
from atoll.reverse import Reverse  # noqa: E402
from bench.tools import BOARDS, ISA_OF, _compute_system, build_guests  # noqa: E402
from firmware import components  # noqa: E402
from kernel import Kernel  # noqa: E402
from machine import Machine  # noqa: E402
from sysdesc import load_any  # noqa: E402


def _run_mips(board: str, elf: Path, instructions: int, record: bool) -> tuple[float, dict]:
    kernel, _ = _compute_system(board, elf)
    control = Control(kernel.machine, kernel)
    recording = Recording(control) if record else None
    machine = kernel.machine
    start_exec = machine.counter.executed
    slice_cycles = machine.clock.cycles(SLICE_SECONDS)
    start = time.perf_counter()
    while machine.counter.executed - start_exec < instructions:
        control.run(slice_cycles)
    wall = time.perf_counter() - start
    info = recording.info() if recording is not None else None
    extra = {"snapshots": info.marks, "snapshot_mib": info.snapshot_bytes / 2**20} if info else {}
    return (machine.counter.executed - start_exec) / wall / 1e6, extra


def recording_cost(board: str, elves: dict, instructions: int, repeat: int) -> dict:
    elf = elves[ISA_OF[board], "compute"]
    off = max(_run_mips(board, elf, instructions, False)[0] for _ in range(repeat))
    runs = [_run_mips(board, elf, instructions, True) for _ in range(repeat)]
    on, extra = max(runs, key=lambda r: r[0])
    return {"off_mips": off, "on_mips": on, "ratio": on / off, **extra}


def reverse_continue(board: str, seconds: float) -> dict:
    system = load_any(REPO / "firmware" / "images" / f"demo-{board}.toml")
    machine = Machine(system.board)
    kernel = Kernel(machine)
    kernel.boot(system)
    control = Control(machine, kernel)
    recording = Recording(control)
    uart = kernel.process("uart")
    control.debug.add_breakpoint(0x4, uart.space)      # inside the header: never executed
    slice_cycles = machine.clock.cycles(SLICE_SECONDS)
    end = machine.clock.cycles(seconds)
    start = time.perf_counter()
    while machine.clock.now < end:
        control.run(min(slice_cycles, end - machine.clock.now))
    forward = time.perf_counter() - start
    executed = machine.counter.executed
    start = time.perf_counter()
    hit = Reverse(recording).continue_back()
    back = time.perf_counter() - start
    if hit is not None or machine.counter.executed != 0:
        raise SystemExit(f"reverse-continue on {board} stopped at {machine.counter.executed}, not the start")
    return {"virtual_s": seconds, "instructions": executed, "forward_s": forward, "reverse_continue_s": back,
            "snapshots": len(recording.marks), "operations": len(recording.ops)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The cost of recording and of reverse-continue.")
    parser.add_argument("--board", action="append", choices=BOARDS, help="only this board (repeatable)")
    parser.add_argument("--instructions", type=float, default=30e6, help="compute instructions per run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "build" / "bench" / "reverse.json")
    args = parser.parse_args(argv)
    elves = build_guests(REPO / "build" / "bench" / "guest")
    components.build_all(REPO / "build" / "components")
    results = {}
    for board in args.board or BOARDS:
        rc = recording_cost(board, elves, int(args.instructions), max(1, args.repeat))
        backs = [reverse_continue(board, s) for s in (1.0, 60.0)]
        results[board] = {"recording": rc, "reverse_continue": backs}
        print(f"\n== {board}: reverse execution")
        print(f"compute, debugged in slices: recording on {rc['on_mips']:.1f} MIPS vs off {rc['off_mips']:.1f} MIPS: "
              f"{rc['ratio']:.1%} ({rc['snapshots']} snapshots kept, {rc['snapshot_mib']:.1f} MiB of pages)")
        for b in backs:
            print(f"demo, {b['virtual_s']:.0f} s virtual ({b['instructions']:,} instructions, {b['snapshots']} "
                  f"snapshots): recorded in {b['forward_s']:.2f} s wall, reverse-continue over all of it "
                  f"{b['reverse_continue_s']:.2f} s wall")
    save_results(args.out, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
