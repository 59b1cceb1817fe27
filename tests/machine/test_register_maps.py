"""The register-map vocabulary: layouts checked when defined, writes merged by access kind.

The bus tests use `Widget`, a tiny peripheral defined here, so they depend on nothing
but `machine.regs` and `machine.peripheral`.
"""

import logging

import pytest

from machine.clock import Clock
from machine.peripheral import Peripheral
from machine.regs import Access, Field, Register, RegisterMap, RegisterMapError

# -- a tiny peripheral on a bare bus ---------------------------------------------------------

CTRL, STATUS, KEY, DATA, SCRATCH, SMALL, HALF, WIDE, RESERVED = (
    0x00, 0x04, 0x08, 0x0C, 0x10, 0x14, 0x16, 0x18, 0x20)


class Widget(Peripheral):
    REGISTERS = RegisterMap([
        Register(CTRL, "CTRL", [
            Field("EN", 0),
            Field("MODE", 4, 4, reset=0x5),
            Field("VERSION", 24, 8, Access.RO, reset=0x2A),
        ]),
        Register(STATUS, "STATUS", [
            Field("DONE", 0, access=Access.W1C, reset=1),
            Field("ERR", 1, access=Access.W1C, reset=1),
            Field("ARM", 8, access=Access.W1S),
        ]),
        Register(KEY, "KEY", [Field("KEY", 0, 16, Access.WO)]),
        Register(DATA, "DATA"),
        Register(SCRATCH, "SCRATCH", reset=0x1234_5678),
        Register(SMALL, "SMALL", width=8, reset=0x7F),
        Register(HALF, "HALF", width=16, reset=0xBEEF),
        Register(WIDE, "WIDE", width=64, reset=0x0123_4567_89AB_CDEF),
        Register(RESERVED, "RESERVED", implemented=False),
    ])

    def __init__(self, name: str, clock: Clock) -> None:
        super().__init__(name, clock)
        self.data_reads = 0
        self.data_writes: list[int] = []
        self.irq_updates = 0
        self.on_read("DATA", self._read_data)
        self.on_write("DATA", self.data_writes.append)

    def _read_data(self) -> int:
        self.data_reads += 1
        return 0xD0D0_0000 + self.data_reads

    def update_irq(self) -> None:
        self.irq_updates += 1


@pytest.fixture
def widget():
    return Widget("widget", Clock(1_000_000))


def error_of(build) -> str:
    with pytest.raises(RegisterMapError) as excinfo:
        build()
    return str(excinfo.value)


# -- layouts refused when defined ------------------------------------------------------------


def test_overlapping_fields_are_refused_naming_both():
    assert error_of(lambda: Register(0, "CTRL", [Field("A", 0, 4), Field("B", 3, 2)])) == (
        "register CTRL: field B (bits 4:3) overlaps field A (bits 3:0)")


def test_an_overlap_names_the_earlier_field_it_collides_with():
    assert error_of(lambda: Register(0, "CTRL", [Field("A", 0, 2), Field("B", 8, 4), Field("C", 6, 4)])) == (
        "register CTRL: field C (bits 9:6) overlaps field B (bits 11:8)")


def test_the_same_field_object_given_twice_is_an_overlap_with_itself():
    f = Field("A", 0)
    assert error_of(lambda: Register(0, "CTRL", [f, f])) == (
        "register CTRL: field A (bits 0:0) overlaps field A (bits 0:0)")


def test_a_field_beyond_the_register_width_is_refused():
    assert error_of(lambda: Register(0, "CTRL", [Field("TOP", 30, 4)])) == (
        "register CTRL: field TOP (bits 33:30) does not fit in 32 bits")


def test_a_field_beyond_a_byte_register_is_refused():
    assert error_of(lambda: Register(0, "B", [Field("HI", 8)], width=8)) == (
        "register B: field HI (bits 8:8) does not fit in 8 bits")


def test_a_field_reset_wider_than_the_field_is_refused():
    assert error_of(lambda: Field("MODE", 4, 2, reset=4)) == (
        "field MODE: reset value 0x4 does not fit in 2 bit(s)")


