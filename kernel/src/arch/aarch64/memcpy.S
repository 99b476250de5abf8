// memcpy(dest, src, n) for the kernel and the EL0 programs (which include
// this file too): the compiler moves structs of more than a few words (and
// odd-sized pieces of packed enums) through memcpy; compiler_builtins'
// generic one copies 8 bytes per 4 instructions after a long set-up, and
// unaligned ones byte by byte. This
// one moves 64 bytes per four ldp/stp pairs, then 16 bytes per pair, and
// finishes with 8-, 4-, 2-, 1-byte steps (a register save area of 35 words
// takes about 30 instructions). Unaligned accesses are fine: every caller
// runs with the MMU on (Normal memory).
.section .text.memcpy, "ax"
.global memcpy
memcpy:
    mov     x3, x0
0:  subs    x2, x2, #64
    b.lo    1f
    ldp     x4, x5, [x1]
    ldp     x6, x7, [x1, #16]
    ldp     x8, x9, [x1, #32]
    ldp     x10, x11, [x1, #48]
    add     x1, x1, #64
    stp     x4, x5, [x3]
    stp     x6, x7, [x3, #16]
    stp     x8, x9, [x3, #32]
    stp     x10, x11, [x3, #48]
    add     x3, x3, #64
    b       0b
1:  add     x2, x2, #64
1:  subs    x2, x2, #16
    b.lo    2f
    ldp     x4, x5, [x1], #16
    stp     x4, x5, [x3], #16
    b       1b
2:  tbz     x2, #3, 3f
    ldr     x4, [x1], #8
    str     x4, [x3], #8
3:  tbz     x2, #2, 4f
    ldr     w4, [x1], #4
    str     w4, [x3], #4
4:  tbz     x2, #1, 5f
    ldrh    w4, [x1], #2
    strh    w4, [x3], #2
5:  tbz     x2, #0, 6f
    ldrb    w4, [x1]
    strb    w4, [x3]
6:  ret
