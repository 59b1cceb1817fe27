"""Reading ELF executables for a board: checks first, then loadable segments.

`read_elf` opens a file with pyelftools and checks what must hold before any byte
is loaded: 32-bit, little-endian, an executable of the board's ISA, with loadable
segments whose file contents lie inside the file. Errors name the file and the
problem in one line (`ElfError`). The kernel's component loader builds on this;
`bare_segments` is what a bare-metal boot loads, at physical addresses.
"""

from __future__ import annotations

import io
import pathlib
import struct
from dataclasses import dataclass

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

MACHINES = {"armv7m": ("EM_ARM", "ARM"), "rv32imac": ("EM_RISCV", "RISC-V")}
#: the size of a 32-bit ELF file header
EHDR_SIZE = 52
#: errors pyelftools (and the struct parsing under it) raises on a damaged file
_MALFORMED = (ELFError, struct.error, KeyError, ValueError, IndexError, AssertionError)


class ElfError(ValueError):
    """An ELF file that cannot run on the board; the message names the file."""


@dataclass(frozen=True)
class Segment:
    vaddr: int
    paddr: int
    data: bytes          # file contents
    memsize: int         # bytes in memory (the rest after `data` is zero)
    flags: str           # "rwx" subset

    @property
    def vend(self) -> int:
        return self.vaddr + self.memsize


@dataclass(frozen=True)
class ElfImage:
    path: pathlib.Path
    entry: int
    segments: tuple[Segment, ...]
    raw: bytes


def read_elf(path: str | pathlib.Path, isa: str) -> ElfImage:
    path = pathlib.Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ElfError(f"{path}: cannot read: {e.strerror}") from None
    except ValueError:  # a NUL in the name
        raise ElfError(f"{path}: cannot read: not a valid file name") from None
    return parse_elf(raw, path, isa)


def parse_elf(raw: bytes, path: pathlib.Path, isa: str) -> ElfImage:
    if raw[:4] != b"\x7fELF":
        raise ElfError(f"{path}: not an ELF file (no ELF magic number)")
    if len(raw) < EHDR_SIZE:
        raise ElfError(f"{path}: truncated: {len(raw)} bytes, less than an ELF header ({EHDR_SIZE} bytes)")
    try:
        elf = ELFFile(io.BytesIO(raw))
        header = elf.header
        if elf.elfclass != 32:
            raise ElfError(f"{path}: is a {elf.elfclass}-bit ELF; the board needs 32-bit")
        if not elf.little_endian:
            raise ElfError(f"{path}: is big-endian; the board needs little-endian")
        machine, label = MACHINES[isa]
        if header["e_machine"] != machine:
            built_for = header["e_machine"]  # a name pyelftools knows, or the number
            shown = f"e_machine {built_for:#x}" if isinstance(built_for, int) else built_for
            raise ElfError(f"{path}: is built for {shown}, not {label} ({isa})")
        if header["e_type"] != "ET_EXEC":
            raise ElfError(f"{path}: is {header['e_type']}, not an executable (ET_EXEC)")
        count = elf.num_segments()
        table_end = header["e_phoff"] + count * header["e_phentsize"]
        if count and table_end > len(raw):
            raise ElfError(f"{path}: program headers at {header['e_phoff']:#x}-{table_end:#x} ({count} of "
                           f"{header['e_phentsize']} bytes) run past the end of the file ({len(raw):#x} bytes)")
        segments = []
        for i, seg in enumerate(elf.iter_segments()):
            if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                continue
            off, filesz, memsz = seg["p_offset"], seg["p_filesz"], seg["p_memsz"]
            if off + filesz > len(raw):
                raise ElfError(f"{path}: segment {i} claims bytes {off:#x}-{off + filesz:#x} "
                               f"past the end of the file ({len(raw):#x} bytes)")
            if filesz > memsz:
                raise ElfError(f"{path}: segment {i} has more file bytes ({filesz:#x}) than memory ({memsz:#x})")
            if seg["p_vaddr"] + memsz > 1 << 32:
                raise ElfError(f"{path}: segment {i} at {seg['p_vaddr']:#x} passes the end of the 32-bit space")
            flags = seg["p_flags"]
            perms = ("r" if flags & 4 else "") + ("w" if flags & 2 else "") + ("x" if flags & 1 else "")
            segments.append(Segment(seg["p_vaddr"], seg["p_paddr"], raw[off:off + filesz], memsz, perms))
        if not segments:
            raise ElfError(f"{path}: has no loadable segments")
        ordered = sorted(segments, key=lambda s: s.vaddr)
        for a, b in zip(ordered, ordered[1:]):
            if b.vaddr < a.vend:
                raise ElfError(f"{path}: segments at {a.vaddr:#x} and {b.vaddr:#x} overlap")
        entry = header["e_entry"]
    except ElfError:
        raise
    except _MALFORMED as e:
        raise ElfError(f"{path}: malformed ELF: {e}") from None
    return ElfImage(path, entry, tuple(segments), raw)


def symbols(image: ElfImage) -> dict[str, int]:
    """Function and object symbols by name (the Thumb bit cleared).

    Loading reads only the program headers, so an image that loads may still have a damaged
    section table or symbol table: that is an `ElfError` naming the file."""
    result: dict[str, int] = {}
    try:
        elf = ELFFile(io.BytesIO(image.raw))
        table = elf.get_section_by_name(".symtab")
        if table is None:
            return result
        for sym in table.iter_symbols():
            if sym.name and sym["st_info"]["type"] in ("STT_FUNC", "STT_OBJECT", "STT_NOTYPE"):
                result[sym.name] = sym["st_value"] & ~1 if sym["st_info"]["type"] == "STT_FUNC" else sym["st_value"]
    except _MALFORMED as e:
        raise ElfError(f"{image.path}: malformed section or symbol table: {e}") from None
    return result
