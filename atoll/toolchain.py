"""The guest C toolchain: builds freestanding C (and assembly) into an ELF for one board ISA.

The default compiler is ``zig cc`` from the pinned ``ziglang`` PyPI package, run as
``python -m ziglang cc`` so a fresh machine needs nothing but Python and pip. Setting the ``CC``
environment variable selects another compiler; a GNU cross compiler (``arm-none-eabi-gcc``,
``riscv64-unknown-elf-gcc``) gets GNU-style ISA flags, anything whose name says ``zig`` gets
zig-style ones. Per ISA the two styles select the same code:

- ``arm``: Thumb-2 for a Cortex-M3 (ARMv7-M, no FPU).
- ``riscv``: RV32IMAC with compressed instructions, ilp32 soft-float ABI.

Two kinds of program are built. A bare-metal one (``libc=False``) is freestanding: no C library,
``-nostdlib``. A component (``libc=True``) is hosted C on picolibc, the C library made for
microcontrollers, from Debian's ``picolibc-arm-none-eabi`` / ``picolibc-riscv64-unknown-elf``
packages (installed by ``make system-packages``; ``ATOLL_PICOLIBC`` names another prefix); its
multilibs ``thumb/v7-m/nofp`` and ``rv32imac/ilp32`` are the two ISAs' soft-float builds. Soft-float
and 64-bit arithmetic come from the compiler runtime library picolibc was built against: libgcc of
the same multilib, from the GNU cross compiler those packages depend on (picolibc's RISC-V build
also calls libgcc's ``__riscv_save_N``/``__riscv_restore_N``, which zig's compiler_rt lacks).

``-Werror`` is on for Atoll's own sources (``werror=True``) and off for a user's; the runtime's
sources (``runtime_sources``) are always compiled with it. ``commands`` returns the compile and
link commands without running them, so users can drive the same build from Make or CMake.

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
from typing import Any, Iterable, Sequence

__all__ = ["ISAS", "ToolchainError", "build", "commands", "compiler_command", "libgcc", "picolibc"]

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

#: Flags for every freestanding compile, whatever the ISA or compiler. -fno-builtin keeps the
#: compiler from turning copy loops into calls to memcpy/memset, which a -nostdlib program does not have.
COMMON_FLAGS = (
    "-std=c11", "-O2", "-g", "-ffreestanding", "-fno-builtin",
    "-fno-unwind-tables", "-fno-asynchronous-unwind-tables",
    "-Wall", "-Wextra", "-Werror",
)
#: Flags for every compile against picolibc (components): hosted C, so the compiler may call and
#: inline the library's memcpy, strlen, ...; -Werror is added for Atoll's own sources only. picolibc
#: declares clock_gettime and CLOCK_MONOTONIC only for systems that say they have POSIX clocks;
#: Atoll's glue provides clock_gettime (not the POSIX timers: timer_create and the rest are absent).
HOSTED_FLAGS = (
    "-std=gnu11", "-O2", "-g", "-fno-unwind-tables", "-fno-asynchronous-unwind-tables", "-Wall", "-Wextra",
    "-D_POSIX_TIMERS=1", "-D_POSIX_MONOTONIC_CLOCK=200112L",
)
#: zig cc defines NDEBUG at -O2, which would silence assert; C's rule is that only the program
#: (a define of its own) turns asserts off
HOSTED_STYLE_FLAGS = {"zig": ("-UNDEBUG",), "gnu": ()}
STYLE_FLAGS = {
    "zig": (),
    # GCC recognises loop idioms even with -fno-builtin; this switch stops it.
    "gnu": ("-fno-tree-loop-distribute-patterns",),
}
LINK_FLAGS = ("-nostdlib", "-static", "-Wl,--gc-sections")
#: libgcc (found by libgcc()) is the one compiler runtime, so zig's own stays out (-nostdlib)
HOSTED_LINK_FLAGS = LINK_FLAGS
#: picolibc's Debian packages: the target triple of each ISA and its soft-float multilib
PICOLIBC_PREFIX = Path("/usr/lib/picolibc")
PICOLIBC = {"arm": ("arm-none-eabi", "thumb/v7-m/nofp"), "riscv": ("riscv64-unknown-elf", "rv32imac/ilp32")}
PICOLIBC_PACKAGES = "picolibc-arm-none-eabi picolibc-riscv64-unknown-elf"
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


def picolibc(isa: str) -> tuple[Path, Path]:
    """picolibc's include folder and the folder of its ``libc.a`` for ``isa``'s multilib."""
    triple, multilib = PICOLIBC[BOARD_ISAS.get(isa, isa)]
    root = Path(os.environ.get("ATOLL_PICOLIBC") or PICOLIBC_PREFIX) / triple
    include, lib = root / "include", root / "lib" / multilib
    if not (include / "stdio.h").is_file() or not (lib / "libc.a").is_file():
        raise ToolchainError(f"picolibc for {triple} ({multilib}) not found in {root}: install the Debian "
                             f"packages {PICOLIBC_PACKAGES} (make system-packages)")
    return include, lib


def libgcc(isa: str) -> Path:
    """libgcc.a of ``isa``'s soft-float multilib, from Debian's GNU cross compiler."""
    triple, multilib = PICOLIBC[BOARD_ISAS.get(isa, isa)]
    root = Path(os.environ.get("ATOLL_LIBGCC") or "/usr/lib/gcc")
    found = sorted(root.glob(f"{triple}/*/{multilib}/libgcc.a"))
    if not found:
        raise ToolchainError(f"libgcc for {triple} ({multilib}) not found in {root}: install the Debian "
                             f"packages {PICOLIBC_PACKAGES} (make system-packages)")
    return found[-1]


def _isa(isa: str) -> str:
    """``isa``, or a board file's name for it, as a key of ``ISA_FLAGS``; unknown ones are an error."""
    isa = BOARD_ISAS.get(isa, isa)
    if isa not in ISA_FLAGS:
        raise ToolchainError(f"unknown ISA {isa!r}: expected one of {', '.join(ISAS)}")
    return isa


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


