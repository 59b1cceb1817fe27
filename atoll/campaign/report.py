"""What a campaign leaves for people: a progress line, a summary table, a plot, JSON.

`Progress` writes one self-overwriting line to a terminal (runs done of all, runs/s,
findings, coverage) at most `every` seconds apart, and nothing when stderr is not a
terminal (CI logs stay clean). `plot_svg` draws findings and coverage over the runs
as a small self-contained SVG (two step lines sharing the run axis, each with its own
scale), written by hand so no plotting library is needed. `write_json` writes a
results file whole (a temporary name, then renamed).
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
import tempfile
import time
from html import escape


class Progress:
    def __init__(self, total: int, stream=None, every: float = 0.2) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.perf_counter()
        self.every = every
        self._last = 0.0

    def line(self, done: int, findings: int, coverage: int | None = None) -> str:
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        cov = f"  coverage {coverage} edges" if coverage is not None else ""
        return f"{done}/{self.total} runs  {done / elapsed:.1f} runs/s  findings {findings}{cov}"

    def update(self, done: int, findings: int, coverage: int | None = None) -> None:
        now = time.perf_counter()
        if not self.live or (now - self._last < self.every and done < self.total):
            return
        self._last = now
        self.stream.write("\r" + self.line(done, findings, coverage) + "\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        if self.live:
            self.stream.write("\n")
            self.stream.flush()


def _polyline(points: list[tuple[float, float]], colour: str) -> str:
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>'


def plot_svg(title: str, timeline: list[tuple[int, int | None, int]], width: int = 640, height: int = 320) -> str:
    """Findings and coverage against runs: `timeline` holds (runs, coverage or None, findings)."""
    left, right, top, bottom = 60, 60, 40, 40
    w, h = width - left - right, height - top - bottom
    runs = max([t[0] for t in timeline] + [1])
    cover = max([t[1] or 0 for t in timeline] + [1])
    found = max([t[2] for t in timeline] + [1])

    def xy(run: float, value: float, scale: float) -> tuple[float, float]:
        return left + w * run / runs, top + h - h * value / scale

    def steps(index: int, scale: float) -> list[tuple[float, float]]:
        points, previous = [xy(0, 0, scale)], 0
        for t in timeline:
            points += [xy(t[0], previous, scale), xy(t[0], t[index] or 0, scale)]
            previous = t[index] or 0
        return points

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="12">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text x="{left}" y="20" font-size="14">{escape(title)}</text>',
             f'<line x1="{left}" y1="{top + h}" x2="{left + w}" y2="{top + h}" stroke="black"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + h}" stroke="black"/>',
             f'<line x1="{left + w}" y1="{top}" x2="{left + w}" y2="{top + h}" stroke="black"/>',
             f'<text x="{left + w / 2}" y="{height - 8}" text-anchor="middle">runs (0-{runs})</text>',
             f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" fill="#c0392b">{found}</text>',
             f'<text x="{left - 6}" y="{top + h}" text-anchor="end">0</text>',
             f'<text x="{left + 4}" y="{top - 6}" fill="#c0392b">findings</text>',
             _polyline(steps(2, found), "#c0392b")]
    if any(t[1] is not None for t in timeline):
        parts += [f'<text x="{left + w + 6}" y="{top + 4}" fill="#2471a3">{cover}</text>',
                  f'<text x="{left + w - 4}" y="{top - 6}" text-anchor="end" fill="#2471a3">coverage (edges)</text>',
                  _polyline(steps(1, cover), "#2471a3")]
    return "\n".join(parts + ["</svg>"]) + "\n"


def write_file(path: pathlib.Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def write_json(path: pathlib.Path, data) -> None:
    write_file(path, json.dumps(data, indent=1) + "\n")
