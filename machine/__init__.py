"""machine: the emulated boards — CPU per ISA on Unicorn, memory, virtual time, peripherals.

This package never imports `kernel` or `atoll`. Its public names are below;
everything else is internal to it.
"""

from .bounded import BoundedLog, Ring
from .board import BoardError, BoardSpec, CpuSpec, PeripheralSpec, ResetKind, known_boards, load_board
from .clock import Clock, Event
from .counter import (
    MIRRORS,
    NativeBuildError,
    add_native_hook,
    function_address,
    layout_mismatches,
    mirrors,
    native_library,
)
from .cpu import Cpu, Trap, TrapKind
from .debug import WATCH_KINDS, DebugHit, HitKind, MachineDebug
from .elf import ElfError, ElfImage, Segment, read_elf, symbols
from .hosttime import TIMINGS, TimingError
from .host.uart import BufferBackend, StdioBackend, TcpBackend, UartBackend
from .irq import InterruptController, IrqLine, PriorityController
from .roles import GpioBlock, Role, Uart
from .machine import FaultError, Machine, Stop, StopReason
from .memory import (
    PAGE_SIZE,
    AccessKind,
    AddressSpace,
    Fault,
    FaultKind,
    Mapping,
    MemoryMapError,
    Perm,
    Region,
)
from .peripheral import Peripheral
from .peripherals import PERIPHERAL_TYPES
from .regs import Access, Field, Register, RegisterMap, RegisterMapError
from .snapshot import MachineSnapshot, SnapshotError
from .tomlcheck import TomlChecker, kind_name, read_toml

__all__ = [
    "MIRRORS", "PAGE_SIZE", "PERIPHERAL_TYPES", "WATCH_KINDS", "Access", "AccessKind", "AddressSpace",
    "BoardError", "BoardSpec", "BoundedLog", "BufferBackend", "Clock", "Cpu", "CpuSpec", "DebugHit",
    "ElfError", "ElfImage", "Event", "Fault", "FaultError", "FaultKind", "Field", "GpioBlock", "HitKind",
    "InterruptController", "IrqLine", "Machine", "MachineDebug", "MachineSnapshot", "Mapping",
    "MemoryMapError", "NativeBuildError", "Peripheral", "PeripheralSpec", "Perm", "PriorityController",
    "Region", "Register", "RegisterMap", "RegisterMapError", "ResetKind", "Ring", "Role", "Segment",
    "SnapshotError", "StdioBackend", "Stop", "StopReason", "TIMINGS", "TcpBackend", "TimingError", "TomlChecker",
    "Trap", "TrapKind",
    "Uart", "UartBackend", "add_native_hook", "function_address", "kind_name", "known_boards",
    "layout_mismatches", "load_board", "mirrors", "native_library", "read_elf", "read_toml", "symbols",
]