def test_a_negative_field_reset_is_refused():
    assert error_of(lambda: Field("MODE", 4, 2, reset=-1)) == (
        "field MODE: reset value -0x1 does not fit in 2 bit(s)")


def test_a_field_reset_that_is_not_an_integer_is_refused():
    assert error_of(lambda: Field("MODE", 4, 2, reset="1")) == (
        "field MODE: reset value must be an integer, not '1'")


def test_a_register_reset_wider_than_the_register_is_refused():
    assert error_of(lambda: Register(0, "B", width=8, reset=0x100)) == (
        "register B: reset value must be an integer that fits in 8 bits, not 256")


def test_a_reset_on_a_register_with_fields_is_refused():
    assert error_of(lambda: Register(0, "CTRL", [Field("EN", 0)], reset=1)) == (
        "register CTRL: give the reset value on its fields, not on the register")


def test_a_field_of_zero_width_is_refused():
    assert error_of(lambda: Field("EMPTY", 0, 0)) == "field EMPTY: width must be a positive integer, not 0"


def test_a_field_at_a_negative_bit_is_refused():
    assert error_of(lambda: Field("LOW", -1)) == "field LOW: lsb must be a non-negative integer, not -1"


def test_a_field_name_that_is_not_an_identifier_is_refused():
    assert error_of(lambda: Field("TX-EN", 0)) == "field name must be an identifier, not 'TX-EN'"


def test_a_field_name_used_twice_in_a_register_is_refused():
    assert error_of(lambda: Register(0, "CTRL", [Field("EN", 0), Field("EN", 1)])) == (
        "register CTRL: field name EN is used twice")


def test_a_misaligned_register_is_refused():
    assert error_of(lambda: Register(0x6, "CTRL")) == (
        "register CTRL: offset 0x6 is not aligned to its width of 32 bits")


def test_a_misaligned_half_word_register_is_refused():
    assert error_of(lambda: Register(0x3, "HALF", width=16)) == (
        "register HALF: offset 0x3 is not aligned to its width of 16 bits")


def test_a_byte_register_may_sit_at_any_offset():
    assert Register(0x3, "B", width=8).offset == 0x3


@pytest.mark.parametrize("width", [0, 12, 24, 128])
def test_a_register_width_other_than_8_16_32_or_64_is_refused(width):
    assert error_of(lambda: Register(0, "CTRL", width=width)) == (
        f"register CTRL: width must be 8, 16, 32 or 64, not {width}")


def test_a_negative_register_offset_is_refused():
    assert error_of(lambda: Register(-4, "CTRL")) == (
        "register CTRL: offset must be a non-negative integer, not -4")


def test_a_register_name_that_is_not_an_identifier_is_refused():
    assert error_of(lambda: Register(0, "2CTRL")) == "register name must be an identifier, not '2CTRL'"


def test_a_field_list_holding_something_else_is_refused():
    assert error_of(lambda: Register(0, "CTRL", [(0, 1)])) == (
        "register CTRL: fields must be Field objects, not (0, 1)")


def test_overlapping_registers_are_refused():
    assert error_of(lambda: RegisterMap([Register(0x0, "WIDE", width=64), Register(0x4, "CTRL")])) == (
        "register CTRL at 0x4 overlaps register WIDE at 0x0 (8 bytes)")


def test_registers_overlap_whatever_order_they_are_declared_in():
    assert error_of(lambda: RegisterMap([Register(0x4, "CTRL"), Register(0x0, "WIDE", width=64)])) == (
        "register CTRL at 0x4 overlaps register WIDE at 0x0 (8 bytes)")


def test_two_registers_at_one_offset_are_refused():
    assert error_of(lambda: RegisterMap([Register(0x8, "A"), Register(0x8, "B")])) == (
        "register B at 0x8 overlaps register A at 0x8 (4 bytes)")


def test_a_register_name_used_twice_in_a_map_is_refused():
    assert error_of(lambda: RegisterMap([Register(0x0, "CTRL"), Register(0x4, "CTRL")])) == (
        "register name CTRL is used twice")


def test_a_layout_error_is_a_value_error():
    assert issubclass(RegisterMapError, ValueError)


# -- the map as data -------------------------------------------------------------------------


