"""The native hooks (machine/native/*.c) and the exact instruction counter.

`emu_start(count=N)` keeps its counter to itself, so a trap in the middle of a
slice could not be timestamped, and it costs a hook call per instruction. Instead a
C block hook (`native/counter.c`) counts each translated block's instructions into
shared memory and stops the emulator at a deadline; the machine settles the count
where a run leaves a block in the middle, so Python reads it exact.

The same shared object holds the TLB fill (machine/tlb.py), the interrupt hook
(machine/trapfront.py) and the Thumb IT-state guard (machine/itstate.py, native/itstate.c). It is compiled on first use with `zig cc` (the `ziglang`
package the project depends on; `ATOLL_HOST_CC` may name another host compiler) into
a cache directory keyed by the sources' hash, then loaded with ctypes;
`native_library` does the same for native code of the machine's users (the
kernel's fast path). Unicorn is
pinned exactly because this reaches its C API (`uc_hook_add`, `uc_emu_stop`).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import pathlib
import shlex
import subprocess
import sys
import tempfile
from typing import TYPE_CHECKING

from unicorn import Uc, UcError
from unicorn.arm_const import UC_ARM_REG_PC
from unicorn.riscv_const import UC_RISCV_REG_PC
from unicorn.unicorn_const import UC_ARCH_ARM, UC_HOOK_BLOCK, UC_HOOK_CODE

from .guest_memory import address_of

if TYPE_CHECKING:
    from .itstate import ItStateGuard

_NATIVE = NATIVE_DIR = pathlib.Path(__file__).with_name("native")
_SOURCES = (_NATIVE / "counter.c", _NATIVE / "tlb.c", _NATIVE / "trap.c", _NATIVE / "itstate.c", _NATIVE / "mmio.c")


class NativeBuildError(RuntimeError):
    """The host compiler could not build the counter."""


#: every ctypes mirror of a C struct: (C source, struct name, mirror), see `mirrors`
MIRRORS: list[tuple[pathlib.Path, str, type[ctypes.Structure]]] = []


def mirrors(source: pathlib.Path, struct: str):
    """Class decorator: the ctypes Structure below mirrors `struct <struct>` of the C file
    `source`, field for field under the same names (`layout_mismatches` checks it)."""
    def register(mirror: type[ctypes.Structure]) -> type[ctypes.Structure]:
        MIRRORS.append((pathlib.Path(source), struct, mirror))
        return mirror
    return register


def layout_mismatches(source: pathlib.Path, struct: str, mirror: type[ctypes.Structure]) -> list[str]:
    """How the ctypes `mirror` differs from `struct <struct>` as the host compiler lays it out
    in `source` (empty: the same size, and every field at the same offset).

    A checker is compiled from the C file itself with one function appended that hands out
    `sizeof` and the `offsetof` of each of the mirror's fields (built once per content)."""
    names = [field[0] for field in mirror._fields_]
    values = ", ".join([f"sizeof(struct {struct})", *(f"offsetof(struct {struct}, {n})" for n in names)])
    text = (pathlib.Path(source).read_text() + "\n#include <stddef.h>\n"
            f"size_t atoll_layout_of(size_t i)\n{{\n    static const size_t v[] = {{{values}}};\n"
            "    return i < sizeof v / sizeof v[0] ? v[i] : (size_t)-1;\n}\n")
    checker = _cache_dir() / "layout" / f"{pathlib.Path(source).stem}-{struct}-{mirror.__name__}.c"
    checker.parent.mkdir(parents=True, exist_ok=True)
    if not checker.exists() or checker.read_text() != text:
        fd, tmp = tempfile.mkstemp(suffix=".c", dir=checker.parent)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, checker)   # atomic: parallel test workers may race here
    fn = ctypes.CDLL(str(library_path((checker,)))).atoll_layout_of
    fn.restype, fn.argtypes = ctypes.c_size_t, [ctypes.c_size_t]
    where = f"{pathlib.Path(source).name}: struct {struct} and its mirror {mirror.__name__}"
    problems = []
    if fn(0) != ctypes.sizeof(mirror):
        problems.append(f"{where}: {fn(0)} bytes in C, {ctypes.sizeof(mirror)} in Python")
    for i, name in enumerate(names, 1):
        if fn(i) != getattr(mirror, name).offset:
            problems.append(f"{where}: field {name} at offset {fn(i)} in C, {getattr(mirror, name).offset} in Python")
    return problems


