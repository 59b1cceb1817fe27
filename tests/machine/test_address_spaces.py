"""Address spaces and faults: one contract, both ISAs.

Every test runs the same probe program (tests/machine/guest/probe.c) on both boards.
A component sees exactly its own mappings; every bad access or instruction ends the
run with a structured Fault naming the address, the access, the pc and the space.
"""

from __future__ import annotations

import pytest
from unicorn.unicorn_const import UC_HOOK_CODE

from machine import AccessKind, AddressSpace, FaultKind, Machine, Perm, Trap

from tests.machine.probe_harness import CODE, DATA, ISA_OF, Probe

ARM_SVC = bytes.fromhex("00df")           # svc #0
RISCV_ECALL = bytes.fromhex("73000000")   # ecall


def test_a_load_through_a_mapping_reads_the_physical_page_behind_it(probe):
    stop = probe.call("probe_read_data")

    assert stop.reason == "trap" and stop.trap.kind == "breakpoint"
    assert probe.result() == 0x11223344
    assert probe.machine.read_physical(probe.data_phys, 4) == (0x11223344).to_bytes(4, "little")


def test_a_store_lands_in_the_physical_page_behind_the_mapping(probe):
    probe.call("probe_store", DATA + 8, 0xCAFEF00D)

    assert probe.machine.read_physical(probe.data_phys + 8, 4) == (0xCAFEF00D).to_bytes(4, "little")


def test_two_spaces_with_the_same_virtual_addresses_see_only_their_own_memory(board, probe_elves):
    first = Probe(board, probe_elves[ISA_OF[board]], name="first")
    second = Probe(board, probe_elves[ISA_OF[board]], machine=first.machine, ram_offset=0x20000, name="second")

    first.call("probe_store", DATA, 1111)
    second.call("probe_store", DATA, 2222)
    first.call("probe_load", DATA)
    seen_by_first = first.result()
    second.call("probe_load", DATA)

    assert (seen_by_first, second.result()) == (1111, 2222)


def test_a_load_from_an_unmapped_address_is_an_unmapped_read_fault(probe):
    stop = probe.call("probe_load", 0x0003_0000)

    assert stop.reason == "fault"
    f = stop.fault
    assert (f.kind, f.address, f.access, f.space) == (FaultKind.UNMAPPED, 0x0003_0000, AccessKind.READ, "probe")
    assert probe.address("probe_load") <= f.pc < probe.address("probe_load") + 16


def test_a_store_to_a_read_only_mapping_is_a_write_permission_fault(probe):
    stop = probe.call("probe_store", CODE, 0)

    f = stop.fault
    assert (f.kind, f.address, f.access) == (FaultKind.PERMISSION, CODE, AccessKind.WRITE)
    assert probe.machine.read_physical(probe.code_phys, 4) == probe.image.segments[0].data[:4]


def test_a_jump_into_a_non_executable_mapping_is_a_fetch_permission_fault(probe):
    thumb = 1 if probe.machine.isa == "armv7m" else 0
    stop = probe.call("probe_jump", DATA | thumb)

    f = stop.fault
    assert (f.kind, f.address, f.access, f.pc) == (FaultKind.PERMISSION, DATA, AccessKind.FETCH, DATA)


def test_a_jump_to_an_unmapped_address_is_an_unmapped_fetch_fault(probe):
    thumb = 1 if probe.machine.isa == "armv7m" else 0
    stop = probe.call("probe_jump", 0x0005_0000 | thumb)

    f = stop.fault
    assert (f.kind, f.address, f.access, f.pc) == (FaultKind.UNMAPPED, 0x0005_0000, AccessKind.FETCH, 0x0005_0000)


def test_a_mapping_onto_a_physical_address_with_nothing_behind_it_is_a_bus_error(probe):
    probe.space.map(0x0004_0000, 0x7000_0000, 0x1000, Perm.R | Perm.W, "nowhere")

    stop = probe.call("probe_load", 0x0004_0000)

    f = stop.fault
    assert (f.kind, f.access) == (FaultKind.BUS_ERROR, AccessKind.READ)
    assert f.address in (0x0004_0000, 0x7000_0000)