def test_a_register_without_fields_is_one_read_write_field_of_its_width():
    reg = Register(0, "DATA", width=16, reset=0xBEEF)
    (only,) = reg.fields
    assert (only.name, only.lsb, only.width, only.access, only.reset) == ("DATA", 0, 16, Access.RW, 0xBEEF)


def test_a_register_reset_value_is_assembled_from_its_fields():
    assert Widget.REGISTERS["CTRL"].reset_value == 0x2A00_0050


def test_the_map_gives_every_register_its_declared_reset_value():
    assert Widget.REGISTERS.reset_values() == {
        "CTRL": 0x2A00_0050, "STATUS": 0b11, "KEY": 0, "DATA": 0, "SCRATCH": 0x1234_5678,
        "SMALL": 0x7F, "HALF": 0xBEEF, "WIDE": 0x0123_4567_89AB_CDEF, "RESERVED": 0}


def test_the_map_finds_a_register_by_any_of_its_bytes():
    regs = Widget.REGISTERS
    assert regs.at(CTRL) is regs.at(CTRL + 3) is regs["CTRL"]
    assert regs.at(HALF + 1) is regs["HALF"]
    assert regs.at(WIDE + 7) is regs["WIDE"]
    assert regs.at(SMALL + 1) is None
    assert regs.at(0x1000) is None


def test_the_map_size_ends_at_its_last_register():
    assert Widget.REGISTERS.size == RESERVED + 4
    assert RegisterMap([]).size == 0


def test_the_map_lists_registers_in_offset_order():
    regs = RegisterMap([Register(0x8, "C"), Register(0x0, "A"), Register(0x4, "B")])
    assert [r.name for r in regs] == ["A", "B", "C"]
    assert len(regs) == 3 and "B" in regs and "D" not in regs


def test_asking_the_map_for_an_unknown_register_names_it():
    with pytest.raises(KeyError) as excinfo:
        Widget.REGISTERS["NOPE"]
    assert excinfo.value.args[0] == "no register named 'NOPE'"


def test_asking_a_register_for_an_unknown_field_names_both():
    with pytest.raises(KeyError) as excinfo:
        Widget.REGISTERS["CTRL"].field("NOPE")
    assert excinfo.value.args[0] == "register CTRL has no field 'NOPE'"


def test_a_field_extracts_and_inserts_its_bits():
    mode = Field("MODE", 4, 4)
    assert mode.mask == 0xF0
    assert mode.extract(0x1234_5678) == 0x7
    assert mode.insert(0xFFFF_FFFF, 0x3) == 0xFFFF_FF3F
    assert mode.insert(0, 0x1F) == 0xF0       # bits beyond the field are dropped


# -- apply_write by access kind ------------------------------------------------------------


def one_field(access: Access) -> Register:
    return Register(0, "R", [Field("F", 0, 8, access)])


def test_a_read_write_field_takes_the_written_value():
    assert one_field(Access.RW).apply_write(0xA5, 0x3C) == 0x3C


def test_a_read_only_field_keeps_its_value_on_write():
    assert one_field(Access.RO).apply_write(0xA5, 0x3C) == 0xA5


def test_a_write_only_field_stores_the_written_value():
    assert one_field(Access.WO).apply_write(0xA5, 0x3C) == 0x3C


def test_a_write_one_to_clear_field_clears_the_bits_written_as_one():
    assert one_field(Access.W1C).apply_write(0b1111_0000, 0b1010_1010) == 0b0101_0000


def test_a_write_one_to_set_field_sets_the_bits_written_as_one():
    assert one_field(Access.W1S).apply_write(0b1111_0000, 0b1010_1010) == 0b1111_1010


def test_bits_outside_every_field_keep_their_value_on_write():
    reg = Register(0, "R", [Field("LO", 0, 4), Field("HI", 28, 4)])
    assert reg.apply_write(0x0555_5550, 0xFFFF_FFFF) == 0xF555_555F


def test_a_write_merges_each_field_by_its_own_access_kind():
    reg = Register(0, "R", [Field("RW", 0, 4), Field("RO", 4, 4, Access.RO),
                            Field("C", 8, 4, Access.W1C), Field("S", 12, 4, Access.W1S)])
    assert reg.apply_write(0x0F5A, 0x3333) == 0x3C53


