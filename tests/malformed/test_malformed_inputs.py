"""Every malformed input gets one clear refusal: the defined error of its layer, naming the file
and the problem, through the Python API and through the command line (one line on stderr,
exit status 2, no traceback), and nothing on disk changes.

The corpus is tests/malformed/<format>/<case><suffix>, written by make_corpus.py from the
samples of samples.py; the formats (loader call, error type, how the command line reads a
file) are the table in formats.py. Each corpus file has its expected message below. A file
without a line (or a line without a file) fails the suite; so does a corpus that differs from
what make_corpus.py writes.

Files are read inside a workspace (formats.prepare): a valid description with its ELF files,
the trusted public key, a signed image, and out.atoll, the output of an earlier build.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import pytest

from atoll import cli
from kernel.kernel import Kernel
from kernel.loader import LoadError
from machine import ElfError, Machine, read_elf, symbols
from machine.board import BoardError, load_board
from sysdesc.package import fingerprint, open_image, pack
from tests.malformed import make_corpus
from tests.malformed.formats import BOOT, DESCRIPTION_FILE, FORMATS, OUTPUT, RUN, SIGNED, Format, prepare, write_boot
from tests.malformed.samples import (
    COMPONENTS,
    HERE,
    ISA,
    OTHER,
    ROOT,
    SIGNER,
    build_elf,
    compact_elf,
    entries,
    key_from_seed,
    make_seeds,
    packed_image,
)


class Loads:
    """The file is read without error: its damage is in a part the loader does not read."""


class Bug:
    """A known bug outside the files this suite may fix: the case is a strict xfail until it is fixed
    (none at present: the ones this suite found were fixed by their owners)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


LOADS = Loads()
INT64 = "integer out of TOML's 64-bit range (-9223372036854775808 to 9223372036854775807)"
NOT_A_ZIP = "not a packed image (not a zip archive)"
DAMAGED_ZIP = "a damaged or truncated zip archive; not a usable packed image"
DAMAGED_ENTRY = "SHA-256 does not match the manifest (the entry is damaged)"
NO_MATCH = "signature.ed25519: signature does not match manifest.json (changed after signing?)"
NOT_PUBLIC = "not a PEM public key (make a key pair with atoll keygen)"
NOT_PRIVATE = "not a PEM private key (make a key pair with atoll keygen)"


def short(label: str) -> str:
    return "SHA256:" + fingerprint(key_from_seed(label))[:16]


def entry_of(corpus_file: str, name: str) -> bytes:
    """An entry of a packed image of the corpus (for messages that quote its contents)."""
    return entries((HERE / corpus_file).read_bytes())[name]


