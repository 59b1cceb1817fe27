"""Runs a bare-metal ELF on a real QEMU and returns what the program wrote on UART0.

This is the reference the emulated boards are compared against: the same ELF on QEMU's model of
the same board. A board name maps to a QEMU binary and machine (``mps2-an385`` ->
``qemu-system-arm -M mps2-an385``, ``hifive1`` -> ``qemu-system-riscv32 -M sifive_e``). UART0 is
connected to QEMU's stdout; the bytes are collected until the expected count or marker arrives, or
the timeout passes, and then QEMU — which would otherwise run forever, because the programs park —
is killed. Nothing is typed into the guest unless asked (``send``), and no file is left behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

#: Board name -> QEMU binary and the arguments that select and boot that machine.
MACHINES: dict[str, tuple[str, tuple[str, ...]]] = {
    "mps2-an385": ("qemu-system-arm", ("-M", "mps2-an385")),
    # sifive_e's mask ROM jumps to the flash at 0x20400000; -bios none keeps QEMU from loading
    # an OpenSBI image there first.
    "hifive1": ("qemu-system-riscv32", ("-M", "sifive_e", "-bios", "none")),
}

COMMON_ARGS = ("-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot")


class QemuError(Exception):
    """QEMU could not run the ELF (it exited on its own, with its message)."""


def binary(board: str) -> str:
    """The QEMU executable for ``board``."""
    return MACHINES[board][0]


def command(board: str, elf: str | os.PathLike[str]) -> list[str]:
    """The full QEMU command line that boots ``elf`` on ``board`` with UART0 on stdout."""
    exe, machine = MACHINES[board]
    return [exe, *machine, *COMMON_ARGS, "-kernel", str(elf)]


def require(board: str) -> None:
    """Skip the calling test if QEMU for ``board`` is missing — but fail under CI.

    CI counts as set when the ``CI`` variable has any value other than empty, 0, false or no.
    """
    exe = binary(board)
    if shutil.which(exe) is None:
        reason = f"{exe} is not installed (needed to run {board} firmware on QEMU)"
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"{reason}; CI is set, so QEMU is required")
        pytest.skip(f"{reason}; set CI=1 to make this a failure")


def run(
    board: str,
    elf: str | os.PathLike[str],
    *,
    until: bytes | None = None,
    count: int | None = None,
    settle: float = 0.0,
    timeout: float = 10.0,
    send: tuple[bytes, bytes] | None = None,
) -> bytes:
    """Boot ``elf`` on QEMU's ``board`` and return the UART0 bytes received.

    Stops once ``count`` bytes have arrived or ``until`` appears in the output (whichever is
    given) and then ``settle`` more seconds have passed — so bytes sent after the expected ones
    are caught too — or else when ``timeout`` seconds have passed. Raises ``QemuError`` if QEMU
    exits by itself (a bad ELF or machine), with its stderr. With ``send=(marker, data)``,
    ``data`` is typed into UART0 once ``marker`` has appeared in the output.
    """
    if not Path(elf).is_file():
        raise QemuError(f"{elf}: no such file")

    def done(data: bytes) -> bool:
        return (count is not None and len(data) >= count) or (until is not None and until in data)

    proc = subprocess.Popen(
        command(board, elf), stdin=subprocess.PIPE if send else subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    received = bytearray()
    changed = threading.Condition()

    def reader() -> None:
        while chunk := proc.stdout.read1(4096):
            with changed:
                received.extend(chunk)
                changed.notify_all()
        with changed:
            changed.notify_all()

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    matched = False
    try:
        with changed:
            while proc.poll() is None:
                if send is not None and send[0] in received:
                    proc.stdin.write(send[1])
                    proc.stdin.flush()
                    send = None
                if not matched and done(bytes(received)):
                    matched = True
                    deadline = min(deadline, time.monotonic() + settle)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                changed.wait(min(remaining, 0.1))
    finally:
        exited_by_itself = proc.poll() is not None
        proc.kill()
        proc.wait()
        thread.join(timeout=5)
        stderr = proc.stderr.read().decode(errors="replace").strip()
        proc.stdout.close()
        proc.stderr.close()
        if proc.stdin is not None:
            proc.stdin.close()
    data = bytes(received)
    if exited_by_itself and not done(data):
        raise QemuError(f"{binary(board)} exited with status {proc.returncode} running {elf}: {stderr}")
    return data
