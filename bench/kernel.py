"""Kernel speed, side by side in one run: Atoll's IPC, compute and boot against their floors.

Run as ``python bench/kernel.py`` from the repository root (``python bench/run.py``, and so
``make bench``, runs it after the machine benchmark). Three measurements per board:

1. IPC round trips. A client component (bench/guest/ipc_client) CALLs a server component
   (bench/guest/ipc_server, more urgent, answering with REPLY_RECV) ``rounds`` times; the time
   is taken between the client's "go" and "done" debug lines, on the host's clock, inside the
   kernel's line callback. Next to it, in the same run and the same Unicorn, the floor: a bare
   ``unicorn.Uc`` of the board's CPU model running a tiny hand-assembled client (trap, count
   down, loop) and server (trap, count up, loop), whose Python interrupt hook does nothing but
   swap two saved contexts (``context_update`` + ``context_restore``) and flush the TLB — two
   empty traps and two context switches per round trip. Goal: Atoll >= 50% of the floor's rate.
   Because that floor's hook is Python, a second floor does the same steps in a C hook
   (bench/native/floor_swap.c): the least any trap-and-switch on this Unicorn costs. Atoll
   runs these round trips on its IPC fast path (kernel/fastpath.py); the share of syscalls it
   took is shown, and the same round trips again with the fast path off (every syscall in the
   Python kernel) for comparison. The same round trips again with the policy
   monitor on (an interface for the endpoint and a policy allowing the client's method; audit
   of denials only, so nothing is recorded), on each path: the monitor's cost is the extra
   time per round trip. Goal: at most 20%, on both paths.
2. Compute with preemption on. Two copies of bench/guest/compute (the loop of
   firmware/bare/compute.c, forever, no syscalls) at the same priority, so time slices rotate
   and the slice timer's events fire; instructions per wall second over a fixed span of virtual
   time, next to the bare-metal compute.elf on the Machine alone (as bench/run.py runs it).
   Goal: >= 80% of the bare machine's MIPS.
3. Boot of the demo image (firmware/images/demo-<board>.toml) to its first UART byte, in
   process: ``Machine`` + ``Kernel`` + ``boot(load_system(...))`` with a BufferBackend on uart0,
   then running until the first byte arrives; wall time broken down by step. Goal: <= 20 ms.

Every timed run is repeated and the best counts; the kinds of run of one board are interleaved
so that a busy host hurts all of them alike. CPU seconds of this process are shown next to
wall seconds as a cross-check. Results are printed as tables and written as JSON to
build/bench/kernel.json. Guest programs are built (untimed) into build/bench/guest, the demo's
components into build/components.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import unicorn  # noqa: E402
from unicorn.unicorn_py3 import unicorn as binding  # noqa: E402
from unicorn import Uc  # noqa: E402
from unicorn import arm_const, riscv_const  # noqa: E402
from unicorn.unicorn_const import (  # noqa: E402
    UC_ARCH_ARM,
    UC_ARCH_RISCV,
    UC_CTL_IO_WRITE,
    UC_CTL_TLB_FLUSH,
    UC_HOOK_INTR,
    UC_MODE_MCLASS,
    UC_MODE_RISCV32,
    UC_MODE_THUMB,
    UC_PROT_ALL,
)

from kernel.abi import Right  # noqa: E402
from kernel.caps import CapKind  # noqa: E402
from kernel.kernel import Kernel  # noqa: E402
from kernel.monitor import Monitor  # noqa: E402
from machine import add_native_hook, function_address, native_library  # noqa: E402
from machine.elf import read_elf, symbols  # noqa: E402
from machine.host.uart import BufferBackend  # noqa: E402
from machine.machine import Machine  # noqa: E402
from sysdesc.description import load_system  # noqa: E402
from sysdesc.interface import parse_interface  # noqa: E402
from sysdesc.policy import parse_policy  # noqa: E402

BOARDS = ("mps2-an385", "hifive1")
ISA_OF = {"mps2-an385": "armv7m", "hifive1": "rv32imac"}
GUEST = REPO / "bench" / "guest"
GUESTS = ("ipc_client", "ipc_server", "compute")

IPC_GOAL = 0.50
#: the policy monitor's share of a round trip, at most
MONITOR_COST_GOAL = 0.20
COMPUTE_GOAL = 0.80
BOOT_GOAL_SECONDS = 0.020


from bench import run as machine_bench  # noqa: E402
from firmware import components  # noqa: E402


@dataclass(frozen=True)
class Took:
    """Wall seconds and CPU seconds of this process."""

    wall: float
    cpu: float


def _now() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> Took:
    return Took(time.perf_counter() - start[0], time.process_time() - start[1])


def _best(runs: list[Took]) -> Took:
    return Took(min(t.wall for t in runs), min(t.cpu for t in runs))


def _rel(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else path.name


def build_guests(out: Path) -> dict[tuple[str, str], Path]:
    """{(isa, name): elf} for the bench's guest programs (untimed)."""
    return {(isa, name): components.build_component(name, GUEST / name, isa, out)
            for name in GUESTS for isa in ("armv7m", "rv32imac")}


