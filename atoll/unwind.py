"""Call stacks from .debug_frame: the frames of one component, innermost first.

`unwind` starts from a thread's registers (live or saved, through `atoll.control`)
and applies each frame's call frame information (`ComponentSymbols.frame_rule`):
the canonical frame address (CFA), the registers saved at offsets from it, and the
return address register. Register numbers are DWARF numbers; the `Cpu` names them
(`DWARF_REGISTERS`), so nothing here depends on the ISA. It stops at the first
frame without call frame information, a return address outside every function, a
return address of 0, a frame that does not move, or memory it cannot read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .symbols import ComponentSymbols


@dataclass
class Frame:
    pc: int
    sp: int
    cfa: int | None = None
    regs: dict = field(default_factory=dict)


def unwind(cpu, registers: Callable[[str], int], pc: int, read_word: Callable[[int], int | None],
           syms: ComponentSymbols | None, limit: int = 32) -> list[Frame]:
    """The frames of a thread whose register `name` is `registers(name)` and pc is `pc`;
    `read_word(address)` is a word of its memory (None if unreadable)."""
    sp_num = cpu.dwarf_number("sp")
    regs = {i: registers(n) for i, n in enumerate(cpu.DWARF_REGISTERS) if n != "pc"}
    frames = [Frame(pc, regs[sp_num], regs=dict(regs))]
    while len(frames) < limit and syms is not None:
        frame = frames[-1]
        lookup = frame.pc if len(frames) == 1 else frame.pc - 1
        rule = syms.frame_rule(lookup)
        if rule is None:
            break
        cfa_rule, row, ra_reg = rule
        if cfa_rule.reg is None or cfa_rule.reg not in frame.regs:
            break
        cfa = (frame.regs[cfa_rule.reg] + cfa_rule.offset) & 0xFFFFFFFF
        frame.cfa = cfa
        caller = dict(frame.regs)
        for reg, value in row.items():
            if not isinstance(reg, int) or getattr(value, "type", None) != "OFFSET":
                continue
            word = read_word(cfa + value.arg)
            if word is None:
                return frames
            caller[reg] = word
        caller[sp_num] = cfa
        ret = caller.get(ra_reg)
        if ret is None:
            break
        ret = cpu.code_address(ret)
        if ret == 0 or (ret == frame.pc and cfa == frame.sp) or syms.function_at(ret) is None:
            break
        frames.append(Frame(ret, cfa, regs=caller))
    return frames
