"""Building the test programs of tests/components/programs/ as a user would, and booting them.

`build_outside(name, tmp)` copies a program folder into a temporary folder (outside the
repository) and builds it with `atoll build-component`, the one command a user runs, for both
ISAs. `boot(board, elf, ...)` writes a one-component system description next to the ELF, boots
it with the kernel and runs it for a while in virtual time; the run has each component's debug
lines and the kernel's log records.
"""

from __future__ import annotations

import logging
import pathlib
import shutil
import subprocess
import sys
from dataclasses import dataclass, field

from kernel.kernel import Kernel
from machine import Machine
from sysdesc import load_system
from tests.boards import ISA_OF

PROGRAMS = pathlib.Path(__file__).resolve().parent / "programs"


def atoll(*args: str, cwd: pathlib.Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "atoll.cli", *args], capture_output=True, text=True,
                          timeout=600, cwd=cwd)


def build_outside(name: str, tmp: pathlib.Path) -> pathlib.Path:
    """Copy programs/<name> to tmp/<name>, build it for both ISAs; returns the folder."""
    folder = tmp / name
    shutil.copytree(PROGRAMS / name, folder)
    result = atoll("build-component", str(folder))
    assert result.returncode == 0, result.stderr
    return folder


@dataclass
class Run:
    kernel: Kernel
    lines: list[tuple[str, str]] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    def output(self, component: str) -> list[str]:
        return [text for c, text in self.lines if c == component]


class _Records(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.INFO)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(f"{record.levelname}: {record.getMessage()}")


def boot(board: str, elf: pathlib.Path, seconds: float = 0.05, heap: int = 65536, extra: str = "") -> Run:
    """Boot `elf` alone on `board` (a heap of `heap` bytes, `extra` lines for its [[component]])."""
    name = elf.stem
    description = elf.parent / f"{name}-{board}.toml"
    description.write_text(f'[system]\nname = "{name}"\nboard = "{board}"\n\n[[component]]\nname = "{name}"\n'
                           f'elf = "{elf.name}"\npriority = 1\nstack = 8192\nheap = {heap}\n{extra}\n')
    kernel = Kernel(Machine(board))
    run = Run(kernel)
    kernel.on_debug_line = lambda component, text: run.lines.append((component, text))
    handler = _Records(run.log)
    logger = logging.getLogger("atoll.kernel")
    logger.addHandler(handler)
    try:
        kernel.boot(load_system(description))
        kernel.run_for(seconds)
    finally:
        logger.removeHandler(handler)
    return run


def elf_of(folder: pathlib.Path, board: str) -> pathlib.Path:
    return folder / "build" / ISA_OF[board] / f"{folder.name}.elf"