def commands(
    sources: Iterable[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    isa: str,
    linker_script: str | os.PathLike[str],
    extra_flags: Iterable[str] = (),
    include_dirs: Iterable[str | os.PathLike[str]] = (),
    libc: bool = False,
    werror: bool = True,
    runtime_sources: Iterable[str | os.PathLike[str]] = (),
    object_dir: str | os.PathLike[str] = ".",
) -> tuple[list[list[str]], list[str]]:
    """The compile commands (one per source, objects in ``object_dir``) and the link command
    that ``build`` runs; nothing is checked or run.

    ``extra_flags`` go to every compile (defines such as ``-DNAME="value"``); ``include_dirs``
    become ``-I`` flags. With ``libc`` the program is a component on picolibc (see the module's
    docstring); ``werror`` makes warnings in ``sources`` errors; ``runtime_sources`` are compiled
    first, always with ``-Werror``.
    """
    isa = _isa(isa)
    cc, style = compiler_command()
    target = list(ISA_FLAGS[isa][style])
    includes = [f"-I{d}" for d in include_dirs]
    libs: list[str] = []
    if libc:
        libc_include, libc_lib = picolibc(isa)
        base = [*target, *HOSTED_FLAGS, *HOSTED_STYLE_FLAGS[style], *includes, "-isystem", str(libc_include)]
        strict = [*base, "-Werror"]
        user = strict if werror else base
        link_flags = HOSTED_LINK_FLAGS
        # libc.a holds libm too (picolibc's libm.a is an empty placeholder)
        libs = ["-Wl,--start-group", str(libc_lib / "libc.a"), str(libgcc(isa)), "-Wl,--end-group"]
    else:
        strict = user = [*target, *COMMON_FLAGS, *STYLE_FLAGS[style], *includes]
        link_flags = LINK_FLAGS
    object_dir = Path(object_dir)
    compiles, objects = [], []
    runtime = [Path(r) for r in runtime_sources]
    for index, source in enumerate([*runtime, *(Path(s) for s in sources)]):
        obj = object_dir / f"{index}-{source.stem}.o"
        flags = strict if index < len(runtime) else user
        compiles.append([*cc, *flags, *extra_flags, "-c", str(source), "-o", str(obj)])
        objects.append(str(obj))
    # the program's own code first, the runtime's after it (the linker script keeps _start first)
    objects = objects[len(runtime):] + objects[:len(runtime)]
    link = [*cc, *target, "-g", *link_flags, *STYLE_LINK_FLAGS[style], *_entry_flags(Path(linker_script)),
            "-T", str(linker_script), *objects, *libs, "-o", str(output)]
    return compiles, link


def build(
    sources: Iterable[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    isa: str,
    linker_script: str | os.PathLike[str],
    timeout: float = DEFAULT_TIMEOUT,
    **options: Any,
) -> Path:
    """Compile ``sources`` (.c, .S) for ``isa`` and link them with ``linker_script`` into ``output``.

    ``options`` are those of ``commands`` but ``object_dir``, by name (``extra_flags``,
    ``include_dirs``, ``libc``, ``werror``, ``runtime_sources``). Each compile and the link may
    take ``timeout`` seconds. Returns the output path; raises ``ToolchainError`` on any failure.
    """
    isa = _isa(isa)
    sources = [Path(s) for s in sources]
    if not sources:
        raise ToolchainError(f"{output}: no sources given")
    runtime_sources = options["runtime_sources"] = [Path(r) for r in options.get("runtime_sources", ())]
    linker_script = Path(linker_script)
    for path in [*runtime_sources, *sources, linker_script]:
        if not path.is_file():
            raise ToolchainError(f"{path}: no such file")
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="atoll-cc-") as tmp:
        linked = Path(tmp) / output.name
        compiles, link = commands(sources, linked, isa, linker_script, object_dir=tmp, **options)
        for argv, source in zip(compiles, [*runtime_sources, *sources]):
            _run(argv, str(source), timeout)
        _run(link, f"{output} (linking with {linker_script})", timeout)
        shutil.move(linked, output)
    return output
