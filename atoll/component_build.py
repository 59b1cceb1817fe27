"""`atoll build-component DIR`: build a user's component folder (firmware/manifest.py) for both ISAs.

    atoll build-component DIR [--isa armv7m|rv32imac]... [--out OUT] [--print-commands]

Each ELF goes to ``OUT/<isa>/<name>.elf`` (default ``DIR/build``) and its path is printed, one line
each; the build cache skips the compiler when nothing changed. ``--print-commands`` prints the
compile and link commands, one per line, instead of building, for a user's own Make or CMake. A
bad manifest or a compiler error is reported on stderr; the caller (atoll.cli) turns a
``ManifestError`` into one line and exit status 2, a ``ToolchainError`` into exit status 1.
"""

from __future__ import annotations

import argparse
import pathlib
import shlex
import sys

from firmware import components, manifest
from firmware.manifest import ManifestError

from .toolchain import ToolchainError

__all__ = ["ManifestError", "add_parser", "run"]


def add_parser(sub) -> None:
    p = sub.add_parser("build-component", help="build a component folder with a component.toml for both ISAs")
    p.add_argument("folder", help="the component's folder (with component.toml)")
    p.add_argument("--isa", choices=components.ISAS, action="append", help="build only for this ISA (repeatable)")
    p.add_argument("--out", type=pathlib.Path, default=None, help="output folder (default: FOLDER/build)")
    p.add_argument("--print-commands", action="store_true",
                   help="print the compiler and linker commands instead of building")


def run(args: argparse.Namespace) -> int:
    isas = args.isa or list(components.ISAS)
    if args.print_commands:
        for isa in isas:
            compiles, link = manifest.folder_commands(args.folder, isa, args.out)
            for argv in [*compiles, link]:
                print(shlex.join(argv))
        return 0
    manifest.load_manifest(args.folder)  # a bad manifest is reported before anything is built
    try:
        for isa in isas:
            print(manifest.build_folder(args.folder, isa, args.out))
    except ToolchainError as e:
        print(f"atoll: {e}", file=sys.stderr)
        return 1
    return 0
