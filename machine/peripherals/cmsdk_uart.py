"""CMSDK APB UART (ARM DDI0479, Cortex-M System Design Kit TRM, "APB UART").

A one-byte transmit buffer and a one-byte receive buffer, no FIFOs, 8N1 framing
at a bit time of BAUDDIV cycles (a character is 10 bit times). Interrupt status
bits TXINT and RXINT are events latched in INTSTATUS until written with 1; the
overrun interrupts are the STATE overrun flags gated by their enables, and
clearing an overrun through STATE or INTCLEAR clears the same flag (as in the
part's RTL).

Model invariants and choices:
- Transmit: the buffer and the shift register are one; writing DATA with TXEN
  set holds TXFULL for one character time, then hands the byte to the backend
  with the completion cycle, clears TXFULL and latches TXINT if TXINTEN. (The
  real part moves the byte into its shift register within a cycle when idle, so
  it can hold two bytes in flight; this model holds one.) With BAUDDIV < 16 (not
  a legal setting) a character takes 0 cycles: the byte leaves at once. In high-
  speed test mode (HSTM) a bit takes one cycle. A write while TXFULL sets TXOVR
  and the byte is dropped, and the machine says so once (`note_dropped`); a write with TXEN clear is dropped, as the RTL's idle
  transmitter discards it.
- Receive: host bytes queue on the host side (`feed`) and arrive one per
  character time (BAUDDIV, at least 16 cycles, per bit) only while RXEN is set.
  A byte arriving while RXFULL overwrites the unread byte and sets RXOVR (the
  RTL samples into the buffer regardless); RXINT latches on every arrival if
  RXINTEN. Reading DATA returns the buffer and clears RXFULL.
- Only `update_irq()` drives the outputs: rx = RXINT, tx = TXINT,
  overflow = TXOVRINT | RXOVRINT.
"""

from __future__ import annotations

import collections
from typing import Any, ClassVar

from ..clock import Clock, Event
from ..host.uart import UartBackend
from ..peripheral import Peripheral
from ..roles import Uart
from ..regs import Access, Field, Register, RegisterMap
from .cmsdk_ids import id_registers

RO, W1C = Access.RO, Access.W1C

BITS_PER_CHAR = 10      # start, 8 data, stop
MIN_BAUDDIV = 16        # the TRM's minimum divider


