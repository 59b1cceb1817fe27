"""Components are hosted C on picolibc: a C99 program builds unmodified and behaves as on the host.

Evidence, on both boards, from programs built as a user builds them (tests/components/runs.py):
- programs/c99 (stdio with %f/%g/%e, string.h, malloc/free, qsort, sqrt/sin, 64-bit division,
  sources in two folders, an include folder, a define) prints exactly what the same files print
  when compiled for this host;
- programs/glue shows the glue: argv, a heap bounded by the description (malloc past it is NULL
  with ENOMEM), clock_gettime/time/gettimeofday on the virtual clock, stderr with stdout, a
  failed assert naming file and line, then abort's exit through EXIT with status 134 (and not
  through the atexit handlers, as C says);
- with `stdout = "console"` in the description the program's lines go through the console server
  to the UART, tagged with its name, instead of the debug log.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from firmware import components
from kernel.kernel import Kernel
from machine import BufferBackend, Machine
from sysdesc import load_system
from tests.boards import BOARDS, ISA_OF
from tests.components.runs import PROGRAMS, boot, build_outside, elf_of
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def c99(tmp_path_factory):
    return build_outside("c99", tmp_path_factory.mktemp("user"))


@pytest.fixture(scope="module")
def host_output(tmp_path_factory):
    """What programs/c99 prints when compiled for this host (zig cc, the host's C compiler here)."""
    tmp = tmp_path_factory.mktemp("host")
    exe = tmp / "c99"
    folder = PROGRAMS / "c99"
    result = subprocess.run([sys.executable, "-m", "ziglang", "cc", "-std=c99", "-O2", f"-I{folder / 'src'}",
                             '-DSCALE_NAME="scaled"', str(folder / "main.c"), str(folder / "src/util/stats.c"),
                             "-lm", "-o", str(exe)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return subprocess.run([str(exe)], capture_output=True, text=True, check=True, timeout=60).stdout.splitlines()


@pytest.mark.parametrize("board", BOARDS)
def test_a_c99_program_from_a_folder_outside_the_repository_prints_what_it_prints_on_the_host(
        board, c99, host_output):
    run = boot(board, elf_of(c99, board))

    assert run.output("c99") == host_output
    assert "v[0] = -95.892427" in host_output and "(scaled)" in host_output[-1]   # the program ran whole
    assert run.kernel.process("c99").exit_code == 0


@pytest.fixture(scope="module")
def glue(tmp_path_factory):
    return build_outside("glue", tmp_path_factory.mktemp("user"))


@pytest.mark.parametrize("board", BOARDS)
def test_the_glue_gives_argv_a_bounded_heap_the_virtual_clock_stderr_assert_and_exit(board, glue):
    run = boot(board, elf_of(glue, board))

    assert run.output("glue") == [
        "argc 1, argv[0] glue",
        "32 KiB: ok, 128 KiB: NULL (ENOMEM)",
        "slept about 2500 us; time() agrees with gettimeofday",
        "to stderr",
        f'assertion "answer == 41" failed: file "{glue / "main.c"}", line {line_of(glue / "main.c", "== 41")}, '
        "function: main",
    ]   # abort does not run atexit handlers
    assert run.kernel.process("glue").exit_code == 134   # abort: 128 + SIGABRT
    assert "WARNING: glue exited with status 134; held (stopped) for inspection" in run.log


def line_of(path, text):
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


@pytest.mark.parametrize("board", BOARDS)
def test_without_a_heap_in_the_description_malloc_returns_null(board, glue):
    run = boot(board, elf_of(glue, board), heap=0)

    assert run.output("glue")[1] == "32 KiB: NULL, 128 KiB: NULL (ENOMEM)"


CONSOLE_SYSTEM = """
[system]
name = "c99-console"
board = "{board}"

[[component]]
name = "uart"
elf = "{elves}/uart.elf"
priority = 1
stack = 2048
uses = ["uart0"]
interrupts = {{ {interrupts} }}

[[component]]
name = "console"
elf = "{elves}/console.elf"
priority = 2
stack = 2048

[[component]]
name = "c99"
elf = "{c99}"
priority = 3
stack = 8192
heap = 65536
stdout = "console"

[[endpoint]]
name = "uart"
server = "uart"
server_slot = 1
interface = "{servers}/uart/uart.idl.toml"
clients = {{ console = 2 }}

[[endpoint]]
name = "console"
server = "console"
server_slot = 1
interface = "{servers}/console/console.idl.toml"
clients = {{ c99 = 3 }}
"""


#: the uart server's interrupt bits, as the demo descriptions route them
UART_INTERRUPTS = {"hifive1": '"uart0.irq" = 0', "mps2-an385": '"uart0.rx" = 0, "uart0.tx" = 1, "uart0.overflow" = 2'}


@pytest.mark.parametrize("board", BOARDS)
def test_stdout_goes_to_the_console_server_when_the_description_says_so(board, c99, host_output, tmp_path):
    elves = components.build_all(ROOT / "build" / "components", isas=[ISA_OF[board]], names=["uart", "console"])
    description = tmp_path / "system.toml"
    description.write_text(CONSOLE_SYSTEM.format(board=board, elves=elves[ISA_OF[board], "uart"].parent,
                                                 c99=elf_of(c99, board), servers=ROOT / "servers",
                                                 interrupts=UART_INTERRUPTS[board]))
    kernel = Kernel(Machine(board))
    uart = BufferBackend()
    kernel.machine.attach_uart("uart0", uart)
    lines = []
    kernel.on_debug_line = lambda component, text: lines.append((component, text))
    kernel.boot(load_system(description))
    kernel.run_until(lambda: b"(scaled)" in uart.output, 2.0)

    assert [line for line in uart.text.splitlines() if line.startswith("[c99] ")] == [
        f"[c99] {line}" for line in host_output]
    assert [text for component, text in lines if component == "c99"] == []
