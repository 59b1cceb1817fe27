"""Guest exceptions (`make bench`): interrupt latency and the cost of an exception round trip, on
every board with a guest exception model, each program bare metal on the Machine alone.

Run as ``python bench/guest_exceptions.py [--board=NAME]`` (``make bench`` runs it after the tool
benchmarks). Both ISAs measure the same three things against a bare loop, each with the
instructions its architecture has; every timed run is repeated and the best kept.

ARMv7-M (`measure_armv7m`, the guest bench/guest/exceptions/<board>.c; `ARM_GUESTS` lists them):
one program with three phases of equal rounds: a bare loop calling an empty function, an
exception round trip (`svc` to an empty handler and back), and an interrupt pended by the program
(STIR) and taken. Reported per round, in virtual cycles and in host microseconds (CPU time), each
phase and its cost over the bare loop, and the interrupt latency:

- in virtual cycles, as the guest measures it with its own cycle counter (SysTick on the
  processor clock, read just before the store that pends and again in the handler's second
  instruction), so it includes the few instructions between the two reads;
- in host time, from the moment the model tells the machine something is pending (the
  interrupt controller's listener) to the first instruction of the handler (a code hook on that
  one address, which only this measurement adds), averaged over the rounds.

RISC-V machine mode (`measure_riscv`, on every RISC-V board with bare-metal firmware): the
program bench/guest/rv_traps, built once per mode with the board's start-up code:

- interrupt latency: ROUNDS machine timer interrupts, each armed one mtime tick ahead while the
  program spins. In virtual cycles, from the cycle at which mtime reaches mtimecmp (the CLINT's
  own arithmetic) to the handler's first instruction, which reads mcycle (first SAMPLES rounds:
  mean and worst). In host time, the same interrupts waited for in WFI: wall time per interrupt
  (wake, entry, a handler of about 25 instructions, mret, re-arm), next to the bare loop's time for
  as many instructions.
- exception round trip: ROUNDS rounds of a loop with an ``ecall`` to a 5-instruction handler
  that returns with ``mret``, against the same loop without it (run LOOP_FACTOR times as many
  rounds, so that its fixed cost vanishes); the difference per round in wall and CPU time and in
  virtual cycles (the program's own mcycle). Host times are wall seconds and, as a cross-check
  that a busy host disturbs less, CPU seconds of this process; the best run is the fastest by wall.

The figures are printed per board and written to `--out-dir` (build/bench): exceptions.json (the
ARMv7-M boards, a list) and rv_exceptions.json (the RISC-V boards, under "boards"). This module
only measures; it never changes what it runs (the hook and the listener wrapper are on a machine
of their own).
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

from unicorn.unicorn_const import UC_HOOK_CODE  # noqa: E402

from atoll.toolchain import build  # noqa: E402
from firmware.build import BOARDS as BARE_BOARDS  # noqa: E402
from machine import BufferBackend, Machine, load_board, symbols  # noqa: E402
from machine.peripherals.clint import Clint  # noqa: E402

ROUNDS = 20_000
OUT_DIR = REPO / "build" / "bench"

#: board -> (guest source, the interrupt handler's symbol, the phases' end markers)
ARM_GUESTS = {
    "mps2-an385": (REPO / "bench" / "guest" / "exceptions" / "mps2-an385.c", "irq0_handler",
                   (b"bare\n", b"svc\n", b"irq ")),
}
ARM_REPEAT = 3
ARM_PHASES = ("bare loop", "exception round trip", "interrupt round trip")

RV_GUEST = REPO / "bench" / "guest" / "rv_traps" / "main.c"
RV_MODES = {"loop": 0, "ecall": 1, "latency": 2, "wake": 3}
RV_REPEAT = 5
LOOP_FACTOR = 100
SAMPLES = 64
RV_DONE = b"rv_traps: cycles="


def boot(board: str, elf: Path) -> tuple[Machine, BufferBackend]:
    """A fresh machine of `board` running `elf` bare metal, its first UART into a buffer."""
    machine = Machine(board)
    uart = BufferBackend()
    machine.attach_uart(next(iter(machine.uarts)), uart)
    machine.load_elf(elf)
    return machine, uart


# -- ARMv7-M ---------------------------------------------------------------------------------

def build_armv7m(board: str, out: Path, rounds: int = ROUNDS) -> Path:
    source, _, _ = ARM_GUESTS[board]
    bare = REPO / "firmware" / "bare" / board
    return build([source], out / f"exceptions-{board}.elf", load_board(board).cpu.isa, bare / "link.ld",
                 extra_flags=[f"-DROUNDS={rounds}u"])


def _armv7m_run(board: str, elf: Path) -> dict:
    _, handler, markers = ARM_GUESTS[board]
    machine, uart = boot(board, elf)
    entry = symbols(machine.image)[handler] & ~1
    pended: list[float] = []
    entered: list[float] = []
    controller = machine.interrupts
    notify = controller.listener

    def listener() -> None:
        if len(pended) == len(entered):
            pended.append(time.perf_counter())
        notify()

    phases = []
    for marker in markers:
        if marker == markers[-1]:
            controller.listener = listener
            machine.uc.hook_add(UC_HOOK_CODE, lambda *_: entered.append(time.perf_counter()), None, entry, entry)
            machine.flush_code()   # code translated before the hook existed would not call it
        start_host, start_cycle = time.process_time(), machine.clock.now
        stop = machine.run_until(lambda: marker in uart.output, timeout=60.0)
        if stop.reason != "condition":
            raise RuntimeError(f"{elf}: the {marker!r} phase did not end ({stop})")
        phases.append((time.process_time() - start_host, machine.clock.now - start_cycle))
    machine.run_until(lambda: uart.output.endswith(b"\n") and uart.output.count(b"\n") == 3, timeout=1.0)
    guest_sum = int(bytes(uart.output).split(b"irq ")[1].split()[0], 16)
    pairs = list(zip(pended, entered))
    if not pairs:
        raise RuntimeError(f"{elf}: no interrupt was seen pending and entered")
    host_latency = min(e - p for p, e in pairs)
    return {"phases": phases, "guest_latency_sum": guest_sum, "host_latency": host_latency}


def measure_armv7m(board: str, repeat: int = ARM_REPEAT, rounds: int = ROUNDS) -> dict:
    """Run the board's exception guest `repeat` times; the best of each figure, per round."""
    if board not in ARM_GUESTS:
        raise ValueError(f"no exception benchmark guest for board {board!r}; there is one for: "
                         f"{', '.join(ARM_GUESTS)}")
    with tempfile.TemporaryDirectory() as tmp:
        elf = build_armv7m(board, Path(tmp), rounds)
        runs = [_armv7m_run(board, elf) for _ in range(max(1, repeat))]
    result: dict = {"board": board, "rounds": rounds}
    for i, name in enumerate(ARM_PHASES):
        host = min(r["phases"][i][0] for r in runs) / rounds
        cycles = runs[0]["phases"][i][1] / rounds
        result[name] = {"host_us": host * 1e6, "cycles": cycles}
    for name in ARM_PHASES[1:]:
        result[name]["host_us_over_bare"] = result[name]["host_us"] - result["bare loop"]["host_us"]
        result[name]["cycles_over_bare"] = result[name]["cycles"] - result["bare loop"]["cycles"]
    result["interrupt latency"] = {"cycles": runs[0]["guest_latency_sum"] / rounds,
                                   "host_us": min(r["host_latency"] for r in runs) * 1e6}
    return result


