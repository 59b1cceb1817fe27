"""The AN385's FPGA I/O block and serial configuration controller on a bare bus, against the
AN385 application note: LEDs, buttons, the 1 Hz/100 Hz and prescaled counters; the SCC's
identity, switches, LEDs and configuration transfers."""

import pytest

from machine.clock import Clock
from machine.peripherals import PERIPHERAL_TYPES
from machine.peripherals.an385_fpgaio import An385FpgaIo
from machine.peripherals.an385_scc import An385Scc

HZ = 25_000_000
LED0, BUTTON, CLK1HZ, CLK100HZ, COUNTER, PRESCALE, PSCNTR, MISC = 0x00, 0x08, 0x10, 0x14, 0x18, 0x1C, 0x20, 0x4C
CFG_REG0, CFG_REG1, CFG_REG3, CFG_REG4 = 0x000, 0x004, 0x00C, 0x010
CFGDATA_RTN, CFGDATA_OUT, CFGCTRL, CFGSTAT, DLL, AID, ID = 0x0A0, 0x0A4, 0x0A8, 0x0AC, 0x100, 0xFF8, 0xFFC
START, WRITE = 1 << 31, 1 << 30


@pytest.fixture
def clock():
    return Clock(HZ)


@pytest.fixture
def fpgaio(clock):
    return An385FpgaIo("fpgaio", clock)


@pytest.fixture
def scc(clock):
    return An385Scc("scc", clock)


def test_the_board_file_type_names_give_the_models():
    assert PERIPHERAL_TYPES["mps2-fpgaio"] is An385FpgaIo and PERIPHERAL_TYPES["mps2-scc"] is An385Scc


def test_the_two_user_leds_read_back_and_show_to_the_host(fpgaio):
    fpgaio.write(LED0, 4, 0xFF)
    assert fpgaio.read(LED0, 4) == 0b11 and fpgaio.leds == 0b11


def test_buttons_are_set_by_the_host_and_read_only_to_the_guest(fpgaio):
    fpgaio.set_button(1, True)
    fpgaio.write(BUTTON, 4, 0)
    assert fpgaio.read(BUTTON, 4) == 0b10
    fpgaio.set_button(1, False)
    assert fpgaio.read(BUTTON, 4) == 0


def test_there_is_no_third_button(fpgaio):
    with pytest.raises(ValueError, match="fpgaio: no button 2; the AN385 has buttons 0 and 1"):
        fpgaio.set_button(2, True)


def test_the_slow_counters_count_seconds_and_hundredths_of_virtual_time(fpgaio, clock):
    clock.advance(HZ * 3 + HZ // 2)
    assert fpgaio.read(CLK1HZ, 4) == 3 and fpgaio.read(CLK100HZ, 4) == 350


def test_a_written_slow_counter_counts_on_from_the_written_value(fpgaio, clock):
    fpgaio.write(CLK1HZ, 4, 1000)
    clock.advance(HZ * 2)
    assert fpgaio.read(CLK1HZ, 4) == 1002


def test_counter_counts_every_prescale_plus_one_cycles(fpgaio, clock):
    fpgaio.write(PRESCALE, 4, 9)
    fpgaio.write(PSCNTR, 4, 9)
    fpgaio.write(COUNTER, 4, 0)
    clock.advance(10 * 7)
    assert fpgaio.read(COUNTER, 4) == 7 and fpgaio.read(PSCNTR, 4) == 9
    clock.advance(3)
    assert fpgaio.read(PSCNTR, 4) == 6


def test_with_prescale_zero_counter_counts_cycles(fpgaio, clock):
    clock.advance(1234)
    assert fpgaio.read(COUNTER, 4) == 1234


def test_misc_keeps_its_ten_bits(fpgaio):
    fpgaio.write(MISC, 4, 0xFFFF_FFFF)
    assert fpgaio.read(MISC, 4) == 0x3FF


def test_the_scc_names_the_an385_image(scc):
    assert scc.read(ID, 4) == 0x4104_3850 and scc.read(AID, 4) == 0x0020_0008
    assert scc.read(CFG_REG4, 4) == 2 and scc.read(DLL, 4) == 0xFFFF_0001


def test_scc_switches_come_from_the_host_and_leds_go_to_it(scc):
    scc.set_switches(0xA5)
    scc.write(CFG_REG3, 4, 0)
    scc.write(CFG_REG1, 4, 0x3C)
    assert scc.read(CFG_REG3, 4) == 0xA5 and scc.mcc_leds == 0x3C


def test_scc_remap_bit_reads_back(scc):
    scc.write(CFG_REG0, 4, 0xFFFF_FFFF)
    assert scc.read(CFG_REG0, 4) == 1


@pytest.mark.parametrize("device, hz", [(0, 50_000_000), (1, 24_576_000), (2, 25_000_000)])
def test_a_configuration_read_gives_an_oscillator_frequency(scc, device, hz):
    scc.write(CFGCTRL, 4, START | 1 << 20 | device)
    assert scc.read(CFGSTAT, 4) == 1 and scc.read(CFGDATA_RTN, 4) == hz
    assert scc.read(CFGCTRL, 4) & START == 0


def test_a_configuration_write_sets_the_oscillator_it_names(scc):
    scc.write(CFGDATA_OUT, 4, 12_000_000)
    scc.write(CFGCTRL, 4, START | WRITE | 1 << 20 | 1)
    scc.write(CFGCTRL, 4, START | 1 << 20 | 1)
    assert scc.read(CFGDATA_RTN, 4) == 12_000_000


def test_a_transfer_to_an_unknown_function_reports_an_error(scc):
    scc.write(CFGCTRL, 4, START | 7 << 20)
    assert scc.read(CFGSTAT, 4) == 0b11
