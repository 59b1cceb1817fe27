"""SiFive UART (FE310-G002 manual, chapter "Universal Asynchronous Receiver/Transmitter").

Models the registers txdata, rxdata, txctrl, rxctrl, ie, ip and div, an 8-entry
transmit FIFO feeding a shift register, an 8-entry receive FIFO, and one
interrupt output (`irq`) that is high while an enabled watermark is pending.

Timing is in virtual cycles of the board clock: one bit lasts div+1 cycles, so a
character lasts 10 bit times (start, 8 data, 1 stop) or 11 with txctrl.nstop=1.
The transmitter takes the head of the FIFO into its shift register when a
character starts (the FIFO count drops then) and hands the byte to the backend
when the character ends. The receiver delivers bytes the host `feed`s one per
character time while rxctrl.rxen is set; while it is clear they wait on the host
side. Both sides run on clock events, never per-cycle ticks.

Invariants:
- at most one transmit and one receive event is scheduled at any time;
- a write to txdata while the TX FIFO holds 8 bytes is ignored (as the manual says; only
  software that reads txdata.full, or swaps with amoor.w, can tell), and the machine says so
  once (`note_dropped`);
- a byte arriving while the RX FIFO holds 8 bytes is lost: the FE310 UART has no
  overrun flag, so the loss is only counted in `rx_dropped` and logged;
- ip is computed, never stored: txwm = TX count < txcnt, rxwm = RX count > rxcnt.
"""

from __future__ import annotations

import collections
import logging
from typing import Any, ClassVar

from ..clock import Clock, Event
from ..host.uart import UartBackend
from ..peripheral import Peripheral
from ..roles import Uart
from ..regs import Access, Field, Register, RegisterMap

log = logging.getLogger("atoll.machine")

FIFO_DEPTH = 8
DATA_BITS = 8

#: div after reset. The FE310-G002 manual gives 0x21E; the RTL sets it to
#: (peripheral bus design frequency / 115200).
DIV_RESET = 0x21E


