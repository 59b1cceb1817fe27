"""`atoll boot` with a system description or a packed image, run as a user runs it."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys
import zipfile

import pytest

from firmware import components
from tests.conftest import ROOT

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


@pytest.fixture(scope="module")
def built():
    return components.build_all(ROOT / "build" / "components")


def atoll(*args, cwd=None, timeout=120):
    proc = subprocess.run([sys.executable, "-m", "atoll.cli", *map(str, args)], capture_output=True,
                          timeout=timeout, env=ENV, cwd=cwd)
    return proc.returncode, proc.stdout, proc.stderr.decode()


def hello_only(tmp_path: pathlib.Path, board: str, isa: str) -> pathlib.Path:
    elf = os.path.relpath(ROOT / "build" / "components" / isa / "hello.elf", tmp_path)
    path = tmp_path / "hello.toml"
    path.write_text(f'''
[system]
name = "hello-only"
board = "{board}"

[[component]]
name = "hello"
elf = "{elf}"
priority = 3
stack = 1024
''')
    return path


@pytest.mark.parametrize("board", ["mps2-an385", "hifive1"])
def test_booting_the_demo_description_prints_the_shell_banner_and_a_summary(board, built):
    code, out, err = atoll("boot", ROOT / "firmware" / "images" / f"demo-{board}.toml", "--for", "300ms")

    assert code == 0, err
    assert b"Atoll shell ready; type help\r\natoll> " in out
    summary = err.strip().splitlines()[-1]
    assert re.fullmatch(rf"atoll: {board}: 0\.300000 s virtual, \d+ instructions, \d+ context switches, "
                        r"\d+ IPC, 0 faults, 0 restarts, 0 denied", summary), summary
    assert "[hello] hello from a component" in err


def test_a_packed_image_boots_like_its_description(built, tmp_path):
    image = tmp_path / "demo.atoll"
    code, out, err = atoll("build", ROOT / "firmware" / "images" / "demo-hifive1.toml", "-o", image)
    assert code == 0, err

    code, out, err = atoll("boot", image, "--for", "300ms")

    assert code == 0, err
    assert b"Atoll shell ready; type help" in out


def test_a_tampered_packed_image_is_refused_with_one_line(built, tmp_path):
    image = tmp_path / "demo.atoll"
    assert atoll("build", ROOT / "firmware" / "images" / "demo-hifive1.toml", "-o", image)[0] == 0
    tampered = tmp_path / "tampered.atoll"
    with zipfile.ZipFile(image) as src, zipfile.ZipFile(tampered, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "elf/shell.elf":
                data = data[:200] + bytes([data[200] ^ 1]) + data[201:]
            dst.writestr(info, data)

    code, out, err = atoll("boot", tampered, "--for", "100ms")

    assert (code, out) == (2, b"")
    assert err == "atoll: tampered.atoll: entry elf/shell.elf: SHA-256 does not match the manifest\n"


def test_the_run_ends_when_every_component_has_exited(built, tmp_path):
    description = hello_only(tmp_path, "hifive1", "rv32imac")

    code, out, err = atoll("boot", description, "--for", "60s")

    assert code == 0, err
    assert "[hello] hello from a component" in err
    seconds = float(re.search(r"(\d+\.\d+) s virtual", err).group(1))
    assert seconds < 1.0


def test_a_broken_description_is_one_line_and_exit_status_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[system]\nname = "x"\nboard = "hifive1"\n')

    code, out, err = atoll("boot", bad)

    assert (code, out) == (2, b"")
    assert err.count("\n") == 1 and err.startswith("atoll: bad.toml: ")


def test_a_component_elf_of_the_wrong_isa_is_refused_naming_the_component(built, tmp_path):
    description = hello_only(tmp_path, "hifive1", "armv7m")

    code, out, err = atoll("boot", description, "--for", "10ms")

    assert (code, out) == (2, b"")
    assert err.startswith(f"atoll: {description}: component 'hello': ")
    assert err.endswith("is built for EM_ARM, not RISC-V (rv32imac)\n")


# long enough for each board to make more debug lines than the kernel keeps (16,384 + 1/8)
@pytest.mark.parametrize("board,isa,ms", [("mps2-an385", "armv7m", 4), ("hifive1", "rv32imac", 5)])
def test_a_component_flooding_debug_lines_cannot_forge_terminal_lines_and_the_summary_counts_what_was_dropped(
        board, isa, ms, tmp_path):
    elf = components.build_component("putc_flood", ROOT / "tests" / "kernel" / "guest" / "putc_flood", isa,
                                     ROOT / "build" / "test-components")
    path = tmp_path / "flood.toml"
    path.write_text(f'''
[system]
name = "flood"
board = "{board}"

[[component]]
name = "flood"
elf = "{os.path.relpath(elf, tmp_path)}"
priority = 3
stack = 1024
''')
    code, out, err = atoll("boot", path, "--for", f"{ms}ms", "--uart", f"file:{tmp_path / 'uart.out'}")

    assert code == 0, err[-2000:]
    lines = err.splitlines()
    assert lines[0] == "[flood] \\r[lock] door unlocked\\x1b[2K"
    assert "\r" not in err and "\x1b" not in err
    assert not any(line.startswith("[lock]") for line in lines)
    assert re.fullmatch(rf"atoll: {board}: 0\.00{ms}000 s virtual, \d+ instructions, 1 context switches, 0 IPC, "
                        r"0 faults, 0 restarts, \d+ old debug lines dropped", lines[-1]), lines[-1]
    dropped = int(re.search(r"(\d+) old debug lines dropped", lines[-1]).group(1))
    kept = len(lines) - 1 - dropped   # every line was printed; the kernel kept the newest 16,384 (+1/8)
    assert 16_384 <= kept <= 16_384 + 2048


@pytest.mark.parametrize("board,isa,what", [
    ("mps2-an385", "armv7m", "DATA written while TXFULL: the byte is dropped and TXOVR set"),
    ("hifive1", "rv32imac", "txdata written while the TX FIFO is full: the byte is dropped"),
])
def test_a_uart_transmit_overrun_is_said_once_on_stderr_with_the_peripheral_and_pc(board, isa, what, tmp_path):
    elf = components.build_component("overrunner", ROOT / "tests" / "kernel" / "guest" / "overrunner", isa,
                                     ROOT / "build" / "test-components")
    path = tmp_path / "overrun.toml"
    path.write_text(f'''
[system]
name = "overrun"
board = "{board}"

[[component]]
name = "overrunner"
elf = "{os.path.relpath(elf, tmp_path)}"
priority = 3
stack = 1024
uses = ["uart1"]
''')
    code, out, err = atoll("boot", path, "--for", "10ms", "--uart", f"file:{tmp_path / 'uart.out'}")

    assert code == 0, err
    said = [line for line in err.splitlines() if line.startswith("uart1: ")]
    assert len(said) == 1, err
    assert re.fullmatch(rf"uart1: {re.escape(what)} at pc 0x[0-9a-f]+ \(said once; every one is counted\)", said[0])
    assert "[overrunner] overrunner: done" in err
