/* Start-up code for bare-metal programs on the SiFive HiFive1 (FE310-G002), with no kernel.
 *
 * _start is placed first in flash (section .text.start) so it is what the reset vector jumps to.
 * The hart runs in M-mode with interrupts off. _start points mtvec at a parking loop (so a fault
 * stops the hart instead of jumping to address 0), sets gp and sp, copies .data from flash to
 * DTIM, zeroes .bss, calls main and parks in a wfi loop if main returns.
 */
    .section .text.start, "ax", @progbits
    .globl _start
_start:
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    la      t0, park
    csrw    mtvec, t0
    la      sp, __stack_top

    la      t0, __data_load
    la      t1, __data_start
    la      t2, __data_end
1:  bgeu    t1, t2, 2f
    lw      t3, 0(t0)
    sw      t3, 0(t1)
    addi    t0, t0, 4
    addi    t1, t1, 4
    j       1b
2:
    la      t1, __bss_start
    la      t2, __bss_end
3:  bgeu    t1, t2, 4f
    sw      zero, 0(t1)
    addi    t1, t1, 4
    j       3b
4:
    call    main

    .balign 4           /* mtvec needs a 4-byte aligned base */
park:
    wfi
    j       park
