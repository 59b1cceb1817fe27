"""Builds every bare-metal program (firmware/bare/*.c) for every board, with atoll.toolchain.

Run as ``python firmware/build.py [--out DIR]``; ELF files go to ``DIR/<board>/<name>.elf``
(default ``build/firmware`` under the repository root) and one line per ELF is printed. Tests
import ``build_all`` to build into a temporary directory. A program is one C file shared by all
boards; each board contributes its start-up code, linker script and ``board.h`` from
``firmware/bare/<board>/``, and the program learns the board's name as ``ATOLL_BOARD``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

REPO = Path(__file__).resolve().parent.parent
BARE = REPO / "firmware" / "bare"
DEFAULT_OUT = REPO / "build" / "firmware"

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from atoll.toolchain import ToolchainError, build  # noqa: E402


@dataclass(frozen=True)
class Board:
    """What a board contributes to a bare-metal build."""

    name: str
    isa: str
    crt0: str  # file name inside firmware/bare/<name>/

    @property
    def directory(self) -> Path:
        return BARE / self.name


BOARDS = {
    "mps2-an385": Board("mps2-an385", "arm", "crt0.c"),
    "hifive1": Board("hifive1", "riscv", "crt0.S"),
}


def programs() -> list[str]:
    """Names of the bare-metal programs, one per C file in firmware/bare/."""
    return sorted(p.stem for p in BARE.glob("*.c"))


def build_program(program: str, board: Board, out_dir: Path) -> Path:
    """Build one program for one board into ``out_dir/<board>/<program>.elf``."""
    return build(
        sources=[BARE / f"{program}.c", board.directory / board.crt0],
        output=out_dir / board.name / f"{program}.elf",
        isa=board.isa,
        linker_script=board.directory / "link.ld",
        extra_flags=[f'-DATOLL_BOARD="{board.name}"'],
        include_dirs=[board.directory],
    )


def build_all(
    out_dir: Path = DEFAULT_OUT,
    boards: Iterable[str] | None = None,
    names: Iterable[str] | None = None,
) -> dict[tuple[str, str], Path]:
    """Build the named programs (default all) for the named boards (default all).

    Returns ``{(board, program): elf_path}``; raises ``ToolchainError`` on the first failure.
    """
    out_dir = Path(out_dir)
    names = list(names or programs())
    return {
        (board, program): build_program(program, BOARDS[board], out_dir)
        for board in (boards or BOARDS)
        for program in names
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the bare-metal firmware for every board.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (default: build/firmware)")
    args = parser.parse_args(argv)
    try:
        built = build_all(args.out)
    except ToolchainError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for elf in built.values():
        print(elf)
    return 0


if __name__ == "__main__":
    sys.exit(main())
