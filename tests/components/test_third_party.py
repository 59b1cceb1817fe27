"""A third-party C library, built unmodified as a component, passes its own test vectors on both boards.

The library is Monocypher (a portable C cryptography library made for small systems; nobody
here wrote it). Its sources come, at test time, from the sdist of the `pymonocypher` package,
fetched with pip (`pip download --no-binary`), checked against a pinned SHA-256 and kept under
build/third-party/ so a second run does not fetch it again; nothing of it is committed. The sdist
also carries BLAKE2's official known-answer vectors (test/blake2-kat.json), which pymonocypher's
own tests run against Monocypher's BLAKE2b: 512 unkeyed and keyed hashes of 0..255-byte inputs.

The test writes a component folder: monocypher.c and monocypher.h as they are, a main.c of its
own that runs every BLAKE2b vector through crypto_blake2b_keyed and prints one line per failure
and a total, and a component.toml, in build/third-party/monocypher (rewritten on every run, so the
build cache decides from the contents whether to compile); builds it with `atoll build-component`;
boots it on each board.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import subprocess
import sys
import tarfile

import pytest

from tests.boards import BOARDS
from tests.components.runs import atoll, boot, elf_of
from tests.conftest import ROOT

PACKAGE, VERSION = "pymonocypher", "4.0.3.4"
SDIST = f"{PACKAGE}-{VERSION}.tar.gz"
SHA256 = "5e56e3d3eb770a53e0b9f6274146663c11a11f3d0de5cd48e3be0428d1b07a4a"
CACHE = ROOT / "build" / "third-party"

HARNESS = """\
/* Runs BLAKE2's known-answer vectors (from the pymonocypher sdist) through Monocypher. */
#include <stdio.h>
#include <string.h>

#include "monocypher.h"
#include "vectors.h"

int main(void)
{
    static uint8_t input[256], key[64];
    int failed = 0;
    for (size_t i = 0; i < sizeof VECTORS / sizeof VECTORS[0]; i++) {
        const struct vector *v = &VECTORS[i];
        for (size_t j = 0; j < v->in_len; j++)
            input[j] = (uint8_t)v->in[j];
        for (size_t j = 0; j < v->key_len; j++)
            key[j] = (uint8_t)v->key[j];
        uint8_t hash[64];
        crypto_blake2b_keyed(hash, 64, key, v->key_len, input, v->in_len);
        if (memcmp(hash, v->out, 64) != 0) {
            printf("vector %u (%u-byte input, %u-byte key): wrong hash\\n", (unsigned)i, (unsigned)v->in_len,
                   (unsigned)v->key_len);
            failed++;
        }
    }
    printf("BLAKE2b known answers: %d of %u passed\\n", (int)(sizeof VECTORS / sizeof VECTORS[0]) - failed,
           (unsigned)(sizeof VECTORS / sizeof VECTORS[0]));
    return failed != 0;
}
"""


def fetch_sdist() -> pathlib.Path:
    """The pinned sdist, from the cache or fetched with pip."""
    path = CACHE / SDIST
    if not (path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == SHA256):
        CACHE.mkdir(parents=True, exist_ok=True)
        result = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                                 "--no-binary", PACKAGE, f"{PACKAGE}=={VERSION}", "--dest", str(CACHE)],
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"pip could not fetch {PACKAGE}=={VERSION}: {result.stderr}"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == SHA256, f"{SDIST}: SHA-256 {digest}, expected {SHA256}"
    return path


def c_bytes(hex_text: str) -> str:
    return '"' + "".join(f"\\x{b:02x}" for b in bytes.fromhex(hex_text)) + '"'


def vectors_header(kat: list[dict]) -> str:
    rows = [f"    {{{c_bytes(v['in'])}, {len(v['in']) // 2}, {c_bytes(v['key'])}, {len(v['key']) // 2}, "
            f"{c_bytes(v['out'])}}}," for v in kat if v["hash"] == "blake2b"]
    return ("#include <stddef.h>\n#include <stdint.h>\n"
            "struct vector { const char *in; size_t in_len; const char *key; size_t key_len; const char *out; };\n"
            "static const struct vector VECTORS[] = {\n" + "\n".join(rows) + "\n};\n")


@pytest.fixture(scope="module")
def monocypher():
    """The component folder (build/third-party/monocypher, kept so the build cache skips the
    compiler on the next run), built for both ISAs."""
    folder = CACHE / "monocypher"
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fetch_sdist()) as sdist:
        top = f"{PACKAGE}-{VERSION}"
        for name in ("monocypher.c", "monocypher.h"):
            (folder / name).write_bytes(sdist.extractfile(f"{top}/{name}").read())
        kat = json.load(sdist.extractfile(f"{top}/test/blake2-kat.json"))
    (folder / "vectors.h").write_text(vectors_header(kat))
    (folder / "main.c").write_text(HARNESS)
    (folder / "component.toml").write_text('[component]\nname = "monocypher"\nsources = ["*.c"]\n')
    result = atoll("build-component", str(folder))
    assert result.returncode == 0, result.stderr
    return folder


@pytest.mark.parametrize("board", BOARDS)
def test_monocypher_built_unmodified_passes_the_blake2b_known_answer_vectors(board, monocypher):
    run = boot(board, elf_of(monocypher, board), seconds=2.0)

    assert run.output("monocypher") == ["BLAKE2b known answers: 512 of 512 passed"]
    assert run.kernel.process("monocypher").exit_code == 0
