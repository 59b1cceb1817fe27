"""Host timing: the opt-in fast mode, which gives up deterministic time for speed.

`Machine(board, timing="host")` runs guest code with no instruction-counting hook (the
native counter's block hook, its settling and exact slices cost exact timing its speed,
docs/performance.md).
Virtual time then follows the host's monotonic clock, scaled to the board's CPU frequency,
as QEMU's virtual clock does without `-icount`: `HostCounter` stands where the machine's
`InstructionCounter` stands (`machine.counter`, the `Clock`'s source), and its `executed`
is the host time spent inside `emu_start`, in cycles of the board's clock, less the time
Python's callbacks took (MMIO accesses and traps taken in Python: `outside`), which take no
cycles in exact timing either. It is not a count of instructions: the guest runs as fast as
the emulator does, so a second of virtual time holds however many instructions the host
managed in it.

- A slice is one `emu_start` that a native block hook (native/hosttime.c) ends at the
  first block start past the slice's deadline on the host's monotonic clock (read every
  `CLOCK_EVERY_BLOCKS` blocks), or after a stop was asked for. Clock events (timers,
  SysTick, mtime, UART pacing) fire between slices, by host time, exactly as the run loop
  fires them in exact timing. An event scheduled during a slice moves its deadline
  earlier, and an MMIO access made after the deadline asks for the stop (`outside`), so a
  guest polling a peripheral sees the event soon after it is due. Unicorn's own
  `emu_start(timeout=...)` is not used: its timer thread stops the CPU at any moment, and
  a stop that lands while an MMIO callback runs makes Unicorn run the accessing
  instruction again (a UART byte sent twice; native/hosttime.c). Waiting (WFI, an idle
  kernel) skips time, or sleeps with `realtime`, as in exact timing.
- Faults, traps, MMIO, syscalls, the IPC fast path and the guest exception models work as
  before; an `emu_start` that returns with neither its deadline, a stop nor a fault to explain
  it is the CPU halting in WFI (every `emu_start` adds at least one cycle, so the "no progress"
  check of exact timing never fires here).
- What needs the count does not work: single steps and the debugger (a breakpoint settles the
  count where it stops) raise `TimingError`; the RISC-V trap-loop check (a handler faulting
  at its first instruction) does not fire, so such a loop runs until the run ends; the times
  the IPC fast path gives its calls are those of the slice they happened in. Runs, snapshots
  and replays are not deterministic: the same program may take its interrupts at other
  instructions, and prints its output at other times, on every run. Emulation costs
  (translating code, TLB refills) are guest time here, so UART input arriving at line rate
  can overrun a guest that answers more slowly than one character time (typed input does
  not; pasted input can).

Invariants: time never goes backwards; `executed` grows by at least one cycle per
`emu_start`; the CPU is stopped only before an instruction (from a block hook), never
from an MMIO callback; no hook runs per instruction on behalf of this module.
"""

from __future__ import annotations

import ctypes
import pathlib
import time
from typing import Callable

from unicorn import Uc
from unicorn.unicorn_const import UC_HOOK_BLOCK

from .counter import add_native_hook, function_address, mirrors, native_library, uclib

_SOURCE = pathlib.Path(__file__).with_name("native") / "hosttime.c"

#: the timings a machine can run with; the first is the default
TIMINGS = ("exact", "host")
#: the block hook reads the host's clock once every this many blocks (a few microseconds)
CLOCK_EVERY_BLOCKS = 256


class TimingError(RuntimeError):
    """Something that needs the exact instruction count was asked of a host-timed machine."""


def check_timing(timing: object) -> str:
    """`timing` if it names a timing, else a ValueError saying which ones there are."""
    if not isinstance(timing, str) or timing not in TIMINGS:
        raise ValueError(f"timing must be 'exact' (instruction-counted, deterministic: the default) or "
                         f"'host' (follows the host's clock: faster, not deterministic), not {timing!r}")
    return timing


def needs_exact(what: str) -> TimingError:
    """The error for `what` (e.g. "single steps") on a host-timed machine."""
    return TimingError(f"{what} need exact timing (an instruction count); this machine runs with "
                       f"timing='host', which counts no instructions")


@mirrors(_SOURCE, "atoll_host_slice")
class _Slice(ctypes.Structure):
    _fields_ = [
        ("stop", ctypes.c_void_p),
        ("clock_read", ctypes.c_void_p),
        ("deadline_ns", ctypes.c_uint64),
        ("executed", ctypes.c_uint64),
        ("deadline", ctypes.c_uint64),
        ("clock_id", ctypes.c_int32),
        ("stop_flag", ctypes.c_uint32),
        ("stopped", ctypes.c_uint32),
        ("exact", ctypes.c_uint32),
        ("blocks", ctypes.c_uint32),
        ("every", ctypes.c_uint32),
    ]