def test_an_undefined_instruction_is_an_undefined_instruction_fault(probe):
    stop = probe.call("probe_undefined")

    f = stop.fault
    assert f.kind is FaultKind.UNDEFINED_INSTRUCTION
    assert probe.address("probe_undefined") <= f.pc < probe.address("probe_undefined") + 16
    instruction = probe.machine.read_virtual(probe.space, f.pc, 2)
    if probe.machine.isa == "armv7m":
        assert instruction[1] == 0xDE  # udf
    else:
        assert instruction == b"\0\0" or probe.machine.read_virtual(probe.space, f.pc, 4) == bytes.fromhex("731000c0")


def test_a_syscall_reaches_the_trap_handler_with_the_pc_past_the_instruction(probe):
    seen: list[Trap] = []
    cpu = probe.cpu

    def handler(trap: Trap) -> bool:
        seen.append(trap)
        if trap.kind != "syscall":
            return False
        number = cpu.read(cpu.SYSCALL_NUMBER_REGISTER)
        arg = cpu.read(cpu.ARG_REGISTERS[0])
        cpu.write(cpu.ARG_REGISTERS[0], number * 100 + arg)
        return True

    probe.machine.trap_handler = handler
    stop = probe.call("probe_syscall", 7, 5)

    assert [t.kind for t in seen] == ["syscall", "breakpoint"]
    instruction = ARM_SVC if probe.machine.isa == "armv7m" else RISCV_ECALL
    pc = seen[0].pc
    assert probe.machine.read_virtual(probe.space, pc - len(instruction), len(instruction)) == instruction
    assert stop.trap.kind == "breakpoint"
    assert probe.result() == 706  # 7 * 100 + 5, plus one in the probe


def test_without_a_trap_handler_a_syscall_ends_the_run_as_a_trap(probe):
    stop = probe.call("probe_syscall", 1, 2)

    assert stop.reason == "trap" and stop.trap.kind == "syscall"


def test_an_exception_in_the_trap_handler_comes_out_of_the_run(probe):
    def handler(trap: Trap) -> bool:
        raise LookupError("handler broke")

    probe.machine.trap_handler = handler
    with pytest.raises(LookupError, match="handler broke"):
        probe.call("probe_syscall", 1, 2)


def test_user_mode_code_traps_and_faults_the_same_way(probe):
    probe.prepare("probe_syscall", 3, 4)
    probe.machine.enter_user_mode()
    probe.machine.trap_handler = lambda trap: trap.kind == "syscall"

    stop = probe.machine.run(100_000)
    assert stop.trap.kind == "breakpoint" and probe.result() == 5
    stop = probe.call("probe_load", 0x0003_0000)
    assert (stop.fault.kind, stop.fault.address) == (FaultKind.UNMAPPED, 0x0003_0000)


def test_user_mode_code_cannot_regain_privilege(probe):
    probe.prepare("probe_read_data")
    probe.machine.enter_user_mode()
    cpu = probe.cpu
    if probe.machine.isa == "armv7m":
        # MSR CONTROL from thread mode is ignored: nPRIV stays set.
        code = bytes.fromhex("0020" "80f31488" "eff31480" "00be")  # movs r0,#0; msr control,r0; mrs r0,control; bkpt
    else:
        code = bytes.fromhex("f3220030" "02900000")  # csrr t0, mstatus; ebreak
    probe.machine.write_physical(probe.code_phys + 0x800, code)
    cpu.pc = CODE + 0x800

    stop = probe.machine.run(1_000)

    if probe.machine.isa == "armv7m":
        assert stop.trap.kind == "breakpoint" and probe.result() & 1 == 1
    else:
        assert stop.fault.kind is FaultKind.UNDEFINED_INSTRUCTION and stop.fault.pc == CODE + 0x800


def test_a_changed_mapping_takes_effect_when_the_space_is_activated_again(probe):
    probe.call("probe_read_data")
    assert probe.result() == 0x11223344
    other = probe.data_phys + 0x4000
    probe.machine.write_physical(other, (0x55667788).to_bytes(4, "little"))
    probe.space.unmap(DATA)
    probe.space.map(DATA, other, 0x1000, Perm.R | Perm.W, "data")

    probe.call("probe_read_data")

    assert probe.result() == 0x55667788


