// Exception vector table (VBAR_EL1): every entry saves the interrupted
// registers in an ExceptionFrame and calls Rust with the frame and the
// entry's number (0..15, in architectural order). Exceptions taken at EL1
// keep the frame on the stack. Exceptions from EL0 save straight into the
// running dispatcher's context, whose address the CpuDriver (TPIDR_EL1)
// holds at offset 0, and return to whatever context that field names then:
// switching dispatchers is changing the field, not copying registers.

.equ FRAME_SIZE, 288

// x2..x29 to / from the frame at \base (x0, x1, x30 and the system
// registers are handled around them).
.macro SAVE_X2_X29 base
    stp     x2, x3, [\base, #16]
    stp     x4, x5, [\base, #32]
    stp     x6, x7, [\base, #48]
    stp     x8, x9, [\base, #64]
    stp     x10, x11, [\base, #80]
    stp     x12, x13, [\base, #96]
    stp     x14, x15, [\base, #112]
    stp     x16, x17, [\base, #128]
    stp     x18, x19, [\base, #144]
    stp     x20, x21, [\base, #160]
    stp     x22, x23, [\base, #176]
    stp     x24, x25, [\base, #192]
    stp     x26, x27, [\base, #208]
    stp     x28, x29, [\base, #224]
.endm

.macro LOAD_X2_X29 base
    ldp     x2, x3, [\base, #16]
    ldp     x4, x5, [\base, #32]
    ldp     x6, x7, [\base, #48]
    ldp     x8, x9, [\base, #64]
    ldp     x10, x11, [\base, #80]
    ldp     x12, x13, [\base, #96]
    ldp     x14, x15, [\base, #112]
    ldp     x16, x17, [\base, #128]
    ldp     x18, x19, [\base, #144]
    ldp     x20, x21, [\base, #160]
    ldp     x22, x23, [\base, #176]
    ldp     x24, x25, [\base, #192]
    ldp     x26, x27, [\base, #208]
    ldp     x28, x29, [\base, #224]
.endm

.macro ENTRY kind
    .balign 128
    sub     sp, sp, #FRAME_SIZE
    stp     x0, x1, [sp, #0]
    mov     x0, #\kind
    b       mk_exception_common
.endm

.macro ENTRY_LOWER kind
    .balign 128
    stp     x0, x1, [sp, #-16]!
    mov     x1, #\kind
    b       mk_lower_common
.endm

.section .text.vectors, "ax"
.balign 2048
.global mk_vectors
mk_vectors:
    ENTRY 0
    ENTRY 1
    ENTRY 2
    ENTRY 3
    ENTRY 4
    ENTRY 5
    ENTRY 6
    ENTRY 7
    ENTRY_LOWER 8
    ENTRY_LOWER 9
    ENTRY_LOWER 10
    ENTRY_LOWER 11
    ENTRY_LOWER 12
    ENTRY_LOWER 13
    ENTRY_LOWER 14
    ENTRY_LOWER 15

// From EL0: SP_EL1 is the top of this core's stack, with nothing on it.
mk_lower_common:                        // x1 = kind; x0, x1 pushed
    mrs     x0, tpidr_el1
    ldr     x0, [x0]                    // the running dispatcher's context
    SAVE_X2_X29 x0
    mrs     x2, elr_el1
    stp     x30, x2, [x0, #240]
    mrs     x2, spsr_el1
    mrs     x3, esr_el1
    stp     x2, x3, [x0, #256]
    mrs     x2, far_el1
    mrs     x3, sp_el0
    stp     x2, x3, [x0, #272]
    ldp     x2, x3, [sp], #16           // the interrupted x0, x1
    stp     x2, x3, [x0, #0]
    bl      mk_exception
    mrs     x0, tpidr_el1
    ldr     x0, [x0]                    // the context to resume (maybe another's)
    ldr     x1, [x0, #280]
    msr     sp_el0, x1
    ldp     x30, x1, [x0, #240]
    msr     elr_el1, x1
    ldr     x1, [x0, #256]
    msr     spsr_el1, x1
    LOAD_X2_X29 x0
    ldp     x0, x1, [x0, #0]
    eret

mk_exception_common:
    SAVE_X2_X29 sp
    mrs     x1, elr_el1
    stp     x30, x1, [sp, #240]
    mrs     x1, spsr_el1
    mrs     x2, esr_el1
    stp     x1, x2, [sp, #256]
    mrs     x1, far_el1
    mrs     x2, sp_el0                  // the user stack pointer
    stp     x1, x2, [sp, #272]
    mov     x1, x0
    mov     x0, sp
    bl      mk_exception
.global mk_exception_return
mk_exception_return:                    // sp = the frame to resume
    ldr     x1, [sp, #280]
    msr     sp_el0, x1
    ldp     x30, x1, [sp, #240]
    msr     elr_el1, x1
    ldr     x1, [sp, #256]
    msr     spsr_el1, x1
    LOAD_X2_X29 sp
    ldp     x0, x1, [sp, #0]
    add     sp, sp, #FRAME_SIZE
    eret

// mk_enter_user(frame, kernel_stack_top): resumes the context in `frame`
// (at EL0) with SP_EL1 reset to the top of this core's kernel stack, so the
// next exception from EL0 starts on an empty stack. Reads the frame through
// x0 only, so the frame may lie anywhere, even in the stack being dropped.
.global mk_enter_user
mk_enter_user:
    mov     sp, x1
    ldr     x2, [x0, #280]
    msr     sp_el0, x2
    ldp     x30, x2, [x0, #240]
    msr     elr_el1, x2
    ldr     x2, [x0, #256]
    msr     spsr_el1, x2
    LOAD_X2_X29 x0
    ldp     x0, x1, [x0, #0]
    eret
