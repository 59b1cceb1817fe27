"""FE310-G002 always-on (AON) block (SiFive FE310-G002 Manual, chapters "Always-On (AON)
Domain", "Watchdog Timer (WDT)", "Real-Time Clock (RTC)", "Backup Registers" and "Power-Management
Unit (PMU)"), at 0x1000_0000. Its counters run on the 32,768 Hz low-frequency clock.

Watchdog (0x000 wdogcfg, 0x008 wdogcount, 0x010 wdogs, 0x018 wdogfeed, 0x01C wdogkey,
0x020 wdogcmp0):
- wdogcfg: wdogscale 3:0, wdogrsten 8, wdogzerocmp 9, wdogenalways 12, wdogcoreawake 13,
  wdogip0 28. The 31-bit wdogcount counts while wdogenalways or wdogcoreawake is set (the core
  is always awake here); wdogs = (wdogcount >> wdogscale) & 0xFFFF;
- the comparator fires when wdogs reaches wdogcmp0: wdogip0 latches (a write of wdogcfg clears
  it, unless wdogs is still at or above wdogcmp0, which sets it again), wdogzerocmp sends the count back to 0 on the next tick, wdogrsten resets the board
  (`request_board_reset`);
- writes to any watchdog register except wdogkey are dropped unless wdogkey was just written
  with 0x51F15E, and every such write locks it again; wdogkey reads 1 while unlocked; writing
  0xD09F00D to wdogfeed (unlocked) sets wdogcount to 0.
RTC (0x040 rtccfg, 0x048 rtccountlo, 0x04C rtccounthi, 0x050 rtcs, 0x060 rtccmp0): rtccfg has
rtcscale 3:0, rtcenalways 12 and rtcip0 28 (read-only); the 48-bit rtccount counts while
rtcenalways is set; rtcs = rtccount >> rtcscale (32 bits); rtcip0 is high while
rtcs >= rtccmp0 (software clears it by writing a larger rtccmp0).
Clocks: 0x070 lfrosccfg (lfroscdiv 5:0 = 4, lfrosctrim 20:16 = 16, lfroscen 30 = 1, lfroscrdy
31 reads lfroscen); 0x07C lfclkmux (lfextclk_sel 0 stored; lfextclk_mux_status 31 reads 0).
The counters tick at 32,768 Hz whatever these say.
Backup registers: 0x080-0x0BC backup0-15, storage.
PMU: 0x100-0x11C pmuwakeupi0-7 and 0x120-0x13C pmusleepi0-7 (stored), 0x140 pmuie, 0x144
pmucause (wakeupcause 1:0 and resetcause 9:8, both 0: power-on), 0x148 pmusleep, 0x14C pmukey.
Writes to the PMU registers need pmukey written with 0x51F15E just before; a write of pmusleep
would put the chip to sleep, which is not modelled (it is reported once and dropped).

Outputs: "wdogcmp" (PLIC source 1) follows wdogip0, "rtccmp" (source 2) follows rtcip0.
Invariant: nothing ticks; both counters are computed from the clock and an anchor taken at
every write that changes how they count, with a clock event only at the next comparator edge.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..clock import Clock, Event
from ..peripheral import Peripheral
from ..regs import Access, Field, Register, RegisterMap

LFCLK_HZ = 32_768
KEY = 0x51F15E
FEED = 0xD09F00D
WDOG_COUNT_MASK = (1 << 31) - 1
_WDOG_REGS = ("wdogcfg", "wdogcount", "wdogs", "wdogfeed", "wdogcmp0")
_PMU_REGS = (*(f"pmuwakeupi{i}" for i in range(8)), *(f"pmusleepi{i}" for i in range(8)), "pmuie", "pmusleep")


class SifiveAon(Peripheral):
    PARAMS: ClassVar[dict[str, type]] = {}
    IRQS = ("wdogcmp", "rtccmp")
    REGISTERS = RegisterMap([
        Register(0x000, "wdogcfg", [Field("wdogscale", 0, 4), Field("wdogrsten", 8), Field("wdogzerocmp", 9),
                                    Field("wdogenalways", 12), Field("wdogcoreawake", 13), Field("wdogip0", 28)]),
        Register(0x008, "wdogcount", [Field("wdogcount", 0, 31)]),
        Register(0x010, "wdogs", [Field("wdogs", 0, 16, Access.RO)]),
        Register(0x018, "wdogfeed", [Field("wdogfeed", 0, 32, Access.WO)]),
        Register(0x01C, "wdogkey"),
        Register(0x020, "wdogcmp0", [Field("wdogcmp0", 0, 16)]),
        Register(0x040, "rtccfg", [Field("rtcscale", 0, 4), Field("rtcenalways", 12), Field("rtcip0", 28, 1, Access.RO)]),
        Register(0x048, "rtccountlo"),
        Register(0x04C, "rtccounthi", [Field("rtccounthi", 0, 16)]),
        Register(0x050, "rtcs", [Field("rtcs", 0, 32, Access.RO)]),
        Register(0x060, "rtccmp0"),
        Register(0x070, "lfrosccfg", [Field("lfroscdiv", 0, 6, Access.RW, 4), Field("lfrosctrim", 16, 5, Access.RW, 16),
                                      Field("lfroscen", 30, 1, Access.RW, 1), Field("lfroscrdy", 31, 1, Access.RO)]),
        Register(0x07C, "lfclkmux", [Field("lfextclk_sel", 0), Field("lfextclk_mux_status", 31, 1, Access.RO)]),
        *(Register(0x080 + 4 * i, f"backup{i}") for i in range(16)),
        *(Register(0x100 + 4 * i, f"pmuwakeupi{i}") for i in range(8)),
        *(Register(0x120 + 4 * i, f"pmusleepi{i}") for i in range(8)),
        Register(0x140, "pmuie", [Field("rtc", 1), Field("dwakeup", 2)]),
        Register(0x144, "pmucause", [Field("wakeupcause", 0, 2, Access.RO), Field("resetcause", 8, 2, Access.RO)]),
        Register(0x148, "pmusleep"),
        Register(0x14C, "pmukey"),
    ])

    def __init__(self, name: str, clock: Clock) -> None:
        super().__init__(name, clock)
        self._wd = (clock.now, 0)      # (cycle, wdogcount then)
        self._rtc = (clock.now, 0)     # (cycle, rtccount then)
        self._wdog_event: Event | None = None    # the watchdog comparator's next firing
        self._rtc_event: Event | None = None     # rtcs reaching rtccmp0
        self._checked = clock.now
        self._wdog_unlocked = self._pmu_unlocked = False
        self.on_read("wdogcount", lambda: self._wd_count(self.clock.now))
        self.on_read("wdogs", self._wdogs)
        self.on_read("wdogcfg", lambda: self._caught_up("wdogcfg"))
        self.on_read("wdogkey", lambda: int(self._wdog_unlocked))
        self.on_write("wdogkey", lambda v: setattr(self, "_wdog_unlocked", v == KEY))
        for reg in _WDOG_REGS:
            self.on_write(reg, lambda v, reg=reg: self._write_wdog(reg, v))
        self.on_read("rtccountlo", lambda: self._rtc_count(self.clock.now) & 0xFFFF_FFFF)
        self.on_read("rtccounthi", lambda: self._rtc_count(self.clock.now) >> 32 & 0xFFFF)
        self.on_read("rtcs", lambda: self._rtcs(self.clock.now))
        self.on_read("rtccfg", lambda: self.get("rtccfg") | self._rtc_ip() << 28)
        for reg in ("rtccfg", "rtccountlo", "rtccounthi", "rtccmp0"):
            self.on_write(reg, lambda v, reg=reg: self._write_rtc(reg, v))
        self.on_read("lfrosccfg", lambda: self.get("lfrosccfg") | self.get("lfrosccfg", "lfroscen") << 31)
        self.on_read("pmukey", lambda: int(self._pmu_unlocked))
        self.on_write("pmukey", lambda v: setattr(self, "_pmu_unlocked", v == KEY))
        for reg in _PMU_REGS:
            self.on_write(reg, lambda v, reg=reg: self._write_pmu(reg, v))

    # -- the low-frequency clock ---------------------------------------------------------

    def _lf(self, cycle: int) -> int:
        """Low-frequency ticks since cycle 0 at `cycle`."""
        return cycle * LFCLK_HZ // self.clock.frequency_hz

    def _cycle_of_lf(self, tick: int) -> int:
        return -(-tick * self.clock.frequency_hz // LFCLK_HZ)

    # -- watchdog ------------------------------------------------------------------------

    def _wd_counting(self) -> bool:
        return bool(self.get("wdogcfg", "wdogenalways") or self.get("wdogcfg", "wdogcoreawake"))

    def _wd_threshold(self) -> int:
        return self.get("wdogcmp0") << self.get("wdogcfg", "wdogscale")

    def _wd_count(self, cycle: int) -> int:
        t0, count0 = self._wd
        if not self._wd_counting():
            return count0
        j, top = self._lf(cycle) - self._lf(t0), self._wd_threshold()
        if not self.get("wdogcfg", "wdogzerocmp"):
            return (count0 + j) & WDOG_COUNT_MASK
        c0 = min(count0, top)
        return c0 + j if j <= top - c0 else (j - (top - c0) - 1) % (top + 1)

    def _wdogs(self) -> int:
        return self._wd_count(self.clock.now) >> self.get("wdogcfg", "wdogscale") & 0xFFFF

    def _wd_next_fire(self, after: int) -> int | None:
        """The first cycle after `after` at which the count reaches the comparator."""
        if not self._wd_counting():
            return None
        t0, count0 = self._wd
        top, zerocmp = self._wd_threshold(), self.get("wdogcfg", "wdogzerocmp")
        c0 = min(count0, top) if zerocmp else count0
        if c0 > top or (c0 == top and not zerocmp):
            return None                      # already at or past it: no new edge
        j_after, first = self._lf(after) - self._lf(t0), top - c0
        if first > j_after:
            j = first
        elif not zerocmp:
            return None
        else:
            j = first + ((j_after - first) // (top + 1) + 1) * (top + 1)
        return self._cycle_of_lf(self._lf(t0) + j)

    def _wd_fire(self) -> None:
        self.set("wdogcfg", 1, "wdogip0")
        if self.get("wdogcfg", "wdogrsten"):
            self.request_board_reset("watchdog comparator fired with wdogrsten set")

    def _write_wdog(self, reg: str, value: int) -> None:
        if not self._wdog_unlocked:
            self.note_dropped(f"write of {reg} while the watchdog is locked (wdogkey not written with 0x51F15E)")
            return
        self._wdog_unlocked = False
        self._catch_up()
        count = self._wd_count(self.clock.now)
        if reg == "wdogfeed":
            count = 0 if value == FEED else count
        elif reg == "wdogcount":
            count = value & WDOG_COUNT_MASK
        elif reg in ("wdogcfg", "wdogcmp0"):
            self.store_write(reg, value)
        self._wd = (self.clock.now, count)
        if self._wd_counting() and count >> self.get("wdogcfg", "wdogscale") >= self.get("wdogcmp0"):
            self._wd_fire()
        self._reschedule()
        self.update_irq()

    # -- RTC -------------------------------------------------------------------------------

    def _rtc_count(self, cycle: int) -> int:
        t0, count0 = self._rtc
        if not self.get("rtccfg", "rtcenalways"):
            return count0
        return (count0 + self._lf(cycle) - self._lf(t0)) & ((1 << 48) - 1)

    def _rtcs(self, cycle: int) -> int:
        return self._rtc_count(cycle) >> self.get("rtccfg", "rtcscale") & 0xFFFF_FFFF

    def _rtc_ip(self) -> int:
        return int(self._rtcs(self.clock.now) >= self.get("rtccmp0"))

    def _rtc_next_edge(self) -> int | None:
        if not self.get("rtccfg", "rtcenalways") or self._rtc_ip():
            return None
        t0, count0 = self._rtc
        top = self.get("rtccmp0") << self.get("rtccfg", "rtcscale")
        return self._cycle_of_lf(self._lf(t0) + top - count0)

    def _write_rtc(self, reg: str, value: int) -> None:
        count = self._rtc_count(self.clock.now)
        if reg == "rtccountlo":
            count = (count & ~0xFFFF_FFFF) | value
        elif reg == "rtccounthi":
            count = (count & 0xFFFF_FFFF) | (value & 0xFFFF) << 32
        else:
            self.store_write(reg, value)
        self._rtc = (self.clock.now, count)
        self._reschedule()
        self.update_irq()

    # -- PMU -------------------------------------------------------------------------------

    def _write_pmu(self, reg: str, value: int) -> None:
        if not self._pmu_unlocked:
            self.note_dropped(f"write of {reg} while the PMU is locked (pmukey not written with 0x51F15E)")
            return
        self._pmu_unlocked = False
        if reg == "pmusleep":
            self.note_dropped("write of pmusleep: sleep is not modelled, the core runs on")
            return
        self.store_write(reg, value)

    # -- events and outputs ----------------------------------------------------------------

    def _catch_up(self) -> None:
        fire = self._wd_next_fire(self._checked)
        if fire is not None and fire <= self.clock.now:
            self._wd_fire()
        self._checked = self.clock.now

    def _caught_up(self, reg: str) -> int:
        self._catch_up()
        return self.get(reg)

    def _drop_events(self) -> None:
        for ev in (self._wdog_event, self._rtc_event):
            if ev is not None:
                ev.cancel()
        self._wdog_event = self._rtc_event = None

    def _schedule(self, when: int | None) -> Event | None:
        return None if when is None else self.clock.schedule(when, self._on_event)

    def _reschedule(self) -> None:
        self._drop_events()
        if not self.get("wdogcfg", "wdogip0") or self.get("wdogcfg", "wdogrsten"):
            self._wdog_event = self._schedule(self._wd_next_fire(self.clock.now))
        self._rtc_event = self._schedule(self._rtc_next_edge())

    def _on_event(self) -> None:
        self._drop_events()
        self._catch_up()
        self._reschedule()
        self.update_irq()

    def update_irq(self) -> None:
        self.irq["wdogcmp"].set(self.get("wdogcfg", "wdogip0"))
        self.irq["rtccmp"].set(self._rtc_ip())

    # -- life cycle ------------------------------------------------------------------------

    def reset_state(self) -> None:
        self._drop_events()
        self._wd = self._rtc = (self.clock.now, 0)
        self._checked = self.clock.now
        self._wdog_unlocked = self._pmu_unlocked = False

    def extra_state(self) -> Any:
        return {"wd": list(self._wd), "rtc": list(self._rtc), "checked": self._checked,
                "unlocked": [self._wdog_unlocked, self._pmu_unlocked],
                "events": [e.when if e is not None else None for e in (self._wdog_event, self._rtc_event)]}

    def restore_extra_state(self, state: Any) -> None:
        self._wd, self._rtc = tuple(state["wd"]), tuple(state["rtc"])
        self._checked = state["checked"]
        self._wdog_unlocked, self._pmu_unlocked = state["unlocked"]
        self._drop_events()
        # the events exactly as they were (recomputing them would miss one due and not yet fired)
        self._wdog_event, self._rtc_event = (self._schedule(when) for when in state["events"])