def test_a_write_only_field_is_not_in_the_read_mask():
    reg = Register(0, "R", [Field("RW", 0, 8), Field("WO", 8, 8, Access.WO), Field("RO", 16, 8, Access.RO)])
    assert reg.read_mask == 0x00FF_00FF


# -- the bus, through Peripheral.read / write --------------------------------------------------


def test_a_peripheral_reads_its_declared_reset_values(widget):
    assert widget.read(CTRL, 4) == 0x2A00_0050
    assert widget.read(SCRATCH, 4) == 0x1234_5678


def test_a_bus_write_to_a_read_write_register_reads_back(widget):
    widget.write(SCRATCH, 4, 0xCAFE_F00D)
    assert widget.read(SCRATCH, 4) == 0xCAFE_F00D


def test_a_bus_write_leaves_read_only_bits_alone(widget):
    widget.write(CTRL, 4, 0xFFFF_FFFF)
    assert widget.read(CTRL, 4) == 0x2A00_00F1


def test_a_write_only_register_reads_as_zero_but_keeps_what_was_written(widget):
    widget.write(KEY, 4, 0xC0DE)
    assert widget.read(KEY, 4) == 0
    assert widget.get("KEY") == 0xC0DE


def test_writing_one_to_a_w1c_bit_clears_only_that_bit(widget):
    widget.write(STATUS, 4, 0b01)
    assert widget.read(STATUS, 4) == 0b10


def test_writing_zero_to_w1c_and_w1s_bits_changes_nothing(widget):
    widget.write(STATUS, 4, 0)
    assert widget.read(STATUS, 4) == 0b11


def test_writing_one_to_a_w1s_bit_sets_it_and_leaves_w1c_bits_alone(widget):
    widget.write(STATUS, 4, 1 << 8)
    assert widget.read(STATUS, 4) == (1 << 8) | 0b11


def test_a_byte_read_gives_that_byte_of_the_register(widget):
    assert [widget.read(SCRATCH + i, 1) for i in range(4)] == [0x78, 0x56, 0x34, 0x12]


def test_a_half_word_read_gives_that_half_of_the_register(widget):
    assert widget.read(SCRATCH + 2, 2) == 0x1234


def test_a_byte_write_changes_only_that_byte(widget):
    widget.write(SCRATCH + 1, 1, 0xAB)
    assert widget.read(SCRATCH, 4) == 0x1234_AB78


def test_a_half_word_write_changes_only_that_half(widget):
    widget.write(SCRATCH + 2, 2, 0xBEEF)
    assert widget.read(SCRATCH, 4) == 0xBEEF_5678


def test_a_byte_write_drops_bits_beyond_the_byte(widget):
    widget.write(SCRATCH, 1, 0x1FF)
    assert widget.read(SCRATCH, 4) == 0x1234_56FF


def test_a_byte_write_to_a_w1c_register_clears_nothing_in_the_other_bytes(widget):
    widget.write(STATUS + 1, 1, 0x01)          # sets ARM (bit 8); DONE and ERR are in byte 0
    assert widget.read(STATUS, 4) == (1 << 8) | 0b11


def test_a_byte_write_to_the_w1c_byte_clears_what_it_writes_as_one(widget):
    widget.write(STATUS, 1, 0b10)
    assert widget.read(STATUS, 4) == 0b01


def test_byte_and_half_word_registers_answer_their_own_width(widget):
    assert widget.read(SMALL, 1) == 0x7F
    assert widget.read(HALF, 2) == 0xBEEF
    assert widget.read(HALF + 1, 1) == 0xBE


def test_a_double_word_register_answers_word_reads_of_either_half(widget):
    assert widget.read(WIDE, 4) == 0x89AB_CDEF
    assert widget.read(WIDE + 4, 4) == 0x0123_4567


def test_a_word_write_to_the_upper_half_of_a_double_word_keeps_the_lower(widget):
    widget.write(WIDE + 4, 4, 0xFFFF_FFFF)
    assert widget.get("WIDE") == 0xFFFF_FFFF_89AB_CDEF


def test_a_stored_write_updates_the_interrupt_outputs(widget):
    before = widget.irq_updates
    widget.write(SCRATCH, 4, 1)
    assert widget.irq_updates == before + 1


