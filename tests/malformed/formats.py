"""The input formats Atoll reads, as one table the corpus tests and the fuzzer share.

A format is: its corpus folder (tests/malformed/<name>/) and file suffix; what kind of bytes
it is (which structure-aware mutations the fuzzer applies: "elf", "toml", "zip", "pem"); a
valid sample; the loader call and the one error type that loader may raise; how the loader's
messages name a file; and how the command line reads a file of the format.

Files of every format are read inside a workspace (`prepare`) that holds what they refer to:
the ELF files a description names, the trusted public key, a valid signed image, and an
existing output image that a refused `atoll build` must leave alone.

Adding a format is one more `Format` here, its recipes in
make_corpus.py and its expected messages in test_malformed_inputs.py.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass
from typing import Callable

from kernel.kernel import Kernel
from kernel.loader import LoadError, check_component
from machine import Machine
from machine.board import BoardError, load_board
from sysdesc.description import ImageError, load_system
from sysdesc.interface import InterfaceError, load_interface
from sysdesc.package import load_private_key, load_public_key, unpacked
from sysdesc.policy import PolicyError, load_policy
from tests.malformed.samples import (
    BOARD,
    DESCRIPTION,
    ISA,
    POLICY,
    POLICY_COMPONENTS,
    SIGNER,
    Seeds,
    interface_text,
    key_from_seed,
    private_pem,
    public_pem,
    write_system,
)

#: the options every boot on the command line gets: a short run, the UART into a file
RUN = ["--for", "1ms", "--uart", "file:uart.log"]
#: the workspace's files
TRUSTED = "trusted.pub"
SIGNED = "signed.atoll"
OUTPUT = "out.atoll"
DESCRIPTION_FILE = "system.toml"
#: the description the command line boots to read an ELF or a board file of the corpus
BOOT = "boot.toml"


def prepare(folder: pathlib.Path, seeds: Seeds) -> pathlib.Path:
    """A workspace in `folder`: system.toml with elf/supervisor.elf and elf/app.elf, trusted.pub,
    signed.atoll (signed with the trusted key) and out.atoll (an earlier build's output)."""
    write_system(folder, seeds.elf, DESCRIPTION, DESCRIPTION_FILE)
    (folder / TRUSTED).write_bytes(public_pem(key_from_seed(SIGNER)))
    (folder / SIGNED).write_bytes(seeds.signed)
    (folder / OUTPUT).write_bytes(seeds.image)
    return folder


class _Kernels:
    """A kernel to load components into, made afresh every few loads (a board is slow to build)."""

    LOADS_PER_KERNEL = 32

    def __init__(self) -> None:
        self.kernel: Kernel | None = None
        self.loaded = 0

    def load(self, path: pathlib.Path) -> object:
        if self.kernel is None or self.loaded >= self.LOADS_PER_KERNEL:
            self.kernel, self.loaded = Kernel(Machine(BOARD)), 0
        try:
            process = self.kernel.create_process(f"component{self.loaded}", path)
        except LoadError:
            self.kernel = None
            if self.loaded == 0:
                raise
            return self.load(path)  # the earlier components may have taken the RAM: try on a fresh board
        self.loaded += 1
        return process


_kernels = _Kernels()


def load_component(path: pathlib.Path) -> object:
    """What booting does with a component's ELF: check it, then load it into a kernel."""
    check_component(path, ISA)
    return _kernels.load(path)


def open_packed(path: pathlib.Path, trusted: pathlib.Path | None = None) -> str:
    with unpacked(path, trusted_key=trusted) as system:
        return system.name


def boot(system) -> None:
    """Build every component of a loaded system on its board (without running it)."""
    Kernel(Machine(system.board)).boot(system)


def boot_description(path: pathlib.Path) -> None:
    boot(load_system(path))


def boot_packed(path: pathlib.Path, trusted: pathlib.Path | None = None) -> None:
    with unpacked(path, trusted_key=trusted) as system:
        boot(system)


def write_boot(folder: pathlib.Path, old: str, new: str) -> None:
    """boot.toml: the workspace's description with `old` replaced by `new`."""
    if DESCRIPTION.count(old) != 1:
        raise ValueError(f"{old!r} is not in the sample description once")
    (folder / BOOT).write_text(DESCRIPTION.replace(old, new))


def elf_cli(folder: pathlib.Path, name: str) -> tuple[list[str], str]:
    write_boot(folder, 'elf = "elf/supervisor.elf"', f'elf = "{name}"')
    return ["boot", BOOT, *RUN], f"{BOOT}: component 'supervisor': "


def policy_cli(folder: pathlib.Path, name: str) -> tuple[list[str], str]:
    write_boot(folder, f'board = "{BOARD}"\n', f'board = "{BOARD}"\npolicy = "{name}"\n')
    return ["boot", BOOT, *RUN], f"{BOOT}: system.policy: "


def interface_cli(folder: pathlib.Path, name: str) -> tuple[list[str], str]:
    write_boot(folder, "server_slot = 1\n", f'server_slot = 1\ninterface = "{name}"\n')
    return ["boot", BOOT, *RUN], f"{BOOT}: endpoint 'faults'.interface: "


def board_cli(folder: pathlib.Path, name: str) -> tuple[list[str], str]:
    write_boot(folder, f'board = "{BOARD}"', f'board = "{name}"')
    return ["boot", BOOT, *RUN], f"{BOOT}: system.board: "


@dataclass(frozen=True)
class Format:
    name: str                                    # the corpus folder
    suffix: str
    kind: str                                    # "elf", "toml", "zip" or "pem": the fuzzer's mutations
    error: type[Exception]                       # the one error type `load` may raise
    valid: Callable[[Seeds], bytes]
    load: Callable[[pathlib.Path], object]       # reads a file of the format inside a workspace
    cli: Callable[[pathlib.Path, str], tuple[list[str], str]]
    """(workspace, file name) -> the `atoll` arguments that read the file there, and what the
    one-line refusal says between "atoll: " and the loader's own message."""
    full_path: bool = False                      # messages name the file by its path, not its name
    boot: Callable[[pathlib.Path], object] | None = None
    """For a system: load the file (refused as by `load`) and boot it on its board without running
    it (refused only with the kernel's LoadError)."""

    def shown(self, path: pathlib.Path) -> str:
        """The file as the loader's messages name it."""
        return str(path) if self.full_path else path.name


FORMATS: dict[str, Format] = {f.name: f for f in [
    Format("elf", ".elf", "elf", LoadError, lambda s: s.elf, load_component, elf_cli, full_path=True),
    Format("description", ".toml", "toml", ImageError, lambda s: s.description.encode(), load_system,
           lambda folder, name: (["boot", name, *RUN], ""), boot=boot_description),
    Format("board", ".toml", "toml", BoardError, lambda s: s.board.encode(), load_board, board_cli),
    Format("policy", ".toml", "toml", PolicyError, lambda s: POLICY.encode(),
           lambda path: load_policy(path, POLICY_COMPONENTS, {}), policy_cli),
    Format("interface", ".toml", "toml", InterfaceError, lambda s: interface_text().encode(), load_interface,
           interface_cli),
    Format("image", ".atoll", "zip", ImageError, lambda s: s.image, open_packed,
           lambda folder, name: (["boot", name, *RUN], ""), boot=boot_packed),
    Format("signed", ".atoll", "zip", ImageError, lambda s: s.signed,
           lambda path: open_packed(path, path.parent / TRUSTED),
           lambda folder, name: (["boot", name, "--trust", TRUSTED, *RUN], ""),
           boot=lambda path: boot_packed(path, path.parent / TRUSTED)),
    Format("public_key", ".pub", "pem", ImageError, lambda s: public_pem(key_from_seed(SIGNER)), load_public_key,
           lambda folder, name: (["boot", SIGNED, "--trust", name, *RUN], "")),
    Format("private_key", ".key", "pem", ImageError, lambda s: private_pem(key_from_seed(SIGNER)), load_private_key,
           lambda folder, name: (["build", DESCRIPTION_FILE, "-o", OUTPUT, "--sign", name], "")),
]}
