"""atoll.toolchain builds code for each board's exact ISA and reports failures by file.

The ELF files' own records are the evidence: ARM build attributes say Thumb-2 only, ARMv7-M
profile, Cortex-M3; the RISC-V header says compressed instructions and soft-float, and its
attributes say RV32IMAC. A GNU cross compiler named by CC gets GNU-style flags (checked with a
stand-in compiler that records its arguments, so no cross compiler needs to be installed).
"""

import shlex
import sys

import pytest
from elftools.elf.elffile import ELFFile

from atoll.toolchain import ToolchainError, build

EF_RISCV_RVC = 0x1
EF_RISCV_FLOAT_ABI = 0x6


def attributes(elf_path, section):
    with open(elf_path, "rb") as f:
        elf = ELFFile(f)
        found = {}
        for sub in elf.get_section_by_name(section).iter_subsections():
            for subsub in sub.iter_subsubsections():
                found.update((a.tag, a.value) for a in subsub.iter_attributes())
        return elf.header, found


def test_arm_firmware_is_thumb2_for_a_cortex_m3_with_the_reset_vector_in_thumb(bare_firmware):
    elf = bare_firmware["mps2-an385", "hello"]
    header, attrs = attributes(elf, ".ARM.attributes")

    assert header.e_machine == "EM_ARM"
    assert attrs["TAG_CPU_NAME"] == "cortex-m3"
    assert attrs["TAG_CPU_ARCH_PROFILE"] == ord("M")
    assert attrs["TAG_ARM_ISA_USE"] == 0  # no ARM (A32) code
    assert attrs["TAG_THUMB_ISA_USE"] == 2  # Thumb-2
    with open(elf, "rb") as f:
        vectors = ELFFile(f).get_section_by_name(".vectors")
        assert vectors["sh_addr"] == 0
        reset = int.from_bytes(vectors.data()[4:8], "little")
    assert reset & 1 and header.e_entry == reset


def test_riscv_firmware_is_rv32imac_with_compressed_instructions_and_soft_float(bare_firmware):
    header, attrs = attributes(bare_firmware["hifive1", "hello"], ".riscv.attributes")

    assert header.e_machine == "EM_RISCV" and header.e_ident["EI_CLASS"] == "ELFCLASS32"
    assert header.e_flags & EF_RISCV_RVC
    assert header.e_flags & EF_RISCV_FLOAT_ABI == 0  # soft-float (ilp32)
    assert attrs["TAG_ARCH"].startswith("rv32i2p1_m2p0_a2p1_c2p0")
    assert header.e_entry == 0x20400000


@pytest.fixture
def program(tmp_path):
    (tmp_path / "link.ld").write_text("ENTRY(main)\nSECTIONS { .text 0x1000 : { *(.text*) } }\n")
    return tmp_path


def test_a_compile_error_names_the_file_and_quotes_the_compiler(program):
    (program / "broken.c").write_text("int main(void) { return undeclared; }\n")

    with pytest.raises(ToolchainError) as raised:
        build([program / "broken.c"], program / "out.elf", "arm", program / "link.ld")

    message = str(raised.value)
    assert message.startswith(str(program / "broken.c"))
    assert "undeclared" in message
    assert not (program / "out.elf").exists()


def test_an_unknown_isa_is_refused_with_the_known_ones(program):
    with pytest.raises(ToolchainError, match=r"unknown ISA 'mips': expected one of arm, riscv"):
        build([program / "x.c"], program / "out.elf", "mips", program / "link.ld")


def test_a_missing_source_is_named(program):
    with pytest.raises(ToolchainError, match=r"missing\.c: no such file"):
        build([program / "missing.c"], program / "out.elf", "riscv", program / "link.ld")


STAND_IN_CC = """\
import sys
with open(sys.argv[1], "a") as log:
    log.write(" ".join(sys.argv[2:]) + "\\n")
args = sys.argv[2:]
open(args[args.index("-o") + 1], "wb").close()
"""


@pytest.mark.parametrize(
    "isa, flags",
    [("arm", ["-mcpu=cortex-m3", "-mthumb"]), ("riscv", ["-march=rv32imac", "-mabi=ilp32"])],
)
def test_a_gnu_compiler_from_cc_gets_gnu_isa_flags(program, monkeypatch, isa, flags):
    (program / "cc.py").write_text(STAND_IN_CC)
    (program / "main.c").write_text("int main(void) { return 0; }\n")
    log = program / "cc.log"
    monkeypatch.setenv("CC", shlex.join([sys.executable, str(program / "cc.py"), str(log)]))

    build([program / "main.c"], program / "out.elf", isa, program / "link.ld")

    compile_line, link_line = log.read_text().splitlines()
    for line in (compile_line, link_line):
        assert all(flag in line.split() for flag in flags)
        assert "-target" not in line.split()
    assert "-c" in compile_line.split() and "-T" in link_line.split()
