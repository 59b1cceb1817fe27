"""FE310-G002 SPI flash controller (QSPI0) on a bare bus, against the manual's SPI chapter: reset
values, the FIFO flags, watermarks and interrupt, chip-select modes, and the flash answering
the commands an SDK's set-up code sends."""

import pytest

from machine.clock import Clock
from machine.peripherals import PERIPHERAL_TYPES
from machine.peripherals.sifive_spi import SifiveSpi

SCKDIV, SCKMODE, CSID, CSDEF, CSMODE, DELAY0, DELAY1, FMT = 0x00, 0x04, 0x10, 0x14, 0x18, 0x28, 0x2C, 0x40
TXDATA, RXDATA, TXMARK, RXMARK, FCTRL, FFMT, IE, IP = 0x48, 0x4C, 0x50, 0x54, 0x60, 0x64, 0x70, 0x74
AUTO, HOLD, OFF = 0, 2, 3
EMPTY = 1 << 31


@pytest.fixture
def spi():
    return SifiveSpi("qspi0", Clock(16_000_000))


def transaction(spi, *frames):
    spi.write(CSMODE, 4, HOLD)
    for f in frames:
        spi.write(TXDATA, 4, f)
    spi.write(CSMODE, 4, AUTO)
    return [spi.read(RXDATA, 4) for _ in frames]


def test_the_board_file_type_name_gives_the_model():
    assert PERIPHERAL_TYPES["sifive-spi0"] is SifiveSpi


@pytest.mark.parametrize("offset, value", [
    (SCKDIV, 3), (SCKMODE, 0), (CSID, 0), (CSDEF, 1), (CSMODE, 0), (DELAY0, 0x0001_0001), (DELAY1, 0x0000_0001),
    (FMT, 0x0008_0000), (TXDATA, 0), (RXDATA, EMPTY), (FCTRL, 1), (FFMT, 0x0003_0007), (IE, 0)])
def test_registers_reset_as_the_manual_says(spi, offset, value):
    assert spi.read(offset, 4) == value


def test_set_up_registers_read_back_within_their_fields(spi):
    spi.write(SCKDIV, 4, 0xFFFF_FFFF)
    spi.write(FFMT, 4, 0x6B08_2A0F)
    spi.write(FCTRL, 4, 0)
    assert spi.read(SCKDIV, 4) == 0xFFF and spi.read(FFMT, 4) == 0x6B08_2A0F and spi.read(FCTRL, 4) == 0


def test_the_flash_answers_jedec_id_with_the_hifive1_part(spi):
    assert transaction(spi, 0x9F, 0, 0, 0) == [0xFF, 0x9D, 0x60, 0x18]


def test_the_flash_id_is_a_board_parameter():
    spi = SifiveSpi("qspi0", Clock(1), flash_id=0xEF4018)
    assert transaction(spi, 0x9F, 0, 0, 0)[1:] == [0xEF, 0x40, 0x18]


def test_a_flash_id_wider_than_three_bytes_is_refused():
    with pytest.raises(ValueError, match=r"qspi0: flash_id must be the 3 bytes of a JEDEC ID \(0 to 0xFFFFFF\), "
                                         r"not 0x1000000"):
        SifiveSpi("qspi0", Clock(1), flash_id=1 << 24)


def test_the_status_register_says_never_busy_and_release_gives_the_device_id(spi):
    assert transaction(spi, 0x05, 0, 0) == [0xFF, 0, 0]
    assert transaction(spi, 0xAB, 0, 0, 0, 0)[4] == 0x17


def test_in_auto_mode_every_frame_is_its_own_transaction(spi):
    for f in (0x9F, 0, 0):
        spi.write(TXDATA, 4, f)
    assert [spi.read(RXDATA, 4) for _ in range(3)] == [0xFF, 0xFF, 0xFF]


def test_with_chip_select_off_or_another_chip_nothing_answers(spi):
    spi.write(CSID, 4, 1)
    assert transaction(spi, 0x9F, 0) == [0xFF, 0xFF]


def test_rxdata_pops_and_reports_empty(spi):
    spi.write(TXDATA, 4, 0x05)
    assert spi.read(RXDATA, 4) == 0xFF and spi.read(RXDATA, 4) == EMPTY


def test_with_dir_tx_nothing_is_received(spi):
    spi.write(FMT, 4, 0x0008_0008)
    spi.write(TXDATA, 4, 0x05)
    assert spi.read(RXDATA, 4) == EMPTY


def test_the_receive_fifo_holds_eight_frames_and_drops_the_ninth(spi):
    for _ in range(9):
        spi.write(TXDATA, 4, 0)
    assert sum(1 for _ in range(9) if spi.read(RXDATA, 4) != EMPTY) == 8
    assert spi.dropped_writes["received frame with the receive FIFO full"] == 1


def test_watermarks_drive_ip_and_the_enabled_ones_the_interrupt(spi):
    spi.write(TXMARK, 4, 1)
    assert spi.read(IP, 4) == 0b01 and not spi.irq["irq"].level
    spi.write(IE, 4, 0b10)
    spi.write(RXMARK, 4, 1)
    spi.write(TXDATA, 4, 0)
    assert spi.read(IP, 4) == 0b01 and not spi.irq["irq"].level
    spi.write(TXDATA, 4, 0)
    assert spi.read(IP, 4) == 0b11 and spi.irq["irq"].level
    spi.read(RXDATA, 4)
    assert not spi.irq["irq"].level
