"""FE310-G002 SPI controller with its serial flash (SiFive FE310-G002 Manual, chapter "Serial
Peripheral Interface (SPI)"), as QSPI0 at 0x1001_4000 with the HiFive1's flash on chip select 0.

Registers (offset, name: fields, reset):
- 0x00 sckdiv: div 11:0 (3);            0x04 sckmode: pha 0, pol 1;
- 0x10 csid (0);  0x14 csdef (1);  0x18 csmode: mode 1:0 (0 AUTO, 2 HOLD, 3 OFF);
- 0x28 delay0: cssck 7:0 (1), sckcs 23:16 (1);  0x2C delay1: intercs 7:0 (1), interxfr 23:16;
- 0x40 fmt: proto 1:0, endian 2, dir 3, len 19:16 (8);
- 0x48 txdata: data 7:0 (write), full 31 (read); 0x4C rxdata: data 7:0, empty 31 (read pops);
- 0x50 txmark 2:0, 0x54 rxmark 2:0; 0x70 ie and 0x74 ip: txwm 0, rxwm 1 (ip read-only);
- 0x60 fctrl: en 0 (1); 0x64 ffmt: cmd_en 0 (1), addr_len 3:1 (3), pad_cnt 7:4, cmd_proto
  9:8, addr_proto 11:10, data_proto 13:12, cmd_code 23:16 (3), pad_code 31:24. Stored: the
  memory-mapped flash window is plain memory here and does not follow them.
Behaviour: a frame written to txdata is shifted at once (the serial clock's timing is not
modelled), so txdata.full always reads 0 and ip.txwm is txmark > 0. Unless fmt.dir is 1, the
byte the flash answers goes to the 8-entry receive FIFO (a full FIFO drops it, as the part
does); ip.rxwm is "more than rxmark entries"; the output "irq" is (ie & ip) != 0.
A transaction is the frames sent while chip select 0 is asserted: one frame in AUTO mode, all
frames until csmode leaves HOLD in HOLD mode, none in OFF mode. The flash answers 0x9F (JEDEC
ID: the three bytes of `flash_id`, by default the HiFive1's ISSI IS25LP128, 9D 60 18), 0x05
(status register: 0, never busy) and 0xAB (release from power-down; device ID 0x17); every
other byte it answers with 0xFF. Programming and erasing are not modelled.
"""

from __future__ import annotations

import collections
from typing import Any, ClassVar

from ..clock import Clock
from ..peripheral import Peripheral
from ..regs import Access, Field, Register, RegisterMap

FIFO_DEPTH = 8
CSMODE_AUTO, CSMODE_HOLD, CSMODE_OFF = 0, 2, 3
ISSI_IS25LP128 = 0x9D6018


