"""A board brought to life: CPU, memory, peripherals and virtual time on one Unicorn.

`Machine(board)` builds everything a `BoardSpec` names. Physical memory is mapped
once; every access the CPU makes goes through Unicorn's virtual TLB, whose fill
hook asks the active `AddressSpace` (`activate`) for a translation. MMIO windows
dispatch to the peripheral models. The TLB fill runs in C (machine/tlb.py); the
only Python hooks are the interrupt hook (on a trap) and the invalid-memory hook
(on a bus error): normal running has no per-instruction or per-block Python call.

The run loop executes the CPU up to the next deadline (a peripheral's event, a
requested stop, the end of the run) in one `emu_start`, counted exactly by the
native instruction counter, then fires due events and polls host backends. A
slice ends at the first translated-block boundary at or after its deadline
(native/counter.c says why); `step` stops exactly. With
the CPU waiting (WFI, or the kernel idle) time jumps to the next deadline.

Traps go to `trap_handler` (the kernel); without one, a syscall or breakpoint
ends the run. Faults always end the run with a structured `Fault`. A Python
exception raised inside a Unicorn callback is carried out of `emu_start` and
raised again, never swallowed. On RISC-V the counter CSRs read the clock, never the
host's (machine/csr.py). An `emu_start` that returns having executed no
instruction, with no trap, fault, deadline or stop request to explain it, is a
fault too ("no progress"): the loop never spins in place with time standing still.

No address stops the CPU: Unicorn's exits are switched on and left empty, so the
`until` of `emu_start` means nothing and only the counter's deadline (or a stop
request) ends a slice. (An `until` address would be one more place guest code could
jump to, and Unicorn probes its page after every run.) The sentinel page
(`SENTINEL_PAGE`) holds the RISC-V user-entry trampoline; no guest code, privileged
or not, may read, write or execute it (a permission fault): the TLB serves it only
while `enter_user_mode` runs the trampoline.
"""

from __future__ import annotations

import logging
import pathlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from unicorn import UcError
from unicorn.unicorn_const import (
    UC_ERR_EXCEPTION,
    UC_ERR_FETCH_UNMAPPED,
    UC_ERR_READ_UNMAPPED,
    UC_ERR_WRITE_UNMAPPED,
    UC_HOOK_MEM_INVALID,
    UC_MEM_FETCH_UNMAPPED,
    UC_MEM_READ_UNMAPPED,
    UC_MEM_WRITE_UNMAPPED,
    UC_PROT_ALL,
    UC_TLB_VIRTUAL,
)

from .board import BoardSpec, load_board
from .clock import Clock
from .counter import InstructionCounter
from .cpu import CPU_TYPES, Cpu, Rv32, Trap
from .csr import VirtualCounters
from .elf import ElfError, ElfImage, read_elf
from .irq import InterruptController
from .memory import PAGE_SIZE, AccessKind, AddressSpace, Fault, FaultKind, Perm
from .peripheral import Peripheral
from .peripherals.clint import Clint
from .tlb import NativeTlb
from .trapfront import TrapFront

if TYPE_CHECKING:
    from .snapshot import MachineSnapshot

log = logging.getLogger("atoll.machine")

_INVALID = {UC_MEM_READ_UNMAPPED: AccessKind.READ, UC_MEM_WRITE_UNMAPPED: AccessKind.WRITE,
            UC_MEM_FETCH_UNMAPPED: AccessKind.FETCH}
_BUS_ERRORS = {UC_ERR_READ_UNMAPPED, UC_ERR_WRITE_UNMAPPED, UC_ERR_FETCH_UNMAPPED}

#: a page of the machine's own, outside every board's map, holding the RISC-V user-entry
#: trampoline; guest code may not touch it
SENTINEL_PAGE = 0xFFFF_F000
_SENTINEL_DETAIL = "the machine's own page"
#: what `emu_start` is given as `until`: ignored, since exits are on and there are none
_NO_EXIT = 0

#: longest slice between polls of host backends when nothing else is due
DEFAULT_MAX_SLICE_SECONDS = 0.01
#: with `realtime`, idle time advances in steps of at most this much, each slept on the wall clock
REALTIME_STEP_SECONDS = 0.005


