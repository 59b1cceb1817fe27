"""`atoll boot --timing`: exact (the default) or host (machine/hosttime.py), as a user runs it."""

from __future__ import annotations

import pytest

from tests.atoll.test_cli import BOARDS, atoll


@pytest.mark.parametrize("board", BOARDS)
def test_boot_with_host_timing_prints_the_greeting_and_says_it_counted_no_instructions(board, bare_firmware):
    result = atoll("boot", str(bare_firmware[board, "hello"]), "--board", board, "--for", "20ms",
                   "--timing", "host")

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Hello from Atoll on {board}!\r\n".encode()
    assert result.stderr == f"atoll: {board}: 0.020000 s virtual, host timing, instructions not counted\n"


def test_boot_counts_instructions_unless_told_otherwise(bare_firmware):
    default = atoll("boot", str(bare_firmware["hifive1", "hello"]), "--board", "hifive1", "--for", "20ms")
    exact = atoll("boot", str(bare_firmware["hifive1", "hello"]), "--board", "hifive1", "--for", "20ms",
                  "--timing", "exact")

    assert default.returncode == exact.returncode == 0
    assert default.stderr == exact.stderr
    assert default.stderr.endswith(" instructions\n") and "host timing" not in default.stderr


@pytest.mark.parametrize("args,message", [
    (["--timing", "fast"], "atoll boot: argument --timing: must be exact or host, not 'fast'"),
    (["--timing", "host", "--gdb", "0"],
     "atoll: --gdb needs exact timing: breakpoints and single steps count instructions, "
     "which --timing host does not"),
], ids=["unknown timing", "host timing with gdb"])
def test_a_bad_timing_is_one_line_and_exit_status_2(args, message, bare_firmware):
    result = atoll("boot", str(bare_firmware["hifive1", "hello"]), "--board", "hifive1", *args)

    assert result.returncode == 2
    assert result.stdout == b""
    assert result.stderr == message + "\n"
