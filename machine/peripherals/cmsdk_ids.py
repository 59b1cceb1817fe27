"""The identification registers every CMSDK peripheral has (ARM DDI0479, Cortex-M System Design
Kit TRM): PID4-PID7, PID0-PID3 and CID0-CID3, twelve read-only bytes in words from 0xFD0 on.

They differ only in the part number (0x820 AHB GPIO, 0x821 APB UART, 0x822 APB timer,
0x823 APB dual timer, 0x824 APB watchdog): PID0 holds its low byte and PID1's low nibble its
high one, next to ARM's JEP106 identity (PID1's high nibble, PID2's low three bits, PID4's
continuation code) and revision 1 (PID2's high nibble). The component ID is the same for all.
"""

from __future__ import annotations

from ..regs import Access, Field, Register

#: where the identification registers start
BASE = 0xFD0
CID = (0x0D, 0xF0, 0x05, 0xB1)


def id_registers(part: int) -> list[Register]:
    """The twelve identification registers of the CMSDK part numbered `part`."""
    values = (("PID4", 0x04), ("PID5", 0x00), ("PID6", 0x00), ("PID7", 0x00),
              ("PID0", part & 0xFF), ("PID1", 0xB0 | part >> 8), ("PID2", 0x1B), ("PID3", 0x00),
              *((f"CID{i}", v) for i, v in enumerate(CID)))
    return [Register(BASE + 4 * i, name, [Field(name, 0, 8, Access.RO, value)])
            for i, (name, value) in enumerate(values)]
