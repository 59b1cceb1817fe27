"""Campaign throughput: the fault-injection campaign per worker on the process pool and on Ray,
and the IPC fuzzer against every shipped server.

Run as ``python bench/campaigns.py`` from the repository root (``make bench`` runs it last).

1. Fault campaign (demo image, uart driver, `--fault-runs` runs, seed 1, default 100) on the process pool
   with one and two workers, and on a local Ray instance with two (when Ray is installed).
   Wall time includes each worker's one boot of the demo (about a second), as a user's
   campaign does. Reported: runs/s, runs/s per worker, and Ray's overhead as the process
   pool's rate over Ray's at the same number of workers (1.0: none).
2. Fuzzer (`--fuzz-runs` runs, default 256, seed 1, two local workers) against each shipped server with an
   interface: lock, gpio, console and uart. Each gets an image written here (into
   build/bench/fuzz-images/) holding the server, what it needs (the console writes through the
   uart server) and the fuzz client. Reported: runs/s per core, coverage reached (edges of the
   server's code), corpus size, held calls (answered later by design), crashes, hangs and
   findings.

JSON goes to build/bench/campaigns.json.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if sys.path[0] != str(REPO):   # before bench/ itself, whose kernel.py would shadow the package
    sys.path.insert(0, str(REPO))

from bench import save_results  # noqa: E402
from atoll.campaign import fault_tasks  # noqa: E402
from atoll.campaign.executor import LocalExecutor, RayExecutor, ray_installed  # noqa: E402
from atoll.campaign.fuzz import fuzz  # noqa: E402
from atoll.campaign.images import ImageRef  # noqa: E402
from firmware import components  # noqa: E402

ISAS = {"hifive1": "rv32imac", "mps2-an385": "armv7m"}
UART_IRQS = {"hifive1": '{ "uart0.irq" = 0 }', "mps2-an385": '{ "uart0.rx" = 0, "uart0.tx" = 1, "uart0.overflow" = 2 }'}
SERVERS = ("lock", "gpio", "console", "uart")


def _component(name: str, isa: str, priority: int, extra: str = "") -> str:
    elf = REPO / "build" / "components" / isa / f"{name}.elf"
    return f'\n[[component]]\nname = "{name}"\nelf = "{elf}"\npriority = {priority}\nstack = 2048\n{extra}'


def fuzz_image(server: str, board: str, folder: Path) -> Path:
    """A description holding `server` (and the uart server for the console), and the fuzz client."""
    isa = ISAS[board]
    text = f'[system]\nname = "fuzz-{server}-{board}"\nboard = "{board}"\n'
    uart = _component("uart", isa, 1, f'uses = ["uart0"]\ninterrupts = {UART_IRQS[board]}\n')
    if server == "uart":
        text += uart
    elif server == "gpio":
        text += _component("gpio", isa, 2, 'uses = ["gpio0"]\n')
    elif server == "console":
        text += uart + _component("console", isa, 2)
    else:
        text += _component(server, isa, 2)
    text += _component("ipc_fuzz", isa, 5, "start = false\n").replace('name = "ipc_fuzz"', 'name = "fuzz"')
    if server == "console":
        text += ('\n[[endpoint]]\nname = "uart"\nserver = "uart"\nserver_slot = 1\n'
                 f'interface = "{REPO / "servers" / "uart" / "uart.idl.toml"}"\nclients = {{ console = 2 }}\n')
    text += (f'\n[[endpoint]]\nname = "{server}"\nserver = "{server}"\nserver_slot = 1\n'
             f'interface = "{REPO / "servers" / server / f"{server}.idl.toml"}"\nclients = {{ fuzz = 1 }}\n')
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"fuzz-{server}-{board}.toml"
    path.write_text(text)
    return path


def fault_throughput(board: str, runs: int) -> list[dict]:
    image = ImageRef.load(REPO / "firmware" / "images" / f"demo-{board}.toml")
    engines = [("local", 1, lambda: LocalExecutor(1)), ("local", 2, lambda: LocalExecutor(2))]
    if ray_installed():
        engines.append(("ray", 2, lambda: RayExecutor(2)))
    rows = []
    for engine, workers, make in engines:
        with make() as executor:
            result, _ = fault_tasks.fault_campaign(image, runs, 1, executor, ("uart",))
        rate = len(result.results) / result.wall_seconds
        rows.append({"board": board, "engine": engine, "workers": workers, "runs": len(result.results),
                     "wall_seconds": result.wall_seconds, "runs_per_s": rate, "per_worker": rate / workers})
    by = {(r["engine"], r["workers"]): r["runs_per_s"] for r in rows}
    for r in rows:
        r["overhead"] = by[("local", r["workers"])] / r["runs_per_s"]
    return rows


def fuzz_throughput(board: str, runs: int, workers: int = 2) -> list[dict]:
    rows = []
    for server in SERVERS:
        image = ImageRef.load(fuzz_image(server, board, REPO / "build" / "bench" / "fuzz-images"))
        with LocalExecutor(workers) as executor:
            result = fuzz(image, runs, 1, executor)
        rows.append({"board": board, "server": server, "runs": result.runs, "wall_seconds": result.wall_seconds,
                     "runs_per_s_per_core": result.runs / result.wall_seconds / workers,
                     "coverage_edges": len(result.edges), "corpus": len(result.corpus),
                     "outcomes": result.outcomes, "findings": [f.signature for f in result.findings]})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Campaign throughput per worker, locally and on Ray; the fuzzer "
                                                 "against the shipped servers.")
    parser.add_argument("--board", action="append", choices=tuple(ISAS), help="only this board (repeatable)")
    parser.add_argument("--fault-runs", type=int, default=100, help="fault-campaign runs per engine (default 100)")
    parser.add_argument("--fuzz-runs", type=int, default=256, help="fuzzer runs per server (default 256)")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "bench" / "campaigns.json")
    args = parser.parse_args(argv)
    components.build_all(REPO / "build" / "components")
    boards = args.board or ["hifive1", "mps2-an385"]
    print(f"\nAtoll campaigns: {os.cpu_count()} CPUs; Ray {'installed' if ray_installed() else 'not installed'}")
    print(f"\n{'board':11} {'engine':6} {'workers':>7} {'runs':>5} {'wall s':>7} {'runs/s':>7} {'/worker':>8} "
          f"{'overhead':>8}")
    faults = []
    for board in boards:
        for r in fault_throughput(board, args.fault_runs):
            faults.append(r)
            print(f"{board:11} {r['engine']:6} {r['workers']:7d} {r['runs']:5d} {r['wall_seconds']:7.1f} "
                  f"{r['runs_per_s']:7.1f} {r['per_worker']:8.1f} {r['overhead']:8.2f}")
    print(f"\n{'board':11} {'server':8} {'runs':>5} {'runs/s/core':>11} {'edges':>6} {'corpus':>6} {'held':>5} "
          f"{'crash':>5} {'hang':>5}  findings")
    fuzzing = []
    for board in boards:
        for r in fuzz_throughput(board, args.fuzz_runs):
            fuzzing.append(r)
            print(f"{board:11} {r['server']:8} {r['runs']:5d} {r['runs_per_s_per_core']:11.1f} "
                  f"{r['coverage_edges']:6d} {r['corpus']:6d} {r['outcomes']['held']:5d} {r['outcomes']['crash']:5d} "
                  f"{r['outcomes']['hang']:5d}"
                  f"  {', '.join(r['findings']) or '-'}")
    save_results(args.out, {"fault": faults, "fuzz": fuzzing}, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