@mirrors(_NATIVE / "counter.c", "atoll_host_region")
class _HostRegion(ctypes.Structure):
    _fields_ = [("pbase", ctypes.c_uint32), ("size", ctypes.c_uint32), ("host", ctypes.c_void_p)]


@mirrors(_NATIVE / "counter.c", "atoll_counter")
class _CounterStruct(ctypes.Structure):
    _fields_ = [
        # Unicorn's struct uc_insn_count (patches/unicorn/0002)
        ("executed", ctypes.c_uint64),
        ("deadline", ctypes.c_uint64),
        ("block_start", ctypes.c_uint64),
        ("block_address", ctypes.c_uint64),
        ("block_bytes", ctypes.c_uint32),
        ("block_count", ctypes.c_uint32),
        ("armed", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32),
        ("due", ctypes.c_void_p),
        ("due_data", ctypes.c_void_p),
        # Atoll's
        ("gate", ctypes.c_void_p),
        ("gate_data", ctypes.c_void_p),
        ("stop", ctypes.c_void_p),
        ("reg_read", ctypes.c_void_p),
        ("emu_start", ctypes.c_void_p),
        ("pc_reg", ctypes.c_int32),
        ("enter", ctypes.c_void_p),
        ("enter_data", ctypes.c_void_p),
        ("it_guard", ctypes.c_void_p),
        ("it_clear", ctypes.c_void_p),
        ("stopped", ctypes.c_uint32),
        ("exact", ctypes.c_uint32),
        ("thumb", ctypes.c_uint32),
        ("region_count", ctypes.c_uint32),
        ("regions", ctypes.POINTER(_HostRegion)),
        ("maps", ctypes.c_void_p),
        ("map_count", ctypes.c_void_p),
        ("machine_use", ctypes.c_void_p),
        ("sentinel_page", ctypes.c_uint32),
        ("mem_read", ctypes.c_void_p),
        ("memo", ctypes.c_void_p),
        ("last_map", ctypes.c_uint32),
        ("limited", ctypes.c_uint32),
        ("limit", ctypes.c_uint64),
    ]


@mirrors(_NATIVE / "counter.c", "atoll_block_memo")
class _BlockMemo(ctypes.Structure):
    _fields_ = [("paddr", ctypes.c_uint32), ("bytes", ctypes.c_uint16), ("count", ctypes.c_uint16),
                ("code", ctypes.c_uint8 * 512)]


#: the counter's memo of block counts (native/counter.c's MEMO_SLOTS)
_MEMO_SLOTS = 512


def _cache_dir() -> pathlib.Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "atoll"


def _host_compiler() -> list[str]:
    cc = os.environ.get("ATOLL_HOST_CC")
    return shlex.split(cc) if cc else [sys.executable, "-m", "ziglang", "cc"]