class SifiveUart(Uart, Peripheral):
    """The FE310 UART: 8-entry FIFOs, watermark interrupts, a host backend."""

    PARAMS: ClassVar[dict[str, type]] = {}
    IRQS = ("irq",)
    WINDOW = 0x1000
    REGISTERS = RegisterMap([
        Register(0x00, "txdata", [
            Field("data", 0, 8, Access.WO, doc="byte to enqueue"),
            Field("full", 31, 1, Access.RO, doc="TX FIFO full; the write was ignored"),
        ]),
        Register(0x04, "rxdata", [
            Field("data", 0, 8, Access.RO, doc="received byte (reading pops it)"),
            Field("empty", 31, 1, Access.RO, reset=1, doc="RX FIFO was empty"),
        ]),
        Register(0x08, "txctrl", [
            Field("txen", 0, doc="transmit enable"),
            Field("nstop", 1, doc="0: one stop bit, 1: two"),
            Field("txcnt", 16, 3, doc="txwm pends while TX count < txcnt"),
        ]),
        Register(0x0C, "rxctrl", [
            Field("rxen", 0, doc="receive enable"),
            Field("rxcnt", 16, 3, doc="rxwm pends while RX count > rxcnt"),
        ]),
        Register(0x10, "ie", [Field("txwm", 0), Field("rxwm", 1)]),
        Register(0x14, "ip", [Field("txwm", 0, access=Access.RO), Field("rxwm", 1, access=Access.RO)]),
        Register(0x18, "div", [Field("div", 0, 16, reset=DIV_RESET, doc="bit time = div+1 cycles")]),
    ])

    def __init__(self, name: str, clock: Clock) -> None:
        super().__init__(name, clock)
        self.backend: UartBackend | None = None
        self.rx_dropped = 0
        self._tx_fifo: collections.deque[int] = collections.deque()
        self._rx_fifo: collections.deque[int] = collections.deque()
        self._host: collections.deque[int] = collections.deque()
        self._tx_shift: int | None = None
        self._tx_event: Event | None = None
        self._rx_event: Event | None = None
        self.on_read("txdata", self._read_txdata)
        self.on_write("txdata", self._write_txdata)
        self.on_read("rxdata", self._read_rxdata)
        self.on_write("txctrl", self._write_txctrl)
        self.on_write("rxctrl", self._write_rxctrl)
        self.on_read("ip", self._read_ip)

    # -- host side -------------------------------------------------------------------

    def attach(self, backend: UartBackend | None) -> None:
        """Where transmitted bytes go (None: they are discarded)."""
        self.backend = backend

    def feed(self, data: bytes) -> None:
        """Queue host input; it arrives one byte per character time while rxen is set."""
        self._host.extend(data)
        self._schedule_rx()

    @property
    def input_pending(self) -> int:
        """Host bytes not yet delivered into the RX FIFO (0 when none)."""
        return len(self._host)

    # -- timing ----------------------------------------------------------------------

    def char_cycles(self, stop_bits: int = 1) -> int:
        """Cycles one character lasts: start + 8 data + stop bits, each div+1 cycles."""
        return (self.get("div") + 1) * (1 + DATA_BITS + stop_bits)

    # -- registers -------------------------------------------------------------------

    def _read_txdata(self) -> int:
        return int(len(self._tx_fifo) >= FIFO_DEPTH) << 31

    def _write_txdata(self, value: int) -> None:
        if len(self._tx_fifo) >= FIFO_DEPTH:
            self.note_dropped("txdata written while the TX FIFO is full: the byte is dropped")
            return
        self._tx_fifo.append(value & 0xFF)
        self._start_tx()
        self.update_irq()

    def _read_rxdata(self) -> int:
        if not self._rx_fifo:
            return 1 << 31
        byte = self._rx_fifo.popleft()
        self.update_irq()
        return byte

    def _write_txctrl(self, value: int) -> None:
        self.store_write("txctrl", value)
        self._start_tx()
        self.update_irq()

    def _write_rxctrl(self, value: int) -> None:
        self.store_write("rxctrl", value)
        if self.get("rxctrl", "rxen"):
            self._schedule_rx()
        elif self._rx_event is not None:
            self._rx_event.cancel()   # the byte in flight stays on the host side
            self._rx_event = None
        self.update_irq()

    def _read_ip(self) -> int:
        txwm = len(self._tx_fifo) < self.get("txctrl", "txcnt")
        rxwm = len(self._rx_fifo) > self.get("rxctrl", "rxcnt")
        return int(txwm) | int(rxwm) << 1

    # -- transmitter -----------------------------------------------------------------

    def _start_tx(self) -> None:
        if self._tx_shift is not None or not self._tx_fifo or not self.get("txctrl", "txen"):
            return
        self._tx_shift = self._tx_fifo.popleft()
        stop_bits = 2 if self.get("txctrl", "nstop") else 1
        self._tx_event = self.clock.after(self.char_cycles(stop_bits), self._tx_done)

    def _tx_done(self) -> None:
        byte, self._tx_shift, self._tx_event = self._tx_shift, None, None
        if self.backend is not None and byte is not None:
            self.backend.transmit(byte, self.clock.now)
        self._start_tx()
        self.update_irq()

    # -- receiver --------------------------------------------------------------------

    def _schedule_rx(self) -> None:
        if self._rx_event is None and self._host and self.get("rxctrl", "rxen"):
            self._rx_event = self.clock.after(self.char_cycles(), self._rx_done)

    def _rx_done(self) -> None:
        self._rx_event = None
        byte = self._host.popleft()
        if len(self._rx_fifo) < FIFO_DEPTH:
            self._rx_fifo.append(byte)
        else:
            self.rx_dropped += 1
            log.debug("%s: received byte %#x lost, RX FIFO full (no overrun flag)", self.name, byte)
        self._schedule_rx()
        self.update_irq()

    # -- life cycle ------------------------------------------------------------------

    def update_irq(self) -> None:
        self.irq["irq"].set(self._read_ip() & self.get("ie"))

    def reset_state(self) -> None:
        for ev in (self._tx_event, self._rx_event):
            if ev is not None:
                ev.cancel()
        self._tx_event = self._rx_event = None
        self._tx_shift = None
        self._tx_fifo.clear()
        self._rx_fifo.clear()
        self._host.clear()
        self.rx_dropped = 0

    def extra_state(self) -> Any:
        return {
            "tx_fifo": list(self._tx_fifo),
            "rx_fifo": list(self._rx_fifo),
            "host": list(self._host),
            "tx_shift": self._tx_shift,
            "tx_done_at": self._tx_event.when if self._tx_event is not None else None,
            "rx_done_at": self._rx_event.when if self._rx_event is not None else None,
            "rx_dropped": self.rx_dropped,
        }

    def restore_extra_state(self, state: Any) -> None:
        self.reset_state()
        self._tx_fifo.extend(state["tx_fifo"])
        self._rx_fifo.extend(state["rx_fifo"])
        self._host.extend(state["host"])
        self._tx_shift = state["tx_shift"]
        self.rx_dropped = state["rx_dropped"]
        if state["tx_done_at"] is not None:
            self._tx_event = self.clock.schedule(state["tx_done_at"], self._tx_done)
        if state["rx_done_at"] is not None:
            self._rx_event = self.clock.schedule(state["rx_done_at"], self._rx_done)