def test_switching_spaces_flushes_translations_of_the_previous_space(board, probe_elves):
    first = Probe(board, probe_elves[ISA_OF[board]], name="first")
    bare = first.machine.bare_space
    first.call("probe_read_data")

    first.machine.activate(bare)
    first.machine.activate(first.space)
    stop = first.call("probe_load", 0x0003_0000)

    assert stop.fault.kind is FaultKind.UNMAPPED


def test_a_fault_leaves_the_machine_ready_to_run_again(probe):
    probe.call("probe_load", 0x0003_0000)

    stop = probe.call("probe_read_data")

    assert stop.trap.kind == "breakpoint" and probe.result() == 0x11223344


def test_stepping_executes_exactly_the_requested_number_of_instructions(probe):
    probe.prepare("probe_count", 1000)
    before = probe.machine.counter.executed

    stop = probe.machine.step(7)

    assert stop.reason == "time"
    assert probe.machine.counter.executed - before == 7
    assert probe.machine.clock.now == before + 7


def test_a_fault_names_address_access_pc_and_space_in_its_message(probe):
    stop = probe.call("probe_load", 0x0003_0000)

    text = str(stop.fault)
    assert text.startswith("unmapped fault: read of 0x00030000 at pc 0x")
    assert text.endswith("in space 'probe'")


def test_host_reads_through_a_space_refuse_unmapped_addresses(probe):
    from machine import FaultError

    with pytest.raises(FaultError, match="unmapped fault: read of 0x00030000"):
        probe.machine.read_virtual(probe.space, 0x0003_0000, 4)


def test_a_branch_to_an_even_address_on_cortex_m_is_an_illegal_state_fault(board, probe_elves):
    if ISA_OF[board] != "armv7m":
        pytest.skip("Thumb state is an ARMv7-M notion; RISC-V has no counterpart")
    probe = Probe(board, probe_elves["armv7m"])

    stop = probe.call("probe_jump", probe.address("probe_read_data"))  # Thumb bit clear

    assert stop.fault.kind is FaultKind.ILLEGAL_STATE


def test_mappings_must_not_overlap_within_a_space():
    from machine import MemoryMapError

    space = AddressSpace("s")
    space.map(0x1000, 0x8000_0000, 0x2000, Perm.R, "a")
    with pytest.raises(MemoryMapError, match=r"b at 0x2000-0x3000 overlaps a at 0x1000-0x3000 in space 's'"):
        space.map(0x2000, 0x8000_4000, 0x1000, Perm.R, "b")


def test_mappings_must_be_page_aligned():
    from machine import MemoryMapError

    with pytest.raises(MemoryMapError, match="c: virtual base 0x1010 is not a multiple of the page size 0x1000"):
        AddressSpace("s").map(0x1010, 0x8000_0000, 0x1000, Perm.R, "c")


def test_code_rewritten_by_the_host_runs_as_the_new_code(probe):
    probe.call("probe_count", 5)
    assert probe.result() == 10  # the function is now translated and cached by Unicorn
    start = probe.address("probe_count")
    undefined = b"\xfe\xde" if probe.machine.isa == "armv7m" else b"\x00\x00"

    probe.machine.write_virtual(probe.space, start, undefined * 8)
    stop = probe.call("probe_count", 5)

    assert stop.reason == "fault" and stop.fault.kind is FaultKind.UNDEFINED_INSTRUCTION
    assert stop.fault.pc == start


# -- the machine's own page (0xFFFFF000-0xFFFFFFFF): no guest code may touch it -----------------

SENTINEL_PAGE = 0xFFFF_F000
#: a branch into the machine's page on Cortex-M lands in the EXC_RETURN range (0xF0000000 and
#: up), which the core refuses as an illegal exception return before fetching anything
_JUMP_FAULT = {"armv7m": FaultKind.ILLEGAL_STATE, "rv32imac": FaultKind.PERMISSION}