def _symbol(elf: Path, isa: str, name: str) -> int:
    found = symbols(read_elf(elf, isa))
    if name not in found:
        raise SystemExit(f"{_rel(elf)}: has no symbol {name!r}")
    return found[name]


# -- 1. IPC: the floor on bare Unicorn ------------------------------------------------------------

#: the floor's programs, hand-assembled; each traps, then counts (client down, server up) and loops
_FLOOR_CODE = {
    # client: svc #0; subs r4, #1; bne client      server: svc #0; adds r5, #1; b server
    "armv7m": (bytes.fromhex("00df013cfcd1"), bytes.fromhex("00df0135fce7")),
    # client: ecall; addi s0, s0, -1; bnez s0, client
    # server: ecall; addi s1, s1, 1; j server
    "rv32imac": (b"".join(i.to_bytes(4, "little") for i in (0x00000073, 0xFFF40413, 0xFE041CE3)),
                 b"".join(i.to_bytes(4, "little") for i in (0x00000073, 0x00148493, 0xFF9FF06F))),
}
_FLOOR_BASE = 0x10000
_FLOOR_SERVER = 0x14000  # another page, as the server is in another address space


class _NativeSwap(ctypes.Structure):
    _fields_ = [("save", ctypes.c_void_p), ("restore", ctypes.c_void_p), ("ctl", ctypes.c_void_p),
                ("context", ctypes.c_void_p * 2), ("running", ctypes.c_uint32), ("flush_code", ctypes.c_int32)]


