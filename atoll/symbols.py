"""Symbols, source lines and call frames of one component's ELF file, for the debugger.

`ComponentSymbols` reads an ELF once with pyelftools: its symbol table (functions
and objects), the DWARF line programs (address <-> file:line, statement starts)
and the call frame information of .debug_frame (`frame_rule`, used by
`atoll.unwind`). A file whose sections or debug information cannot be read still
gives an object: it knows no symbols and says why in `problem`, so a damaged
component is debugged without symbols rather than not at all.

`DebuggerError` is the debugger's one error: a command that cannot be carried out,
whose message is shown to the user as it is.
"""

from __future__ import annotations

import bisect
import os
import pathlib
from dataclasses import dataclass

from elftools.elf.elffile import ELFFile


class DebuggerError(Exception):
    """A command that cannot be carried out; its message is shown to the user."""


@dataclass
class Function:
    start: int
    end: int
    name: str


class ComponentSymbols:
    """Symbols, source lines and call frames of one ELF file."""

    def __init__(self, path: str | pathlib.Path) -> None:
        self.path = pathlib.Path(path)
        self.symbols: dict[str, tuple[int, int, str]] = {}   # name -> (address, size, type)
        self.functions: list[Function] = []
        self._starts: list[int] = []                          # address-sorted line ranges
        self._ranges: list[tuple[int, int, str, int]] = []    # (start, end, file, line)
        self.line_starts: dict[int, tuple[str, int]] = {}     # is_stmt row address -> (file, line)
        self.lines: dict[str, dict[int, list[int]]] = {}      # file -> line -> addresses
        self.comp_dirs: list[str] = []
        self.prologue_ends: set[int] = set()                 # rows the compiler marks prologue_end
        self._fdes: list = []
        self._function_starts: list[int] = []
        #: why this file has no symbols, when its sections could not be read (else None)
        self.problem: str | None = None
        try:
            with self.path.open("rb") as f:
                elf = ELFFile(f)
                self._read_symbols(elf)
                if elf.has_dwarf_info():
                    dwarf = elf.get_dwarf_info()
                    self._read_lines(dwarf)
                    self._read_frames(dwarf)
        except Exception as e:  # noqa: BLE001 -- pyelftools raises many kinds on damaged sections
            # The loader reads program headers only; a component whose section table or debug
            # information is damaged still runs, and is debugged without symbols.
            self._forget_symbols()
            self.problem = f"{self.path.name}: no symbols ({type(e).__name__}: {e})"

    def _forget_symbols(self) -> None:
        self.symbols, self.functions, self._function_starts = {}, [], []
        self._starts, self._ranges, self.line_starts, self.lines = [], [], {}, {}
        self.comp_dirs, self._fdes, self.prologue_ends = [], [], set()

    def _read_symbols(self, elf: ELFFile) -> None:
        table = elf.get_section_by_name(".symtab")
        if table is None:
            return
        for sym in table.iter_symbols():
            kind = sym["st_info"]["type"]
            if not sym.name or kind not in ("STT_FUNC", "STT_OBJECT", "STT_NOTYPE"):
                continue
            address = sym["st_value"] & ~1 if kind == "STT_FUNC" else sym["st_value"]
            if kind == "STT_NOTYPE" and (sym.name.startswith("$") or sym.name.startswith(".L")):
                continue
            self.symbols[sym.name] = (address, sym["st_size"], kind)
            if kind == "STT_FUNC":
                self.functions.append(Function(address, address + max(sym["st_size"], 1), sym.name))
        self.functions.sort(key=lambda fn: fn.start)
        self._function_starts = [fn.start for fn in self.functions]

    def _read_lines(self, dwarf) -> None:
        rows = []
        for cu in dwarf.iter_CUs():
            program = dwarf.line_program_for_CU(cu)
            if program is None:
                continue
            top = cu.get_top_DIE()
            comp_dir = top.attributes["DW_AT_comp_dir"].value.decode() if "DW_AT_comp_dir" in top.attributes else ""
            if comp_dir and comp_dir not in self.comp_dirs:
                self.comp_dirs.append(comp_dir)
            version = program.header["version"]
            dirs = [d.decode() if isinstance(d, bytes) else d for d in program["include_directory"]]
            names = []
            for entry in program["file_entry"]:
                name = entry.name.decode() if isinstance(entry.name, bytes) else entry.name
                index = entry.dir_index
                if version >= 5:
                    folder = dirs[index] if index < len(dirs) else ""
                else:
                    folder = dirs[index - 1] if 0 < index <= len(dirs) else comp_dir
                full = os.path.normpath(os.path.join(comp_dir, folder, name))
                if comp_dir and full.startswith(comp_dir.rstrip("/") + "/"):
                    full = full[len(comp_dir.rstrip("/")) + 1:]
                names.append(full)
            base = 0 if version >= 5 else 1
            sequence = []
            for entry in program.get_entries():
                state = entry.state
                if state is None:
                    continue
                index = state.file - base
                file = names[index] if 0 <= index < len(names) else "??"
                sequence.append((state.address, file, state.line, state.is_stmt, state.end_sequence))
                if state.prologue_end and not state.end_sequence:
                    self.prologue_ends.add(state.address)
                if state.end_sequence:
                    rows.append(sequence)
                    sequence = []
        ranges = []
        for sequence in rows:
            for (address, file, line, is_stmt, end), nxt in zip(sequence, sequence[1:]):
                if end:
                    continue
                if nxt[0] > address:
                    ranges.append((address, nxt[0], file, line))
                if is_stmt and line > 0:
                    self.line_starts[address] = (file, line)
                    self.lines.setdefault(file, {}).setdefault(line, []).append(address)
        ranges.sort()
        self._ranges = ranges
        self._starts = [r[0] for r in ranges]

    def _read_frames(self, dwarf) -> None:
        try:
            entries = dwarf.CFI_entries() if dwarf.has_CFI() else []
        except Exception:  # a malformed or unsupported .debug_frame: no backtraces
            entries = []
        for entry in entries:
            if hasattr(entry, "cie") and "initial_location" in entry.header:
                start = entry.header["initial_location"]
                self._fdes.append((start, start + entry.header["address_range"], entry))
        self._fdes.sort(key=lambda f: f[0])

    # -- queries -------------------------------------------------------------------

    def function_at(self, address: int) -> Function | None:
        i = bisect.bisect_right(self._function_starts, address) - 1
        if i >= 0 and self.functions[i].start <= address < self.functions[i].end:
            return self.functions[i]
        return None

    def describe(self, address: int) -> str:
        """'name+offset' of the function holding `address`, or ''."""
        fn = self.function_at(address)
        if fn is None:
            return ""
        offset = address - fn.start
        return fn.name if offset == 0 else f"{fn.name}+{offset}"

    def line_at(self, address: int) -> tuple[str, int] | None:
        i = bisect.bisect_right(self._starts, address) - 1
        if i >= 0:
            start, end, file, line = self._ranges[i]
            if start <= address < end and line > 0:
                return file, line
        return None

    def files_matching(self, name: str) -> list[str]:
        name = os.path.normpath(name)
        return [f for f in self.lines if f == name or f.endswith("/" + name)]

    def addresses_of_line(self, name: str, line: int) -> tuple[str, int, list[int]] | None:
        """The first address of `name`:`line` (or of the next line with code), per function."""
        files = self.files_matching(name)
        if not files:
            return None
        if len(files) > 1:
            raise DebuggerError(f"{name} is ambiguous in {self.path.name}: {', '.join(sorted(files))}")
        file = files[0]
        table = self.lines[file]
        candidates = sorted(n for n in table if n >= line)
        if not candidates:
            return None
        found = candidates[0]
        by_function: dict[object, int] = {}
        for address in sorted(table[found]):
            fn = self.function_at(address)
            key = fn.name if fn is not None else None
            by_function.setdefault(key, address)
        return file, found, sorted(by_function.values())

    def source_text(self, file: str, line: int) -> str | None:
        for folder in self.comp_dirs + [str(pathlib.Path(__file__).resolve().parent.parent)]:
            path = pathlib.Path(folder) / file
            try:
                lines = path.read_text(errors="replace").splitlines()
            except OSError:
                continue
            return lines[line - 1] if 0 < line <= len(lines) else None
        return None

    def frame_rule(self, pc: int):
        """(CFA rule, register rules, return address register) at `pc`, or None."""
        starts = [f[0] for f in self._fdes]
        i = bisect.bisect_right(starts, pc) - 1
        if i < 0 or not self._fdes[i][0] <= pc < self._fdes[i][1]:
            return None
        fde = self._fdes[i][2]
        decoded = fde.get_decoded()
        row = None
        for entry in decoded.table:
            if entry["pc"] <= pc:
                row = entry
            else:
                break
        if row is None:
            return None
        return row["cfa"], row, fde.cie["return_address_register"]
