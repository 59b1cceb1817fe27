"""MPS2 serial configuration controller (SCC) of the AN385 image (AN385, "Serial
Communication Controller" registers, at 0x4002_F000): enough for start-up code that reads the
board's identity, sets the remap bit or the MCC LEDs, reads the switches, or asks the
motherboard configuration controller for an oscillator's frequency.

Registers (offset, name):
- 0x000 CFG_REG0: bit 0 REMAP (reads back; the block-RAM remap itself is not modelled);
- 0x004 CFG_REG1: bits 7:0 the MCC user LEDs (reads back; `mcc_leds` for the host);
- 0x008 CFG_REG2: reserved, reads back what is written;
- 0x00C CFG_REG3: bits 7:0 the MCC user switches, read-only, set by the host (`set_switches`);
- 0x010 CFG_REG4: bits 3:0 the board revision, read-only (2, as QEMU's model gives);
- 0x0A0 CFGDATA_RTN, 0x0A4 CFGDATA_OUT: the data of a configuration transfer;
- 0x0A8 CFGCTRL: START (bit 31), WRITE (bit 30), FUNCTION (bits 25:20), DEVICE (bits 11:0).
  Writing START performs the transfer at once: function 1 (oscillator) with device 0-2 reads
  the oscillator's frequency in Hz into CFGDATA_RTN, or sets it from CFGDATA_OUT; any other
  function/device sets CFGSTAT.ERROR. START reads back 0 (the transfer is done);
- 0x0AC CFGSTAT: COMPLETE (bit 0) and ERROR (bit 1), read-only, cleared by a CFGCTRL write;
- 0x100 DLL: the FPGA clock DLLs, all locked (0xFFFF_0001), read-only;
- 0xFF8 AID, 0xFFC ID: the image's identity (0x0020_0008 and 0x4104_3850: AN385).
The oscillator frequencies are reported only; the board's clock stays what its file says.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..clock import Clock
from ..peripheral import Peripheral
from ..regs import Access, Field, Register, RegisterMap

#: OSCCLK0-2 of the AN385 in Hz, as the MPS2's motherboard configuration controller sets them
OSCCLK_RESET = (50_000_000, 24_576_000, 25_000_000)
FUNCTION_OSC = 1


class An385Scc(Peripheral):
    PARAMS: ClassVar[dict[str, type]] = {}
    IRQS = ()
    REGISTERS = RegisterMap([
        Register(0x000, "CFG_REG0", [Field("REMAP", 0)]),
        Register(0x004, "CFG_REG1", [Field("MCC_LEDS", 0, 8)]),
        Register(0x008, "CFG_REG2"),
        Register(0x00C, "CFG_REG3", [Field("MCC_SWITCHES", 0, 8, Access.RO)]),
        Register(0x010, "CFG_REG4", [Field("BOARD_REV", 0, 4, Access.RO, 2)]),
        Register(0x0A0, "CFGDATA_RTN"),
        Register(0x0A4, "CFGDATA_OUT"),
        Register(0x0A8, "CFGCTRL", [Field("DEVICE", 0, 12), Field("FUNCTION", 20, 6), Field("WRITE", 30),
                                    Field("START", 31)]),
        Register(0x0AC, "CFGSTAT", [Field("COMPLETE", 0, 1, Access.RO), Field("ERROR", 1, 1, Access.RO)]),
        Register(0x100, "DLL", [Field("DLL", 0, 32, Access.RO, 0xFFFF_0001)]),
        Register(0xFF8, "AID", [Field("AID", 0, 32, Access.RO, 0x0020_0008)]),
        Register(0xFFC, "ID", [Field("ID", 0, 32, Access.RO, 0x4104_3850)]),
    ])

    def __init__(self, name: str, clock: Clock) -> None:
        super().__init__(name, clock)
        self.oscclk = list(OSCCLK_RESET)
        self.on_write("CFGCTRL", self._transfer)

    @property
    def mcc_leds(self) -> int:
        return self.get("CFG_REG1")

    def set_switches(self, value: int) -> None:
        """Set the eight MCC user switches (bit n = switch n on)."""
        if not 0 <= value <= 0xFF:
            raise ValueError(f"{self.name}: the switches are 8 bits, not {value:#x}")
        self.set("CFG_REG3", value)

    def _transfer(self, value: int) -> None:
        self.store_write("CFGCTRL", value)
        self.set("CFGSTAT", 0)
        if not self.get("CFGCTRL", "START"):
            return
        self.set("CFGCTRL", 0, "START")
        device = self.get("CFGCTRL", "DEVICE")
        if self.get("CFGCTRL", "FUNCTION") != FUNCTION_OSC or device >= len(self.oscclk):
            self.set("CFGSTAT", 0b11)
            return
        if self.get("CFGCTRL", "WRITE"):
            self.oscclk[device] = self.get("CFGDATA_OUT")
        else:
            self.set("CFGDATA_RTN", self.oscclk[device])
        self.set("CFGSTAT", 0b01)

    def reset_state(self) -> None:
        self.oscclk = list(OSCCLK_RESET)

    def extra_state(self) -> Any:
        return list(self.oscclk)

    def restore_extra_state(self, state: Any) -> None:
        self.oscclk = list(state)