def library_path(sources: tuple[pathlib.Path, ...] = _SOURCES) -> pathlib.Path:
    """The shared object built from C `sources`, building it if these sources have not been
    built yet."""
    source = b"".join(path.read_bytes() for path in sources)
    digest = hashlib.sha256(source + " ".join(_host_compiler()).encode()).hexdigest()[:16]
    target = _cache_dir() / f"libatoll_{sources[0].stem}-{digest}.so"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
    os.close(fd)
    cmd = [*_host_compiler(), "-shared", "-fPIC", "-O2", "-o", tmp, *map(str, sources)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise NativeBuildError(
                f"building {', '.join(p.name for p in sources)} with {shlex.join(_host_compiler())} failed: "
                f"{proc.stderr.strip()}")
        os.replace(tmp, target)  # atomic: parallel test workers may race here
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


_lib: ctypes.CDLL | None = None
_libraries: dict[tuple[pathlib.Path, ...], ctypes.CDLL] = {}


def load() -> ctypes.CDLL:
    global _lib
    if _lib is None:
        _lib = ctypes.CDLL(str(library_path()))
    return _lib


def native_library(*sources: pathlib.Path) -> ctypes.CDLL:
    """C `sources` compiled (once per content) into a shared object and loaded, as the
    machine's own hooks are."""
    key = tuple(pathlib.Path(s).resolve() for s in sources)
    lib = _libraries.get(key)
    if lib is None:
        lib = _libraries[key] = ctypes.CDLL(str(library_path(key)))
    return lib


def uclib() -> ctypes.CDLL:
    # The binding's loaded library: the same one the Uc handle belongs to.
    from unicorn.unicorn_py3 import unicorn as binding
    return binding.uclib


def read_memory(uc: Uc, base: int, size: int) -> ctypes.Array:
    """`size` bytes of physical memory at `base` into a fresh ctypes buffer (one copy,
    no Python bytes object in between: snapshots of whole RAM regions)."""
    buf = (ctypes.c_char * size)()
    status = uclib().uc_mem_read(uc._uch, base, buf, size)
    if status:
        raise UcError(status)
    return buf


def write_memory(uc: Uc, base: int, buf: ctypes.Array) -> None:
    """Write a buffer `read_memory` gave back to physical memory at `base`."""
    status = uclib().uc_mem_write(uc._uch, base, buf, len(buf))
    if status:
        raise UcError(status)


def function_address(fn) -> int:
    """The address of a C function loaded with ctypes (to hand to other C code)."""
    return ctypes.cast(fn, ctypes.c_void_p).value


def add_native_hook(uc: Uc, kind: int, function, data) -> ctypes.c_size_t:
    """Register the C function `function` as a Unicorn hook of `kind` on every address, called
    with `data` (a ctypes object, passed by reference); the handle it returns."""
    handle = ctypes.c_size_t()
    status = uclib().uc_hook_add(uc._uch, ctypes.byref(handle), kind, ctypes.cast(function, ctypes.c_void_p),
                                 ctypes.cast(ctypes.byref(data), ctypes.c_void_p),
                                 ctypes.c_uint64(1), ctypes.c_uint64(0))
    if status != 0:
        raise UcError(status)
    return handle


def _pc_of(uc: Uc) -> int:
    """The pc Unicorn has now (inside a hook: the running instruction's, with a code hook)."""
    return uc.reg_read(UC_ARM_REG_PC) if uc.ctl_get_arch() == UC_ARCH_ARM else uc.reg_read(UC_RISCV_REG_PC)


def patched_build() -> bool:
    """Whether the loaded Unicorn library is the project's patched build (patches/unicorn:
    instruction counting in translated code, the pc synced before MMIO callbacks)."""
    return hasattr(uclib(), "uc_set_insn_count")


#: the count `set_limit(None)` stands for: no run reaches it
NO_LIMIT = 2**64 - 1


class InstructionCounter:
    """Counts the instructions one Unicorn engine executes, per translated block (see
    native/counter.c); stops it at a deadline."""

    def __init__(self, uc: Uc, it_guard: ItStateGuard | None = None, translated: bool = True) -> None:
        """`it_guard`: an ARMv7-M engine's (see `settle_access`); `translated`: False counts
        with the block hook even on the patched build (tests compare the two)."""
        lib = self._lib = load()
        self._uc = uc
        thumb = 1 if uc.ctl_get_arch() == UC_ARCH_ARM else 0
        self._s = _CounterStruct()
        s = self._s
        s.due, s.due_data = function_address(lib.atoll_block_due), ctypes.addressof(s)
        s.stop, s.thumb = function_address(uclib().uc_emu_stop), thumb
        s.mem_read, s.limit = function_address(uclib().uc_mem_read), NO_LIMIT
        s.reg_read, s.emu_start = function_address(uclib().uc_reg_read), function_address(uclib().uc_emu_start)
        s.pc_reg = UC_ARM_REG_PC if thumb else UC_RISCV_REG_PC
        self._run = lib.atoll_run
        self._run.restype = ctypes.c_int
        self._run.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint32]
        self._ref = ctypes.addressof(s)
        self._regions = (_HostRegion * 0)()
        self._memo = (_BlockMemo * _MEMO_SLOTS)()
        s.memo = ctypes.addressof(self._memo)
        #: counted in translated code (the patched Unicorn build, which also syncs the pc
        #: before an MMIO callback), or by a block hook (a stock build, or a test's choice)
        self.translated = translated and patched_build()
        if self.translated:
            set_count = uclib().uc_set_insn_count
            set_count.argtypes, set_count.restype = [ctypes.c_void_p, ctypes.c_void_p], ctypes.c_int
            if set_count(uc._uch, ctypes.addressof(s)) != 0:
                raise RuntimeError("unicorn: uc_set_insn_count failed")
            self._handles = []
        else:
            self._handles = [add_native_hook(uc, UC_HOOK_BLOCK, lib.atoll_block_start, s)]
        self._it_guard = it_guard
        if it_guard is not None:
            s.it_guard, s.it_clear = it_guard.address, function_address(lib.atoll_it_clear)
        self._code_hook: ctypes.c_size_t | None = None
        #: a debugger's watchpoints are set: runs carry the code hook, for `stop_before_next`
        self.watching = False
        self._settle_here = lib.atoll_settle_here
        self._settle_here.restype = ctypes.c_uint64
        self._settle_here.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32]
        self._settle = lib.atoll_settle
        self._settle.restype = ctypes.c_uint64
        self._settle.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint32, ctypes.c_uint32]

    def attach_gate(self, function, data) -> None:
        """Let the native interrupt gate `function` (a block hook's signature, with `data`)
        look at every block start while `armed` (native/counter.c, `atoll_block_due`)."""
        self._gate_data = data
        self._s.gate, self._s.gate_data = function_address(function), ctypes.addressof(data)

    @property
    def armed(self) -> bool:
        return bool(self._s.armed)

    @armed.setter
    def armed(self, value: bool) -> None:
        self._s.armed = 1 if value else 0

    def run_around(self, enter: tuple[int, int]) -> None:
        """Call the native `enter = (function, data)` with `data` before every run and with
        NULL after it (the RISC-V counter CSRs, machine/csr.py)."""
        self._s.enter, self._s.enter_data = enter

    def run(self, until: int, instructions: int, exact: bool = False) -> None:
        """One `emu_start` from the pc to `until`, armed as `arm` arms it: what `Uc.emu_start` does, in
        one native call with the setup and the pc read. Raises its UcError, or an exception
        a Python hook raised."""
        self._hook_code(exact)
        uc = self._uc
        uc._hook_exception = None      # the binding's own record (unicorn is pinned exactly)
        status = self._run(self._ref, uc._uch, until, max(instructions, 0), 1 if exact else 0)
        if status:
            raise UcError(status)
        if uc._hook_exception is not None:
            raise uc._hook_exception

    @property
    def mid_block(self) -> bool:
        """Whether the last run may have left its block in the middle (then `settle`)."""
        return self._s.block_count != 0

    def read_code_through(self, tlb_fields: tuple[int, int, int], sentinel_page: int, memory: dict) -> None:
        """Decode blocks through the active space's mappings (the addresses of the TLB
        table's pointer, its length and its `machine_use` flag, machine/tlb.py) and read
        them from the host memory the machine mapped (`memory`: physical base -> mapping,
        machine/guest_memory.py)."""
        regions = [(base, len(m), address_of(m)) for base, m in memory.items()]
        self._s.maps, self._s.map_count, self._s.machine_use = tlb_fields
        self._s.sentinel_page = sentinel_page
        self._regions = (_HostRegion * max(len(regions), 1))(*[_HostRegion(*r) for r in regions])
        self._s.regions = ctypes.cast(self._regions, ctypes.POINTER(_HostRegion))
        self._s.region_count = len(regions)

    @property
    def executed(self) -> int:
        return self._s.executed

    @property
    def executed_address(self) -> int:
        """Where native code reads the count (a uint64_t)."""
        return ctypes.addressof(self._s) + _CounterStruct.executed.offset

    def field_address(self, name: str) -> int:
        """Where native code reads or writes field `name` of `struct atoll_counter` (a slice
        ended from another C hook sets `deadline` and `stopped` as counter.c does)."""
        return ctypes.addressof(self._s) + getattr(_CounterStruct, name).offset

    def arm(self, instructions: int, exact: bool = False) -> None:
        """Let the next `emu_start` run until `instructions` more have run: to the end of
        that block, or (`exact`, for single steps) not one instruction more."""
        self._s.deadline = self._s.executed + max(instructions, 0)
        self._s.stopped = 0
        self._s.exact = 1 if exact else 0
        self._s.block_count = 0
        self._hook_code(exact)

    def _hook_code(self, exact: bool) -> None:
        """The per-instruction code hook on for runs that need it (exact ones, a limit,
        watchpoints) and off for others; translations carry it or not, so they are flushed."""
        hooked = exact or self._s.limit != NO_LIMIT or self.watching
        if hooked != (self._code_hook is not None):
            if hooked:
                self._code_hook = add_native_hook(self._uc, UC_HOOK_CODE, self._lib.atoll_count_instruction, self._s)
            else:
                uclib().uc_hook_del(self._uc._uch, self._code_hook)
                self._code_hook = None
            self._uc.ctl_flush_tb()

    def settle(self, pc: int, started: bool = False, finish: bool = True) -> int:
        """Make the count exact where a run left the running block in the middle: its
        instructions before `pc`, and the one at `pc` if it `started` (a fault, an MMIO
        access). Nothing changes for a pc outside the running block. Unless `finish` is
        False (an MMIO callback, see `resume_block`), the block is over: a block that
        starts next, in the same `emu_start` (after an exception the guest took), does not
        count the rest of it."""
        return self._settle(ctypes.addressof(self._s), self._uc._uch, pc, 1 if started else 0, 1 if finish else 0)

    @property
    def address(self) -> int:
        """Where native code finds the counter (`struct atoll_counter`)."""
        return self._ref

    def settle_access(self) -> int:
        """`settle(pc, started=True, finish=False)` at the pc Unicorn has now, in one native
        call: from an MMIO callback (the patched build syncs the pc before it; a stock one
        after a TLB miss, which machine/timed_mmio.py makes every access take).
        That sync also restores the accessing instruction's Thumb IT state, which the block
        relies on being zero: on ARMv7-M the bits are cleared first (native/itstate.c)."""
        return self._settle_here(self._ref, self._uc._uch, 1, 0)

    def index_of(self, pc: int) -> int | None:
        """From a hook inside a run, at the instruction at `pc` in the running block: how many
        instructions ran before it, or None if it will not run (a limit stops it). The count
        itself is left as it is."""
        s = self._s
        before = self._settle(ctypes.addressof(s), self._uc._uch, pc, 0, 0)
        self.resume_block()
        return None if s.limited or before >= s.limit else before

    @property
    def running_block_start(self) -> int:
        """From a block hook added after the counter's: the count when the block began."""
        return self._s.block_start if self._s.block_count else self._s.executed

    def resume_block(self) -> None:
        """Back to counting the running block whole, after a `settle` in its middle that the
        block goes on from (an MMIO callback)."""
        s = self._s
        if s.block_count:
            s.executed = s.block_start + s.block_count

    def limit(self, instructions: int) -> None:
        """End the running slice after at most `instructions` more (never lengthens it)."""
        deadline = self._s.executed + max(instructions, 0)
        if deadline < self._s.deadline:
            self._s.deadline = deadline

    def stop_now(self) -> None:
        """End the running slice at the next block boundary (callable from any hook)."""
        self._s.deadline = self._s.executed

    def stop_before_next(self) -> None:
        """End the running slice before the next instruction itself, not at the end of its
        block (a watchpoint's access, from a memory hook: the debugger reports the
        instruction after it). Runs carry the code hook while `watching`, and Unicorn has
        the pc of the accessing instruction; a stop asked from the memory hook itself would
        make Unicorn run the instruction again when the CPU restarts."""
        s = self._s
        index = self.index_of(_pc_of(self._uc))
        s.deadline = (s.executed if index is None else index) + 1
        s.exact = 1

    @property
    def reached_deadline(self) -> bool:
        return bool(self._s.stopped)

    def set_limit(self, executed: int | None) -> None:
        """Stop every run before the instruction that would make the count exceed `executed`
        (None: no limit), as an exact step stops; `limited` says a run stopped there. While a
        limit is set, runs carry the per-instruction code hook (see `arm`)."""
        self._s.limit = NO_LIMIT if executed is None else executed
        self._s.limited = 0

    @property
    def limited(self) -> bool:
        """Whether a run stopped at the limit (`set_limit`) since it was set."""
        return bool(self._s.limited)

    def rewind(self, executed: int) -> None:
        """Set the count (used when restoring a snapshot)."""
        self._s.executed = executed
        self._s.deadline = executed
        self._s.block_count = 0