#: format -> case -> what the loader says after "<file>: " (or LOADS, or a known Bug)
EXPECTED: dict[str, dict[str, str | Loads | Bug]] = {
    "elf": {
        "bad_magic": "not an ELF file (no ELF magic number)",
        "big_endian": "is big-endian; the board needs little-endian",
        "class_64_bit": "is a 64-bit ELF; the board needs 32-bit",
        "class_invalid": "malformed ELF: Invalid EI_CLASS b'\\t'",
        "empty": "not an ELF file (no ELF magic number)",
        "entry_outside_code": "entry point 0x11000 is not in an executable segment",
        "machine_unknown": "is built for e_machine 0xbeef, not RISC-V (rv32imac)",
        "machine_x86": "is built for EM_386, not RISC-V (rv32imac)",
        "no_loadable_segments": "has no loadable segments",
        "other_isa": "is built for EM_ARM, not RISC-V (rv32imac)",
        "phentsize_too_small": "malformed ELF: Too small e_phentsize: 8",
        "phnum_huge":
            "program headers at 0x34-0x1ffe34 (65520 of 32 bytes) run past the end of the file (0x170 bytes)",
        "phoff_past_end":
            "program headers at 0x10000-0x10040 (2 of 32 bytes) run past the end of the file (0x170 bytes)",
        "section_names_index_out_of_range": LOADS,
        "sections_past_end": LOADS,
        "sections_truncated": LOADS,
        "segment_file_bytes_exceed_memory": "segment 1 has more file bytes (0x8) than memory (0x4)",
        "segment_filesz_past_end": "segment 0 claims bytes 0x80-0x10080 past the end of the file (0x170 bytes)",
        "segment_memsz_wraps_address_space": "segment 0 at 0x10000 passes the end of the 32-bit space",
        "segment_offset_past_end": "segment 0 claims bytes 0x10000-0x10026 past the end of the file (0x170 bytes)",
        "segment_outside_component_range":
            "segment at 0x1000000-0x1000026 is outside the component range 0x10000-0x1000000 "
            "(link with firmware/lib/component.ld)",
        "segment_writable_and_executable": "segment at 0x10000 is both writable and executable",
        "segments_overlap": "segments at 0x10000 and 0x10010 overlap",
        "segments_share_a_page": "segments with different permissions share the page at 0x10000",
        "truncated_after_header":
            "program headers at 0x34-0x74 (2 of 32 bytes) run past the end of the file (0x34 bytes)",
        "truncated_in_code_segment": "segment 0 claims bytes 0x80-0xa6 past the end of the file (0x8a bytes)",
        "truncated_in_header": "truncated: 40 bytes, less than an ELF header (52 bytes)",
        "truncated_in_program_headers":
            "program headers at 0x34-0x74 (2 of 32 bytes) run past the end of the file (0x60 bytes)",
        "type_relocatable": "is ET_REL, not an executable (ET_EXEC)",
    },
    "description": {
        "binary_garbage": "not UTF-8 text (byte 0 is 0x89)",
        "bits_wider_than_toml": f"notification[0].bits: {INT64}",
        "board_name_too_long":
            f"system.board: unknown board '{'b' * 300}'; known boards: hifive1, mps2-an385 "
            f"(or give the path of a board file ending in .toml)",
        "board_path_too_long": f"system.board: cannot use {'b' * 80}...: File name too long",
        "byte_order_mark": "not valid TOML: Invalid statement (at line 1, column 1)",
        "duplicate_key": "not valid TOML: Cannot overwrite a value (at line 15, column 13)",
        "elf_path_too_long": f"component 'app'.elf: cannot use {'a' * 80}...: File name too long",
        "empty": "system: missing; the file needs a [system] table",
        "interrupts_an_array":
            "component 'app'.interrupts: must be a table of \"peripheral.output\" = bit, not ['uart0.irq']",
        "nested_too_deeply": "not valid TOML: arrays or tables nested too deeply",
        "nul_byte": "not valid TOML: Illegal character '\\x00' (at line 12, column 10)",
        "packed_image_named_toml": "not UTF-8 text (byte 14 is 0xf5)",
        "priority_a_string": "component 'app'.priority: must be an integer, not '2'",
        "priority_too_large_for_toml": f"component[1].priority: {INT64}",
        "priority_with_too_many_digits": "not valid TOML: an integer with too many digits (TOML integers are 64-bit)",
        "system_name_a_date": "system.name: must be a string, not datetime.date(1979, 5, 27)",
        "truncated_after_component_name": "component 'app'.elf: missing",
        "truncated_in_string": "not valid TOML: Unterminated string (at end of document)",
        "truncated_in_table_header":
            "not valid TOML: Expected ']]' at the end of an array declaration (at end of document)",
        "uses_a_number":
            "component 'app'.uses: must be an array of peripheral names or a table of peripheral = virtual "
            "address, not 7",
        "uses_address_negative":
            "component 'app'.uses.uart0: must be a page-aligned virtual address (a multiple of 0x1000), not -0x1000",
    },
    "board": {
        "access_an_array": "region 'dtim'.access: must be a string, not ['r', 'w', 'x']",
        "binary_garbage": "not UTF-8 text (byte 0 is 0x89)",
        "empty": "board: missing; the file needs a [board] table",
        "frequency_a_string": "cpu.frequency_hz: must be an integer, not '16 MHz'",
        "frequency_too_large_for_toml": f"cpu.frequency_hz: {INT64}",
        "frequency_with_too_many_digits":
            "not valid TOML: an integer with too many digits (TOML integers are 64-bit)",
        "invalid_toml": "not valid TOML: Unclosed inline table (at line 40, column 31)",
        "irq_a_string": "peripheral 'uart0'.irq: must be an integer, an array or a table, not '3'",
        "nested_too_deeply": "not valid TOML: arrays or tables nested too deeply",
        "params_a_string": "peripheral 'plic'.params.num_sources: must be an integer, not '52'",
        "region_base_a_float": "region 'dtim'.base: must be an integer, not 2147483648.0",
        "region_size_negative": "region 'dtim'.size: must be a positive integer, not -1048576",
        "truncated_after_cpu": "region: missing; a board needs at least one [[region]] of memory",
        "truncated_in_value":
            "not valid TOML: Expected newline or end of document after a statement (at line 18, column 18)",
    },
    "policy": {
        "action_unknown": "rule[0].action: must be allow or deny, not 'permit'",
        "audit_unknown": "policy.audit: must be one of none, denied, all, not 'some'",
        "binary_garbage": "not UTF-8 text (byte 0 is 0x89)",
        "component_unknown": "rule[0].from: 'bulb' is not a component of the system (supervisor, app)",
        "empty": LOADS,   # no rules: every request is denied
        "from_a_number": 'rule[0].from: must be a component name, "*" or an array of names, not 7',
        "interface_unknown": "rule[0].methods: 'uart.write' names no interface of the system "
                             "(interfaces: none: no endpoint names an interface file)",
        "methods_not_a_pattern": "rule[0].methods: 'uart' must be written \"interface.method\" or \"interface.*\"",
        "mode_unknown": "policy.mode: must be one of enforce, permissive, not 'learn'",
        "nested_arrays": "not valid TOML: arrays or tables nested too deeply",
        "not_utf8": "not UTF-8 text (byte 68 is 0xff)",
        "rule_a_table": "rule: must be an array of tables, written [[rule]], not a single [rule] table",
        "truncated_after_a_key": "not valid TOML: Invalid value (at end of document)",
        "truncated_in_rule": "not valid TOML: Unterminated string (at end of document)",
        "unknown_key": "rule[0].priority: unknown key; expected one of: action, from, methods, name, to",
    },
    "interface": {
        "binary_garbage": "not UTF-8 text (byte 0 is 0x89)",
        "doc_ends_the_c_comment":
            "method 'stats'.doc: must not contain '*/' (the generated C header quotes it in a comment)",
        "empty": "interface: missing; the file needs a [interface] table",
        "id_past_16_bits": "interface.id: must be an integer from 1 to 65534, not 65536",
        "id_zero": "interface.id: must be an integer from 1 to 65534, not 0",
        "lease_rights_unknown":
            "method 'read'.leases[0].rights: must be one of read, write, read-write, not 'execute'",
        "lease_too_large": "method 'write'.leases[0].max: must be an integer from 1 to 65536, not 65537",
        "method_number_twice": "method 'read'.number: 1 is already the number of method 'write'",
        "name_not_an_identifier": "interface.name: must be an identifier (letters, digits, _), not 'u-art'",
        "reply_too_many": "method 'stats'.reply: must be an integer from 0 to 4, not 5",
        "truncated_before_methods": "method: missing; an interface needs at least one [[method]]",
        "truncated_in_method": "not valid TOML: Unterminated string (at end of document)",
    },
    "image": {
        "compression_method_unknown": f"entry elf/app.elf: {DAMAGED_ENTRY}",
        "declared_size_huge": "entry elf/app.elf: 4294967280 bytes, more than the 67108864 accepted",
        "description_invalid_toml":
            "system.toml: not valid TOML: Expected ']' at the end of a table declaration (at line 1, column 8)",
        "empty": NOT_A_ZIP,
        "encrypted_entry": f"entry elf/app.elf: {DAMAGED_ENTRY}",
        "end_record_offset_too_large": "entry manifest.json: damaged in the archive",
        "entry_extra": "entry notes.txt: not listed in the manifest",
        "entry_hash_mismatch": "entry elf/app.elf: SHA-256 does not match the manifest",
        "entry_missing": "entry elf/app.elf: listed in the manifest but missing",
        "entry_name_not_utf8": DAMAGED_ZIP,
        "entry_name_with_newline": "entry 'elf/app\\n.elf': not listed in the manifest",
        "entry_stored_twice": "entry elf/app.elf: stored twice",
        "flipped_byte_in_compressed_entry": f"entry elf/app.elf: {DAMAGED_ENTRY}",
        "manifest_digest_uppercase":
            "manifest.json: entries.elf/app.elf: must be a SHA-256 in 64 lowercase hex digits, not "
            f"'{hashlib.sha256(entry_of('image/manifest_digest_uppercase.atoll', 'elf/app.elf')).hexdigest().upper()}'",
        "manifest_entries_an_array":
            "manifest.json: entries: must be an object of entry name -> SHA-256, not "
            "['elf/app.elf', 'elf/supervisor.elf', 'system.toml']",
        "manifest_entry_name_escapes":
            "manifest.json: entries: '../escape.elf' is not an entry name an image may hold",
        "manifest_garbage":
            "manifest.json: not valid JSON: 'utf-8' codec can't decode byte 0x89 in position 0: invalid start byte",
        "manifest_missing": "no manifest.json; not a packed image",
        "manifest_nested_too_deeply": "manifest.json: not valid JSON: arrays or objects nested too deeply",
        "manifest_not_an_object": "manifest.json: must be a JSON object, not []",
        "manifest_not_json":
            "manifest.json: not valid JSON: Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1)",
        "manifest_number_with_too_many_digits": "manifest.json: not valid JSON: a number with too many digits",
        "manifest_version_a_string": "manifest.json: version: '1' is not supported; this Atoll reads version 1",
        "not_a_zip": NOT_A_ZIP,
        "truncated_before_central_directory": DAMAGED_ZIP,
        "truncated_in_end_record": DAMAGED_ZIP,
        "truncated_in_first_entry": DAMAGED_ZIP,
        "zip_version_unsupported": DAMAGED_ZIP,
    },
    "signed": {
        "entry_changed_after_signing": "entry elf/app.elf: SHA-256 does not match the manifest",
        "manifest_changed_after_signing": NO_MATCH,
        "signature_byte_flipped": NO_MATCH,
        "signature_damaged_in_archive": "entry signature.ed25519: damaged in the archive",
        "signature_key_not_hex":
            f"signature.ed25519: key: must be a SHA-256 fingerprint in 64 lowercase hex digits, not "
            f"'{short(SIGNER)}'",
        "signature_nested_too_deeply": "signature.ed25519: not valid JSON: arrays or objects nested too deeply",
        "signature_not_an_object": "signature.ed25519: must be a JSON object, not ['ed25519']",
        "signature_not_json": "signature.ed25519: not valid JSON: Expecting value: line 1 column 1 (char 0)",
        "signature_not_utf8":
            "signature.ed25519: not valid JSON: 'utf-8' codec can't decode byte 0x89 in position 0: "
            "invalid start byte",
        "signature_of_another_manifest": NO_MATCH,
        "signature_stored_twice": "entry signature.ed25519: stored twice",
        "signature_too_large": "signature.ed25519: 5253 bytes, more than the 4096 accepted",
        "signature_truncated":
            "signature.ed25519: signature: must be 128 lowercase hex digits (64 bytes), not "
            f"'{json.loads(entry_of('signed/signature_truncated.atoll', 'signature.ed25519'))['signature']}'",
        "signed_by_another_key": f"signed by another key ({short(OTHER)}), not the trusted key ({short(SIGNER)})",
        "truncated": DAMAGED_ZIP,
        "unsigned": "not signed (no signature.ed25519), but a trusted key was given; sign it with atoll build --sign",
    },
    "public_key": {
        "binary_garbage": NOT_PUBLIC,
        "body_not_base64": NOT_PUBLIC,
        "der_not_pem": NOT_PUBLIC,
        "ec_p256": "not an Ed25519 public key (make a key pair with atoll keygen)",
        "ed448_oid_on_an_ed25519_key": NOT_PUBLIC,
        "empty": NOT_PUBLIC,
        "openssh_format": NOT_PUBLIC,
        "private_key": "a private key; trust the public key (the .pub file) instead",
        "truncated_pem": NOT_PUBLIC,
        "x25519": "not an Ed25519 public key (make a key pair with atoll keygen)",
    },
    "private_key": {
        "binary_garbage": NOT_PRIVATE,
        "body_not_base64": NOT_PRIVATE,
        "ec_p256": "not an Ed25519 private key (make a key pair with atoll keygen)",
        "ed448_oid_on_an_ed25519_key": NOT_PRIVATE,
        "empty": NOT_PRIVATE,
        "encrypted": "an encrypted private key; atoll needs an unencrypted one",
        "public_key": "a public key; signing needs the private key (the .key file)",
        "truncated_pem": NOT_PRIVATE,
    },
}


