"""The guest exception benchmark (`make bench`): interrupt latency and exception round trips.

`bench_exceptions(board)` builds the board's guest (bench/guest/exceptions/<board>.c, one per
board with a guest exception model; `GUESTS` lists them), boots it bare-metal and times its
three phases of equal rounds: a bare loop calling an empty function, an exception round trip
(ARM: `svc` to an empty handler and back), and an interrupt pended by the program (ARM: STIR)
and taken. It reports per round, in virtual cycles and in host microseconds, each phase and
its cost over the bare loop, and the interrupt latency:

- in virtual cycles, as the guest measures it with its own cycle counter (ARM: SysTick on the
  processor clock, read just before the store that pends and again in the handler's second
  instruction), so it includes the few instructions between the two reads;
- in host time, from the moment the model tells the machine something is pending (the
  interrupt controller's listener) to the first instruction of the handler (a code hook on that
  one address, which only this measurement adds), averaged over the rounds.

Every timed run is repeated and the best kept. This module only measures; it never changes
what it runs (the hook and the listener wrapper are on a machine of its own).
"""

from __future__ import annotations

import pathlib
import tempfile
import time

from unicorn.unicorn_const import UC_HOOK_CODE

from machine import BufferBackend, Machine, load_board, symbols

from .toolchain import build

REPO = pathlib.Path(__file__).resolve().parent.parent
GUEST = REPO / "bench" / "guest" / "exceptions"
#: board -> (guest source, the interrupt handler's symbol, the phases' end markers)
GUESTS = {
    "mps2-an385": (GUEST / "mps2-an385.c", "irq0_handler", (b"bare\n", b"svc\n", b"irq ")),
}
ROUNDS = 20_000


def build_guest(board: str, out: pathlib.Path, rounds: int = ROUNDS) -> pathlib.Path:
    source, _, _ = GUESTS[board]
    bare = REPO / "firmware" / "bare" / board
    return build([source], out / f"exceptions-{board}.elf", load_board(board).cpu.isa, bare / "link.ld",
                 extra_flags=[f"-DROUNDS={rounds}u"])


def _one_run(board: str, elf: pathlib.Path) -> dict:
    _, handler, markers = GUESTS[board]
    machine = Machine(board)
    uart = BufferBackend()
    machine.attach_uart(next(iter(machine.uarts)), uart)
    image = machine.load_elf(elf)
    entry = symbols(image)[handler] & ~1
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


def bench_exceptions(board: str, repeat: int = 3, rounds: int = ROUNDS) -> dict:
    """Run the board's exception guest `repeat` times; the best of each figure, per round."""
    if board not in GUESTS:
        raise ValueError(f"no exception benchmark guest for board {board!r}; there is one for: "
                         f"{', '.join(GUESTS)}")
    with tempfile.TemporaryDirectory() as tmp:
        elf = build_guest(board, pathlib.Path(tmp), rounds)
        runs = [_one_run(board, elf) for _ in range(max(1, repeat))]
    names = ("bare loop", "exception round trip", "interrupt round trip")
    result: dict = {"board": board, "rounds": rounds}
    for i, name in enumerate(names):
        host = min(r["phases"][i][0] for r in runs) / rounds
        cycles = runs[0]["phases"][i][1] / rounds
        result[name] = {"host_us": host * 1e6, "cycles": cycles}
    for name in names[1:]:
        result[name]["host_us_over_bare"] = result[name]["host_us"] - result["bare loop"]["host_us"]
        result[name]["cycles_over_bare"] = result[name]["cycles"] - result["bare loop"]["cycles"]
    result["interrupt latency"] = {"cycles": runs[0]["guest_latency_sum"] / rounds,
                                   "host_us": min(r["host_latency"] for r in runs) * 1e6}
    return result


def report(result: dict) -> str:
    """The result as the lines `make bench` prints."""
    lines = [f"\nguest exceptions on {result['board']} ({result['rounds']} rounds each; per round):"]
    for name in ("bare loop", "exception round trip", "interrupt round trip"):
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
