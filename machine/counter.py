"""The native hooks (machine/native/*.c) and the exact instruction counter.

`emu_start(count=N)` keeps its counter to itself, so a trap in the middle of a
slice could not be timestamped. Instead a C code hook (`native/counter.c`) counts
every instruction into shared memory and stops the emulator at a deadline; it runs
at the speed of `count=` and Python can read it at any moment.

The same shared object holds the TLB fill (machine/tlb.py), the interrupt hook
(machine/trapfront.py) and the Thumb IT-state guard (`ItStateGuard`, native/itstate.c). It is compiled on first use with `zig cc` (the `ziglang`
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
from collections.abc import Callable

from unicorn import Uc, UcError
from unicorn.arm_const import UC_ARM_REG_EPSR
from unicorn.unicorn_const import UC_HOOK_BLOCK, UC_HOOK_CODE, UC_HOOK_TLB_FILL, UC_MEM_FETCH

_NATIVE = NATIVE_DIR = pathlib.Path(__file__).with_name("native")
_SOURCES = (_NATIVE / "counter.c", _NATIVE / "tlb.c", _NATIVE / "trap.c", _NATIVE / "itstate.c")


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


@mirrors(_NATIVE / "counter.c", "atoll_counter")
class _CounterStruct(ctypes.Structure):
    _fields_ = [
        ("executed", ctypes.c_uint64),
        ("deadline", ctypes.c_uint64),
        ("stop", ctypes.c_void_p),
        ("stopped", ctypes.c_uint32),
        ("exact", ctypes.c_uint32),
        ("asked_at", ctypes.c_uint64),
        ("limit", ctypes.c_uint64),
        ("limited", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32),
        ("breaks", ctypes.POINTER(ctypes.c_uint32)),
        ("break_count", ctypes.c_uint32),
        ("break_filter", ctypes.c_uint32 * 128),
        ("break_hit", ctypes.c_uint64),
        ("break_pass", ctypes.c_uint64),
        ("break_deadline", ctypes.c_uint64),
        ("break_exact", ctypes.c_uint32),
        ("break_stopped", ctypes.c_uint32),
    ]


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


@mirrors(_NATIVE / "itstate.c", "atoll_it_guard")
class _ItGuardStruct(ctypes.Structure):
    _fields_ = [
        ("reg_read", ctypes.c_void_p),
        ("reg_write", ctypes.c_void_p),
        ("epsr", ctypes.c_int32),
        ("fetch", ctypes.c_int32),
    ]


class ItStateGuard:
    """Keeps an ARMv7-M engine's Thumb IT state whole across TLB misses (native/itstate.c
    says how Unicorn loses it). Must be registered before the machine's TLB fill hook,
    since Unicorn stops asking fill hooks at the first that gives a translation."""

    def __init__(self, uc: Uc) -> None:
        lib = uclib()
        self._s = _ItGuardStruct(function_address(lib.uc_reg_read), function_address(lib.uc_reg_write),
                                 UC_ARM_REG_EPSR, UC_MEM_FETCH)
        self._handle = add_native_hook(uc, UC_HOOK_TLB_FILL, load().atoll_it_after_fill, self._s)


#: the count `set_limit(None)` stands for: no run reaches it
NO_LIMIT = 2**64 - 1


class InstructionCounter:
    """Counts the instructions one Unicorn engine executes; stops it at a deadline."""

    def __init__(self, uc: Uc) -> None:
        lib = load()
        self._uc = uc
        self._s = _CounterStruct(0, 0, function_address(uclib().uc_emu_stop), 0, 0, 0,
                                 NO_LIMIT, 0, 0)
        self._breaks = (ctypes.c_uint32 * 0)()
        #: decides whether a breakpoint the native hook stopped at counts (`set_breakpoints`)
        self.breakpoint_reached: Callable[[int], bool] | None = None
        self._handles = [add_native_hook(uc, kind, getattr(lib, name), self._s)
                         for name, kind in (("atoll_count_instruction", UC_HOOK_CODE),
                                            ("atoll_block_start", UC_HOOK_BLOCK))]

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

    def limit(self, instructions: int) -> None:
        """End the running slice after at most `instructions` more (never lengthens it)."""
        deadline = self._s.executed + max(instructions, 0)
        if deadline < self._s.deadline:
            self._s.deadline = deadline

    def stop_now(self) -> None:
        """End the running slice before the next instruction (callable from any hook)."""
        self._s.deadline = self._s.executed

    def stop_before_next(self) -> None:
        """End the running slice before the next instruction itself, not at the end of its
        block (a watchpoint's access: the debugger reports the instruction after it)."""
        self._s.deadline = self._s.executed
        self._s.exact = 1

    @property
    def reached_deadline(self) -> bool:
        return bool(self._s.stopped)

    def set_limit(self, executed: int | None) -> None:
        """Stop every run before the instruction that would make the count exceed `executed`
        (None: no limit), as an exact step stops; `limited` says a run stopped there."""
        self._s.limit = NO_LIMIT if executed is None else executed
        self._s.limited = 0

    @property
    def limited(self) -> bool:
        """Whether a run stopped at the limit (`set_limit`) since it was set."""
        return bool(self._s.limited)

    # -- breakpoints (checked by the code hook itself: see native/counter.c) -----------

    def set_breakpoints(self, addresses, reached: Callable[[int], bool] | None) -> None:
        """Stop before any instruction at one of `addresses` (uncounted); `reached(address)`
        then says whether the stop counts, and if it does not, the run goes on through it."""
        ordered = sorted({a & 0xFFFFFFFF for a in addresses})
        self._breaks = (ctypes.c_uint32 * max(len(ordered), 1))(*ordered)
        s = self._s
        s.break_count = 0          # never a count over a table being swapped
        for i in range(128):
            s.break_filter[i] = 0
        for a in ordered:
            bit = (a >> 1) & 4095
            s.break_filter[bit >> 5] |= 1 << (bit & 31)
        s.breaks = ctypes.cast(self._breaks, ctypes.POINTER(ctypes.c_uint32))
        s.break_count = len(ordered)
        s.break_pass = 0
        self.breakpoint_reached = reached if ordered else None

    def settle_breakpoint(self) -> bool | None:
        """After a run: None if no breakpoint stopped it, else whether the one that did counts.
        One that does not count (another address space, a breakpoint being resumed from) runs
        when the run resumes."""
        s = self._s
        if not s.break_hit:
            return None
        address, s.break_hit = s.break_hit - 1, 0
        reached = self.breakpoint_reached
        if reached is not None and reached(address):
            return True
        s.break_pass = address + 1
        # the slice as it was: a deadline or stop set before the hit still holds
        s.deadline, s.exact, s.stopped = s.break_deadline, s.break_exact, s.break_stopped
        return False

    @property
    def runs_on(self) -> bool:
        """Whether the slice, as armed, has instructions left to run (after a breakpoint it
        passed through: one past its deadline runs on to the end of its block)."""
        s = self._s
        return not s.stopped and (not s.exact or s.executed < s.deadline)

    def keep_pass_only_at(self, pc: Callable[[], int]) -> None:
        """A breakpoint passed through holds only for a run that resumes at it: drop it if
        the run resumes elsewhere (`pc()`: an exception was taken in between)."""
        s = self._s
        if s.break_pass and s.break_pass - 1 != pc():
            s.break_pass = 0

    def rewind(self, executed: int) -> None:
        """Set the count (used when restoring a snapshot)."""
        self._s.executed = executed
        self._s.deadline = executed
