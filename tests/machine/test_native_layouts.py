"""Every ctypes mirror of a C struct (machine/native/*.c, kernel/native/fastpath.c) has the
size and field offsets the host compiler gives the struct itself."""

from __future__ import annotations

import ctypes

import pytest

import kernel.fastpath  # noqa: F401  (registers the kernel's fast path mirrors)
from machine import MIRRORS, layout_mismatches


@pytest.mark.parametrize("source, struct, mirror", MIRRORS, ids=[f"{s.name}:{n}" for s, n, _ in MIRRORS])
def test_a_ctypes_mirror_has_the_layout_of_its_c_struct(source, struct, mirror):
    assert layout_mismatches(source, struct, mirror) == []


def test_the_mirrors_cover_the_machines_and_the_fast_paths_structs():
    assert {(source.name, struct) for source, struct, _ in MIRRORS} >= {
        ("counter.c", "atoll_counter"), ("itstate.c", "atoll_it_guard"), ("csr.c", "atoll_csr"),
        ("tlb.c", "atoll_mapping"), ("tlb.c", "atoll_tlb"), ("trap.c", "atoll_space_table"),
        ("trap.c", "atoll_trap_front"), ("fastpath.c", "atoll_fastpath")}


def test_a_mirror_that_differs_from_its_struct_is_reported_field_by_field(tmp_path):
    source = tmp_path / "pair.c"
    source.write_text("#include <stdint.h>\nstruct pair { uint32_t a; uint64_t b; };\n")

    class Pair(ctypes.Structure):
        _fields_ = [("a", ctypes.c_uint32), ("b", ctypes.c_uint32)]

    assert layout_mismatches(source, "pair", Pair) == [
        "pair.c: struct pair and its mirror Pair: 16 bytes in C, 8 in Python",
        "pair.c: struct pair and its mirror Pair: field b at offset 8 in C, 4 in Python",
    ]
