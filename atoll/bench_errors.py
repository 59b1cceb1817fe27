"""What a test bench reports: misuse, waits that ran out, and the durations it accepts.

Every part of a bench (`atoll.testbench.Device` and the ports and tools it holds)
raises these, so a test catches one family whatever part it used: `BenchError` for
a bench that used the device wrongly (an unknown component, a bad duration, ...),
`BenchTimeout` (an `AssertionError`, so pytest reports it as a failed check) for a
wait in virtual time whose condition never held. A timeout's message ends with the
newest `TAIL_CHARS` characters of UART output (`tail`). `seconds` is the one check
of a duration a bench is given.
"""

from __future__ import annotations

import argparse

from .durations import parse_duration

#: characters of UART output shown when an expectation fails
TAIL_CHARS = 500


class BenchError(Exception):
    """A bench used the device wrongly (an unknown component, a bad duration, ...)."""


class BenchTimeout(AssertionError):
    """A wait in virtual time ended before its condition held."""


class ExpectTimeout(BenchTimeout):
    """`expect` did not see its pattern in time; the message shows the last output."""


def seconds(duration: float | int | str) -> float:
    """A duration as seconds of virtual time: 0.5, 2, "500ms", "10s", "250us"."""
    if isinstance(duration, bool):
        raise BenchError(f"a duration must be seconds or a string such as '500ms', not {duration!r}")
    if isinstance(duration, (int, float)):
        value = float(duration)
    elif isinstance(duration, str):
        try:
            value = parse_duration(duration)
        except argparse.ArgumentTypeError as e:
            raise BenchError(f"duration {e}") from None
    else:
        raise BenchError(f"a duration must be seconds or a string such as '500ms', not {duration!r}")
    if value < 0:
        raise BenchError(f"a duration cannot be negative: {duration!r}")
    return value


def tail(text: str, limit: int = TAIL_CHARS) -> str:
    """The end of `text` (at most `limit` characters, then marked with "..."), for a message."""
    return text if len(text) <= limit else "..." + text[-limit:]