def corpus_file(fmt: Format, case: str) -> pathlib.Path:
    return HERE / fmt.name / f"{case}{fmt.suffix}"


def cases(formats: list[str] | None = None, refused_only: bool = False) -> list:
    """(format, case, expected) for every corpus file, the known bugs marked as strict xfails."""
    params = []
    for name, expected in EXPECTED.items():
        if formats is not None and name not in formats:
            continue
        for case, outcome in sorted(expected.items()):
            if refused_only and outcome is LOADS:
                continue
            marks = [pytest.mark.xfail(strict=True, reason=outcome.reason)] if isinstance(outcome, Bug) else []
            params.append(pytest.param(FORMATS[name], case, outcome, marks=marks, id=f"{name}/{case}"))
    return params


@pytest.fixture(scope="module")
def seeds():
    return make_seeds()


def new_workspace(tmp_path: pathlib.Path, seeds) -> pathlib.Path:
    (tmp_path / "work").mkdir()
    return prepare(tmp_path / "work", seeds)


@pytest.fixture
def workspace(tmp_path, seeds, monkeypatch) -> pathlib.Path:
    """A prepared workspace as the working directory; temporary files go to tmp_path/tmp."""
    folder = new_workspace(tmp_path, seeds)
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    monkeypatch.chdir(folder)
    return folder