def _as_user(probe, name: str, *args: int):
    probe.prepare(name, *args)
    probe.machine.enter_user_mode()
    return probe.machine.run(200_000)


@pytest.mark.parametrize("user", [False, True], ids=["privileged", "user"])
def test_a_store_to_the_machines_own_page_is_a_write_permission_fault(probe, user):
    before = probe.machine.read_physical(SENTINEL_PAGE, 8)

    stop = _as_user(probe, "probe_store", SENTINEL_PAGE, 0xDEAD) if user else \
        probe.call("probe_store", SENTINEL_PAGE, 0xDEAD)

    f = stop.fault
    assert (f.kind, f.address, f.access, f.space) == (FaultKind.PERMISSION, SENTINEL_PAGE, AccessKind.WRITE, "probe")
    assert str(f).startswith("permission fault: write of 0xfffff000 at pc 0x")
    assert str(f).endswith("in space 'probe' (the machine's own page)")
    assert probe.machine.read_physical(SENTINEL_PAGE, 8) == before


@pytest.mark.parametrize("user", [False, True], ids=["privileged", "user"])
def test_a_load_from_the_machines_own_page_is_a_read_permission_fault(probe, user):
    stop = _as_user(probe, "probe_load", SENTINEL_PAGE) if user else probe.call("probe_load", SENTINEL_PAGE)

    f = stop.fault
    assert (f.kind, f.address, f.access) == (FaultKind.PERMISSION, SENTINEL_PAGE, AccessKind.READ)


@pytest.mark.parametrize("target", [SENTINEL_PAGE, SENTINEL_PAGE + 0x800, 0xFFFF_FFFC],
                         ids=["trampoline", "middle", "last-word"])
@pytest.mark.parametrize("user", [False, True], ids=["privileged", "user"])
def test_a_jump_into_the_machines_own_page_faults_at_the_target_and_runs_nothing_there(probe, target, user):
    thumb = 1 if probe.machine.isa == "armv7m" else 0

    stop = _as_user(probe, "probe_jump", target | thumb) if user else probe.call("probe_jump", target | thumb)

    assert stop.reason == "fault"
    f = stop.fault
    assert (f.kind, f.pc) == (_JUMP_FAULT[probe.machine.isa], target)
    if f.kind is FaultKind.PERMISSION:
        assert (f.address, f.access, f.detail) == (target, AccessKind.FETCH, "the machine's own page")
    if user and probe.machine.isa == "rv32imac":   # the trampoline's mret did not run: still U-mode
        stop = probe.call("probe_read_mcycle")
        assert stop.fault.kind is FaultKind.UNDEFINED_INSTRUCTION


def test_a_trap_at_the_last_word_of_the_address_space_names_that_pc_not_a_negative_one():
    # Unicorn hands a RISC-V trap to the hook with the pc 4 past the instruction, which
    # wraps to 0 for an instruction at 0xFFFFFFFC.
    machine = Machine("hifive1")
    machine.cpu.pc = 0

    fault = machine.cpu.decode_trap(2, "s")   # illegal instruction

    assert (fault.kind, fault.pc) == (FaultKind.UNDEFINED_INSTRUCTION, 0xFFFF_FFFC)
    assert machine.cpu.pc == 0xFFFF_FFFC


def test_an_emu_start_that_executes_nothing_ends_the_run_with_a_fault_instead_of_spinning(probe):
    # No guest code can make emu_start return having done nothing any more; a hook that stops
    # the CPU before an instruction and takes back its count (a broken debugger) stands in.
    machine = probe.machine
    target = probe.address("probe_count") & ~1

    def stop_before(uc, address, size, _):
        machine.counter.settle(address)
        uc.emu_stop()

    machine.uc.hook_add(UC_HOOK_CODE, stop_before, begin=target, end=target)
    stop = probe.call("probe_count", 3)

    assert stop.reason == "fault"
    assert str(stop.fault) == (f"cpu-error fault at pc {target:#010x} in space 'probe' (no progress: "
                               f"the CPU stopped at {target:#010x} without executing an instruction)")
