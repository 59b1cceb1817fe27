"""`atoll build-component DIR`: a user's component folder, its manifest, its build and its faults.

- one command builds both ISAs into DIR/build/<isa>/<name>.elf; a second run skips the compiler
  (the ELFs are not rewritten); a change to a source rebuilds;
- user code gets -Wall -Wextra but not -Werror (a warning does not stop the build), while
  Atoll's runtime sources keep -Werror; --print-commands prints the commands, and running them
  by hand gives a component that boots;
- a bad manifest is one line on stderr naming the file and the key, exit status 2;
- a component that faults with no supervisor is reported with its fault kind, address, pc and
  the function the pc is in (on the CLI too).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess

import pytest
from elftools.elf.elffile import ELFFile

from tests.boards import BOARDS, ISA_OF
from tests.components.runs import PROGRAMS, atoll, boot, build_outside, elf_of


def test_one_command_builds_both_isas_and_a_second_run_skips_the_compiler(tmp_path):
    folder = tmp_path / "crash"
    shutil.copytree(PROGRAMS / "crash", folder)

    first = atoll("build-component", str(folder))
    assert first.returncode == 0, first.stderr
    elves = [folder / "build" / isa / "crash.elf" for isa in ("armv7m", "rv32imac")]
    assert first.stdout.splitlines() == [str(e) for e in elves]
    built = [e.stat().st_mtime_ns for e in elves]

    assert atoll("build-component", str(folder)).stdout == first.stdout
    assert [e.stat().st_mtime_ns for e in elves] == built

    (folder / "main.c").write_text((folder / "main.c").read_text().replace("about to crash", "crashing"))
    assert atoll("build-component", str(folder), "--isa", "rv32imac").returncode == 0
    assert elves[1].stat().st_mtime_ns != built[1] and b"crashing" in elves[1].read_bytes()


def test_user_code_is_warned_about_but_not_held_to_werror(tmp_path):
    folder = tmp_path / "sloppy"
    folder.mkdir()
    (folder / "component.toml").write_text('[component]\nname = "sloppy"\n')
    (folder / "main.c").write_text("int main(void)\n{\n    int unused;\n    return 0;\n}\n")

    result = atoll("build-component", str(folder), "--isa", "armv7m")

    assert result.returncode == 0, result.stderr
    assert (folder / "build" / "armv7m" / "sloppy.elf").is_file()


@pytest.mark.parametrize("board", BOARDS)
def test_the_printed_commands_build_the_component_by_hand(board, tmp_path):
    folder = tmp_path / "c99"
    shutil.copytree(PROGRAMS / "c99", folder)

    result = atoll("build-component", str(folder), "--isa", ISA_OF[board], "--print-commands")

    assert result.returncode == 0, result.stderr
    commands = [shlex.split(line) for line in result.stdout.splitlines()]
    compiles, link = commands[:-1], commands[-1]
    runtime = [c for c in compiles if "firmware/lib/src" in c[c.index("-c") + 1]]
    user = [c for c in compiles if c not in runtime]
    assert len(user) == 2 and all("-Werror" not in c and "-std=c99" in c for c in user)
    assert runtime and all("-Werror" in c for c in runtime)
    (folder / "build" / ISA_OF[board] / "c99.obj").mkdir(parents=True)
    for argv in commands:
        subprocess.run(argv, check=True, capture_output=True, timeout=600)
    assert link[link.index("-o") + 1] == str(elf_of(folder, board))
    assert boot(board, elf_of(folder, board)).output("c99")[-1] == "portable C99 (scaled)"


BAD_MANIFESTS = {
    "no_name": ('[component]\nsources = ["*.c"]\n', "component.toml: component.name: missing"),
    "unknown_key": ('[component]\nname = "x"\nsource = ["*.c"]\n',
                    "component.toml: component.source: unknown key; expected one of: cflags, defines, include, "
                    "name, sources"),
    "sources_not_strings": ('[component]\nname = "x"\nsources = ["*.c", 3]\n',
                            "component.toml: component.sources[1]: must be a string, not 3"),
    "sources_match_nothing": ('[component]\nname = "x"\nsources = ["lib/*.c"]\n',
                              "component.toml: component.sources[0]: 'lib/*.c' matches no .c or .S file"),
    "sources_outside": ('[component]\nname = "x"\nsources = ["../*.c"]\n',
                        "component.toml: component.sources[0]: must be a glob inside the folder, not '../*.c'"),
    "include_missing": ('[component]\nname = "x"\ninclude = ["inc"]\n',
                        "component.toml: component.include[0]: 'inc' is not a folder"),
    "bad_define": ('[component]\nname = "x"\ndefines = ["-DX"]\n',
                   "component.toml: component.defines[0]: must be NAME or NAME=VALUE, not '-DX'"),
    "bad_name": ('[component]\nname = "my app"\n',
                 "component.toml: component.name: must be letters, digits, '_' and '-', starting with a letter, "
                 "not 'my app'"),
    "not_toml": ('[component\nname = "x"\n', "component.toml: not valid TOML: Expected ']' at the end of a table "
                                             "declaration (at line 1, column 11)"),
    "no_table": ('name = "x"\n', "component.toml: name: unknown key; expected one of: component"),
}


@pytest.mark.parametrize("case", BAD_MANIFESTS)
def test_a_bad_manifest_is_one_line_naming_the_file_and_key_with_exit_status_2(case, tmp_path):
    text, message = BAD_MANIFESTS[case]
    (tmp_path / "main.c").write_text("int main(void) { return 0; }\n")
    (tmp_path / "component.toml").write_text(text)

    result = atoll("build-component", str(tmp_path))

    assert (result.returncode, result.stderr, result.stdout) == (2, f"atoll: {message}\n", "")


def test_a_folder_without_a_manifest_is_one_line_with_exit_status_2(tmp_path):
    result = atoll("build-component", str(tmp_path))

    assert (result.returncode, result.stderr) == (
        2, f"atoll: {tmp_path}: no component.toml (a component folder needs one: [component] name = ...)\n")


REPORT = re.compile(r"crash stopped: unmapped fault: write of 0x(?P<address>[0-9a-f]{8}) at pc 0x(?P<pc>[0-9a-f]{8}) "
                    r"in space 'crash', pc in store_through\+0x(?P<offset>[0-9a-f]+); held \(stopped\) for inspection")


def symbol(elf, name):
    with open(elf, "rb") as f:
        return ELFFile(f).get_section_by_name(".symtab").get_symbol_by_name(name)[0]["st_value"] & ~1


@pytest.fixture(scope="module")
def crash(tmp_path_factory):
    return build_outside("crash", tmp_path_factory.mktemp("user"))


@pytest.mark.parametrize("board", BOARDS)
def test_an_unsupervised_fault_is_reported_with_its_kind_address_pc_and_function(board, crash):
    run = boot(board, elf_of(crash, board))

    assert run.output("crash") == ["about to crash"]
    [report] = [line for line in run.log if line.startswith("WARNING: crash")]
    match = REPORT.fullmatch(report.removeprefix("WARNING: "))
    assert match, report
    # the address as the board's memory protection reports it: inside the page written
    assert int(match["address"], 16) & ~0xFFF == 0x2000
    start = symbol(elf_of(crash, board), "store_through")
    assert int(match["pc"], 16) == start + int(match["offset"], 16)


def test_the_cli_prints_the_fault_of_an_unsupervised_component(crash):
    boot("hifive1", elf_of(crash, "hifive1"))   # writes the description next to the ELF

    result = atoll("boot", str(elf_of(crash, "hifive1").parent / "crash-hifive1.toml"), "--for", "10ms")

    assert result.returncode == 0
    assert any(REPORT.fullmatch(line) for line in result.stderr.splitlines()), result.stderr
