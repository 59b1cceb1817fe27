"""A board brought to life: CPU, memory, peripherals and virtual time on one Unicorn.

`Machine(board)` builds everything a `BoardSpec` names. Physical memory is mapped
once; every access the CPU makes goes through Unicorn's virtual TLB, whose fill
hook asks the active `AddressSpace` (`activate`) for a translation. MMIO windows
dispatch to the peripheral models. The TLB fill runs in C (machine/tlb.py); the
only Python hooks are the interrupt hook (on a trap) and the invalid-memory hook
(on a bus error): normal running has no per-instruction or per-block Python call.

The run loop (machine/runloop.py, `RunLoop`) executes the CPU up to the next deadline (a peripheral's event, a
requested stop, the end of the run) in one `emu_start`, counted exactly by the
native instruction counter, then fires due events and polls host backends. A
slice ends at the first translated-block boundary at or after its deadline
(native/counter.c says why); `step` stops exactly. With
the CPU waiting (WFI, or the kernel idle) time jumps to the next deadline. `Machine(board,
timing="host")` counts nothing: time follows the host's clock (machine/hosttime.py).

Traps go to `trap_handler` (the kernel); without one, a syscall or breakpoint
ends the run. Faults always end the run with a structured `Fault`, except in a
bare-metal run with a guest exception model (`guest`, set by `load_elf`
on RISC-V: machine/exceptions/riscv.py), where traps, faults and interrupts enter the
program's own handlers as the architecture says. A Python
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

Which address space runs, and the native trap filter in front of Python, are
`ActiveSpace` and `TrapFront` (machine/trapfront.py). Peripherals are found by name
or by the role they play (`peripheral(name, Uart)`, `uarts`, `gpio_blocks`, `playing`;
machine/roles.py). The machine saves and restores its own state with `state()` and
`set_state()`; machine/snapshot.py composes a whole snapshot from such calls.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass
from typing import Callable, TypeVar

from unicorn import UcError
from unicorn.unicorn_const import UC_PROT_ALL, UC_TLB_VIRTUAL

from .board import BoardSpec, ResetKind, load_board
from .clock import Clock
from .counter import InstructionCounter
from .cpu import CPU_TYPES, Cpu, Rv32, Trap
from .csr import VirtualCounters
from .elf import ElfError, ElfImage, read_elf
from .guest_memory import map_memory
from .exceptions.riscv import RiscvMachineMode
from .hosttime import HostCounter, check_timing, needs_exact
from .irq import InterruptController
from .memory import PAGE_SIZE, AccessKind, AddressSpace, Fault, FaultKind, Perm, Region
from .peripheral import Peripheral
from .peripherals.clint import Clint
from .roles import GpioBlock, Role, Uart
from .snapshot import MachineSnapshot, restore, take
from .runloop import NO_EXIT, SENTINEL_PAGE, RunLoop, Stop, StopReason
from .tlb import NativeTlb
from .timed_mmio import map_peripheral
from .trapfront import ActiveSpace, TrapFront

__all__ = ["DEFAULT_MAX_SLICE_SECONDS", "SENTINEL_PAGE", "FaultError", "Machine", "MachineState", "Stop",
           "StopReason"]

#: longest slice between polls of host backends when nothing else is due
DEFAULT_MAX_SLICE_SECONDS = 0.01

R = TypeVar("R", bound=Role)


@dataclass(frozen=True)
class MachineState:
    """The machine's own state outside memory, CPU registers, clock and peripherals."""

    waiting: bool
    irq_pending: bool
    user_mode: bool
    space: AddressSpace
    #: the levels an OR gate holds per input, one dict per gate in wiring order
    gate_levels: tuple[dict[int, bool], ...]
    #: the guest exception model's own state (None without one)
    guest: object = None


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

    def __init__(self, board: BoardSpec | str | pathlib.Path, timing: str = "exact") -> None:
        self.timing = check_timing(timing)   # "exact", or "host": machine/hosttime.py
        self.board = board if isinstance(board, BoardSpec) else load_board(board)
        spec = self.board
        self.isa: str = spec.cpu.isa
        self.cpu: Cpu = CPU_TYPES[spec.cpu.isa].create(spec.cpu.model)
        self.uc = self.cpu.uc
        self.host_time = HostCounter(self.uc, spec.cpu.frequency_hz) if timing == "host" else None
        self.counter = self.host_time or InstructionCounter(self.uc, getattr(self.cpu, "it_guard", None))
        self.clock = Clock(spec.cpu.frequency_hz, self.counter)
        self.max_slice = self.clock.cycles(DEFAULT_MAX_SLICE_SECONDS)
        #: called with each Trap; return True to go on running, False to end the run
        self.trap_handler: Callable[[Trap], bool] | None = None
        #: called at a slice boundary when the interrupt controller has something pending
        self.interrupt_handler: Callable[[], None] | None = None
        #: a bare-metal program's exception model (machine/exceptions/), attached by `load_elf`
        self.guest = None
        self.waiting = False
        #: pace idle time to the wall clock (interactive runs), instead of jumping
        self.realtime = False
        #: with `realtime`, whether the idle steps are slept (False: the same steps, at once)
        self.realtime_sleep = True
        #: True while the CPU runs (inside `emu_start`)
        self.executing = False
        self.image: ElfImage | None = None
        self.reset_request: str | None = None   # a peripheral that asked for a board reset (_reset_requester)
        self._memory = map_memory(self.uc, spec.regions)
        _map_sentinel(self.cpu)
        self.peripherals: dict[str, Peripheral] = {}
        flush, carry = (lambda: self._spaces.tlb.flush()), (lambda e: self._loop.carry(e))
        self._mmio = [_map_peripheral(self, p, flush, carry) for p in spec.peripherals]   # kept alive
        self.bare_space = AddressSpace.identity("bare-metal", list(spec.regions) + [
            Region(p.name, p.base, p.size, Perm.R | Perm.W, "mmio") for p in spec.peripherals])
        self._loop = RunLoop(self, None)
        self._loop.counters = _virtual_counters(self, self._loop.carry)
        if self._loop.counters is not None and self.host_time is None:
            self.counter.run_around(self._loop.counters.native_enter)
        self.clock.on_schedule = self._loop.event_scheduled
        self.interrupts: InterruptController | None = None
        self._gates: list[_OrGate] = []
        if spec.interrupt_controller is not None:
            self.interrupts = self.peripherals[spec.interrupt_controller]  # type: ignore[assignment]
            self.interrupts.listener = self._loop.interrupt_became_pending
            self._gates = _wire_interrupts(self)
        self.uc.ctl_set_tlb_mode(UC_TLB_VIRTUAL)
        # exits on and none set: nothing but the counter's deadline ends an emu_start
        self.uc.ctl_exits_enabled(True)
        tlb = NativeTlb(self.uc, SENTINEL_PAGE)
        if self.host_time is None:
            self.counter.read_code_through(tlb.code_fields, SENTINEL_PAGE, self._memory)
        trap = self._loop.interrupt if self.host_time is None else self.host_time.outside(self._loop.interrupt)
        self._spaces = self._loop.spaces = ActiveSpace(
            tlb, TrapFront(self.uc, tlb, trap, self._loop.carry), self.bare_space)
        #: `activate(space)`: run from now on in `space` (flushes the TLB when the space changes)
        self.activate = self._spaces.activate

    # -- looking at the machine ------------------------------------------------

    def peripheral(self, name: str, role: type[R] | None = None) -> R | Peripheral:
        """The peripheral `name`; with a `role` (machine/roles.py), one that plays it."""
        try:
            dev = self.peripherals[name]
        except KeyError:
            raise KeyError(f"board {self.board.name} has no peripheral {name!r}; "
                           f"it has: {', '.join(self.peripherals)}") from None
        if role is not None and not isinstance(dev, role):
            raise TypeError(f"peripheral {name!r} is not {role.ROLE}")
        return dev

    def playing(self, role: type[R]) -> dict[str, R]:
        """Every peripheral playing `role` (machine/roles.py), by name, in board order."""
        return {name: dev for name, dev in self.peripherals.items() if isinstance(dev, role)}

    @property
    def uarts(self) -> dict[str, Uart]:
        return self.playing(Uart)

    @property
    def gpio_blocks(self) -> dict[str, GpioBlock]:
        return self.playing(GpioBlock)

    def attach_uart(self, name: str, backend) -> None:
        """Connect a host backend (BufferBackend, StdioBackend, TcpBackend) to a UART."""
        uart = self.peripheral(name, Uart)
        uart.attach(backend)
        loop = self._loop
        loop.backends = [(u, b) for u, b in loop.backends if u is not uart] + [(uart, backend)]

    # -- address spaces and a native trap filter (see trapfront.py) ------------------

    @property
    def space(self) -> AddressSpace:
        return self._spaces.space

    def set_trap_filter(self, function: int | None, data: int | None, sync: Callable[[], None] | None) -> None:
        """Put a C trap filter in front of the Python trap path: `function(uc, intno, data)`
        handles a trap completely and answers with a `space_index`, or answers -1. `sync()`
        runs each time Python takes the machine back. None removes the filter."""
        self._spaces.front.set_filter(function, data, sync)

    def space_index(self, space: AddressSpace) -> int | None:
        """`space`'s index for a trap filter's answer (None: too many spaces for filters)."""
        return self._spaces.front.index(space)

    @property
    def traps_filtered(self) -> int:
        """Traps a native filter handled, in all."""
        return self._spaces.front.filtered

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
        """Drop every translation: of guest code (after code in memory changed), and of
        addresses, since Unicorn decides when it fills a TLB entry whether the page's accesses
        look for memory hooks (stores to pages that never held code skip them), so a memory
        hook added or removed later needs this too."""
        self.uc.ctl_flush_tb()
        self._spaces.tlb.flush()

    def read_virtual(self, space: AddressSpace, address: int, size: int) -> bytes:
        """Bytes as `space` sees them; a Fault if any byte is unmapped or unreadable."""
        out = bytearray()
        for physical, n in _pieces(self, space, address, size, AccessKind.READ):
            out += self.uc.mem_read(physical, n)
        return bytes(out)

    def write_virtual(self, space: AddressSpace, address: int, data: bytes) -> None:
        data = bytes(data)
        done = 0
        for physical, n, perms in _pieces(self, space, address, len(data), AccessKind.WRITE, perms=True):
            self.uc.mem_write(physical, data[done:done + n])
            if perms & Perm.X:  # code changed under Unicorn's translations of it
                self.uc.ctl_flush_tb()
            done += n

    # -- bare-metal boot -------------------------------------------------------

    def load_elf(self, path: str | pathlib.Path) -> ElfImage:
        """Load a bare-metal ELF at its physical addresses and reset the CPU into it."""
        image = read_elf(path, self.isa)
        for seg in image.segments:
            region = self.board.region_at(seg.paddr, seg.memsize)
            if region is None:
                raise ElfError(f"{image.path}: segment at {seg.paddr:#x}-{seg.paddr + seg.memsize:#x} "
                               f"is outside the memory of board {self.board.name}")
        self.image = image
        _write_image(self)
        self.reset_cpu()
        if self.guest is None and self.isa == "armv7m" and self.interrupts is not None:
            # bare metal only: a kernel never loads an ELF this way, so its path is unchanged
            from .exceptions.armv7m import Armv7mExceptions
            self.guest = Armv7mExceptions(self)
        elif self.guest is None and isinstance(self.cpu, Rv32):
            self.guest = RiscvMachineMode(self, self._loop.interrupt_became_pending)
        return image

    def reset(self) -> None:
        """The whole board as at power-on: time back to zero, every peripheral reset,
        the loaded ELF (if any) written again, and the CPU reset into it."""
        self.clock.reset()
        self.reset_request = None
        for dev in self.peripherals.values():
            dev.reset()
        _write_image(self)
        self._loop.irq_pending = False
        if self.guest is not None:
            self.guest.reset()
        self.reset_cpu()

    def reset_cpu(self) -> None:
        """The CPU as after reset: registers cleared, then SP/PC the way the board resets."""
        self.cpu.reset()
        self.activate(self.bare_space)
        self.waiting = False
        cpu = self.board.cpu
        if cpu.reset is ResetKind.VECTOR_TABLE:
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
            tlb = self._spaces.tlb
            try:
                with tlb.machine_use():
                    if self.host_time is None:
                        self.counter.arm(1)   # the trampoline's one block, `mret`
                    else:   # no counter: the mret ends its block, so stop at the next block
                        self.host_time.one_block()
                    self.uc.emu_start(SENTINEL_PAGE, NO_EXIT)
            except UcError:
                pass  # after the mret Unicorn translates the next pc, which may be unmapped here
            finally:
                self.counter.rewind(executed)
                tlb.clear_refusal()
            if self.cpu.pc != resume:
                raise RuntimeError(f"entering user mode ended at {self.cpu.pc:#x}, not {resume:#x}")
        self.cpu.enter_user_mode()

    # -- the machine's own state (machine/snapshot.py saves and restores the whole) -------

    def state(self) -> MachineState:
        """The machine's own state between runs (not memory, CPU, clock or peripherals)."""
        guest = self.guest
        return MachineState(self.waiting, self._loop.irq_pending, self.cpu.user_mode, self.space,
                            tuple(dict(g.levels) for g in self._gates), guest.state() if guest is not None else None)

    def set_state(self, state: MachineState) -> None:
        """Put back what `state` recorded; no run is under way after it, and the TLB
        serves `state.space` afresh."""
        self.cpu.user_mode = state.user_mode
        for gate, levels in zip(self._gates, state.gate_levels):
            gate.levels = dict(levels)
        self.waiting = state.waiting
        if self.guest is not None:
            self.guest.set_state(state.guest)
        self._loop.clear(irq_pending=state.irq_pending)
        self._spaces.activate(state.space, force=True)
        self._spaces.tlb.clear_refusal()

    def host_objects(self) -> list[object]:
        """The host objects the machine is made of (what a copy of an object graph that
        refers to them must share, not copy: machine/snapshot.py)."""
        return [self, self.clock, self.cpu, self.uc, self.counter, self._spaces.tlb, self.board, self.image,
                self.bare_space, *self.peripherals.values(), *self._gates, *(b for _, b in self._loop.backends)]

    def snapshot(self, attached=None, keep=()) -> MachineSnapshot:
        """The whole machine's state now, to `restore` later (between runs only).

        `attached` is an object graph of the caller's (a kernel's state) copied along
        with the clock events it scheduled; `keep` lists objects the copy shares rather
        than copies (machine/snapshot.py)."""
        return take(self, attached, keep)

    def restore(self, snap: MachineSnapshot, keep=()):
        """Put the machine back exactly as it was at `snap`; returns a fresh copy of the
        graph attached to the snapshot (None if there was none)."""
        return restore(self, snap, keep)

    # -- running ---------------------------------------------------------------

    def request_stop(self) -> None:
        """End the current run at the next instruction boundary (callable from callbacks)."""
        self._loop.stop_requested = True
        self.counter.stop_now()

    def carry(self, error: BaseException) -> None:
        """From a callback inside a run: stop the run and raise `error` out of it."""
        self._loop.carry(error)

    def run_for(self, seconds: float) -> Stop:
        return self._loop.run(self.clock.now + self.clock.cycles(seconds), None)

    def run(self, cycles: int) -> Stop:
        """Run for `cycles` of virtual time (or until a fault, trap or stop request)."""
        return self._loop.run(self.clock.now + cycles, None)

    def run_until(self, condition: Callable[[], bool], timeout: float,
                  check_every: float = 0.001) -> Stop:
        """Run until `condition()` holds (checked at slice boundaries and at least every
        `check_every` seconds of virtual time) or `timeout` seconds of virtual time pass."""
        if condition():
            return Stop(StopReason.CONDITION, self.clock.now)
        stop = self._loop.run(self.clock.now + self.clock.cycles(timeout), condition,
                              max(1, self.clock.cycles(check_every)))
        return Stop(StopReason.TIMEOUT, stop.cycle) if stop.reason is StopReason.TIME else stop

    def step(self, instructions: int = 1, events: bool = True) -> Stop:
        """Execute exactly `instructions` instructions (fewer if a fault or trap ends it).

        With `events=False` (a debugger's single step) no due clock event or pending
        interrupt is taken before or between them: they wait for the next run. Exact
        timing only (a `TimingError` in host timing).
        """
        if self.host_time is not None:
            raise needs_exact("single steps")
        if events:
            return self._loop.run(None, None, instructions=instructions)
        return self._loop.step_quietly(instructions)