def run_floor(isa: str, rounds: int, native: bool = False) -> Took:
    """`rounds` round trips of two traps and two context switches on a bare Uc; with `native`
    the hook is bench/native/floor_swap.c, the same steps in C."""
    client, server = _FLOOR_CODE[isa]
    if isa == "armv7m":
        uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
        uc.ctl_set_cpu_model(arm_const.UC_CPU_ARM_CORTEX_M3)
        pc, down, up, thumb = arm_const.UC_ARM_REG_PC, arm_const.UC_ARM_REG_R4, arm_const.UC_ARM_REG_R5, 1
    else:
        uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV32)
        uc.ctl_set_cpu_model(riscv_const.UC_CPU_RISCV32_SIFIVE_E31)
        pc, down, up, thumb = riscv_const.UC_RISCV_REG_PC, riscv_const.UC_RISCV_REG_S0, riscv_const.UC_RISCV_REG_S1, 0
    uc.mem_map(_FLOOR_BASE, 0x10000, UC_PROT_ALL)
    uc.mem_write(_FLOOR_BASE, client)
    uc.mem_write(_FLOOR_SERVER, server)
    uc.reg_write(up, 0)
    uc.reg_write(pc, _FLOOR_SERVER | thumb)
    server_ctx = uc.context_save()
    uc.reg_write(down, rounds)
    uc.reg_write(pc, _FLOOR_BASE | thumb)
    client_ctx = uc.context_save()
    # the hook: save the running context, restore the other, flush the TLB; nothing else
    pair = [client_ctx, server_ctx]

    def swap(uc, intno, _):
        running, other = pair
        uc.context_update(running)
        uc.context_restore(other)
        uc.ctl(UC_CTL_TLB_FLUSH, UC_CTL_IO_WRITE)
        pair[0], pair[1] = other, running

    if native:
        uclib = binding.uclib
        state = _NativeSwap(function_address(uclib.uc_context_save), function_address(uclib.uc_context_restore),
                            function_address(uclib.uc_ctl),
                            (ctypes.c_void_p * 2)(*(ctypes.cast(c.context, ctypes.c_void_p).value for c in pair)), 0,
                            (UC_CTL_IO_WRITE << 30) | UC_CTL_TLB_FLUSH)
        add_native_hook(uc, UC_HOOK_INTR, native_library(REPO / "bench" / "native" / "floor_swap.c").floor_swap, state)
    else:
        uc.hook_add(UC_HOOK_INTR, swap)
    start = _now()
    uc.emu_start(_FLOOR_BASE | thumb, _FLOOR_BASE + len(client))
    took = _since(start)
    served = server_ctx.reg_read(up)  # it counts a round when it resumes: the last one is pending
    if uc.reg_read(down) != 0 or served != rounds - 1:
        raise SystemExit(f"floor on {isa}: client left {uc.reg_read(down)} rounds, server counted {served}")
    return took


# -- 1. IPC: Atoll ----------------------------------------------------------------------------------

@dataclass
class IpcRun:
    took: Took
    syscalls: int
    switches: int
    instructions: int
    fast: int          # syscalls the fast path handled


#: the bench endpoint's interface and the policy the monitor checks it against
BENCH_INTERFACE = {"interface": {"name": "bench", "id": 1},
                   "method": [{"name": "ping", "number": 1, "args": 1, "reply": 1}]}
BENCH_POLICY = {"policy": {"mode": "enforce", "audit": "denied"},
                "rule": [{"name": "the client pings the server", "action": "allow", "from": "ipc_client",
                          "to": "ipc_server", "methods": ["bench.ping"]}]}


def _monitor(kernel: Kernel) -> Monitor:
    iface = parse_interface(BENCH_INTERFACE, Path("bench.idl.toml"))
    policy = parse_policy(BENCH_POLICY, Path("bench.policy.toml"), ["ipc_client", "ipc_server"], {"bench": iface})
    return Monitor(policy, {"bench": iface}, kernel.now_us)


def run_ipc(board: str, elves: dict, rounds: int, monitor: bool = False, fastpath: bool = True) -> IpcRun:
    """A client calling a server `rounds` times; timed between its "go" and "done" lines."""
    isa = ISA_OF[board]
    kernel = Kernel(Machine(board), fastpath=fastpath)
    server = kernel.create_process("ipc_server", elves[isa, "ipc_server"], priority=2)
    client = kernel.create_process("ipc_client", elves[isa, "ipc_client"], priority=3)
    ep = kernel.create_endpoint("bench", server)
    kernel.grant(server, 1, CapKind.ENDPOINT, ep, Right.RECV | Right.SEND)
    kernel.grant(client, 2, CapKind.ENDPOINT, ep, Right.SEND, badge=client.index)
    if monitor:
        kernel.monitor = _monitor(kernel)
    address = _symbol(elves[isa, "ipc_client"], isa, "rounds")
    kernel.machine.write_virtual(client.space, address, rounds.to_bytes(4, "little"))
    marks: dict[str, tuple] = {}

    def line(component: str, text: str) -> None:
        marks[text.split()[0]] = (_now(), kernel.stats.syscalls, kernel.stats.switches,
                                  kernel.machine.counter.executed, text, kernel.stats.fastpath)

    kernel.on_debug_line = line
    kernel.start()
    stop = kernel.run_until(lambda: "done" in marks or "bad" in marks, timeout=60.0)
    if "done" not in marks:
        raise SystemExit(f"ipc on {board}: the client did not finish ({stop.reason}); lines {marks}")
    go, done = marks["go"], marks["done"]
    if done[4] != f"done {rounds}":
        raise SystemExit(f"ipc on {board}: the client printed {done[4]!r}")
    if monitor and (kernel.monitor.allowed != 2 * rounds or kernel.monitor.denied):
        raise SystemExit(f"ipc on {board}: the monitor passed {kernel.monitor.allowed} and denied "
                         f"{kernel.monitor.denied} messages, not {2 * rounds} and 0")
    took = Took(done[0][0] - go[0][0], done[0][1] - go[0][1])
    return IpcRun(took, done[1] - go[1], done[2] - go[2], done[3] - go[3], done[5] - go[5])


