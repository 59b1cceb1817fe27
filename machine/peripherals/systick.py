"""The ARMv7-M SysTick timer (ARMv7-M ARM B3.3; Cortex-M3 TRM 8.2), counting virtual cycles.

SysTick's four registers live in the System Control Space window the NVIC peripheral
answers (machine/peripherals/nvic.py: SYST_CSR, SYST_RVR, SYST_CVR, SYST_CALIB); this
class gives them behaviour for the guest exception model (machine/exceptions/armv7m.py).

Rules, as B3.3.1 has them: with ENABLE set the 24-bit counter decrements once per
processor clock; when it steps from 1 to 0 it sets COUNTFLAG and, with TICKINT, pends
the SysTick exception; on the next clock it reloads from SYST_RVR, so a period is
RVR + 1 cycles. A write of any value to SYST_CVR clears it to 0 and clears COUNTFLAG
(no exception for that 0); reading SYST_CSR clears COUNTFLAG. RVR = 0 stops the timer
at 0 after the current count. Enabling it at CVR = 0 loads RVR on the first clock.

CLKSOURCE = 1 counts the processor clock; CLKSOURCE = 0 the reference clock, 1 MHz here, with
CALIB = 0x0000270F (NOREF 0, SKEW 0, TENMS 9999: 10 ms of the 1 MHz clock). That is what QEMU's
`mps2-an385` gives (read from a guest on QEMU 7.2); the AN385 application note does not state
the SysTick reference clock, so it is QEMU's choice that is followed. The reference clock's
edges are counted from the last write, not from an absolute phase.

Invariant: nothing ticks. The count is computed from `clock.now` and an anchor (cycle,
value) taken at every write; the one clock event, held by the NVIC peripheral as
`systick_event` so that machine snapshots recreate it, is scheduled at the next 1 -> 0
step only while TICKINT and ENABLE are set.
"""

from __future__ import annotations

from typing import Any, Callable

CSR_ENABLE = 1 << 0
CSR_TICKINT = 1 << 1
CSR_CLKSOURCE = 1 << 2
CSR_COUNTFLAG = 1 << 16
MASK24 = 0xFF_FFFF
#: the reference clock, and CALIB: NOREF 0, SKEW 0, TENMS = 10 ms of it less one
REFERENCE_HZ = 1_000_000
CALIB_AN385 = REFERENCE_HZ // 100 - 1


class SysTick:
    """SysTick's behaviour on the NVIC peripheral `scs` (see the module's doc); `on_wrap()`
    pends the SysTick exception."""

    def __init__(self, scs, on_wrap: Callable[[], None]) -> None:
        self.scs = scs
        self.clock = scs.clock
        self.on_wrap = on_wrap
        self.anchor_cycle = self.checked = self.clock.now
        self.anchor_value = 0
        self.countflag = False
        self.reference_divider = max(1, scs.clock.frequency_hz // REFERENCE_HZ)
        scs.on_read("SYST_CSR", self.read_csr)
        scs.on_write("SYST_CSR", self.write_csr)
        scs.on_write("SYST_RVR", lambda v: self._rewrite("SYST_RVR", v & MASK24))
        scs.on_read("SYST_CVR", self.value_now)
        scs.on_write("SYST_CVR", lambda v: self._rewrite("SYST_CVR", 0))
        scs.on_read("SYST_CALIB", lambda: CALIB_AN385)
        scs.on_write("SYST_CALIB", lambda v: None)   # read-only

    # -- counting --------------------------------------------------------------------------

    def _enabled(self) -> bool:
        return bool(self.scs.get("SYST_CSR") & CSR_ENABLE)

    def _divider(self) -> int:
        """Processor cycles per count."""
        return 1 if self.scs.get("SYST_CSR") & CSR_CLKSOURCE else self.reference_divider

    def value_now(self) -> int:
        if not self._enabled():
            return self.anchor_value
        elapsed = (self.clock.now - self.anchor_cycle) // self._divider()
        v0, reload = self.anchor_value, self.scs.get("SYST_RVR")
        if elapsed <= v0:
            return v0 - elapsed
        return reload - (elapsed - v0 - 1) % (reload + 1)

    def _zero_after(self, cycle: int) -> int | None:
        """The first cycle after `cycle` at which the count steps from 1 to 0, if any."""
        if not self._enabled():
            return None
        reload = self.scs.get("SYST_RVR")
        period = reload + 1
        if self.anchor_value == 0 and reload == 0:
            return None
        div = self._divider()
        first = self.anchor_cycle + (self.anchor_value if self.anchor_value else period) * div
        if first > cycle:
            return first
        if reload == 0:
            return None
        return first + ((cycle - first) // (period * div) + 1) * period * div

    def _catch_up(self) -> None:
        zero = self._zero_after(self.checked)
        if zero is not None and zero <= self.clock.now:
            self.countflag = True
        self.checked = self.clock.now

    def _reschedule(self) -> None:
        event = self.scs.systick_event
        if event is not None:
            event.cancel()
            self.scs.systick_event = None
        if self.scs.get("SYST_CSR") & CSR_TICKINT:
            zero = self._zero_after(self.clock.now)
            if zero is not None:
                self.scs.systick_event = self.clock.schedule(zero, self.wrapped)

    def wrapped(self) -> None:
        """The clock event at a 1 -> 0 step: COUNTFLAG, the exception, the next step."""
        self.scs.systick_event = None
        self._catch_up()
        self.on_wrap()
        self._reschedule()

    # -- registers ---------------------------------------------------------------------------

    def read_csr(self) -> int:
        self._catch_up()
        value = self.scs.get("SYST_CSR") & (CSR_ENABLE | CSR_TICKINT | CSR_CLKSOURCE)
        if self.countflag:
            value |= CSR_COUNTFLAG
        self.countflag = False
        return value

    def write_csr(self, value: int) -> None:
        self._rewrite("SYST_CSR", value & (CSR_ENABLE | CSR_TICKINT | CSR_CLKSOURCE))

    def _rewrite(self, register: str, value: int) -> None:
        self._catch_up()
        current = self.value_now()
        self.scs.set(register, value)
        if register == "SYST_CVR":
            current, self.countflag = 0, False
        self.anchor_cycle, self.anchor_value = self.clock.now, current
        self.scs.set("SYST_CVR", current)   # storage mirrors the anchor
        self._reschedule()

    # -- life cycle ------------------------------------------------------------------------

    def reset(self) -> None:
        if self.scs.systick_event is not None:
            self.scs.systick_event.cancel()
            self.scs.systick_event = None
        self.scs.set("SYST_CSR", 0)
        self.anchor_cycle = self.checked = self.clock.now
        self.anchor_value = 0
        self.countflag = False

    def state(self) -> dict[str, Any]:
        event = self.scs.systick_event
        return {"anchor": (self.anchor_cycle, self.anchor_value), "checked": self.checked,
                "countflag": self.countflag, "event_at": None if event is None else event.when}

    def set_state(self, state: dict[str, Any]) -> None:
        self.anchor_cycle, self.anchor_value = state["anchor"]
        self.checked, self.countflag = state["checked"], state["countflag"]
        if self.scs.systick_event is not None:
            self.scs.systick_event.cancel()
            self.scs.systick_event = None
        if state["event_at"] is not None:   # the event exactly as it was
            self.scs.systick_event = self.clock.schedule(state["event_at"], self.wrapped)