class CmsdkUart(Uart, Peripheral):
    PARAMS: ClassVar[dict[str, type]] = {}
    IRQS = ("rx", "tx", "overflow")
    REGISTERS = RegisterMap([
        Register(0x000, "DATA", [Field("DATA", 0, 8, doc="read: RX buffer; write: transmit")]),
        Register(0x004, "STATE", [
            Field("TXFULL", 0, 1, RO), Field("RXFULL", 1, 1, RO),
            Field("TXOVR", 2, 1, W1C), Field("RXOVR", 3, 1, W1C)]),
        Register(0x008, "CTRL", [
            Field("TXEN", 0), Field("RXEN", 1), Field("TXINTEN", 2), Field("RXINTEN", 3),
            Field("TXOVRINTEN", 4), Field("RXOVRINTEN", 5), Field("HSTM", 6)]),
        Register(0x00C, "INTSTATUS", [
            Field("TXINT", 0, 1, W1C), Field("RXINT", 1, 1, W1C),
            Field("TXOVRINT", 2, 1, W1C), Field("RXOVRINT", 3, 1, W1C)],
            doc="read: INTSTATUS; write: INTCLEAR"),
        Register(0x010, "BAUDDIV", [Field("BAUDDIV", 0, 20)]),
        *id_registers(0x821),
    ])

    def __init__(self, name: str, clock: Clock) -> None:
        super().__init__(name, clock)
        self.backend: UartBackend | None = None
        self._host_rx: collections.deque[int] = collections.deque()
        self._tx_byte = 0
        self._tx_event: Event | None = None
        self._rx_event: Event | None = None
        self.on_read("DATA", self._read_data)
        self.on_write("DATA", self._write_data)
        self.on_write("CTRL", self._write_ctrl)
        self.on_read("INTSTATUS", self._read_intstatus)
        self.on_write("INTSTATUS", self._write_intclear)

    # -- host side -----------------------------------------------------------------

    def attach(self, backend: UartBackend | None) -> None:
        """Send transmitted bytes to `backend` (None discards them)."""
        self.backend = backend

    def feed(self, data: bytes) -> None:
        """Queue bytes on the line into the receiver; they arrive at the line rate."""
        self._host_rx.extend(data)
        self._schedule_rx()

    @property
    def input_pending(self) -> int:
        """Bytes still queued on the host side."""
        return len(self._host_rx)

    # -- timing --------------------------------------------------------------------

    def tx_char_cycles(self) -> int:
        if self.get("CTRL", "HSTM"):
            return BITS_PER_CHAR
        div = self.get("BAUDDIV")
        return 0 if div < MIN_BAUDDIV else BITS_PER_CHAR * div

    def rx_char_cycles(self) -> int:
        return BITS_PER_CHAR * max(self.get("BAUDDIV"), MIN_BAUDDIV)

    # -- transmit ------------------------------------------------------------------

    def _write_data(self, value: int) -> None:
        if not self.get("CTRL", "TXEN"):
            return
        if self.get("STATE", "TXFULL"):
            self.note_dropped("DATA written while TXFULL: the byte is dropped and TXOVR set")
            self.set("STATE", 1, "TXOVR")
            self.update_irq()
            return
        self._tx_byte = value & 0xFF
        cycles = self.tx_char_cycles()
        if cycles == 0:
            self._tx_done()
            return
        self.set("STATE", 1, "TXFULL")
        self._tx_event = self.clock.after(cycles, self._tx_done)

    def _tx_done(self) -> None:
        self._tx_event = None
        self.set("STATE", 0, "TXFULL")
        if self.backend is not None:
            self.backend.transmit(self._tx_byte, self.clock.now)
        if self.get("CTRL", "TXINTEN") and self.get("CTRL", "TXEN"):
            self.set("INTSTATUS", 1, "TXINT")
        self.update_irq()

    # -- receive -------------------------------------------------------------------

    def _schedule_rx(self) -> None:
        if self._rx_event is None and self._host_rx and self.get("CTRL", "RXEN"):
            self._rx_event = self.clock.after(self.rx_char_cycles(), self._rx_arrive)

    def _rx_arrive(self) -> None:
        self._rx_event = None
        if self.get("STATE", "RXFULL"):
            self.set("STATE", 1, "RXOVR")
        self.set("DATA", self._host_rx.popleft())
        self.set("STATE", 1, "RXFULL")
        if self.get("CTRL", "RXINTEN"):
            self.set("INTSTATUS", 1, "RXINT")
        self.update_irq()
        self._schedule_rx()

    def _read_data(self) -> int:
        self.set("STATE", 0, "RXFULL")
        return self.get("DATA")

    # -- control and interrupts --------------------------------------------------------

    def _write_ctrl(self, value: int) -> None:
        self.store_write("CTRL", value)
        if self.get("CTRL", "RXEN"):
            self._schedule_rx()
        elif self._rx_event is not None:
            self._rx_event.cancel()    # the byte on the line stays queued on the host side
            self._rx_event = None
        self.update_irq()

    def _read_intstatus(self) -> int:
        ctrl, state = self.get("CTRL"), self.get("STATE")
        return (self.get("INTSTATUS") & 0b11
                | (state & (ctrl >> 2) & 0b1100))   # STATE.xOVR & CTRL.xOVRINTEN, bits 2-3

    def _write_intclear(self, value: int) -> None:
        self.store_write("INTSTATUS", value & 0b11)
        self.store_write("STATE", value & 0b1100)   # overrun flags clear through INTCLEAR too
        self.update_irq()

    def update_irq(self) -> None:
        status = self._read_intstatus()
        self.irq["tx"].set(status & 0b1)
        self.irq["rx"].set(status & 0b10)
        self.irq["overflow"].set(status & 0b1100)

    # -- life cycle ------------------------------------------------------------------

    def _cancel_events(self) -> None:
        for ev in (self._tx_event, self._rx_event):
            if ev is not None:
                ev.cancel()
        self._tx_event = self._rx_event = None

    def reset_state(self) -> None:
        """Drop the byte in flight; bytes queued on the host side stay (they are the host's)."""
        self._cancel_events()
        self._tx_byte = 0

    def extra_state(self) -> Any:
        return {
            "host_rx": list(self._host_rx),
            "tx_byte": self._tx_byte,
            "tx_done_at": self._tx_event.when if self._tx_event is not None else None,
            "rx_arrive_at": self._rx_event.when if self._rx_event is not None else None,
        }

    def restore_extra_state(self, state: Any) -> None:
        self._cancel_events()
        self._host_rx = collections.deque(state["host_rx"])
        self._tx_byte = state["tx_byte"]
        if state["tx_done_at"] is not None:
            self._tx_event = self.clock.schedule(state["tx_done_at"], self._tx_done)
        if state["rx_arrive_at"] is not None:
            self._rx_event = self.clock.schedule(state["rx_arrive_at"], self._rx_arrive)
