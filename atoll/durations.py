"""Durations of virtual time as people write them ("10s", "500ms", "250us", "2.5").

One parser for every tool that takes a duration: the command line (`--for`), the
debugger (`continue 2s`) and the test benches (`run("500ms")`). A text that is not
a duration raises `argparse.ArgumentTypeError` with one line saying what is
expected, so the command line can hand the function straight to argparse.
"""

from __future__ import annotations

import argparse
import re

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(s|ms|us|ns|m|min)?\s*$")
_UNITS = {None: 1.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "m": 60.0, "min": 60.0}


def parse_duration(text: str) -> float:
    """'10s', '500ms', '2.5', '1min' -> seconds of virtual time."""
    m = _DURATION.match(text)
    if not m:
        raise argparse.ArgumentTypeError(
            f"must be a duration such as 10s, 500ms or 250us, not {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]
