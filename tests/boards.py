"""One place for what the tests know about the boards, derived from the files that say it.

- `BOARDS` and `ISA_OF` (and every other fact about a board itself: its UARTs, GPIO
  blocks, interrupt controller) come from the board files (machine/boards/*.toml): a
  board added as one file is tested by every test parametrized over `BOARDS`.
- `BARE_BOARDS` are the boards with bare-metal firmware (firmware/build.py's table, one
  folder of start-up code each); `bare_define(board, NAME)` reads a `#define` from that
  board's firmware/bare/<board>/board.h, where the firmware itself takes it from.
- `build_bare(source, out)` builds a test's own bare-metal C program for every bare board, with
  that board's start-up code, linker script and board.h, as firmware/build.py builds the shipped ones.
- `DEMO_PINS` is what the demo components (built once per ISA, firmware/apps) do on the
  pins of a board of that ISA: written down here once, keyed by ISA, not per board.
"""

from __future__ import annotations

import pathlib
import re

from firmware import build as firmware_build
from machine import known_boards, load_board

BOARDS: tuple[str, ...] = tuple(known_boards())
ISA_OF: dict[str, str] = {board: load_board(board).cpu.isa for board in BOARDS}
BARE_BOARDS: tuple[str, ...] = tuple(firmware_build.BOARDS)

#: the pins the demo's components drive (firmware/apps/*/main.c choose them by ISA)
DEMO_PINS: dict[str, dict[str, int]] = {
    "armv7m": {"blinky": 0, "shell_led": 1, "lamp": 2, "porch": 3},
    "rv32imac": {"blinky": 19, "shell_led": 21, "lamp": 22, "porch": 23},
}


def build_bare(source: pathlib.Path, out: pathlib.Path) -> dict[str, pathlib.Path]:
    """`source` built for every board of `BARE_BOARDS` into `out` (`<stem>-<board>.elf`)."""
    from atoll.toolchain import build
    elves = {}
    for board in BARE_BOARDS:
        spec = firmware_build.BOARDS[board]
        elves[board] = build([source, spec.directory / spec.crt0], out / f"{source.stem}-{board}.elf", spec.isa,
                             spec.directory / "link.ld", include_dirs=[spec.directory])
    return elves


def demo_pin(board: str, use: str) -> int:
    """The pin the demo components use for `use` ("blinky", "shell_led", ...) on `board`."""
    return DEMO_PINS[ISA_OF[board]][use]


def bare_define(board: str, name: str) -> int:
    """The integer a `#define NAME value` in the board's bare-metal board.h gives."""
    header = firmware_build.BOARDS[board].directory / "board.h"
    match = re.search(rf"^#define\s+{name}\s+(0x[0-9a-fA-F]+|\d+)u?\b", header.read_text(), re.M)
    if match is None:
        raise KeyError(f"{header}: no #define {name}")
    return int(match.group(1), 0)