class HostCounter:
    """The CPU's running time in cycles of the board's clock, measured on the host's monotonic
    clock; ends slices from a native block hook (see the module's doc)."""

    def __init__(self, uc: Uc, frequency_hz: int) -> None:
        self._uc = uc
        self._hz = frequency_hz
        libc = ctypes.CDLL(None)
        self._s = _Slice(stop=function_address(uclib().uc_emu_stop),
                         clock_read=function_address(libc.clock_gettime),
                         clock_id=time.CLOCK_MONOTONIC, every=CLOCK_EVERY_BLOCKS)
        #: cycles of the emu_starts that have ended
        self._ran = 0
        #: monotonic ns at which the running emu_start began (None: none runs)
        self._entered: int | None = None
        self._slice_ns = 0
        #: monotonic ns at which a Python callback began, inside a slice (None: none runs)
        self._paused_at: int | None = None
        self._handle = add_native_hook(uc, UC_HOOK_BLOCK, native_library(_SOURCE).atoll_host_block, self._s)

    def attach_gate(self, function, data) -> None:
        """The interrupt gate `function` (native) as a block hook of its own: it looks at every
        block start (`armed` is not kept)."""
        self._gate = add_native_hook(self._uc, UC_HOOK_BLOCK, function, data)

    #: the gate looks at every block (see `attach_gate`)
    armed = True
    #: a slice's end is never settled (`settle` does nothing)
    mid_block = False

    # -- time --------------------------------------------------------------------------------

    @property
    def executed(self) -> int:
        """Cycles of host time the CPU has run guest code (live during a slice); not an
        instruction count."""
        entered = self._entered
        if entered is None:
            return self._ran
        now = self._paused_at if self._paused_at is not None else time.monotonic_ns()
        now = self._ran + (now - entered) * self._hz // 1_000_000_000
        self._s.executed = now
        return now

    @property
    def executed_address(self) -> int:
        """Where native code reads the running time (as of the slice's start or the last read)."""
        return self.field_address("executed")

    def field_address(self, name: str) -> int:
        """Where native code finds field `name` (executed, deadline, stopped, exact), as in the
        instruction counter's struct."""
        return ctypes.addressof(self._s) + getattr(_Slice, name).offset

    def rewind(self, executed: int) -> None:
        """Set the running time (restoring a snapshot)."""
        self._ran = self._s.executed = executed

    # -- slices ------------------------------------------------------------------------------

    def arm(self, instructions: int, exact: bool = False) -> None:
        """Let the next slice run for `instructions` cycles of host time."""
        if exact:
            raise needs_exact("exact stops (single steps)")
        self._slice_ns = max(instructions, 0) * 1_000_000_000 // self._hz
        self._s.stopped = 0

    def emulate(self, start: int, until: int) -> None:
        """One `emu_start` from `start` as armed, its time measured on the host's clock."""
        s = self._s
        s.executed = self._ran
        s.stop_flag = 0
        s.blocks = 0
        self._paused_at = None
        self._entered = time.monotonic_ns()
        s.deadline_ns = self._entered + self._slice_ns
        try:
            self._uc.emu_start(start, until)
        finally:
            ran = (time.monotonic_ns() - self._entered) * self._hz // 1_000_000_000
            self._entered = None
            self._ran = s.executed = self._ran + max(ran, 1)

    def limit(self, instructions: int) -> None:
        """End the running slice once `instructions` more cycles have passed, if that is
        before its end."""
        if self._entered is None:
            return
        now = self._paused_at if self._paused_at is not None else time.monotonic_ns()   # guest time's now
        deadline = now + max(instructions, 0) * 1_000_000_000 // self._hz
        if deadline < self._s.deadline_ns:
            self._s.deadline_ns = deadline

    def stop_now(self) -> None:
        """End the running slice at the next block start (callable from any hook)."""
        if self._entered is not None:
            self._s.stop_flag = 1

    def one_block(self) -> None:
        """Let the next `emu_start` (the machine's own, outside any slice) run one block only:
        it stops at the start of the second."""
        s = self._s
        s.stop_flag, s.blocks, s.deadline_ns = 2, 0, (1 << 64) - 1

    def stop_before_next(self) -> None:
        self.stop_now()

    def settle(self, pc: int, started: bool = False, finish: bool = True) -> int:
        """Nothing to settle where a run leaves a block: host time is not a count."""
        return self.executed

    @property
    def reached_deadline(self) -> bool:
        """Whether the last slice ended for its time (its deadline or a stop)."""
        return bool(self._s.stopped)

    def outside(self, callback: Callable) -> Callable:
        """`callback` (an MMIO access, a trap taken in Python) made to take no guest time: the
        clock stands still while it runs (in exact timing Python's work takes no cycles
        either), and the slice's deadline moves on as much. After it, a stop is asked for if
        that deadline has passed."""
        s = self._s

        def call(*args):
            if self._entered is None or self._paused_at is not None:
                return callback(*args)
            paused = self._paused_at = time.monotonic_ns()
            try:
                return callback(*args)
            finally:
                now = time.monotonic_ns()
                self._paused_at = None
                if self._entered is not None:
                    self._entered += now - paused
                    s.deadline_ns += now - paused
                    if now >= s.deadline_ns:
                        s.stop_flag = 1
        return call

    # -- replay limits: none in host timing ---------------------------------

    #: never: a replay to an exact instruction needs exact timing
    limited = False

    def set_limit(self, executed: int | None) -> None:
        if executed is not None:
            raise needs_exact("a replay to an exact instruction")

