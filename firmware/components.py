"""Builds Atoll components (servers/<name>/, firmware/apps/<name>/) for both ISAs, with atoll.toolchain.

Run as ``python firmware/components.py --out build/components [--isa armv7m|rv32imac] [NAME...]``;
each component becomes ``<out>/<isa>/<name>.elf`` and one line per ELF is printed. A component is
a folder's *.c files (a folder without any is skipped) linked with firmware/lib (crt0, the glue
to picolibc, ``component.ld``), picolibc and the compiler's runtime library (atoll.toolchain). The ABI header is generated from kernel/abi.py into
``<out>/include/atoll/abi.h``, and each server's interface file (``<name>.idl.toml``) into
``<out>/include/idl/<name>.h`` (never committed); that directory is put on the include path,
next to ``firmware/lib/include`` and the component's own folder. Each component learns its name
as ``ATL_COMPONENT``. Tests import ``build_component`` and ``build_all``.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import sys
from pathlib import Path
from typing import Iterable

REPO = Path(__file__).resolve().parent.parent
LIB = REPO / "firmware" / "lib"
LIB_INCLUDE = LIB / "include"
LINKER_SCRIPT = LIB / "component.ld"
#: where component folders live, searched in this order
COMPONENT_ROOTS = (REPO / "servers", REPO / "firmware" / "apps")
ISAS = ("armv7m", "rv32imac")
DEFAULT_OUT = REPO / "build" / "components"

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from atoll.toolchain import ToolchainError, build, commands, compiler_command, picolibc  # noqa: E402
from kernel import abi  # noqa: E402
from sysdesc import interface  # noqa: E402


def library_sources() -> list[Path]:
    """The C sources of firmware/lib that every component links with."""
    return sorted((LIB / "src").glob("*.c"))


def interface_files() -> list[Path]:
    """Every interface file of a component folder (``<name>.idl.toml``)."""
    return sorted(f for root in COMPONENT_ROOTS for f in root.glob("*/*.idl.toml"))


def generate_header(out_dir: Path) -> Path:
    """Write the ABI header into ``out_dir/include/atoll/abi.h`` and one ``idl/<name>.h`` per
    interface file; return the include directory."""
    include = Path(out_dir) / "include"
    abi.main(["--header", str(include / "atoll" / "abi.h")])
    seen: dict[str, Path] = {}
    for path in interface_files():
        try:
            iface = interface.load_interface(path)
        except interface.InterfaceError as e:
            raise ToolchainError(str(e)) from None
        if iface.name in seen:  # both would be <idl/NAME.h>
            raise ToolchainError(f"interface {iface.name!r} is declared twice: {seen[iface.name].relative_to(REPO)} "
                                 f"and {path.relative_to(REPO)}")
        seen[iface.name] = path
        interface.write_header(iface, include)
    return include


def components() -> dict[str, Path]:
    """Every component folder with C sources: ``{name: folder}``; a name used twice is an error."""
    found: dict[str, Path] = {}
    for root in COMPONENT_ROOTS:
        for folder in sorted(p for p in root.glob("*") if p.is_dir() and any(p.glob("*.c"))):
            if folder.name in found:
                raise ToolchainError(
                    f"component name {folder.name!r} is used twice: {found[folder.name].relative_to(REPO)} "
                    f"and {folder.relative_to(REPO)}"
                )
            found[folder.name] = folder
    return found


def build_component(name: str, folder: Path, isa: str, out_dir: Path, sources: list[Path] | None = None,
                    include_dirs: Iterable[Path] = (), flags: Iterable[str] = (), werror: bool = True,
                    output: Path | None = None) -> Path:
    """Build the component in ``folder`` for ``isa`` into ``out_dir/<isa>/<name>.elf`` (or ``output``).

    ``sources`` default to the folder's *.c files; ``include_dirs`` come after the folder on the
    include path and ``flags`` after Atoll's own; ``werror`` (Atoll's components) makes warnings
    in the sources errors. The build is skipped when the ELF exists and every input (its sources,
    the library, every header it could include, the linker script, the ABI, the flags, picolibc
    and the compiler command) hashes as it did when it was built. Builds into one ``out_dir``
    take a file lock, so parallel test workers can share it.
    """
    if isa not in ISAS:
        raise ToolchainError(f"unknown ISA {isa!r}: expected one of {', '.join(ISAS)}")
    folder = Path(folder)
    sources = sorted(folder.glob("*.c")) if sources is None else list(sources)
    if not sources:
        raise ToolchainError(f"{folder}: component {name!r} has no .c files")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    output = Path(output) if output is not None else out_dir / isa / f"{name}.elf"
    stamp = output.with_suffix(".inputs")
    include_dirs, flags = [folder, *include_dirs], [f'-DATL_COMPONENT="{name}"', *flags]
    with _locked(out_dir / ".lock"):
        generated = generate_header(out_dir)
        headers = [h for d in include_dirs for h in sorted(Path(d).rglob("*.h"))]
        fingerprint = _fingerprint(f"{name}\0{flags}\0{werror}", isa, sources, headers, generated)
        if output.exists() and stamp.exists() and stamp.read_text() == fingerprint:
            return output
        build(sources=sources, output=output, isa=isa, linker_script=LINKER_SCRIPT, extra_flags=flags,
              include_dirs=[*include_dirs, *runtime_includes(generated)], libc=True, werror=werror,
              runtime_sources=library_sources())
        stamp.write_text(fingerprint)
    return output


def commands_for(name: str, folder: Path, isa: str, out_dir: Path, sources: list[Path],
                 include_dirs: Iterable[Path] = (), flags: Iterable[str] = ()) -> tuple[list[list[str]], list[str]]:
    """The compile and link commands ``build_component`` would run for a user's component (objects
    in ``out_dir/<isa>/<name>.obj/``); the generated headers are written so the commands work."""
    out_dir = Path(out_dir)
    with _locked_dir(out_dir):
        generated = generate_header(out_dir)
    include_dirs = [folder, *include_dirs, *runtime_includes(generated)]
    return commands(sources, out_dir / isa / f"{name}.elf", isa, LINKER_SCRIPT,
                    [f'-DATL_COMPONENT="{name}"', *flags], include_dirs, libc=True, werror=False,
                    runtime_sources=library_sources(), object_dir=out_dir / isa / f"{name}.obj")


def runtime_includes(generated: Path) -> list[Path]:
    """The include folders every component gets after its own: firmware/lib's, the generated
    headers, and servers/ (so clients use a server's protocol header as <uart/uart.h>)."""
    return [LIB_INCLUDE, generated, REPO / "servers"]


def _libc_identity(isa: str) -> str:
    """Where picolibc is and which build it is (its libc.a's size and time), for the fingerprint."""
    _, lib = picolibc(isa)
    stat = (lib / "libc.a").stat()
    return f"{lib}\0{stat.st_size}\0{stat.st_mtime_ns}"


def _fingerprint(key: str, isa: str, sources: list[Path], headers: list[Path], generated: Path) -> str:
    digest = hashlib.sha256(f"{key}\0{isa}\0{compiler_command()}\0{_libc_identity(isa)}\0".encode())
    inputs = [*sources, *library_sources(), LINKER_SCRIPT, REPO / "atoll" / "toolchain.py", *headers,
              *sorted(LIB_INCLUDE.rglob("*.h")), *sorted(generated.rglob("*.h")),
              *sorted((REPO / "servers").rglob("*.h"))]
    for path in inputs:
        digest.update(str(path.relative_to(REPO) if path.is_relative_to(REPO) else path.name).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _locked_dir(out_dir: Path):
    out_dir.mkdir(parents=True, exist_ok=True)
    return _locked(out_dir / ".lock")


@contextlib.contextmanager
def _locked(path: Path):
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_all(
    out_dir: Path = DEFAULT_OUT,
    isas: Iterable[str] = ISAS,
    names: Iterable[str] | None = None,
) -> dict[tuple[str, str], Path]:
    """Build the named components (default all) for the given ISAs: ``{(isa, name): elf}``.

    Raises ``ToolchainError`` for an unknown name or ISA and on the first build failure.
    """
    known = components()
    names = list(names) if names else list(known)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ToolchainError(
            f"unknown component(s) {', '.join(unknown)}: known are {', '.join(known) or '(none)'}"
        )
    return {
        (isa, name): build_component(name, known[name], isa, Path(out_dir))
        for isa in isas
        for name in names
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build Atoll components for each ISA.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (default: build/components)")
    parser.add_argument("--isa", choices=ISAS, action="append", help="build only for this ISA (repeatable)")
    parser.add_argument("names", nargs="*", metavar="NAME", help="components to build (default: all)")
    args = parser.parse_args(argv)
    try:
        built = build_all(args.out, isas=args.isa or ISAS, names=args.names)
    except ToolchainError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for elf in built.values():
        print(elf)
    return 0


if __name__ == "__main__":
    sys.exit(main())