def report_armv7m(result: dict) -> str:
    """An ARMv7-M board's figures as `make bench` prints them."""
    lines = [f"\nguest exceptions on {result['board']} ({result['rounds']} rounds each; per round):"]
    for name in ARM_PHASES:
        figures = result[name]
        extra = ""
        if "host_us_over_bare" in figures:
            extra = (f"  (+{figures['cycles_over_bare']:.1f} cycles, "
                     f"+{figures['host_us_over_bare']:.2f} us over the bare loop)")
        lines.append(f"  {name:22s} {figures['cycles']:8.1f} cycles {figures['host_us']:8.2f} us host{extra}")
    latency = result["interrupt latency"]
    lines.append(f"  {'interrupt latency':22s} {latency['cycles']:8.1f} cycles {latency['host_us']:8.2f} us host"
                 "  (pending to the handler's first instructions)")
    return "\n".join(lines)


# -- RISC-V machine mode ---------------------------------------------------------------------

def riscv_boards() -> list[str]:
    return [name for name, spec in BARE_BOARDS.items() if spec.isa == "riscv"]


def build_riscv(board: str, out: Path, rounds: int = ROUNDS) -> dict[str, Path]:
    """The program once per mode; the bare loop runs LOOP_FACTOR times as many rounds (it
    must last long enough for its time per round not to be the run's fixed cost)."""
    spec = BARE_BOARDS[board]
    return {mode: build([RV_GUEST, spec.directory / spec.crt0], out / f"rv_traps-{mode}.elf", spec.isa,
                        spec.directory / "link.ld",
                        extra_flags=[f"-DMODE={n}", f"-DROUNDS={rounds * (LOOP_FACTOR if mode == 'loop' else 1)}"],
                        include_dirs=[spec.directory])
            for mode, n in RV_MODES.items()}