#: the kinds of IPC run: row name -> options of `run_ipc`
IPC_RUNS = {
    "atoll call/reply": {},
    "atoll, monitor on": {"monitor": True},
    "atoll, Python path only": {"fastpath": False},
    "Python path, monitor on": {"fastpath": False, "monitor": True},
}


def _row(runs: list[Took], rounds: int) -> dict:
    best = _best(runs)
    return {"seconds": best.wall, "cpu_seconds": best.cpu, "rate": rounds / best.wall,
            "cpu_rate": rounds / best.cpu if best.cpu else None, "all_seconds": [t.wall for t in runs]}


def bench_ipc(board: str, elves: dict, rounds: int, repeat: int) -> dict:
    isa = ISA_OF[board]
    run_floor(isa, 100), run_floor(isa, 100, native=True)
    for options in IPC_RUNS.values():
        run_ipc(board, elves, 100, **options)  # warm up
    floor_runs: list[Took] = []
    native_runs: list[Took] = []
    runs: dict[str, list[Took]] = {name: [] for name in IPC_RUNS}
    atoll = None
    for _ in range(repeat):
        floor_runs.append(run_floor(isa, rounds))
        native_runs.append(run_floor(isa, rounds, native=True))
        for name, options in IPC_RUNS.items():
            run = run_ipc(board, elves, rounds, **options)
            runs[name].append(run.took)
            atoll = run if not options else atoll
    rows = {"floor (bare unicorn)": _row(floor_runs, rounds), "floor, hook in C": _row(native_runs, rounds),
            **{name: _row(r, rounds) for name, r in runs.items()}}
    floor, fast, slow = rows["floor (bare unicorn)"], rows["atoll call/reply"], rows["atoll, Python path only"]
    monitor_cost = rows["atoll, monitor on"]["seconds"] / fast["seconds"] - 1
    python_monitor_cost = rows["Python path, monitor on"]["seconds"] / slow["seconds"] - 1
    ratio = fast["rate"] / floor["rate"]
    return {"rounds": rounds, "rows": rows, "ratio": ratio, "cpu_ratio": _ratio(fast["cpu_rate"], floor["cpu_rate"]),
            "python_ratio": slow["rate"] / floor["rate"], "native_ratio": fast["rate"] / rows["floor, hook in C"]["rate"],
            "goal": IPC_GOAL, "meets_goal": ratio >= IPC_GOAL,
            "monitor_cost": monitor_cost, "python_monitor_cost": python_monitor_cost,
            "monitor_meets_goal": max(monitor_cost, python_monitor_cost) <= MONITOR_COST_GOAL,
            "per_round": {"syscalls": atoll.syscalls / rounds, "switches": atoll.switches / rounds,
                          "instructions": atoll.instructions / rounds},
            "fast_share": atoll.fast / atoll.syscalls if atoll.syscalls else 0.0,
            "us_per_round": {"floor": floor["seconds"] / rounds * 1e6, "atoll": fast["seconds"] / rounds * 1e6,
                             "python_path": slow["seconds"] / rounds * 1e6}}


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


