"""firmware/lib, the user-space runtime, and firmware/components.py, the component build driver.

Evidence comes from the built ELF files and from the formatter run on the host:
- hello and a probe component that calls every syscall build for both ISAs; their entry is
  `_start` inside the component range, and their PT_LOAD segments are page-aligned with none
  both writable and executable;
- the generated header and component.ld carry kernel/abi.py's numbers (so they cannot drift);
- disassembled stubs put each syscall's number in r12 / a7, its arguments in r0-r6 / a0-a6,
  and trap with `svc #0` / `ecall`; _start reaches main and exit ends in the EXIT trap.
What the C library does on the boards is tests/firmware/test_c_library.py's.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import capstone
import pytest
from elftools.elf.elffile import ELFFile

from atoll.toolchain import ToolchainError
from machine.cpu import CPU_TYPES
from kernel import abi
from firmware import components
from tests.conftest import ROOT

LIB = ROOT / "firmware" / "lib"
PAGE = 4096
PF_X, PF_W = 1, 2

# Each syscall called through its stub with distinct small constants, and the values the
# argument registers must then hold at the trap, in order (r0.. / a0..). M is the message
# {label 0x11, mr 0x22 0x33 0x44 0x55}.
CALLS = {
    "DEBUG_PUTC": ("atl_debug_putc('A')", [0x41]),
    "YIELD": ("atl_yield()", []),
    "EXIT": ("(atl_exit(7), 0)", [7]),
    "SEND": ("atl_send(3, &M)", [3, 0x11, 0x22, 0x33, 0x44, 0x55]),
    "RECV": ("atl_recv(3, 0x80, &got)", [3, 0x80]),
    "CALL": ("atl_call(3, &M, (const struct atl_leases *)0x90, &got)", [3, 0x11, 0x22, 0x33, 0x44, 0x55, 0x90]),
    "REPLY": ("atl_reply(9, &M)", [9, 0x11, 0x22, 0x33, 0x44, 0x55]),
    "REPLY_RECV": ("atl_reply_recv(3, &M, 0x80, &got)", [3, 0x11, 0x22, 0x33, 0x44, 0x55, 0x80]),
    "NOTIFY": ("atl_notify(6)", [6]),
    "WAIT": ("atl_wait(0x30, &bits)", [0x30]),
    "POLL": ("atl_poll(0x31, &bits)", [0x31]),
    "IRQ_ACK": ("atl_irq_ack(0x40)", [0x40]),
    "SLEEP": ("atl_sleep_us(250)", [250]),
    "TIMER_SET": ("atl_timer_set(0x0000000500000006ull, 0x8)", [6, 5, 8]),
    "TIME_NOW": ("(int)atl_time_now_us()", []),
    "LEASE_READ": ("atl_lease_read(9, 1, 16, (void *)0xa0, 32, &copied)", [9, 1, 16, 0xA0, 32]),
    "LEASE_WRITE": ("atl_lease_write(9, 2, 17, (const void *)0xa4, 33, &copied)", [9, 2, 17, 0xA4, 33]),
    "CAP_DERIVE": ("atl_cap_derive(2, 3, ATL_RIGHT_SEND, 0x44)", [2, 3, abi.Right.SEND, 0x44]),
    "CAP_REVOKE": ("atl_cap_revoke(12)", [12]),
    "CAP_DELETE": ("atl_cap_delete(13)", [13]),
    "CAP_MOVE": ("atl_cap_move(1, 14)", [1, 14]),
    "RESTART": ("atl_restart(5)", [5]),
    "COMPONENT_INFO": ("atl_component_info(5, (char *)0xb0, 15, (struct atl_component_info *)0)", [5, 0xB0, 15]),
    "PING": ("atl_ping(5, 0x60, &bits)", [5, 0x60]),
}


def probe_source() -> str:
    lines = [
        "/* probe: one noinline function per syscall stub, for the disassembly tests */",
        "#include <atoll/atoll.h>",
        "static const struct atl_msg M = {0x11, {0x22, 0x33, 0x44, 0x55}, 0};",
        "struct atl_msg got; uint32_t bits; size_t copied;",
    ]
    for name, (call, _) in CALLS.items():
        lines.append(f"__attribute__((noinline, used)) int probe_{name}(void) {{ return {call}; }}")
    lines.append("int main(void) { return atl_printf(\"%d\\n\", 1); }")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """hello (via build_all) and the probe component, for both ISAs: {(isa, name): elf}."""
    out = tmp_path_factory.mktemp("components")
    probe = tmp_path_factory.mktemp("probe")
    (probe / "main.c").write_text(probe_source())
    elfs = components.build_all(out, names=["hello"])
    for isa in components.ISAS:
        elfs[isa, "probe"] = components.build_component("probe", probe, isa, out)
    return out, elfs


def test_hello_and_the_probe_build_for_both_isas(built):
    out, elfs = built
    assert set(elfs) == {(isa, n) for isa in ("armv7m", "rv32imac") for n in ("hello", "probe")}
    assert elfs["armv7m", "hello"] == out / "armv7m" / "hello.elf"
    machines = {isa: ELFFile(open(elfs[isa, "hello"], "rb")).header.e_machine for isa in components.ISAS}
    assert machines == {"armv7m": "EM_ARM", "rv32imac": "EM_RISCV"}


@pytest.mark.parametrize("isa", ["armv7m", "rv32imac"])
@pytest.mark.parametrize("name", ["hello", "probe"])
def test_entry_is_start_inside_the_component_range_and_segments_are_w_xor_x(built, isa, name):
    with open(built[1][isa, name], "rb") as f:
        elf = ELFFile(f)
        start = elf.get_section_by_name(".symtab").get_symbol_by_name("_start")[0]
        entry = elf.header.e_entry
        assert entry == start["st_value"] and start["st_info"]["type"] == "STT_FUNC"
        assert abi.COMPONENT_BASE <= entry & ~1 < abi.COMPONENT_LIMIT
        assert entry & ~1 == abi.COMPONENT_BASE  # _start comes first
        loads = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
        assert [s["p_flags"] & 7 for s in loads] == [5, 6]  # r-x, then rw-
        for seg in loads:
            assert seg["p_vaddr"] % PAGE == 0 and seg["p_align"] % PAGE == 0
            assert seg["p_offset"] % PAGE == seg["p_vaddr"] % PAGE
            assert not (seg["p_flags"] & PF_W and seg["p_flags"] & PF_X)
            assert abi.COMPONENT_BASE <= seg["p_vaddr"] and seg["p_vaddr"] + seg["p_memsz"] <= abi.COMPONENT_LIMIT
        text, data = loads
        assert text["p_vaddr"] + text["p_memsz"] <= data["p_vaddr"]  # no page shared by the two


def test_generated_header_matches_kernel_abi(built):
    header = (built[0] / "include" / "atoll" / "abi.h").read_text()
    defines = dict(re.findall(r"^#define (ATL_\w+) (.+)$", header, re.M))

    def number(name):
        return int(defines[name].strip("()").rstrip("u"), 0)

    assert {n for n in defines if n.startswith("ATL_SYS_")} == {f"ATL_SYS_{s.name}" for s in abi.Sys}
    for s in abi.Sys:
        assert number(f"ATL_SYS_{s.name}") == s.value
    for e in abi.Error:
        assert number("ATL_OK" if e.value == 0 else f"ATL_E_{e.name}") == e.value
    for r in abi.Right:
        assert number(f"ATL_RIGHT_{r.name}") == r.value
    assert number("ATL_MESSAGE_REGISTERS") == abi.MESSAGE_REGISTERS
    assert number("ATL_COMPONENT_BASE") == abi.COMPONENT_BASE
    assert number("ATL_COMPONENT_LIMIT") == abi.COMPONENT_LIMIT
    assert header == abi.c_header()


def test_linker_script_uses_the_component_layout_of_kernel_abi():
    script = (LIB / "component.ld").read_text()
    assert int(re.search(r"__component_base = (0x[0-9A-Fa-f]+);", script).group(1), 16) == abi.COMPONENT_BASE
    assert int(re.search(r"__component_limit = (0x[0-9A-Fa-f]+);", script).group(1), 16) == abi.COMPONENT_LIMIT


def test_the_abi_header_is_not_committed():
    assert not (LIB / "include" / "atoll" / "abi.h").exists()


def test_every_sys_member_has_a_stub_in_syscall_h():
    header = (LIB / "include" / "atoll" / "syscall.h").read_text()
    assert set(CALLS) == {s.name for s in abi.Sys}
    for s in abi.Sys:
        assert f"ATL_SYS_{s.name}," in header


# --- disassembly of the stubs ---------------------------------------------------------------

def disassemble(elf_path, function):
    """Instructions of one function symbol, with capstone detail."""
    with open(elf_path, "rb") as f:
        elf = ELFFile(f)
        sym = elf.get_section_by_name(".symtab").get_symbol_by_name(function)[0]
        addr, size = sym["st_value"] & ~1, sym["st_size"]
        text = elf.get_section_by_name(".text")
        code = text.data()[addr - text["sh_addr"]: addr - text["sh_addr"] + size]
        arm = elf.header.e_machine == "EM_ARM"
    md = (capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB) if arm else
          capstone.Cs(capstone.CS_ARCH_RISCV, capstone.CS_MODE_RISCV32 | capstone.CS_MODE_RISCVC))
    md.detail = True
    return list(md.disasm(code, addr))


def written_register(insn):
    """The register an instruction writes, as the first operand (enough for these stubs)."""
    ops = insn.operands
    if not ops or ops[0].type != capstone.CS_OP_REG:
        return None
    if re.match(r"(c\.)?(s[bhw]|b|j|str|push|cmp|tst)", insn.mnemonic):
        return None
    return insn.reg_name(ops[0].reg)


def immediate(insn):
    """The value a move-immediate instruction loads, or None if it is something else."""
    ops = insn.operands
    if insn.mnemonic in ("mov", "movs", "mov.w", "movw", "c.li", "li") and ops[-1].type == capstone.CS_OP_IMM:
        return ops[-1].imm & 0xFFFFFFFF
    if insn.mnemonic == "addi" and insn.reg_name(ops[1].reg) == "zero":
        return ops[2].imm & 0xFFFFFFFF
    return None


def registers_at_trap(insns, trap):
    """{register: value} of the last immediate written to each register before the first trap."""
    index = next(i for i, insn in enumerate(insns) if f"{insn.mnemonic} {insn.op_str}".strip() == trap)
    values = {}
    for insn in reversed(insns[:index]):
        reg = written_register(insn)
        if reg and reg not in values:
            values[reg] = immediate(insn)
    return values


TRAPS = {"armv7m": ("svc #0", "ip", ("r0", "r1", "r2", "r3", "r4", "r5", "r6")),
         "rv32imac": ("ecall", "a7", ("a0", "a1", "a2", "a3", "a4", "a5", "a6"))}


@pytest.mark.parametrize("isa", ["armv7m", "rv32imac"])
@pytest.mark.parametrize("name", list(CALLS))
def test_stub_puts_number_and_arguments_in_the_abi_registers(built, isa, name):
    trap, number_reg, arg_regs = TRAPS[isa]
    cpu = CPU_TYPES[isa]
    assert cpu.ARG_REGISTERS == arg_regs
    assert cpu.SYSCALL_NUMBER_REGISTER == {"ip": "r12"}.get(number_reg, number_reg)
    insns = disassemble(built[1][isa, "probe"], f"probe_{name}")
    assert [i for i in insns if i.mnemonic in ("svc", "ecall")], "no trap instruction"
    values = registers_at_trap(insns, trap)
    assert values.get(number_reg) == abi.Sys[name].value
    expected = CALLS[name][1]
    assert [values.get(r) for r in arg_regs[: len(expected)]] == expected


@pytest.mark.parametrize("isa", ["armv7m", "rv32imac"])
def test_exit_ends_in_the_exit_trap_and_start_sets_gp_first(built, isa):
    # that main's result becomes the exit status is test_c_library.py's, on the boards
    elf = built[1][isa, "hello"]
    insns = disassemble(elf, "_exit")   # exit() ends here, after atexit handlers and stdio
    trap = TRAPS[isa][0]
    assert any(f"{i.mnemonic} {i.op_str}".strip() == trap for i in insns)
    assert registers_at_trap(insns, trap)[TRAPS[isa][1]] == abi.Sys.EXIT
    start = disassemble(elf, "_start")
    if isa == "rv32imac":  # gp is set before anything else runs
        assert [insn.op_str.split(",")[0] for insn in start[:2]] == ["gp", "gp"]


# --- the build driver ------------------------------------------------------------------------

def test_unknown_component_names_are_a_clear_error(tmp_path):
    with pytest.raises(ToolchainError, match=r"unknown component\(s\) nosuch: known are .*hello"):
        components.build_all(tmp_path, names=["nosuch"])


def test_a_compile_error_names_the_file(tmp_path):
    (tmp_path / "broken.c").write_text("int main(void) { return nope; }\n")
    with pytest.raises(ToolchainError, match=r"broken\.c"):
        components.build_component("broken", tmp_path, "rv32imac", tmp_path / "out")
    assert not (tmp_path / "out" / "rv32imac" / "broken.elf").exists()


def test_a_folder_without_c_files_is_not_a_component(tmp_path, monkeypatch):
    (tmp_path / "docs_only").mkdir()
    (tmp_path / "docs_only" / "README.md").write_text("no code\n")
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "main.c").write_text("int main(void) { return 0; }\n")
    monkeypatch.setattr(components, "COMPONENT_ROOTS", (tmp_path,))
    assert components.components() == {"one": tmp_path / "one"}
    with pytest.raises(ToolchainError, match="has no .c files"):
        components.build_component("docs_only", tmp_path / "docs_only", "armv7m", tmp_path / "out")


def test_command_line_builds_one_isa_and_prints_one_line_per_elf(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "firmware" / "components.py"), "--out", str(tmp_path), "--isa", "rv32imac", "hello"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [str(tmp_path / "rv32imac" / "hello.elf")]
    assert (tmp_path / "include" / "atoll" / "abi.h").is_file()
