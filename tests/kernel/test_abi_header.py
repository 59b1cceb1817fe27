"""`python -m kernel.abi --header PATH` writes the C header user space includes, leaves an
up-to-date one untouched (so nothing that includes it rebuilds), and explains its usage."""

from __future__ import annotations

import os

from kernel import abi


def test_the_header_is_written_from_the_abi_definitions(tmp_path):
    path = tmp_path / "atoll" / "abi.h"

    assert abi.main(["--header", str(path)]) == 0

    text = path.read_text()
    assert text == abi.c_header()
    assert f"#define ATL_SYS_COMPONENT_INFO {int(abi.Sys.COMPONENT_INFO)}" in text
    assert f"#define ATL_E_BAD_SLOT ({int(abi.Error.BAD_SLOT)})" in text


def test_an_up_to_date_header_is_not_rewritten(tmp_path):
    path = tmp_path / "abi.h"
    abi.main(["--header", str(path)])
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))

    abi.main(["--header", str(path)])

    assert path.stat().st_mtime_ns == 1_000_000_000


def test_a_stale_header_is_rewritten(tmp_path):
    path = tmp_path / "abi.h"
    path.write_text("/* old */\n")

    abi.main(["--header", str(path)])

    assert path.read_text() == abi.c_header()


def test_wrong_arguments_print_the_usage_and_exit_with_2(capsys):
    assert abi.main([]) == 2
    assert abi.main(["--other", "x"]) == 2
    assert capsys.readouterr().err == "usage: python -m kernel.abi --header PATH\n" * 2
