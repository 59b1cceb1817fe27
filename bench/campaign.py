"""Fault-injection campaign against the demo's uart and gpio drivers, in one process.

Run as ``python bench/campaign.py`` from the repository root (``make bench`` runs it after
bench/tools.py); ``atoll campaign fault IMAGE`` runs the same campaign over a process pool or
Ray. The campaign itself (what one run is, how it is classified) lives in
atoll/campaign/faults.py and atoll/campaign/fault_model.py; this script boots each board's demo
image (firmware/images/demo-<board>.toml), prints the tables and writes
build/bench/campaign.json. The names the CI tests import stay importable from here.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if sys.path[0] != str(REPO):   # before bench/ itself, whose kernel.py would shadow the package
    sys.path.insert(0, str(REPO))

from bench import save_results  # noqa: E402
from atoll.campaign import faults  # noqa: E402
from atoll.campaign.fault_model import (BLINKY_PIN, BOARDS, KIND_WEIGHTS, KINDS, SHELL_PIN,  # noqa: E402,F401
                                        TARGETS, CampaignResult, Outcome, Row, RunResult, Settings,
                                        format_outcomes, format_table, summarize)
from firmware import components  # noqa: E402


def demo_image(board: str) -> Path:
    return REPO / "firmware" / "images" / f"demo-{board}.toml"


class Campaign(faults.Campaign):
    """`faults.Campaign` on the board's demo image unless another is given."""

    def __init__(self, board: str, settings: Settings = Settings(), image: Path | None = None) -> None:
        super().__init__(board, settings, image or demo_image(board))


def run_campaign(board: str, runs: int, seed: int = 0, targets: tuple[str, ...] = TARGETS,
                 kinds: tuple[str, ...] = KINDS, settings: Settings = Settings(),
                 campaign: Campaign | None = None) -> CampaignResult:
    """`faults.run_campaign` on the board's demo image."""
    return faults.run_campaign(board, runs, seed, targets, kinds, settings, campaign, demo_image(board))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fault-injection campaign against the demo's uart and gpio drivers.")
    parser.add_argument("--board", action="append", choices=BOARDS, help="only this board (repeatable)")
    parser.add_argument("--target", action="append", choices=TARGETS, help="only this driver (repeatable)")
    parser.add_argument("--runs", type=int, default=250, help="runs per board and driver (default 250)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=REPO / "build" / "bench" / "campaign.json")
    parser.add_argument("--failures", type=int, default=5,
                        help="runs not recovered (or with a bystander failure) to list per board (default 5)")
    args = parser.parse_args(argv)
    components.build_all(REPO / "build" / "components")   # the demo image's ELF files
    settings = Settings()
    targets = tuple(args.target or TARGETS)
    print(f"\nAtoll fault-injection campaign: seed {args.seed}, {args.runs} runs per board and driver, "
          f"kinds weighted {', '.join(f'{k} {w}' for k, w in KIND_WEIGHTS.items())}")
    print(f"run: workload, injection 0-{settings.max_delay * 1e3:g} ms in, probes every "
          f"{settings.probe_timeout * 1e3:g} ms (and at each restart) for {settings.recovery_bound * 1e3:g} ms; "
          f"recovery times of crashed-and-recovered runs, virtual ms")
    everything: list[RunResult] = []
    out: dict = {"seed": args.seed, "runs": args.runs, "settings": asdict(settings), "boards": {}}
    for board in args.board or BOARDS:
        result = run_campaign(board, args.runs, args.seed, targets, settings=settings)
        everything += result.results
        print(f"\n== {board}: {len(result.results)} runs in {result.wall_seconds:.1f} s wall "
              f"({result.wall_seconds / len(result.results) * 1e3:.1f} ms a run)")
        print(format_table(result.summary))
        print(format_outcomes(result.rows("all")))
        odd = [r for r in result.results if r.outcome not in (Outcome.NO_EFFECT, Outcome.RECOVERED, Outcome.DISTURBED)
               or not r.bystanders_ok]
        for r in odd[:args.failures]:
            print(f"  run {r.index} {r.target} {r.kind}: {r.injection} at {r.injected_at:.6f} s -> {r.outcome}; "
                  f"{r.detail}{'; bystanders: ' + r.bystander_detail if r.bystander_detail else ''}")
        if len(odd) > args.failures:
            print(f"  ... and {len(odd) - args.failures} more (see the JSON)")
        out["boards"][board] = {"wall_seconds": result.wall_seconds,
                                "summary": [row.as_dict() for row in result.summary],
                                "results": [asdict(r) for r in result.results]}
    crashes = sum(r.outcome == Outcome.KERNEL_CRASH for r in everything)
    silent = sum(r.outcome == Outcome.SILENT for r in everything)
    print(f"\nkernel crashes: {crashes} of {len(everything)} runs; silent failures: {silent}")
    save_results(args.out, out, indent=1)
    return 1 if crashes or silent else 0


if __name__ == "__main__":
    sys.exit(main())