class SifiveSpi(Peripheral):
    PARAMS: ClassVar[dict[str, type]] = {"flash_id": int}
    IRQS = ("irq",)
    REGISTERS = RegisterMap([
        Register(0x00, "sckdiv", [Field("div", 0, 12, Access.RW, 3)]),
        Register(0x04, "sckmode", [Field("pha", 0), Field("pol", 1)]),
        Register(0x10, "csid"),
        Register(0x14, "csdef", reset=1),
        Register(0x18, "csmode", [Field("mode", 0, 2)]),
        Register(0x28, "delay0", [Field("cssck", 0, 8, Access.RW, 1), Field("sckcs", 16, 8, Access.RW, 1)]),
        Register(0x2C, "delay1", [Field("intercs", 0, 8, Access.RW, 1), Field("interxfr", 16, 8)]),
        Register(0x40, "fmt", [Field("proto", 0, 2), Field("endian", 2), Field("dir", 3),
                               Field("len", 16, 4, Access.RW, 8)]),
        Register(0x48, "txdata", [Field("data", 0, 8), Field("full", 31, 1, Access.RO)]),
        Register(0x4C, "rxdata", [Field("data", 0, 8, Access.RO), Field("empty", 31, 1, Access.RO)]),
        Register(0x50, "txmark", [Field("txmark", 0, 3)]),
        Register(0x54, "rxmark", [Field("rxmark", 0, 3)]),
        Register(0x60, "fctrl", [Field("en", 0, 1, Access.RW, 1)]),
        Register(0x64, "ffmt", [Field("cmd_en", 0, 1, Access.RW, 1), Field("addr_len", 1, 3, Access.RW, 3),
                                Field("pad_cnt", 4, 4), Field("cmd_proto", 8, 2), Field("addr_proto", 10, 2),
                                Field("data_proto", 12, 2), Field("cmd_code", 16, 8, Access.RW, 3),
                                Field("pad_code", 24, 8)]),
        Register(0x70, "ie", [Field("txwm", 0), Field("rxwm", 1)]),
        Register(0x74, "ip", [Field("txwm", 0, 1, Access.RO), Field("rxwm", 1, 1, Access.RO)]),
    ])

    def __init__(self, name: str, clock: Clock, flash_id: int = ISSI_IS25LP128) -> None:
        if not 0 <= flash_id <= 0xFF_FFFF:
            raise ValueError(f"{name}: flash_id must be the 3 bytes of a JEDEC ID (0 to 0xFFFFFF), not {flash_id:#x}")
        super().__init__(name, clock)
        self.flash_id = flash_id
        self.rx: collections.deque[int] = collections.deque()
        self._transaction: list[int] = []    # bytes the flash has seen while selected
        self.on_read("txdata", lambda: 0)
        self.on_write("txdata", self._send)
        self.on_read("rxdata", self._receive)
        self.on_read("ip", self._ip)
        self.on_write("csmode", lambda v: self._write_select("csmode", v))
        self.on_write("csid", lambda v: self._write_select("csid", v))
        self.on_write("csdef", lambda v: self._write_select("csdef", v))

    def _flash_selected(self) -> bool:
        return self.get("csid") == 0 and self.get("csmode", "mode") != CSMODE_OFF

    def _flash_answer(self, byte: int) -> int:
        """The flash's answer to the frame `byte`, the next of the current transaction."""
        seen = self._transaction
        seen.append(byte)
        command, index = seen[0], len(seen) - 1
        if command == 0x9F and 1 <= index <= 3:
            return self.flash_id >> (8 * (3 - index)) & 0xFF
        if command == 0x05 and index >= 1:
            return 0x00
        if command == 0xAB and index >= 4:
            return 0x17
        return 0xFF

    def _send(self, value: int) -> None:
        answer = self._flash_answer(value & 0xFF) if self._flash_selected() else 0xFF
        if self.get("csmode", "mode") != CSMODE_HOLD:
            self._transaction = []
        if not self.get("fmt", "dir"):
            if len(self.rx) < FIFO_DEPTH:
                self.rx.append(answer)
            else:
                self.note_dropped("received frame with the receive FIFO full")
        self.update_irq()

    def _receive(self) -> int:
        if not self.rx:
            return 1 << 31
        value = self.rx.popleft()
        self.update_irq()
        return value

    def _write_select(self, register: str, value: int) -> None:
        self.store_write(register, value)
        if not (self._flash_selected() and self.get("csmode", "mode") == CSMODE_HOLD):
            self._transaction = []

    def _ip(self) -> int:
        txwm = int(self.get("txmark") > 0)
        rxwm = int(len(self.rx) > self.get("rxmark"))
        return txwm | rxwm << 1

    def update_irq(self) -> None:
        self.irq["irq"].set(self._ip() & self.get("ie") != 0)

    def reset_state(self) -> None:
        self.rx.clear()
        self._transaction = []

    def extra_state(self) -> Any:
        return {"rx": list(self.rx), "transaction": list(self._transaction)}

    def restore_extra_state(self, state: Any) -> None:
        self.rx = collections.deque(state["rx"])
        self._transaction = list(state["transaction"])