class FaultError(Exception):
    """A host-side access (debugger, loader) that the address space refuses."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(str(fault))
        self.fault = fault


def _map_peripheral(machine: Machine, p, flush_tlb: Callable[[], None],
                    carry: Callable[[BaseException], None]):
    """Create board peripheral `p` and map its window (machine/timed_mmio.py)."""
    cpu = machine.cpu
    dev = p.cls(p.name, machine.clock, **p.params)
    machine.peripherals[p.name] = dev
    dev.pc_source = lambda: cpu.pc   # exact in an MMIO callback (machine/timed_mmio.py)
    dev.board_reset = _reset_requester(machine)
    return map_peripheral(machine.uc, p.base, p.size, dev, machine.counter, cpu, flush_tlb, carry)


def _reset_requester(machine: Machine) -> Callable[[str], None]:
    """What a peripheral calls when it resets the board (a watchdog's reset output): the
    machine notes its name in `reset_request` and ends the run; the caller acts on it
    with `reset()`, which clears it."""
    def requested(name: str) -> None:
        machine.reset_request = name
        machine.request_stop()
    return requested


def _virtual_counters(machine: Machine, carry) -> VirtualCounters | None:
    """The RISC-V counter CSRs, answered from virtual time (machine/csr.py); None on ARM."""
    if not isinstance(machine.cpu, Rv32):
        return None
    clint = next((dev for dev in machine.peripherals.values() if isinstance(dev, Clint)), None)
    return VirtualCounters(machine.clock, None if clint is None else (lambda: clint.mtime), carry)


def _wire_interrupts(machine: Machine) -> list[_OrGate]:
    """Connect every peripheral output the board wires to the controller; the OR gates
    made for lines with several outputs, in wiring order."""
    controller = machine.interrupts
    by_line: dict[int, list] = {}
    for p in machine.board.peripherals:
        for out, line in p.irq.items():
            by_line.setdefault(line, []).append(machine.peripherals[p.name].irq[out])
    gates = []
    for line, outputs in by_line.items():
        if len(outputs) == 1:
            outputs[0].connect(controller, line)
        else:
            gate = _OrGate(controller, line)
            gates.append(gate)
            for i, out in enumerate(outputs):
                out.connect(gate, i)
    return gates


def _map_sentinel(cpu: Cpu) -> None:
    """Map the sentinel page, filled with undefined instructions (ARM `udf`; on RISC-V
    all-zero halfwords are illegal) so that guest code straying there faults, and on
    RISC-V the user-entry trampoline at its start."""
    cpu.uc.mem_map(SENTINEL_PAGE, PAGE_SIZE, UC_PROT_ALL)
    cpu.uc.mem_write(SENTINEL_PAGE, cpu.UNDEFINED_FILL * (PAGE_SIZE // 2))
    if isinstance(cpu, Rv32):
        cpu.uc.mem_write(SENTINEL_PAGE, Rv32.USER_ENTRY_CODE)


def _write_image(machine: Machine) -> None:
    """Write the loaded ELF's segments (zero-filled to their memory size), if one is loaded."""
    if machine.image is not None:
        for seg in machine.image.segments:
            machine.uc.mem_write(seg.paddr, seg.data + bytes(seg.memsize - len(seg.data)))


def _pieces(machine: Machine, space: AddressSpace, address: int, size: int, access: AccessKind,
            perms: bool = False):
    """(physical address, length[, perms]) of each mapping `size` bytes at `address` of
    `space` cross; a FaultError at the first byte `space` does not map."""
    while size > 0:
        m = space.lookup(address)
        if m is None:
            raise FaultError(Fault(FaultKind.UNMAPPED, machine.cpu.pc, space.name, address, access))
        n = min(size, m.vend - address)
        yield (m.pbase + (address - m.vbase), n, m.perms) if perms else (m.pbase + (address - m.vbase), n)
        address += n
        size -= n