@dataclass(frozen=True)
class Stop:
    """Why a run ended.

    reason: "time" (the requested duration passed), "condition" (run_until's
    condition held), "fault", "trap" (a syscall or breakpoint with no handler to
    take it), "stopped" (`request_stop`) or "timeout" (run_until gave up).
    """

    reason: str
    cycle: int
    fault: Fault | None = None
    trap: Trap | None = None


class _OrGate:
    """Several peripheral outputs wired to one controller input (e.g. AN385 IRQ 12)."""

    def __init__(self, controller: InterruptController, line: int) -> None:
        self.controller = controller
        self.line = line
        self.levels: dict[int, bool] = {}

    def set_line(self, source: int, level: bool) -> None:
        self.levels[source] = level
        self.controller.set_line(self.line, any(self.levels.values()))


class Machine:
    """One emulated board."""

    def __init__(self, board: BoardSpec | str | pathlib.Path) -> None:
        self.board = board if isinstance(board, BoardSpec) else load_board(board)
        spec = self.board
        self.cpu: Cpu = CPU_TYPES[spec.cpu.isa].create(spec.cpu.model)
        self.uc = self.cpu.uc
        self.counter = InstructionCounter(self.uc)
        self.clock = Clock(spec.cpu.frequency_hz, self.counter)
        self.clock.on_schedule = self._event_scheduled
        self.max_slice = self.clock.cycles(DEFAULT_MAX_SLICE_SECONDS)
        #: called with each Trap; return True to go on running, False to end the run
        self.trap_handler: Callable[[Trap], bool] | None = None
        #: called at a slice boundary when the interrupt controller has something pending
        self.interrupt_handler: Callable[[], None] | None = None
        self.waiting = False
        #: pace idle time to the wall clock (interactive runs), instead of jumping
        self.realtime = False

        for r in spec.regions:
            self.uc.mem_map(r.base, r.size, UC_PROT_ALL)
        # The sentinel page is filled with undefined instructions (ARM `udf`; on
        # RISC-V all-zero halfwords are illegal), so guest code that strays there faults.
        self.uc.mem_map(SENTINEL_PAGE, PAGE_SIZE, UC_PROT_ALL)
        self.uc.mem_write(SENTINEL_PAGE, self.cpu.UNDEFINED_FILL * (PAGE_SIZE // 2))
        if isinstance(self.cpu, Rv32):
            self.uc.mem_write(SENTINEL_PAGE, Rv32.USER_ENTRY_CODE)

        self.peripherals: dict[str, Peripheral] = {}
        for p in spec.peripherals:
            dev = p.cls(p.name, self.clock, **p.params)
            self.peripherals[p.name] = dev
            dev.pc_source = self._guest_pc
            self.uc.mmio_map(p.base, p.size, self._mmio_reader(dev), None, self._mmio_writer(dev), None)
        self.interrupts: InterruptController | None = None
        if spec.interrupt_controller is not None:
            self.interrupts = self.peripherals[spec.interrupt_controller]  # type: ignore[assignment]
            self.interrupts.listener = self._interrupt_became_pending
            self._wire_interrupts()

        self.bare_space = AddressSpace.identity("bare-metal", list(spec.regions) + [
            _mmio_region(p) for p in spec.peripherals])
        self._space = self.bare_space
        self._space_version = self._space.version
        self._pending_error: BaseException | None = None
        self._fault: Fault | None = None
        self._trap: Trap | None = None
        self._bus_error: tuple[int, AccessKind] | None = None
        self._stop_requested = False
        self._irq_pending = False
        self._backends: list[tuple[Peripheral, object]] = []
        self.image: ElfImage | None = None

        self.uc.ctl_set_tlb_mode(UC_TLB_VIRTUAL)
        # exits on and none set: nothing but the counter's deadline ends an emu_start
        self.uc.ctl_exits_enabled(True)
        self._tlb = NativeTlb(self.uc, SENTINEL_PAGE)
        self._tlb.activate(self._space)
        self._front = TrapFront(self.uc, self._tlb, self._interrupt, self._carry)
        self._space_index = self._front.active = self._front.index(self._space)
        #: the RISC-V counter CSRs, answered from virtual time (machine/csr.py)
        self._counters: VirtualCounters | None = None
        if isinstance(self.cpu, Rv32):
            clint = next((dev for dev in self.peripherals.values() if isinstance(dev, Clint)), None)
            self._counters = VirtualCounters(self.clock, None if clint is None else (lambda: clint.mtime),
                                             self._carry)
        #: True while the CPU runs (inside `emu_start`)
        self.executing = False
        self.uc.hook_add(UC_HOOK_MEM_INVALID, self._invalid_access)

    # -- construction helpers -------------------------------------------------

    def _guest_pc(self) -> int:
        """The pc of the instruction making an MMIO access (Unicorn has it exact in the callback)."""
        return self.cpu.pc

    @staticmethod
    def _mmio_reader(dev: Peripheral):
        read = dev.read
        return lambda uc, offset, size, _: read(offset, size)

    @staticmethod
    def _mmio_writer(dev: Peripheral):
        write = dev.write
        return lambda uc, offset, size, value, _: write(offset, size, value)

    def _wire_interrupts(self) -> None:
        assert self.interrupts is not None
        by_line: dict[int, list] = {}
        for p in self.board.peripherals:
            for out, line in p.irq.items():
                by_line.setdefault(line, []).append(self.peripherals[p.name].irq[out])
        for line, outputs in by_line.items():
            if len(outputs) == 1:
                outputs[0].connect(self.interrupts, line)
            else:
                gate = _OrGate(self.interrupts, line)
                for i, out in enumerate(outputs):
                    out.connect(gate, i)

    # -- looking at the machine ------------------------------------------------

    @property
    def isa(self) -> str:
        return self.board.cpu.isa

    def peripheral(self, name: str) -> Peripheral:
        try:
            return self.peripherals[name]
        except KeyError:
            raise KeyError(f"board {self.board.name} has no peripheral {name!r}; "
                           f"it has: {', '.join(self.peripherals)}") from None

    def attach_uart(self, name: str, backend) -> None:
        """Connect a host backend (BufferBackend, StdioBackend, TcpBackend) to a UART."""
        uart = self.peripheral(name)
        if not hasattr(uart, "attach"):
            raise TypeError(f"peripheral {name!r} is not a UART")
        uart.attach(backend)
        self._backends = [(u, b) for u, b in self._backends if u is not uart] + [(uart, backend)]

    @property
    def space(self) -> AddressSpace:
        self._follow_filter()
        return self._space

    # -- a native trap filter (see trapfront.py) -----------------------------------

    def set_trap_filter(self, function: int | None, data: int | None, sync: Callable[[], None] | None) -> None:
        """Put a C trap filter in front of the Python trap path: `function(uc, intno, data)`
        handles a trap completely and answers with a `space_index`, or answers -1. `sync()`
        runs each time Python takes the machine back. None removes the filter."""
        self._front.set_filter(function, data, sync)

    def space_index(self, space: AddressSpace) -> int | None:
        """`space`'s index for a trap filter's answer (None: too many spaces for filters)."""
        return self._front.index(space)

    @property
    def traps_filtered(self) -> int:
        """Traps a native filter handled, in all."""
        return self._front.filtered

    def _follow_filter(self) -> None:
        """Make the space a trap filter left active the machine's own."""
        active = self._front.active
        if active != self._space_index:
            space = self._front.space(active)
            self._space, self._space_version, self._space_index = space, space.version, active

    def _regain(self) -> None:
        """Python has the machine again: follow what a trap filter switched, then tell its owner."""
        self._follow_filter()
        self._front.sync()

    # -- memory ----------------------------------------------------------------

    def read_physical(self, address: int, size: int) -> bytes:
        return bytes(self.uc.mem_read(address, size))

    def write_physical(self, address: int, data: bytes, flush_code: bool = True) -> None:
        """Write memory by physical address (loaders). Translated code is dropped, since
        Unicorn would otherwise keep running code it translated from the old bytes; a
        loader writing many pieces passes `flush_code=False` and calls `flush_code()` once."""
        self.uc.mem_write(address, bytes(data))
        if flush_code:
            self.flush_code()

    def flush_code(self) -> None:
        """Drop every translation of guest code (after code in memory changed)."""
        self.uc.ctl_flush_tb()

    def read_virtual(self, space: AddressSpace, address: int, size: int) -> bytes:
        """Bytes as `space` sees them; a Fault if any byte is unmapped or unreadable."""
        out = bytearray()
        while size > 0:
            m = space.lookup(address)
            if m is None:
                raise FaultError(Fault(FaultKind.UNMAPPED, self.cpu.pc, space.name, address, AccessKind.READ))
            n = min(size, m.vend - address)
            out += self.uc.mem_read(m.pbase + (address - m.vbase), n)
            address += n
            size -= n
        return bytes(out)

    def write_virtual(self, space: AddressSpace, address: int, data: bytes) -> None:
        data = bytes(data)
        while data:
            m = space.lookup(address)
            if m is None:
                raise FaultError(Fault(FaultKind.UNMAPPED, self.cpu.pc, space.name, address, AccessKind.WRITE))
            n = min(len(data), m.vend - address)
            self.uc.mem_write(m.pbase + (address - m.vbase), data[:n])
            if m.perms & Perm.X:  # code changed under Unicorn's translations of it
                self.uc.ctl_flush_tb()
            address += n
            data = data[n:]

    def activate(self, space: AddressSpace) -> None:
        """Run from now on in `space` (flushes the TLB when the space changes)."""
        if space is not self._space or space.version != self._space_version:
            self._space = space
            self._space_version = space.version
            self._tlb.activate(space)
            self._tlb.flush()
            index = self._front.index(space)
            self._space_index = self._front.active = -1 if index is None else index

    # -- bare-metal boot -------------------------------------------------------

    def load_elf(self, path: str | pathlib.Path) -> ElfImage:
        """Load a bare-metal ELF at its physical addresses and reset the CPU into it."""
        image = read_elf(path, self.isa)
        for seg in image.segments:
            region = self.board.region_at(seg.paddr, seg.memsize)
            if region is None:
                raise ElfError(f"{image.path}: segment at {seg.paddr:#x}-{seg.paddr + seg.memsize:#x} "
                               f"is outside the memory of board {self.board.name}")
        for seg in image.segments:
            self.uc.mem_write(seg.paddr, seg.data + bytes(seg.memsize - len(seg.data)))
        self.image = image
        self.reset_cpu()
        return image

    def reset(self) -> None:
        """The whole board as at power-on: time back to zero, every peripheral reset,
        the loaded ELF (if any) written again, and the CPU reset into it."""
        self.clock.reset()
        for dev in self.peripherals.values():
            dev.reset()
        if self.image is not None:
            for seg in self.image.segments:
                self.uc.mem_write(seg.paddr, seg.data + bytes(seg.memsize - len(seg.data)))
        self._irq_pending = False
        self.reset_cpu()

    def reset_cpu(self) -> None:
        """The CPU as after reset: registers cleared, then SP/PC the way the board resets."""
        self.cpu.reset()
        self.activate(self.bare_space)
        self.waiting = False
        cpu = self.board.cpu
        if cpu.reset == "vector-table":
            table = self.read_physical(cpu.vector_table, 8)
            self.cpu.sp = int.from_bytes(table[:4], "little")
            self.cpu.pc = int.from_bytes(table[4:], "little") & ~1
        else:
            self.cpu.pc = self.image.entry if self.image is not None else 0

    def enter_user_mode(self) -> None:
        """Drop the CPU to its unprivileged mode; the pc is kept."""
        if isinstance(self.cpu, Rv32):
            resume = self.cpu.pc
            self.cpu.prepare_user_entry(resume)
            executed = self.counter.executed
            try:
                with self._tlb.machine_use():
                    self.counter.arm(1, exact=True)
                    self.uc.emu_start(SENTINEL_PAGE, _NO_EXIT)
            except UcError:
                pass  # after the mret Unicorn translates the next pc, which may be unmapped here
            finally:
                self.counter.rewind(executed)
                self._tlb.clear_refusal()
            if self.cpu.pc != resume:
                raise RuntimeError(f"entering user mode ended at {self.cpu.pc:#x}, not {resume:#x}")
        self.cpu.enter_user_mode()

    # -- snapshots -------------------------------------------------------------

    def snapshot(self, attached=None, keep=()) -> "MachineSnapshot":
        """The whole machine's state now, to `restore` later (between runs only).

        `attached` is an object graph of the caller's (a kernel's state) copied along
        with the clock events it scheduled; `keep` lists objects the copy shares rather
        than copies (machine/snapshot.py)."""
        from .snapshot import take
        return take(self, attached, keep)

    def restore(self, snap: "MachineSnapshot", keep=()):
        """Put the machine back exactly as it was at `snap`; returns a fresh copy of the
        graph attached to the snapshot (None if there was none)."""
        from .snapshot import restore
        return restore(self, snap, keep)

    # -- running ---------------------------------------------------------------

    def request_stop(self) -> None:
        """End the current run at the next instruction boundary (callable from callbacks)."""
        self._stop_requested = True
        self.counter.stop_now()

    def run_for(self, seconds: float) -> Stop:
        return self.run(self.clock.cycles(seconds))

    def run(self, cycles: int) -> Stop:
        """Run for `cycles` of virtual time (or until a fault, trap or stop request)."""
        return self._run(self.clock.now + cycles, None)

    def run_until(self, condition: Callable[[], bool], timeout: float,
                  check_every: float = 0.001) -> Stop:
        """Run until `condition()` holds (checked at slice boundaries and at least every
        `check_every` seconds of virtual time) or `timeout` seconds of virtual time pass."""
        if condition():
            return Stop("condition", self.clock.now)
        stop = self._run(self.clock.now + self.clock.cycles(timeout), condition,
                         max(1, self.clock.cycles(check_every)))
        return Stop("timeout", stop.cycle) if stop.reason == "time" else stop

    def step(self, instructions: int = 1, events: bool = True) -> Stop:
        """Execute exactly `instructions` instructions (fewer if a fault or trap ends it).

        With `events=False` (a debugger's single step) no due clock event or pending
        interrupt is taken before or between them: they wait for the next run.
        """
        if events:
            return self._run(None, None, instructions=instructions)
        self._stop_requested = False
        end = self.counter.executed + instructions
        while self.counter.executed < end and not self.waiting:
            before = self.counter.executed
            result = self._execute(end - before, exact=True)
            if result is not None:
                return result
            if self._stop_requested:
                self._stop_requested = False
                return Stop("stopped", self.clock.now)
            if self.counter.executed == before:
                break
        return Stop("time", self.clock.now)

    def _run(self, until: int | None, condition: Callable[[], bool] | None,
             check: int | None = None, instructions: int | None = None) -> Stop:
        clock = self.clock
        self._stop_requested = False
        budget_end = None if instructions is None else self.counter.executed + instructions
        while True:
            self._poll_backends()
            clock.fire_due()
            if self._irq_pending:
                self._irq_pending = False
                if self.interrupt_handler is not None:
                    self.interrupt_handler()  # a kernel decides what runs next
                else:
                    self.waiting = False      # bare metal: WFI ends when an interrupt pends
            if self._stop_requested:
                self._stop_requested = False
                return Stop("stopped", clock.now)
            if condition is not None and condition():
                return Stop("condition", clock.now)
            now = clock.now
            if until is not None and now >= until:
                return Stop("time", now)
            if budget_end is not None and self.counter.executed >= budget_end:
                return Stop("time", now)
            target = now + self.max_slice if until is None else min(until, now + self.max_slice)
            if check is not None:
                target = min(target, now + check)
            deadline = clock.next_deadline()
            if deadline is not None:
                target = min(target, deadline)
            if self.waiting:
                if budget_end is not None:
                    return Stop("time", now)
                if self.realtime:
                    step = min(target - now, self.clock.cycles(REALTIME_STEP_SECONDS))
                    time.sleep(step / self.clock.frequency_hz)
                    target = now + step
                clock.skip_to(target)
                continue
            slice_len = target - now
            if budget_end is not None:
                slice_len = min(slice_len, budget_end - self.counter.executed)
            # a counted step stops exactly; any other slice ends at a block boundary
            result = self._execute(max(slice_len, 0), exact=budget_end is not None)
            if result is not None:
                return result

    def _execute(self, instructions: int, exact: bool = False) -> Stop | None:
        """One `emu_start` of `instructions` (to the end of that block unless `exact`, see
        native/counter.c); a Stop if a fault or trap ended the run."""
        self._fault = None
        self._trap = None
        self._bus_error = None
        self._tlb.clear_refusal()
        if instructions <= 0:
            return None
        self.counter.arm(instructions, exact)
        before = self.counter.executed
        self.executing = True
        counters = self._counters
        if counters is not None:
            counters.enter()
        try:
            try:
                self.uc.emu_start(self.cpu.start_address(), _NO_EXIT)
            finally:   # however it ended (a hook's exception too), Python has the machine back
                if counters is not None:
                    counters.leave()
                self.executing = False
                self._regain()
        except UcError as e:
            if self._pending_error is None and self._fault is None:
                event = self._event_from(e)
                if isinstance(event, Trap):
                    return self._take_trap(event)
                self._fault = event
        if self._pending_error is not None:
            err, self._pending_error = self._pending_error, None
            raise err
        if self._fault is not None:
            return Stop("fault", self.clock.now, fault=self._fault)
        if self._trap is not None:
            return Stop("trap", self.clock.now, trap=self._trap)
        if not self.counter.reached_deadline and not self._stop_requested:
            if self.counter.executed == before:
                return Stop("fault", self.clock.now, fault=self._no_progress())
            # Unicorn returns early, with no hook, when the CPU halts in WFI.
            return self._wait_for_interrupt()
        return None

    def _no_progress(self) -> Fault:
        """The fault of an `emu_start` that executed nothing and said nothing: running it
        again would do the same, forever, with time standing still."""
        pc = self.cpu.pc
        return Fault(FaultKind.CPU_ERROR, pc, self._space.name,
                     detail=f"no progress: the CPU stopped at {pc:#010x} without executing an instruction")

    def _wait_for_interrupt(self) -> Stop | None:
        trap = Trap("wait", self.cpu.pc)
        if self.trap_handler is None:
            self.waiting = True
            return None
        if self.trap_handler(trap):
            return None
        return Stop("trap", self.clock.now, trap=trap)

    def _take_trap(self, trap: Trap) -> Stop | None:
        """A trap that ended emu_start (rather than arriving in the interrupt hook)."""
        if self.trap_handler is not None and self.trap_handler(trap):
            if self._pending_error is not None:
                err, self._pending_error = self._pending_error, None
                raise err
            return None
        return Stop("trap", self.clock.now, trap=trap)

    def _event_from(self, error: UcError) -> Fault | Trap:
        pc = self.cpu.pc
        name = self._space.name
        refusal = self._tlb.refusal
        if error.errno == UC_ERR_EXCEPTION and refusal is not None:
            # the TLB sees the page of an access (Unicorn's page: 1 KiB on ARM); a fetch
            # refused in the pc's own page is at the pc (one in the next page straddles it)
            address = refusal.address
            if refusal.access is AccessKind.FETCH and address <= pc < address + PAGE_SIZE:
                address = pc
            return Fault(refusal.kind, pc, name, address, refusal.access,
                         detail=_SENTINEL_DETAIL if address >= SENTINEL_PAGE else "")
        if error.errno in _BUS_ERRORS and self._bus_error is not None:
            address, access = self._bus_error
            return Fault(FaultKind.BUS_ERROR, pc, name, address, access, detail="nothing at that physical address")
        decoded = self.cpu.decode_error(error, name, lambda a, n: self.read_virtual(self._space, a, n))
        if decoded is not None:
            return decoded
        return Fault(FaultKind.CPU_ERROR, pc, name, detail=str(error))

    # -- Unicorn callbacks (exceptions are carried out, never swallowed) ----------

    def _interrupt(self, intno: int) -> None:
        try:
            self._regain()
            event = self.cpu.decode_trap(intno, self._space.name)
            if isinstance(event, Fault):
                self._fault = event
                self.uc.emu_stop()
                return
            if self.trap_handler is None or not self.trap_handler(event):
                self._trap = event
                self.uc.emu_stop()
        except BaseException as e:
            self._carry(e)

    def _invalid_access(self, uc, access: int, address: int, size: int, value: int, _) -> bool:
        self._bus_error = (address, _INVALID.get(access, AccessKind.READ))
        return False

    def _carry(self, error: BaseException) -> None:
        if self._pending_error is None:
            self._pending_error = error
        self.uc.emu_stop()

    def _event_scheduled(self, when: int) -> None:
        self.counter.limit(when - self.clock.now)

    def _interrupt_became_pending(self) -> None:
        self._irq_pending = True
        if self.interrupt_handler is not None:
            self.counter.stop_now()

    def _poll_backends(self) -> None:
        for uart, backend in self._backends:
            data = backend.poll()
            if data:
                uart.feed(data)


class FaultError(Exception):
    """A host-side access (debugger, loader) that the address space refuses."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(str(fault))
        self.fault = fault


def _mmio_region(p):
    from .memory import Perm, Region
    return Region(p.name, p.base, p.size, Perm.R | Perm.W, "mmio")
