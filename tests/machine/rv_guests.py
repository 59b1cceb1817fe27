"""The RISC-V machine-mode guest programs (tests/machine/guest/riscv), built for the hifive1.

Each program is one C file linked with the board's start-up code (firmware/bare/hifive1) and
the trap entries of rvtrap.S; `build_rv_guests(out)` builds them all into `out` and returns
``{name: elf}``. The machine tests and the QEMU differential tests share them.
"""

from __future__ import annotations

import pathlib

from atoll.toolchain import build
from firmware.build import BOARDS as BARE_BOARDS

GUEST = pathlib.Path(__file__).resolve().parent / "guest" / "riscv"
BOARD = "hifive1"
PROGRAMS = ("sched", "yield", "faults", "vectored", "uart_rx", "wfi", "nowhere", "trap_loop")


def build_rv_guests(out: pathlib.Path) -> dict[str, pathlib.Path]:
    spec = BARE_BOARDS[BOARD]
    return {name: build([GUEST / f"{name}.c", GUEST / "rvtrap.S", spec.directory / spec.crt0],
                        out / f"{name}.elf", spec.isa, spec.directory / "link.ld",
                        include_dirs=[spec.directory, GUEST])
            for name in PROGRAMS}
