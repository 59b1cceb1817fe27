"""The guest C toolchain: builds freestanding C (and assembly) into an ELF for one board ISA.

The default compiler is ``zig cc`` from the pinned ``ziglang`` PyPI package, run as
``python -m ziglang cc`` so a fresh machine needs nothing but Python and pip. Setting the ``CC``
environment variable selects another compiler; a GNU cross compiler (``arm-none-eabi-gcc``,
``riscv64-unknown-elf-gcc``) gets GNU-style ISA flags, anything whose name says ``zig`` gets
zig-style ones. Per ISA the two styles select the same code:

- ``arm``: Thumb-2 for a Cortex-M3 (ARMv7-M, no FPU).
- ``riscv``: RV32IMAC with compressed instructions, ilp32 soft-float ABI.

Each source is compiled on its own, so a failure names the file; then the objects are linked with
the given linker script. The script's ``ENTRY(symbol)`` is also passed as ``--entry``, because
``zig cc`` otherwise asks the linker for ``_start`` and that overrides the script. Every failure — unknown ISA, missing file, missing compiler, a compiler
or linker error — is raised as ``ToolchainError`` with a message that names the file and carries
the compiler's own words. Nothing is written to the output path unless the link succeeds.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

__all__ = ["ISAS", "ToolchainError", "build", "compiler_command"]

#: Per-ISA target flags, for each compiler style.
ISA_FLAGS: dict[str, dict[str, tuple[str, ...]]] = {
    "arm": {
        "zig": ("-target", "thumb-freestanding-eabi", "-mcpu=cortex_m3"),
        "gnu": ("-mcpu=cortex-m3", "-mthumb", "-mfloat-abi=soft"),
    },
    "riscv": {
        "zig": ("-target", "riscv32-freestanding-none", "-mcpu=generic_rv32+m+a+c"),
        "gnu": ("-march=rv32imac", "-mabi=ilp32"),
    },
}
ISAS = tuple(ISA_FLAGS)
#: the ISA names board files use, for callers that start from a board
BOARD_ISAS = {"armv7m": "arm", "rv32imac": "riscv"}

#: Flags for every compile, whatever the ISA or compiler. -fno-builtin keeps the compiler from
#: turning copy loops into calls to memcpy/memset, which a -nostdlib program does not have.
COMMON_FLAGS = (
    "-std=c11", "-O2", "-g", "-ffreestanding", "-fno-builtin",
    "-fno-unwind-tables", "-fno-asynchronous-unwind-tables",
    "-Wall", "-Wextra", "-Werror",
)
STYLE_FLAGS = {
    "zig": (),
    # GCC recognises loop idioms even with -fno-builtin; this switch stops it.
    "gnu": ("-fno-tree-loop-distribute-patterns",),
}
LINK_FLAGS = ("-nostdlib", "-static", "-Wl,--gc-sections")
STYLE_LINK_FLAGS = {
    # lld only warns when the entry symbol is missing; make that (and any warning) an error.
    # Not for GNU ld, which warns about RWX segments and stack notes on bare-metal targets.
    "zig": ("-Wl,--fatal-warnings",),
    "gnu": (),
}

DEFAULT_TIMEOUT = 300.0


class ToolchainError(Exception):
    """A guest build failed; the message names the file and quotes the compiler."""


def compiler_command() -> tuple[list[str], str]:
    """Return the compiler's argv prefix and its flag style (``"zig"`` or ``"gnu"``)."""
    cc = os.environ.get("CC", "").strip()
    if not cc:
        return [sys.executable, "-m", "ziglang", "cc"], "zig"
    argv = shlex.split(cc)
    is_zig = "ziglang" in argv or Path(argv[0]).name.startswith("zig")
    return argv, "zig" if is_zig else "gnu"


def _entry_flags(linker_script: Path) -> list[str]:
    match = re.search(r"\bENTRY\s*\(\s*([A-Za-z_.$][\w.$]*)\s*\)", linker_script.read_text())
    return [f"-Wl,--entry={match.group(1)}"] if match else []


def _run(argv: Sequence[str], what: str, timeout: float) -> None:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise ToolchainError(f"{what}: compiler not found: {argv[0]} (set CC or install ziglang)") from None
    except subprocess.TimeoutExpired:
        raise ToolchainError(f"{what}: compiler timed out after {timeout:.0f}s") from None
    if proc.returncode != 0:
        message = (proc.stderr + proc.stdout).strip() or f"exit status {proc.returncode}"
        raise ToolchainError(f"{what}: {message}\n(command: {shlex.join(argv)})")


def build(
    sources: Iterable[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    isa: str,
    linker_script: str | os.PathLike[str],
    extra_flags: Iterable[str] = (),
    include_dirs: Iterable[str | os.PathLike[str]] = (),
    timeout: float = DEFAULT_TIMEOUT,
) -> Path:
    """Compile ``sources`` (.c, .S) for ``isa`` and link them with ``linker_script`` into ``output``.

    ``extra_flags`` go to every compile (defines such as ``-DNAME="value"``); ``include_dirs``
    become ``-I`` flags. Returns the output path; raises ``ToolchainError`` on any failure.
    """
    isa = BOARD_ISAS.get(isa, isa)
    if isa not in ISA_FLAGS:
        raise ToolchainError(f"unknown ISA {isa!r}: expected one of {', '.join(ISAS)}")
    sources = [Path(s) for s in sources]
    if not sources:
        raise ToolchainError(f"{output}: no sources given")
    linker_script = Path(linker_script)
    for path in [*sources, linker_script]:
        if not path.is_file():
            raise ToolchainError(f"{path}: no such file")
    output = Path(output)

    cc, style = compiler_command()
    target = list(ISA_FLAGS[isa][style])
    cflags = [*target, *COMMON_FLAGS, *STYLE_FLAGS[style], *(f"-I{d}" for d in include_dirs), *extra_flags]

    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="atoll-cc-") as tmp:
        objects = []
        for index, source in enumerate(sources):
            obj = Path(tmp) / f"{index}-{source.stem}.o"
            _run([*cc, *cflags, "-c", str(source), "-o", str(obj)], str(source), timeout)
            objects.append(str(obj))
        linked = Path(tmp) / output.name
        link = [*cc, *target, "-g", *LINK_FLAGS, *STYLE_LINK_FLAGS[style], *_entry_flags(linker_script), "-T", str(linker_script)]
        _run([*link, *objects, "-o", str(linked)], f"{output} (linking with {linker_script})", timeout)
        shutil.move(linked, output)
    return output
