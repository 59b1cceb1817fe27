/* Trap entries for the RISC-V machine-mode test programs (hifive1, M-mode, spec 1.10).
 *
 * trap_entry saves every register but sp and gp on the stack in a 32-word frame (word i holds
 * x<i>, word 0 holds mepc), calls trap_handler(frame, vector) and switches to the frame it
 * returns (a task switch returns another task's frame), then restores mepc and the registers and
 * returns with mret. vector_table is a vectored-mode table (mtvec = vector_table | 1): entry 0
 * takes exceptions, entry n interrupt cause n; each passes its number as `vector` (entries with no
 * interrupt behind them pass 99). In direct mode the vector is -1.
 */
    .option norvc
    .macro SAVE_AND_CALL vector
    addi    sp, sp, -128
    sw      x1, 4(sp)
    .irp r, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    sw      x\r, \r*4(sp)
    .endr
    csrr    t0, mepc
    sw      t0, 0(sp)
    mv      a0, sp
    li      a1, \vector
    call    trap_handler
    mv      sp, a0
    lw      t0, 0(sp)
    csrw    mepc, t0
    lw      x1, 4(sp)
    .irp r, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    lw      x\r, \r*4(sp)
    .endr
    addi    sp, sp, 128
    mret
    .endm

    .section .text
    .balign 64
    .globl trap_entry
trap_entry:
    SAVE_AND_CALL -1

    .balign 64
    .globl vector_table
vector_table:
    j       vector_0
    .rept 2
    j       vector_none
    .endr
    j       vector_3
    .rept 3
    j       vector_none
    .endr
    j       vector_7
    .rept 3
    j       vector_none
    .endr
    j       vector_11
    .rept 4
    j       vector_none
    .endr

vector_0:
    SAVE_AND_CALL 0
vector_3:
    SAVE_AND_CALL 3
vector_7:
    SAVE_AND_CALL 7
vector_11:
    SAVE_AND_CALL 11
vector_none:
    SAVE_AND_CALL 99
