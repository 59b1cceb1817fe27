"""The System Control Block registers of the ARMv7-M exception model (ARMv7-M ARM B3.2).

The registers are declared on the NVIC peripheral (machine/peripherals/nvic.py), which
stores them and puts them in snapshots; this class gives them their behaviour once a
guest exception model is attached (machine/exceptions/armv7m.py):

- ICSR (B3.2.4): VECTACTIVE (the IPSR), RETTOBASE, VECTPENDING, ISRPENDING read live;
  PENDSVSET/PENDSVCLR, PENDSTSET/PENDSTCLR, NMIPENDSET pend and unpend.
- VTOR (B3.2.5): TBLOFF, bits 29:7 (the Cortex-M3 r2p1 alignment of 128 bytes).
- AIRCR (B3.2.6): writes need VECTKEY 0x05FA (others are ignored); PRIGROUP;
  SYSRESETREQ resets the board at the next instruction boundary; reads give VECTKEYSTAT
  0xFA05 and ENDIANNESS 0. VECTRESET and VECTCLRACTIVE (debug only) are ignored.
- SCR (B3.2.7): SLEEPONEXIT is honoured; SLEEPDEEP and SEVONPEND are stored.
- CCR (B3.2.8): STKALIGN (reset 1 on r2p1) and NONBASETHRDENA are honoured; UNALIGN_TRP,
  DIV_0_TRP, USERSETMPEND, BFHFNMIGN are stored only (Unicorn neither traps unaligned
  word accesses nor division by zero, whatever the CCR says).
- SHPR1-3 (B3.2.10-12): the priorities of MemManage, BusFault, UsageFault, SVCall,
  DebugMonitor, PendSV and SysTick, top `priority_bits` bits of each byte.
- SHCSR (B3.2.13): the active and pending bits read live; the three fault enables.
- CFSR, HFSR (B3.2.15-16): set by faults, write-one-to-clear; MMFAR, BFAR (B3.2.17-18).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .armv7m import Armv7mExceptions

VECTKEY = 0x05FA
VECTKEYSTAT = 0xFA05
ICSR_PENDSTCLR, ICSR_PENDSTSET, ICSR_PENDSVCLR, ICSR_PENDSVSET, ICSR_NMIPENDSET = (
    1 << 25, 1 << 26, 1 << 27, 1 << 28, 1 << 31)
AIRCR_SYSRESETREQ = 1 << 2
SCR_SLEEPONEXIT = 1 << 1
SCR_BITS = 0x16               # SLEEPONEXIT, SLEEPDEEP, SEVONPEND
CCR_NONBASETHRDENA, CCR_STKALIGN = 1 << 0, 1 << 9
CCR_BITS = 0x31B              # NONBASETHRDENA, USERSETMPEND, UNALIGN_TRP, DIV_0_TRP, BFHFNMIGN, STKALIGN
#: SHCSR: exception number -> (active bit, pending bit); enable bits per fault
_SHCSR_ACTIVE = {4: 0, 5: 1, 6: 3, 11: 7, 12: 8, 14: 10, 15: 11}
_SHCSR_PENDED = {6: 12, 4: 13, 5: 14, 11: 15}
_SHCSR_ENABLE = {4: 16, 5: 17, 6: 18}
_CFSR_NAMES = {0: "IACCVIOL", 1: "DACCVIOL", 3: "MUNSTKERR", 4: "MSTKERR", 7: "MMARVALID",
               8: "IBUSERR", 9: "PRECISERR", 10: "IMPRECISERR", 11: "UNSTKERR", 12: "STKERR", 15: "BFARVALID",
               16: "UNDEFINSTR", 17: "INVSTATE", 18: "INVPC", 19: "NOCP", 24: "UNALIGNED", 25: "DIVBYZERO"}


class SystemControlBlock:
    """The SCB registers' behaviour on the NVIC peripheral of `model` (see the module's doc)."""

    def __init__(self, model: "Armv7mExceptions") -> None:
        self.model = model
        scs = self.scs = model.nvic
        self.byte_mask = (0xFF << (8 - scs.priority_bits)) & 0xFF
        scs.on_read("ICSR", self._read_icsr)
        scs.on_write("ICSR", self._write_icsr)
        scs.on_write("VTOR", lambda v: scs.set("VTOR", v & 0x3FFF_FF80))
        scs.on_read("AIRCR", lambda: VECTKEYSTAT << 16 | scs.get("AIRCR") & 0x700)
        scs.on_write("AIRCR", self._write_aircr)
        scs.on_write("SCR", lambda v: scs.set("SCR", v & SCR_BITS))
        scs.on_write("CCR", lambda v: scs.set("CCR", v & CCR_BITS))
        for n in (1, 2, 3):
            scs.on_write(f"SHPR{n}", lambda v, n=n: self._write_shpr(n, v))
        scs.on_read("SHCSR", self._read_shcsr)
        scs.on_write("SHCSR", self._write_shcsr)
        scs.on_write("CFSR", lambda v: scs.set("CFSR", scs.get("CFSR") & ~v))
        scs.on_write("HFSR", lambda v: scs.set("HFSR", scs.get("HFSR") & ~v))

    # -- what the model reads ------------------------------------------------------------------

    @property
    def vtor(self) -> int:
        return self.scs.get("VTOR")

    @property
    def group_mask(self) -> int:
        """The group-priority bits of a priority byte under AIRCR.PRIGROUP (B1.5.4)."""
        prigroup = self.scs.get("AIRCR") >> 8 & 7
        return (0xFF << (prigroup + 1)) & 0xFF

    @property
    def stack_align(self) -> bool:
        return bool(self.scs.get("CCR") & CCR_STKALIGN)

    @property
    def nonbase_thread(self) -> bool:
        return bool(self.scs.get("CCR") & CCR_NONBASETHRDENA)

    @property
    def sleep_on_exit(self) -> bool:
        return bool(self.scs.get("SCR") & SCR_SLEEPONEXIT)

    def system_priority(self, exc: int) -> int:
        """The SHPR byte of system exception `exc` (4-15)."""
        register = f"SHPR{(exc - 4) // 4 + 1}"
        return self.scs.get(register) >> (8 * (exc % 4)) & 0xFF

    def fault_enabled(self, exc: int) -> bool:
        bit = _SHCSR_ENABLE.get(exc)
        return bit is not None and bool(self.scs.get("SHCSR") >> bit & 1)

    def record_fault(self, cfsr: int, bfar: int | None) -> None:
        self.scs.set("CFSR", self.scs.get("CFSR") | cfsr)
        if bfar is not None:
            self.scs.set("BFAR", bfar)

    def escalated(self, hfsr: int) -> None:
        self.scs.set("HFSR", self.scs.get("HFSR") | hfsr)

    @staticmethod
    def describe(cfsr: int) -> str:
        names = [name for bit, name in _CFSR_NAMES.items() if cfsr >> bit & 1 and name != "BFARVALID"]
        return ", ".join(names) if names else "SVC"

    # -- registers -----------------------------------------------------------------------------

    def _read_icsr(self) -> int:
        model = self.model
        ipsr = model.reg("xpsr") & 0x1FF
        best = model.best_pending()
        value = ipsr | (best or 0) << 12
        if len(model.active()) <= 1:
            value |= 1 << 11   # RETTOBASE
        if model.nvic.deliverable:
            value |= 1 << 22   # ISRPENDING
        for exc, bit in ((14, ICSR_PENDSVSET), (15, ICSR_PENDSTSET), (2, ICSR_NMIPENDSET)):
            if model.sys_pending >> exc & 1:
                value |= bit
        return value

    def _write_icsr(self, value: int) -> None:
        model = self.model
        for exc, set_bit, clear_bit in ((14, ICSR_PENDSVSET, ICSR_PENDSVCLR), (15, ICSR_PENDSTSET, ICSR_PENDSTCLR)):
            if value & set_bit:
                model.sys_pending |= 1 << exc
            elif value & clear_bit:
                model.sys_pending &= ~(1 << exc)
        if value & ICSR_NMIPENDSET:
            model.sys_pending |= 1 << 2
        model.update()

    def _write_aircr(self, value: int) -> None:
        if value >> 16 != VECTKEY:
            self.scs.note_dropped("AIRCR write without VECTKEY 0x05FA")
            return
        self.scs.set("AIRCR", value & 0x700)
        self.model.update()
        if value & AIRCR_SYSRESETREQ:
            self.model.request_reset()

    def _write_shpr(self, n: int, value: int) -> None:
        mask = sum(self.byte_mask << (8 * i) for i in range(4) if (n - 1) * 4 + 4 + i in _SHCSR_ACTIVE)
        self.scs.set(f"SHPR{n}", value & mask)
        self.model.update()

    def _read_shcsr(self) -> int:
        model = self.model
        value = self.scs.get("SHCSR") & 0x70000
        for exc, bit in _SHCSR_ACTIVE.items():
            if model.sys_active >> exc & 1:
                value |= 1 << bit
        for exc, bit in _SHCSR_PENDED.items():
            if model.sys_pending >> exc & 1:
                value |= 1 << bit
        return value

    def _write_shcsr(self, value: int) -> None:
        self.scs.set("SHCSR", value & 0x70000)
        model = self.model
        for exc, bit in _SHCSR_PENDED.items():
            model.sys_pending = model.sys_pending & ~(1 << exc) | (value >> bit & 1) << exc
        model.update()

    def reset(self) -> None:
        self.scs.set("CCR", CCR_STKALIGN)
