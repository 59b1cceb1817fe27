"""RISC-V guest exceptions: interrupt latency and the cost of an exception round trip.

Run as ``python bench/rv_exceptions.py [--board=hifive1]`` (``make bench`` runs it after the
tool benchmarks). On each RISC-V board the bare-metal program bench/guest/rv_traps (built here,
once per mode, with the board's start-up code) runs on the Machine alone, its guest exception
model on (machine/exceptions/riscv.py):

- interrupt latency: ROUNDS machine timer interrupts, each armed one mtime tick ahead while the
  program spins. In virtual cycles, from the cycle at which mtime reaches mtimecmp (the CLINT's
  own arithmetic) to the handler's first instruction, which reads mcycle (first SAMPLES rounds:
  mean and worst). In host time, the same interrupts waited for in WFI: wall time per interrupt
  (wake, entry, a handler of about 25 instructions, mret, re-arm), next to the bare loop's time for as
  many instructions.
- exception round trip: ROUNDS rounds of a loop with an ``ecall`` to a 5-instruction handler
  that returns with ``mret``, against the same loop without it (run LOOP_FACTOR times as many
  rounds, so that its fixed cost vanishes); the difference per round in wall and CPU time and in
  virtual cycles (the program's own mcycle).

Host times are wall seconds and, as a cross-check that a busy host disturbs less, CPU seconds
of this process. Every timed run is repeated and the best (by wall time) kept. The figures are printed as a table and written
to build/bench/rv_exceptions.json. `measure(board)` returns them for another bench to merge.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from atoll.toolchain import build  # noqa: E402
from firmware.build import BOARDS as BARE_BOARDS  # noqa: E402
from machine import BufferBackend, Machine, load_board, symbols  # noqa: E402
from machine.peripherals.clint import Clint  # noqa: E402

GUEST = REPO / "bench" / "guest" / "rv_traps" / "main.c"
MODES = {"loop": 0, "ecall": 1, "latency": 2, "wake": 3}
ROUNDS = 20_000
LOOP_FACTOR = 100
SAMPLES = 64
REPEAT = 5
DONE = b"rv_traps: cycles="


def riscv_boards() -> list[str]:
    return [name for name, spec in BARE_BOARDS.items() if spec.isa == "riscv"]


def build_modes(board: str, out: Path, rounds: int = ROUNDS) -> dict[str, Path]:
    """The program once per mode; the bare loop runs LOOP_FACTOR times as many rounds (it
    must last long enough for its time per round not to be the run's fixed cost)."""
    spec = BARE_BOARDS[board]
    return {mode: build([GUEST, spec.directory / spec.crt0], out / f"rv_traps-{mode}.elf", spec.isa,
                        spec.directory / "link.ld",
                        extra_flags=[f"-DMODE={n}", f"-DROUNDS={rounds * (LOOP_FACTOR if mode == 'loop' else 1)}"],
                        include_dirs=[spec.directory])
            for mode, n in MODES.items()}


def run(board: str, elf: Path) -> tuple[Machine, tuple[float, float], int]:
    """One run to the done line: the machine, its (wall, CPU) seconds and the guest's cycle count."""
    machine = Machine(board)
    machine.load_elf(elf)
    uart = BufferBackend()
    machine.attach_uart("uart0", uart)
    start, cpu = time.perf_counter(), time.process_time()
    stop = machine.run_until(lambda: b"\n" in uart.output, timeout=600.0)
    wall = (time.perf_counter() - start, time.process_time() - cpu)
    line = bytes(uart.output)
    if DONE not in line:
        raise RuntimeError(f"{elf.name} on {board} ended without its line ({stop}): {line!r}")
    return machine, wall, int(line.split(DONE)[1].split(b"\r")[0])


def latencies(machine: Machine) -> list[int]:
    """Virtual cycles from each sampled timer match to its handler's first instruction."""
    names = symbols(machine.image)
    entry, armed = names["entry_cycle"], names["armed_tick"]
    clint = next(d for d in machine.peripherals.values() if isinstance(d, Clint))
    out = []
    for i in range(SAMPLES):
        tick = int.from_bytes(machine.read_physical(armed + 4 * i, 4), "little")
        cycle = int.from_bytes(machine.read_physical(entry + 4 * i, 4), "little")
        matched = -(-tick * clint.clock.frequency_hz // clint.timebase_hz)   # mtime reaches the tick
        out.append(cycle - matched)
    return out


def measure(board: str, repeat: int = REPEAT, rounds: int = ROUNDS) -> dict:
    """The board's figures (see the module's doc)."""
    with tempfile.TemporaryDirectory() as tmp:
        elves = build_modes(board, Path(tmp), rounds)
        best: dict[str, tuple[tuple[float, float], int]] = {}
        machines: dict[str, Machine] = {}
        for _ in range(repeat):
            for mode, elf in elves.items():
                machine, wall, cycles = run(board, elf)
                machines[mode] = machine
                if mode not in best or wall < best[mode][0]:
                    best[mode] = (wall, cycles)
    lat = latencies(machines["latency"])
    (loop_wall, loop_cpu), loop_cycles = best["loop"]
    (ecall_wall, ecall_cpu), ecall_cycles = best["ecall"]
    (wake_wall, wake_cpu), wake_cycles = best["wake"]
    frequency = load_board(board).cpu.frequency_hz
    loop_rounds = rounds * LOOP_FACTOR
    return {
        "board": board, "rounds": rounds, "repeat": repeat,
        "latency_cycles_mean": statistics.mean(lat), "latency_cycles_max": max(lat),
        "latency_us_virtual_mean": statistics.mean(lat) / frequency * 1e6,
        "interrupt_host_us": wake_wall / rounds * 1e6,
        "interrupt_cpu_us": wake_cpu / rounds * 1e6,
        "loop_host_ns_per_round": loop_wall / loop_rounds * 1e9,
        "loop_cycles_per_round": loop_cycles / loop_rounds,
        "ecall_round_trip_cycles": ecall_cycles / rounds - loop_cycles / loop_rounds,
        "ecall_round_trip_host_us": (ecall_wall / rounds - loop_wall / loop_rounds) * 1e6,
        "ecall_round_trip_cpu_us": (ecall_cpu / rounds - loop_cpu / loop_rounds) * 1e6,
        "wake_cycles_per_interrupt": wake_cycles / rounds,
    }


def report(r: dict) -> str:
    return "\n".join([
        f"\n{r['board']}: guest exceptions (machine mode), {r['rounds']} rounds, best of {r['repeat']}",
        f"  interrupt latency, timer match to first handler instruction: "
        f"{r['latency_cycles_mean']:.1f} virtual cycles mean, {r['latency_cycles_max']} worst "
        f"({r['latency_us_virtual_mean']:.3f} us of virtual time)",
        f"  timer interrupt from WFI (wake, entry, handler, mret, re-arm): {r['interrupt_host_us']:.2f} us wall, "
        f"{r['interrupt_cpu_us']:.2f} us CPU",
        f"  exception round trip (ecall, 5-instruction handler, mret): {r['ecall_round_trip_cycles']:.1f} "
        f"virtual cycles, {r['ecall_round_trip_host_us']:.2f} us wall, {r['ecall_round_trip_cpu_us']:.2f} us CPU",
        f"  bare loop, for scale: {r['loop_cycles_per_round']:.1f} cycles and "
        f"{r['loop_host_ns_per_round']:.0f} ns host per round",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="RISC-V guest interrupt latency and exception round trips.")
    parser.add_argument("--board", action="append", help="only this board (repeatable)")
    parser.add_argument("--repeat", type=int, default=REPEAT)
    parser.add_argument("--out", type=Path, default=REPO / "build" / "bench" / "rv_exceptions.json")
    args = parser.parse_args(argv)
    boards = [b for b in (args.board or riscv_boards()) if b in riscv_boards()]
    results = []
    for board in boards:
        results.append(measure(board, max(1, args.repeat)))
        print(report(results[-1]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"boards": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
