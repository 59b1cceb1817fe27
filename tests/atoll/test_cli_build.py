"""`atoll build`, run as a user runs it (a real subprocess): a description packs into one
image file with a one-line summary; a bad description is one line on stderr and exit status 2.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

from sysdesc.package import open_image
from tests.sysdesc.test_image_files import MINIMAL, write_system

ROOT = pathlib.Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def atoll(*args: str, cwd: pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "atoll.cli", *args], capture_output=True, text=True,
                          timeout=60, env=ENV, cwd=cwd)


def test_build_packs_a_description_and_prints_one_summary_line(tmp_path):
    write_system(tmp_path)

    result = atoll("build", "tiny.toml", "-o", "tiny.atoll", cwd=tmp_path)

    size = (tmp_path / "tiny.atoll").stat().st_size
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"packed 3 components into tiny.atoll ({size} bytes)\n"
    assert result.stderr == ""


def test_the_built_image_opens_into_the_described_system(tmp_path):
    write_system(tmp_path)
    atoll("build", "tiny.toml", "-o", "tiny.atoll", cwd=tmp_path)
    assert [c.name for c in open_image(tmp_path / "tiny.atoll").components] == ["uart", "supervisor", "console"]


def test_build_of_a_bad_description_is_one_line_and_exit_status_2(tmp_path):
    write_system(tmp_path, MINIMAL.replace("stack = 2048", "stack = 100"))

    result = atoll("build", "tiny.toml", "-o", "tiny.atoll", cwd=tmp_path)

    assert result.returncode == 2
    assert result.stderr == ("atoll: tiny.toml: component 'uart'.stack: "
                             "must be a multiple of 8 from 256 to 65536 bytes, not 100\n")
    assert result.stdout == ""
    assert not (tmp_path / "tiny.atoll").exists()


def test_build_of_a_missing_description_is_one_line_and_exit_status_2(tmp_path):
    result = atoll("build", "nowhere.toml", "-o", "x.atoll", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, "atoll: nowhere.toml: no such file\n")


def test_build_without_an_output_is_a_usage_error(tmp_path):
    write_system(tmp_path)
    result = atoll("build", "tiny.toml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "atoll build: the following arguments are required: -o/--output\n"


def test_build_into_a_missing_folder_is_one_line_and_exit_status_2(tmp_path):
    write_system(tmp_path)
    result = atoll("build", "tiny.toml", "-o", "out/tiny.atoll", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, "atoll: out/tiny.atoll: cannot write: No such file or directory\n")
