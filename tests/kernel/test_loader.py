"""The loader refuses every ELF it must not load with a message naming the file and the
problem (kernel/loader.py), on both boards; a well-formed image loads with W^X pages.

The bad images are tests/kernel/guest_ld/tiny.c linked with the small linker scripts
beside it, each breaking one rule of the component layout."""

from __future__ import annotations

import pathlib

import pytest
from elftools.elf.elffile import ELFFile

from atoll.toolchain import build
from kernel.abi import COMPONENT_BASE, COMPONENT_LIMIT
from kernel.kernel import Kernel
from kernel.loader import FrameAllocator, LoadError
from machine import PAGE_SIZE, Machine, Perm
from machine.elf import MACHINES
from sysdesc.description import ComponentSpec, SystemSpec
from tests.kernel.system_harness import BOARDS, ISA_OF, System, guests  # noqa: F401  (fixture)

HERE = pathlib.Path(__file__).resolve().parent / "guest_ld"
LAYOUTS = ("good", "outside", "wx", "shared", "entry")


@pytest.fixture(scope="module")
def elves(tmp_path_factory) -> dict[tuple[str, str], pathlib.Path]:
    out = tmp_path_factory.mktemp("loader")
    return {(isa, layout): build([HERE / "tiny.c"], out / isa / f"{layout}.elf", isa, HERE / f"{layout}.ld")
            for isa in ISA_OF.values() for layout in LAYOUTS}


@pytest.fixture(params=BOARDS)
def board(request):
    return request.param


def load(board: str, elf: pathlib.Path, **kw):
    return Kernel(Machine(board)).create_process("tiny", elf, **kw)


def first_segment(elf: pathlib.Path):
    with open(elf, "rb") as f:
        return next(s.header for s in ELFFile(f).iter_segments() if s["p_type"] == "PT_LOAD")


def test_a_well_formed_image_loads_with_code_read_execute_and_data_read_write(board, elves):
    process = load(board, elves[ISA_OF[board], "good"])

    perms = {m.vbase: m.perms for m in process.space.mappings if m.name == "image"}
    assert perms == {0x10000: Perm.R | Perm.X, 0x11000: Perm.R | Perm.W}


def test_a_segment_outside_the_component_range_is_refused(board, elves):
    elf = elves[ISA_OF[board], "outside"]
    seg = first_segment(elf)
    end = seg["p_vaddr"] + seg["p_memsz"]

    with pytest.raises(LoadError) as e:
        load(board, elf)

    assert str(e.value) == (f"{elf}: segment at {0x8000:#x}-{end:#x} is outside the component range "
                            f"{COMPONENT_BASE:#x}-{COMPONENT_LIMIT:#x} (link with firmware/lib/component.ld)")


def test_a_writable_and_executable_segment_is_refused(board, elves):
    elf = elves[ISA_OF[board], "wx"]

    with pytest.raises(LoadError) as e:
        load(board, elf)

    assert str(e.value) == f"{elf}: segment at 0x10000 is both writable and executable"


def test_segments_with_different_permissions_on_one_page_are_refused(board, elves):
    elf = elves[ISA_OF[board], "shared"]

    with pytest.raises(LoadError) as e:
        load(board, elf)

    assert str(e.value) == f"{elf}: segments with different permissions share the page at 0x10000"


def test_an_entry_point_outside_executable_code_is_refused(board, elves):
    elf = elves[ISA_OF[board], "entry"]

    with pytest.raises(LoadError) as e:
        load(board, elf)

    assert str(e.value) == f"{elf}: entry point 0x11000 is not in an executable segment"


def test_an_elf_for_the_other_isa_is_refused(board, elves):
    other = next(isa for isa in ISA_OF.values() if isa != ISA_OF[board])
    elf = elves[other, "good"]
    with open(elf, "rb") as f:
        built_for = ELFFile(f).header["e_machine"]

    with pytest.raises(LoadError) as e:
        load(board, elf)

    assert str(e.value) == f"{elf}: is built for {built_for}, not {MACHINES[ISA_OF[board]][1]} ({ISA_OF[board]})"


def test_a_component_larger_than_the_free_ram_is_refused_and_nothing_else_is_lost(board, elves):
    elf = elves[ISA_OF[board], "good"]
    kernel = Kernel(Machine(board))
    first = kernel.create_process("first", elf)
    stack = 64 << 20

    with pytest.raises(LoadError) as e:
        kernel.create_process("huge", elf, stack=stack)

    assert str(e.value) == f"{elf}: the board's RAM is full ({2 + stack // PAGE_SIZE} pages needed for huge)"
    assert [p.name for p in kernel.processes] == ["first"]
    assert first.space.lookup(0x10000) is not None


def test_a_component_larger_than_one_ram_region_continues_in_the_next(guests):
    system = System("mps2-an385", guests)  # two RAM regions of 4 MiB; hifive1 has one
    sleeper = system.add("sleeper", stack=6 << 20)

    system.run(0.01)

    regions = {system.machine.board.region_at(m.pbase).name for m in sleeper.space.mappings}
    assert regions == {"ssram1", "ssram23"}
    assert len(system.output("sleeper")) == 5 and sleeper.exit_code == 7


def test_boot_names_the_component_whose_image_cannot_load(board, elves):
    elf = elves[ISA_OF[board], "wx"]
    machine = Machine(board)
    spec = SystemSpec("bad", elf.parent / "bad.toml", machine.board,
                      (ComponentSpec("tiny", elf, 4, 4096, {}, {}, None, True, 1),), (), ())

    with pytest.raises(LoadError) as e:
        Kernel(machine).boot(spec)

    # the ELF file as the description names it: relative to the description's folder
    assert str(e.value) == "component 'tiny': wx.elf: segment at 0x10000 is both writable and executable"


def test_reserved_frames_are_not_handed_out(board):
    spec = Machine(board).board
    ram = min(r.base for r in spec.regions if r.kind == "ram" and r.perms & Perm.W)

    frames = FrameAllocator(spec, reserve=3 * PAGE_SIZE)

    assert frames.take(1) == [ram + 3 * PAGE_SIZE]
