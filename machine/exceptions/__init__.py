"""Guest exception models: a bare-metal program's own traps and interrupts, as its CPU takes them.

Under the kernel, every trap and interrupt goes to Python (`Machine.trap_handler`,
`Machine.interrupt_handler`) and the guest never sees one. A privileged bare-metal
program (an ELF booted with `Machine.load_elf`) instead gets the exception model of its
architecture, attached as `Machine.guest`: the CPU enters the program's own handlers
the way the architecture manual says, and its system registers behave.

- `armv7m`: the ARMv7-M exception model (vector table, NVIC priorities, SVC, PendSV,
  SysTick, faults and HardFault escalation, lockup), for the Cortex-M3 boards.
- `riscv`: RISC-V machine mode (mtvec direct and vectored, mcause/mepc/mtval, mstatus,
  mie/mip with the CLINT's and PLIC's lines, ecall, ebreak, illegal instructions and access
  faults, WFI), for the FE310; it takes interrupts through `Machine.interrupt_handler`.

Both answer `take(trap or fault)` (None: the guest's handler runs), `wait()` (WFI),
`reset()`, `state()` and `set_state()`; the ARMv7-M model also `interrupt()` at every
slice boundary.

The run loop (machine/runloop.py) asks the model at every slice boundary whether a
pending exception is taken, and hands it every synchronous trap and CPU fault first;
whatever the model does not take ends the run as before.
"""