def test_get_and_set_work_on_named_fields(widget):
    widget.set("CTRL", 0x9, field="MODE")
    assert widget.get("CTRL", "MODE") == 0x9
    assert widget.get("CTRL") == 0x2A00_0090


# -- handlers --------------------------------------------------------------------------------


def test_a_read_handler_answers_each_read(widget):
    assert widget.read(DATA, 4) == 0xD0D0_0001
    assert widget.read(DATA, 4) == 0xD0D0_0002
    assert widget.data_reads == 2


def test_a_write_handler_gets_the_written_value_instead_of_storage(widget):
    widget.write(DATA, 4, 0x55)
    assert widget.data_writes == [0x55]
    assert widget.get("DATA") == 0


def test_a_byte_write_hands_the_handler_the_whole_register_with_that_byte_merged(widget):
    widget.set("DATA", 0x1122_3344)
    widget.write(DATA + 2, 1, 0xAA)
    assert widget.data_writes == [0x11AA_3344]


def test_a_handler_for_an_unknown_register_is_refused_by_name(widget):
    with pytest.raises(KeyError) as excinfo:
        widget.on_read("NOPE", lambda: 0)
    assert excinfo.value.args[0] == "no register named 'NOPE'"


# -- unimplemented registers and holes ---------------------------------------------------------


def test_a_read_of_an_unimplemented_register_gives_zero_and_is_logged_by_name(widget, caplog):
    with caplog.at_level(logging.DEBUG, logger="atoll.machine"):
        assert widget.read(RESERVED, 4) == 0
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "widget: read of unimplemented register RESERVED")]


def test_a_write_to_an_unimplemented_register_is_dropped_and_logged_by_name(widget, caplog):
    with caplog.at_level(logging.DEBUG, logger="atoll.machine"):
        widget.write(RESERVED, 4, 0xFFFF_FFFF)
    assert widget.get("RESERVED") == 0
    assert [r.getMessage() for r in caplog.records] == ["widget: write of unimplemented register RESERVED"]


def test_unimplemented_accesses_are_counted_by_register_name(widget):
    widget.read(RESERVED, 4)
    widget.write(RESERVED + 2, 2, 1)
    widget.read(RESERVED + 3, 1)
    assert widget.unimplemented_accesses == {"RESERVED": 3}


def test_only_the_first_unimplemented_access_is_a_warning(widget, caplog):
    with caplog.at_level(logging.DEBUG, logger="atoll.machine"):
        widget.read(RESERVED, 4)
        widget.read(RESERVED, 4)
    assert [r.levelno for r in caplog.records] == [logging.WARNING, logging.DEBUG]


def test_an_access_where_no_register_is_logged_by_offset(widget, caplog):
    with caplog.at_level(logging.DEBUG, logger="atoll.machine"):
        assert widget.read(0x40, 4) == 0
        widget.write(0x44, 4, 1)
    assert [r.getMessage() for r in caplog.records] == [
        "widget: read of unimplemented register offset 0x40",
        "widget: write of unimplemented register offset 0x44"]
    assert widget.unimplemented_accesses == {"offset 0x40": 1, "offset 0x44": 1}


def test_the_byte_after_a_byte_register_is_a_hole(widget):
    assert widget.read(SMALL + 1, 1) == 0
    assert widget.unimplemented_accesses == {"offset 0x15": 1}


# -- reset -----------------------------------------------------------------------------------


def test_reset_restores_every_declared_value(widget):
    for offset in (CTRL, STATUS, KEY, SCRATCH, WIDE, WIDE + 4):
        widget.write(offset, 4, 0xFFFF_FFFF)
    widget.write(SMALL, 1, 0)
    widget.write(HALF, 2, 0)
    widget.reset()
    assert {name: widget.get(name) for name in Widget.REGISTERS.reset_values()} == \
        Widget.REGISTERS.reset_values()


def test_reset_updates_the_interrupt_outputs(widget):
    before = widget.irq_updates
    widget.reset()
    assert widget.irq_updates == before + 1


def test_reset_keeps_the_handlers(widget):
    widget.reset()
    widget.write(DATA, 4, 7)
    assert widget.data_writes == [7]
