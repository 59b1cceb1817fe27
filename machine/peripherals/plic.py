"""SiFive PLIC (FE310-G002 manual, chapter "Platform-Level Interrupt Controller").

The FE310 PLIC takes 52 interrupt sources (ids 1..52; id 0 means "none") and
serves one context: hart 0 in M mode. Each source has a 3-bit priority (0 never
interrupts), a pending bit and an enable bit; the context has a threshold and a
claim/complete register:

    0x000004 + 4*id   priority of source id
    0x001000          pending bits, 32 per word (read-only)
    0x002000          enable bits of hart 0 M mode, 32 per word
    0x200000          threshold of hart 0 M mode
    0x200004          claim (read) / complete (write) of hart 0 M mode

The E31 core has no S mode, so the second context a PLIC might have (enables at
0x002080, threshold and claim at 0x201000) is declared absent: accesses to it are
reported by name.

Each source passes a level-triggered gateway: while its line is high and it is not
in flight, it becomes pending and in flight; a claim clears pending; a complete
ends the flight, after which a line still high pends again.

Invariants:
- `pending()` lists sources pending, enabled and of priority above the threshold,
  the highest priority first, ties by the lowest id; `claim()` takes its head;
- `listener()` is called whenever something may have become deliverable;
- priorities, enables and threshold have no defined reset value in the manual
  (the RTL does not reset them); this model resets them to 0, so nothing is
  delivered until software configures the PLIC.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, ClassVar

from ..clock import Clock
from ..irq import PriorityController
from ..peripheral import Peripheral
from ..regs import Access, Field, Register, RegisterMap

PRIORITY_BASE = 0x000000
PENDING_BASE = 0x001000
ENABLE_BASE = 0x002000
ENABLE_STRIDE = 0x80        # per context
CONTEXT_BASE = 0x200000
CONTEXT_STRIDE = 0x1000     # per context: threshold, then claim/complete


@functools.lru_cache(maxsize=None)
def plic_registers(num_sources: int, priority_bits: int) -> RegisterMap:
    """The register map of a PLIC with `num_sources` sources and one context."""
    regs = [Register(PRIORITY_BASE + 4 * s, f"priority{s}", [Field("priority", 0, priority_bits)])
            for s in range(1, num_sources + 1)]
    for word in range((num_sources + 32) // 32):
        lo, hi = max(1, 32 * word), min(num_sources, 32 * word + 31)
        bits = (lo - 32 * word, hi - lo + 1)
        regs.append(Register(PENDING_BASE + 4 * word, f"pending{word}",
                             [Field("pending", *bits, Access.RO)]))
        regs.append(Register(ENABLE_BASE + 4 * word, f"enable{word}", [Field("enable", *bits)]))
        regs.append(Register(ENABLE_BASE + ENABLE_STRIDE + 4 * word, f"enable{word}_ctx1",
                             implemented=False, doc="no second context on the FE310"))
    regs += [
        Register(CONTEXT_BASE, "threshold", [Field("threshold", 0, priority_bits)]),
        Register(CONTEXT_BASE + 4, "claim", [Field("id", 0, 32)]),
        Register(CONTEXT_BASE + CONTEXT_STRIDE, "threshold_ctx1", implemented=False),
        Register(CONTEXT_BASE + CONTEXT_STRIDE + 4, "claim_ctx1", implemented=False),
    ]
    return RegisterMap(regs)


class Plic(PriorityController, Peripheral):
    """The FE310 platform-level interrupt controller (hart 0, M mode)."""

    PARAMS: ClassVar[dict[str, type]] = {"num_sources": int, "priority_bits": int}
    WINDOW = 0x4000000
    REGISTERS = plic_registers(52, 3)

    def __init__(self, name: str, clock: Clock, num_sources: int = 52, priority_bits: int = 3) -> None:
        if not isinstance(num_sources, int) or not 1 <= num_sources <= 1023:
            raise ValueError(f"{name}: num_sources must be an integer from 1 to 1023, not {num_sources!r}")
        if not isinstance(priority_bits, int) or not 1 <= priority_bits <= 32:
            raise ValueError(f"{name}: priority_bits must be an integer from 1 to 32, not {priority_bits!r}")
        self.REGISTERS = plic_registers(num_sources, priority_bits)
        super().__init__(name, clock)
        self.num_sources = num_sources
        self.num_lines = num_sources + 1   # line numbers are source ids; 0 is never wired
        self.first_line = 1
        self.listener: Callable[[], None] | None = None
        self._valid = ((1 << (num_sources + 1)) - 1) & ~1
        self._words = (num_sources + 32) // 32
        self._level = 0       # line levels as the peripherals drive them
        self._pending = 0
        self._in_flight = 0   # forwarded by the gateway and not yet completed
        self._priority = [0] * (num_sources + 1)
        self._enabled = 0
        for s in range(1, num_sources + 1):
            self.on_write(f"priority{s}", functools.partial(self._write_priority, s))
        for word in range(self._words):
            self.on_read(f"pending{word}", functools.partial(self._read_pending, word))
            self.on_write(f"enable{word}", functools.partial(self._write_enable, word))
        self.on_write("threshold", self._write_threshold)
        self.on_read("claim", lambda: self.claim() or 0)
        self.on_write("claim", self._write_complete)

    # -- the InterruptController protocol -----------------------------------------------

    def set_line(self, line: int, level: bool) -> None:
        self._check(line)
        bit = 1 << line
        self._level = self._level | bit if level else self._level & ~bit
        self._gateway(bit)

    def pending(self) -> list[int]:
        threshold = self.get("threshold")
        ready = self._pending & self._enabled
        ids = []
        while ready:
            low = ready & -ready
            ready ^= low
            source = low.bit_length() - 1
            if self._priority[source] > threshold:
                ids.append(source)
        return sorted(ids, key=lambda s: (-self._priority[s], s))

    def set_enabled(self, line: int, enabled: bool) -> None:
        self._check(line)
        word, bit = divmod(line, 32)
        name = f"enable{word}"
        value = self.get(name)
        self.set(name, value | (1 << bit) if enabled else value & ~(1 << bit))
        self._sync_enabled()
        self._poke()

    def is_enabled(self, line: int) -> bool:
        self._check(line)
        return bool(self._enabled >> line & 1)

    def set_priority(self, line: int, priority: int) -> None:
        """Set a source's priority (0 never interrupts), as a write of its register."""
        self._check(line)
        self._write_priority(line, priority)

    def claim(self) -> int | None:
        """Take the most urgent deliverable source (as a read of the claim register)."""
        ready = self.pending()
        if not ready:
            return None
        self._pending &= ~(1 << ready[0])
        return ready[0]

    def complete(self, line: int) -> None:
        """End the handling of `line`; if its line is still high it pends again."""
        self._check(line)
        bit = 1 << line
        self._in_flight &= ~bit
        self._gateway(bit)

    # -- gateway ---------------------------------------------------------------------

    def _gateway(self, bit: int) -> None:
        if self._level & bit and not self._in_flight & bit:
            self._pending |= bit
            self._in_flight |= bit
            self._poke()

    def _poke(self) -> None:
        if self.listener is not None and self.pending():
            self.listener()

    def _check(self, line: int) -> None:
        if not isinstance(line, int) or not 1 <= line <= self.num_sources:
            raise ValueError(
                f"{self.name}: interrupt source must be an integer from 1 to {self.num_sources}, not {line!r}")

    # -- registers -------------------------------------------------------------------

    def _write_priority(self, source: int, value: int) -> None:
        self.store_write(f"priority{source}", value)
        self._priority[source] = self.get(f"priority{source}")
        self._poke()

    def _read_pending(self, word: int) -> int:
        return (self._pending >> (32 * word)) & self.REGISTERS[f"pending{word}"].read_mask

    def _write_enable(self, word: int, value: int) -> None:
        self.store_write(f"enable{word}", value)
        self._sync_enabled()
        self._poke()

    def _write_threshold(self, value: int) -> None:
        self.store_write("threshold", value)
        self._poke()

    def _write_complete(self, value: int) -> None:
        # The manual: a completion for a source not enabled for the context is ignored.
        if 1 <= value <= self.num_sources and self._enabled >> value & 1:
            self.complete(value)

    def _sync_enabled(self) -> None:
        self._enabled = 0
        for word in range(self._words):
            self._enabled |= self.get(f"enable{word}") << (32 * word)

    # -- life cycle ------------------------------------------------------------------

    def reset_state(self) -> None:
        self._priority = [0] * (self.num_sources + 1)
        self._enabled = 0
        self._pending = self._in_flight = self._level & self._valid

    def extra_state(self) -> Any:
        return {"level": self._level, "pending": self._pending, "in_flight": self._in_flight}

    def restore_extra_state(self, state: Any) -> None:
        self._level = state["level"]
        self._pending = state["pending"]
        self._in_flight = state["in_flight"]
        self._priority = [0] + [self.get(f"priority{s}") for s in range(1, self.num_sources + 1)]
        self._sync_enabled()