def _riscv_run(board: str, elf: Path) -> tuple[Machine, tuple[float, float], int]:
    """One run to the done line: the machine, its (wall, CPU) seconds and the guest's cycle count."""
    machine, uart = boot(board, elf)
    start, cpu = time.perf_counter(), time.process_time()
    stop = machine.run_until(lambda: b"\n" in uart.output, timeout=600.0)
    wall = (time.perf_counter() - start, time.process_time() - cpu)
    line = bytes(uart.output)
    if RV_DONE not in line:
        raise RuntimeError(f"{elf.name} on {board} ended without its line ({stop}): {line!r}")
    return machine, wall, int(line.split(RV_DONE)[1].split(b"\r")[0])


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


def measure_riscv(board: str, repeat: int = RV_REPEAT, rounds: int = ROUNDS) -> dict:
    """The board's figures (see the module's doc)."""
    with tempfile.TemporaryDirectory() as tmp:
        elves = build_riscv(board, Path(tmp), rounds)
        best: dict[str, tuple[tuple[float, float], int]] = {}
        machines: dict[str, Machine] = {}
        for _ in range(repeat):
            for mode, elf in elves.items():
                machine, wall, cycles = _riscv_run(board, elf)
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


def report_riscv(r: dict) -> str:
    """A RISC-V board's figures as `make bench` prints them."""
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


# -- both ------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Guest interrupt latency and exception round trips.")
    parser.add_argument("--board", action="append", help="only this board (repeatable)")
    parser.add_argument("--repeat", type=int, help=f"runs of each program (default {ARM_REPEAT} on ARMv7-M, "
                                                   f"{RV_REPEAT} on RISC-V)")
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    boards = args.board or [*ARM_GUESTS, *riscv_boards()]
    arm = [measure_armv7m(b, max(1, args.repeat or ARM_REPEAT)) for b in boards if b in ARM_GUESTS]
    for result in arm:
        print(report_armv7m(result))
    riscv = []
    for board in (b for b in boards if b in riscv_boards()):
        riscv.append(measure_riscv(board, max(1, args.repeat or RV_REPEAT)))
        print(report_riscv(riscv[-1]))
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "exceptions.json").write_text(json.dumps(arm, indent=2) + "\n")
    (args.out_dir / "rv_exceptions.json").write_text(json.dumps({"boards": riscv}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