def place(fmt: Format, case: str, folder: pathlib.Path) -> pathlib.Path:
    return pathlib.Path(shutil.copy(corpus_file(fmt, case), folder / f"{case}{fmt.suffix}"))


def snapshot(folder: pathlib.Path) -> dict[str, bytes | None]:
    """Every file (bytes) and folder (None) under `folder`."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


def atoll(argv: list[str], capsys) -> tuple[int, str, str]:
    """`atoll ARGV` in this process: exit status, stdout, stderr. An exception escaping the
    command line (a traceback for the user) escapes here too and fails the test."""
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def refusal(code: int, out: str, err: str) -> str:
    """The one line of a refusal (exit status 2, nothing on stdout), without its newline."""
    assert (code, out) == (2, ""), err
    assert err.endswith("\n") and err.count("\n") == 1, err
    return err[:-1]


# -- the corpus --------------------------------------------------------------------------------


def test_every_corpus_file_has_an_expected_result_and_every_expected_result_a_file():
    on_disk = {f"{fmt.name}/{p.stem}" for fmt in FORMATS.values() for p in (HERE / fmt.name).glob(f"*{fmt.suffix}")}
    expected = {f"{fmt}/{case}" for fmt, table in EXPECTED.items() for case in table}
    assert set(EXPECTED) == set(FORMATS)
    assert sorted(on_disk - expected) == [] and sorted(expected - on_disk) == []


def test_the_committed_corpus_is_what_make_corpus_writes(seeds):
    if os.environ.get("CC", "").strip():
        pytest.skip("the corpus is made with the default compiler (zig cc); CC names another")
    written = make_corpus.generate(seeds)
    committed = {f"{fmt.name}/{p.name}": p.read_bytes()
                 for fmt in FORMATS.values() for p in (HERE / fmt.name).glob(f"*{fmt.suffix}")}
    assert sorted(written) == sorted(committed)
    stale = [name for name in written if written[name] != committed[name]]
    assert stale == [], "run python tests/malformed/make_corpus.py"


def test_the_image_samples_are_what_atoll_build_packs_but_for_the_rewritten_description(seeds, workspace):
    pack(workspace / DESCRIPTION_FILE, workspace / "packed.atoll", signing_key=key_from_seed(SIGNER))
    built, sample = entries((workspace / "packed.atoll").read_bytes()), entries(seeds.signed)
    assert list(built) == list(sample) == ["manifest.json", *[f"elf/{c}.elf" for c in sorted(COMPONENTS)],
                                           "system.toml", "signature.ed25519"]
    assert [built[f"elf/{c}.elf"] for c in COMPONENTS] == [sample[f"elf/{c}.elf"] for c in COMPONENTS]
    assert shape(open_image(workspace / "packed.atoll")) == shape(open_image(workspace / SIGNED))


@pytest.mark.parametrize("isa", ["armv7m", "rv32imac"])
def test_the_compacted_sample_elf_loads_exactly_like_the_linker_output(isa, tmp_path):
    full = tmp_path / "full.elf"
    full.write_bytes(build_elf(isa, tmp_path / "build"))
    compact = tmp_path / "compact.elf"
    compact.write_bytes(compact_elf(full.read_bytes()))

    a, b = read_elf(full, isa), read_elf(compact, isa)

    assert (a.entry, a.segments) == (b.entry, b.segments)
    assert compact.stat().st_size < 1024 < full.stat().st_size


def shape(system) -> tuple:
    """What a system says, without the paths of its unpacked files."""
    return (system.name, system.board.name,
            [(c.name, c.priority, c.stack, c.uses, c.interrupts, c.supervisor, c.start) for c in system.components],
            system.endpoints, system.notifications)


def test_every_corpus_file_is_small_and_has_its_format_suffix():
    files = [p for fmt in FORMATS.values() for p in (HERE / fmt.name).iterdir()]
    assert max(p.stat().st_size for p in files) <= make_corpus.MAX_FILE_BYTES
    assert [p for p in files if p.suffix != FORMATS[p.parent.name].suffix] == []


@pytest.mark.parametrize("fmt,case,expected", cases())
def test_each_corpus_file_is_refused_by_its_loader_with_the_defined_error_naming_the_file(
        fmt, case, expected, workspace):
    path = place(fmt, case, workspace)
    if expected is LOADS:
        fmt.load(path)
        return
    with pytest.raises(Exception) as excinfo:
        fmt.load(path)
    assert type(excinfo.value) is fmt.error, repr(excinfo.value)
    assert str(excinfo.value) == f"{fmt.shown(path)}: {expected}"


@pytest.mark.parametrize("fmt,case,expected", cases())
def test_each_corpus_file_is_refused_by_the_command_line_in_one_line_and_nothing_changes(
        fmt, case, expected, workspace, capsys):
    name = place(fmt, case, workspace).name
    argv, context = fmt.cli(workspace, name)
    before = snapshot(workspace)

    code, out, err = atoll(argv, capsys)

    if expected is LOADS:
        assert code == 0, err
        return
    assert refusal(code, out, err) == f"atoll: {context}{name}: {expected}"
    assert snapshot(workspace) == before
    assert os.listdir(tempfile.gettempdir()) == []


@pytest.mark.parametrize("fmt,case,expected", cases(["description"]))
def test_atoll_build_refuses_each_malformed_description_and_leaves_the_existing_image_alone(
        fmt, case, expected, workspace, capsys):
    name = place(fmt, case, workspace).name
    before = snapshot(workspace)

    code, out, err = atoll(["build", name, "-o", OUTPUT], capsys)

    assert refusal(code, out, err) == f"atoll: {name}: {expected}"
    assert snapshot(workspace) == before


@pytest.mark.parametrize("fmt,case,expected", cases(["board"]))
def test_atoll_build_refuses_a_description_naming_each_malformed_board_and_writes_nothing(
        fmt, case, expected, workspace, capsys):
    name = place(fmt, case, workspace).name
    write_boot(workspace, 'board = "hifive1"', f'board = "{name}"')
    before = snapshot(workspace)

    code, out, err = atoll(["build", BOOT, "-o", OUTPUT], capsys)

    assert refusal(code, out, err) == f"atoll: {BOOT}: system.board: {name}: {expected}"
    assert snapshot(workspace) == before


@pytest.mark.parametrize("fmt,case,expected", cases(["board"]))
def test_each_malformed_board_given_to_a_bare_metal_boot_is_one_line(fmt, case, expected, workspace, capsys):
    name = place(fmt, case, workspace).name
    code, out, err = atoll(["boot", "elf/app.elf", "--board", name, *RUN], capsys)
    assert refusal(code, out, err) == f"atoll: {name}: {expected}"


@pytest.mark.parametrize("fmt,case,expected", cases(["elf"], refused_only=True))
def test_each_malformed_elf_booted_bare_metal_is_one_line_naming_the_file(fmt, case, expected, workspace, capsys):
    name = place(fmt, case, workspace).name
    before = snapshot(workspace)

    code, out, err = atoll(["boot", name, "--board", "hifive1", *RUN], capsys)

    line = refusal(code, out, err)
    assert line.startswith(f"atoll: {name}: ")
    if not expected.startswith(("segment at", "segments with", "entry point")):  # the component loader's rules
        assert line == f"atoll: {name}: {expected}"
    assert snapshot(workspace) == before


# One real `atoll` process per format: what a user sees, with nothing but the line on stderr.
REPRESENTATIVES = {
    "elf": "truncated_in_program_headers",
    "description": "nested_too_deeply",
    "board": "frequency_with_too_many_digits",
    "image": "end_record_offset_too_large",
    "signed": "signature_byte_flipped",
    "public_key": "private_key",
    "private_key": "public_key",
}


@pytest.mark.parametrize("fmt", [FORMATS[name] for name in REPRESENTATIVES], ids=list(REPRESENTATIVES))
def test_a_real_atoll_process_refuses_each_format_in_one_line_without_a_traceback(fmt, tmp_path, seeds):
    folder = new_workspace(tmp_path, seeds)
    case = REPRESENTATIVES[fmt.name]
    name = place(fmt, case, folder).name
    argv, context = fmt.cli(folder, name)
    (tmp_path / "tmp").mkdir()
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    before = snapshot(folder)

    result = subprocess.run([sys.executable, "-m", "atoll.cli", *argv], cwd=folder, env=env, capture_output=True,
                            text=True, errors="replace", timeout=120)

    assert "Traceback" not in result.stderr
    assert refusal(result.returncode, result.stdout, result.stderr) == (
        f"atoll: {context}{name}: {EXPECTED[fmt.name][case]}")
    assert snapshot(folder) == before and os.listdir(tmp_path / "tmp") == []


# -- nothing lost --------------------------------------------------------------------------------


@pytest.mark.parametrize("existing", [["dev.pub"], ["dev.key"], ["dev.key", "dev.pub"]])
def test_keygen_refuses_when_a_key_file_exists_and_writes_nothing(existing, workspace, capsys):
    for name in existing:
        (workspace / name).write_bytes(b"mine\n")
    before = snapshot(workspace)

    code, out, err = atoll(["keygen", "dev"], capsys)

    first = "dev.key" if "dev.key" in existing else "dev.pub"
    assert refusal(code, out, err) == f"atoll: {first}: already exists; not overwriting a key file"
    assert snapshot(workspace) == before


def test_keygen_writes_both_files_when_neither_exists_so_the_refusals_above_can_fail(workspace, capsys):
    code, out, err = atoll(["keygen", "dev"], capsys)
    assert code == 0, err
    assert (workspace / "dev.key").is_file() and (workspace / "dev.pub").is_file()


def test_a_component_refused_for_want_of_ram_takes_none_of_it_and_the_next_one_loads(workspace):
    kernel = Kernel(Machine("hifive1"))
    elf = workspace / "elf" / "app.elf"
    allocated = kernel.frames.allocated

    with pytest.raises(LoadError) as excinfo:
        kernel.create_process("huge", elf, stack=16 << 20)

    assert str(excinfo.value).startswith(f"{elf}: the board's RAM is full")
    assert kernel.frames.allocated == allocated
    small = kernel.create_process("small", elf)
    assert [p.name for p in kernel.processes] == ["small"] and small.space.lookup(0x10000) is not None


def test_a_valid_build_still_replaces_the_output_so_the_refusals_above_can_fail(workspace, capsys):
    before = (workspace / OUTPUT).read_bytes()
    write_boot(workspace, "priority = 2", "priority = 3")

    code, out, err = atoll(["build", BOOT, "-o", OUTPUT], capsys)

    assert code == 0, err
    assert (workspace / OUTPUT).read_bytes() != before


# -- what the fixes in machine/ and sysdesc/package.py hold --------------------------------------


@pytest.mark.parametrize("case", ["sections_past_end", "sections_truncated", "section_names_index_out_of_range"])
def test_symbols_of_an_elf_whose_section_table_is_damaged_are_an_elf_error_naming_the_file(case, workspace):
    path = place(FORMATS["elf"], case, workspace)
    image = read_elf(path, ISA)  # loading reads the program headers only
    with pytest.raises(ElfError) as excinfo:
        symbols(image)
    assert str(excinfo.value).startswith(f"{path}: malformed section or symbol table: ")
    assert "\n" not in str(excinfo.value)


def test_a_board_name_longer_than_any_file_name_is_an_unknown_board():
    with pytest.raises(BoardError) as excinfo:
        load_board("b" * 300)
    assert str(excinfo.value).startswith(f"unknown board '{'b' * 300}'; known boards: ")


@pytest.mark.parametrize("loader,error", [
    (lambda path: load_board(path), BoardError),
    (lambda path: read_elf(path, ISA), ElfError),
    (lambda path: FORMATS["image"].load(path), FORMATS["image"].error),
    (lambda path: FORMATS["public_key"].load(path), FORMATS["public_key"].error),
    (lambda path: FORMATS["description"].load(path), FORMATS["description"].error),
], ids=["board", "elf", "image", "key", "description"])
def test_a_file_name_with_a_nul_byte_is_a_cannot_read_error_of_the_loader(loader, error, tmp_path):
    path = tmp_path / "a\0b.toml"
    with pytest.raises(Exception) as excinfo:
        loader(path)
    assert type(excinfo.value) is error
    assert str(excinfo.value) == f"{path}: cannot read: not a valid file name"


# -- found by this suite in files it leaves to their owners, since fixed there ---------------------


@pytest.mark.parametrize("command", ["boot", "debug"])
def test_booting_or_debugging_a_directory_is_one_line_not_a_traceback(command, workspace, capsys):
    (workspace / "adir").mkdir()
    before = snapshot(workspace)

    code, out, err = atoll([command, "adir"], capsys)

    assert refusal(code, out, err).startswith("atoll: adir: ")
    assert snapshot(workspace) == before


def test_a_refused_boot_leaves_existing_trace_and_waveform_files_as_they_were(workspace, capsys):
    place(FORMATS["image"], "truncated_in_first_entry", workspace)
    (workspace / "run.json").write_text('{"traceEvents": []}\n')
    (workspace / "pins.vcd").write_text("$date today $end\n")
    before = snapshot(workspace)

    code, out, err = atoll(["boot", "truncated_in_first_entry.atoll", "--trace", "run.json", "--vcd", "pins.vcd",
                            *RUN], capsys)

    assert refusal(code, out, err) == f"atoll: truncated_in_first_entry.atoll: {DAMAGED_ZIP}"
    assert snapshot(workspace) == before


def test_a_malformed_elf_inside_a_packed_image_is_named_by_its_entry(workspace, capsys):
    bad = corpus_file(FORMATS["elf"], "machine_x86").read_bytes()
    (workspace / "bad.atoll").write_bytes(packed_image(bad))
    assert open_image(workspace / "bad.atoll").name == "seed"  # packing never looks inside an ELF

    code, out, err = atoll(["boot", "bad.atoll", *RUN], capsys)

    assert refusal(code, out, err) == (
        f"atoll: bad.atoll: component 'supervisor': elf/supervisor.elf: {EXPECTED['elf']['machine_x86']}")


def test_atoll_debug_on_a_component_with_a_damaged_section_table_has_no_traceback(tmp_path, seeds):
    folder = new_workspace(tmp_path, seeds)
    name = place(FORMATS["elf"], "sections_past_end", folder).name
    write_boot(folder, 'elf = "elf/supervisor.elf"', f'elf = "{name}"')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}

    result = subprocess.run([sys.executable, "-m", "atoll.cli", "debug", BOOT], input="quit\n", cwd=folder, env=env,
                            capture_output=True, text=True, errors="replace", timeout=120)

    assert "Traceback" not in result.stderr
    assert result.returncode == 0, result.stderr
    assert f"atoll: warning: supervisor: {name}: no symbols (" in result.stderr  # debugged without them
