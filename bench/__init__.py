"""bench: the speed benchmarks `make bench` runs (machine, kernel, tools), side by side as ratios."""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def save_results(out: Path, results, indent: int = 2) -> None:
    """Write a benchmark's `results` to the JSON file `out` and say where (relative to the
    repository when inside it)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=indent) + "\n")
    print(f"\nresults: {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