# -- 2. compute with preemption -----------------------------------------------------------------------

@dataclass
class ComputeRun:
    took: Took
    instructions: int
    switches: int
    progress: tuple[int, int]


def run_compute(board: str, elves: dict, instructions: int) -> ComputeRun:
    """Two compute processes of one priority for the virtual time `instructions` take."""
    isa = ISA_OF[board]
    elf = elves[isa, "compute"]
    kernel = Kernel(Machine(board))
    procs = [kernel.create_process(name, elf, priority=4) for name in ("compute_a", "compute_b")]
    progress = _symbol(elf, isa, "progress")
    kernel.start()
    counter = kernel.machine.counter
    executed, switches = counter.executed, kernel.stats.switches
    cycles = instructions  # one instruction per cycle on both boards' clocks
    start = _now()
    stop = kernel.run(cycles)
    took = _since(start)
    if stop.reason != "time":
        raise SystemExit(f"compute on {board}: the run ended by {stop.reason} ({stop})")
    done = tuple(int.from_bytes(kernel.machine.read_virtual(p.space, progress, 4), "little") for p in procs)
    return ComputeRun(took, counter.executed - executed, kernel.stats.switches - switches, done)


def bench_compute(board: str, elves: dict, firmware: Path, instructions: int, repeat: int) -> dict:
    elf = firmware / board / "compute.elf"
    if not elf.is_file():
        raise SystemExit(f"{_rel(elf)} is missing; build it with `make firmware`")
    program = machine_bench.Program.read(elf)
    # Rounds of the bare program to run about `instructions` (its rounds cost the same as ours).
    small = 1000
    a1, a2 = (machine_bench.run_atoll(board, program, n, None).instructions for n in (small, 2 * small))
    per_round = (a2 - a1) // small
    iterations = max(1, round(instructions / per_round))
    run_compute(board, elves, instructions // 10)  # warm up (untimed)
    bare_runs, kernel_runs = [], []
    bare = kernel_run = None
    for _ in range(repeat):
        bare = machine_bench.run_atoll(board, program, iterations, None)
        bare_runs.append(Took(bare.took.wall, bare.took.cpu))
        kernel_run = run_compute(board, elves, instructions)
        kernel_runs.append(kernel_run.took)
    if min(kernel_run.progress) == 0:
        raise SystemExit(f"compute on {board}: a process never ran ({kernel_run.progress}); slices do not rotate")
    b, k = _best(bare_runs), _best(kernel_runs)
    rows = {
        "bare machine (compute.elf)": {"instructions": bare.instructions, "seconds": b.wall, "cpu_seconds": b.cpu,
                                       "mips": bare.instructions / b.wall / 1e6,
                                       "cpu_mips": bare.instructions / b.cpu / 1e6 if b.cpu else None,
                                       "all_seconds": [t.wall for t in bare_runs]},
        "atoll, 2 processes": {"instructions": kernel_run.instructions, "seconds": k.wall, "cpu_seconds": k.cpu,
                               "mips": kernel_run.instructions / k.wall / 1e6,
                               "cpu_mips": kernel_run.instructions / k.cpu / 1e6 if k.cpu else None,
                               "all_seconds": [t.wall for t in kernel_runs]},
    }
    ratio = rows["atoll, 2 processes"]["mips"] / rows["bare machine (compute.elf)"]["mips"]
    cpu_ratio = _ratio(rows["atoll, 2 processes"]["cpu_mips"], rows["bare machine (compute.elf)"]["cpu_mips"])
    return {"instructions_per_round": per_round, "bare_iterations": iterations, "rows": rows,
            "switches": kernel_run.switches, "rounds_done": list(kernel_run.progress),
            "ratio": ratio, "cpu_ratio": cpu_ratio, "goal": COMPUTE_GOAL, "meets_goal": ratio >= COMPUTE_GOAL}


# -- 3. boot to the first UART byte -------------------------------------------------------------------

BOOT_STEPS = ("Machine()", "Kernel()", "load_system", "boot (ELF loading)", "run to first byte")


def run_boot(board: str) -> dict[str, float]:
    """Wall seconds of each step from nothing to the demo's first byte on uart0."""
    image = REPO / "firmware" / "images" / f"demo-{board}.toml"
    marks = [time.perf_counter()]
    machine = Machine(board)
    uart = BufferBackend()
    machine.attach_uart("uart0", uart)
    marks.append(time.perf_counter())
    kernel = Kernel(machine)
    marks.append(time.perf_counter())
    system = load_system(image)
    marks.append(time.perf_counter())
    kernel.boot(system)
    marks.append(time.perf_counter())
    output = uart.output
    stop = kernel.run_until(lambda: len(output) > 0, timeout=5.0)
    marks.append(time.perf_counter())
    if stop.reason != "condition":
        raise SystemExit(f"boot on {board}: no UART byte ({stop.reason})")
    steps = {name: b - a for name, a, b in zip(BOOT_STEPS, marks, marks[1:])}
    steps["virtual_us_to_first_byte"] = kernel.now_us()
    return steps


def bench_boot(board: str, repeat: int) -> dict:
    run_boot(board)  # warm up (untimed): imports, the counter's shared object
    runs = [run_boot(board) for _ in range(max(repeat, 5))]
    totals = [sum(r[s] for s in BOOT_STEPS) for r in runs]
    best = runs[totals.index(min(totals))]
    return {"image": f"firmware/images/demo-{board}.toml", "seconds": min(totals), "all_seconds": totals,
            "steps": {s: best[s] for s in BOOT_STEPS}, "min_steps": {s: min(r[s] for r in runs) for s in BOOT_STEPS},
            "virtual_us_to_first_byte": best["virtual_us_to_first_byte"],
            "goal_seconds": BOOT_GOAL_SECONDS, "meets_goal": min(totals) <= BOOT_GOAL_SECONDS}


# -- printing ------------------------------------------------------------------------------------------

def _pct(value: float | None) -> str:
    return f"{value:6.1%}" if value is not None else "     -"


def _fmt(value: float | None, width: int, digits: int) -> str:
    return f"{value:>{width}.{digits}f}" if value is not None else f"{'-':>{width}}"


def print_board(board: str, r: dict) -> None:
    ipc, comp, boot = r["ipc"], r["compute"], r["boot"]
    print(f"\n== {board}: kernel")
    print(f"IPC call/reply, {ipc['rounds']:,} round trips; per round trip atoll makes "
          f"{ipc['per_round']['syscalls']:.2f} syscalls, {ipc['per_round']['switches']:.2f} switches, "
          f"{ipc['per_round']['instructions']:.0f} instructions; the fast path took "
          f"{ipc['fast_share']:.1%} of the syscalls")
    print(f"{'':24}{'trips/s':>10}{'us/trip':>9}{'wall s':>9}{'trips/cpu s':>13}{'cpu s':>9}")
    for name, x in ipc["rows"].items():
        print(f"{name:24}{x['rate']:>10,.0f}{x['seconds'] / ipc['rounds'] * 1e6:>9.1f}{x['seconds']:>9.3f}"
              f"{_fmt(x['cpu_rate'], 13, 0)}{x['cpu_seconds']:>9.3f}")
    print(f"atoll / floor           : {_pct(ipc['ratio'])} (cpu time {_pct(ipc['cpu_ratio'])})  "
          f"goal >= {IPC_GOAL:.0%}: {'meets goal' if ipc['meets_goal'] else 'below goal'}; "
          f"Python path only: {_pct(ipc['python_ratio'])}; of the floor with its hook in C: "
          f"{_pct(ipc['native_ratio'])}")
    print(f"monitor on / off        : {ipc['monitor_cost']:+.1%} per round trip, {ipc['python_monitor_cost']:+.1%} "
          f"on the Python path  goal <= {MONITOR_COST_GOAL:.0%}: "
          f"{'meets goal' if ipc['monitor_meets_goal'] else 'over goal'}")

    print(f"compute with preemption: 2 processes of one priority, {comp['switches']} switches, "
          f"rounds done {comp['rounds_done'][0]:,} + {comp['rounds_done'][1]:,}")
    print(f"{'':28}{'MIPS':>9}{'wall s':>9}{'MIPS/cpu':>10}{'cpu s':>9}")
    for name, x in comp["rows"].items():
        print(f"{name:28}{x['mips']:>9.1f}{x['seconds']:>9.3f}{_fmt(x['cpu_mips'], 10, 1)}{x['cpu_seconds']:>9.3f}")
    print(f"atoll / bare machine    : {_pct(comp['ratio'])} (cpu time {_pct(comp['cpu_ratio'])})  "
          f"goal >= {COMPUTE_GOAL:.0%}: {'meets goal' if comp['meets_goal'] else 'below goal'}")

    print(f"boot of {boot['image']} to the first UART byte "
          f"({boot['virtual_us_to_first_byte']} us of virtual time), best of {len(boot['all_seconds'])}:")
    for step in BOOT_STEPS:
        print(f"  {step:24}{boot['steps'][step] * 1e3:>8.2f} ms")
    print(f"  {'total':24}{boot['seconds'] * 1e3:>8.2f} ms  goal <= {BOOT_GOAL_SECONDS * 1e3:.0f} ms: "
          f"{'meets goal' if boot['meets_goal'] else 'below goal'}")


# -- main ------------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Atoll kernel speed next to its floors.")
    parser.add_argument("--firmware", type=Path, default=REPO / "build" / "firmware",
                        help="directory of built bare-metal firmware (default: build/firmware)")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "bench" / "kernel.json",
                        help="JSON results (default: build/bench/kernel.json)")
    parser.add_argument("--board", action="append", choices=BOARDS, help="only this board (repeatable)")
    parser.add_argument("--rounds", type=int, default=20_000, help="IPC round trips per run (default 20000)")
    parser.add_argument("--instructions", type=float, default=60e6,
                        help="instructions per compute run (default 60e6)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each kind; the best counts (default 5)")
    args = parser.parse_args(argv)

    print(f"\nAtoll kernel benchmark: unicorn {unicorn.__version__}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs; best of {args.repeat}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    print(f"host load average (1 min): {load:.2f}" + (" -- busy host, expect noisy times" if load > 0.5 else ""))
    print(f"goals: IPC >= {IPC_GOAL:.0%} of the floor's round trips/s, the policy monitor <= "
          f"{MONITOR_COST_GOAL:.0%} of a round trip; compute with preemption >= "
          f"{COMPUTE_GOAL:.0%} of the bare machine's MIPS; demo boot to the first UART byte <= "
          f"{BOOT_GOAL_SECONDS * 1e3:.0f} ms")
    elves = build_guests(REPO / "build" / "bench" / "guest")
    components.build_all(REPO / "build" / "components")  # the demo image's ELF files
    results = []
    repeat = max(1, args.repeat)
    for board in args.board or BOARDS:
        result = {"board": board,
                  "ipc": bench_ipc(board, elves, args.rounds, repeat),
                  "compute": bench_compute(board, elves, args.firmware, int(args.instructions), repeat),
                  "boot": bench_boot(board, repeat)}
        print_board(board, result)
        results.append(result)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "unicorn": unicorn.__version__, "python": platform.python_version(), "cpus": os.cpu_count(),
        "repeat": repeat, "goals": {"ipc": IPC_GOAL, "monitor_cost": MONITOR_COST_GOAL, "compute": COMPUTE_GOAL, "boot_seconds": BOOT_GOAL_SECONDS},
        "boards": results,
    }, indent=2) + "\n")
    print(f"\nresults: {_rel(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
