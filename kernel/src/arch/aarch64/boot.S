// Early boot: arm64 Image header, EL2 -> EL1, position-independent set-up,
// MMU on, jump to the kernel's link address in the upper half.
//
// Runs at whatever physical address the loader chose (QEMU virt, QEMU raspi4b
// and the Pi firmware all differ), so everything before `mk_enter_high` uses
// only PC-relative addressing. The Rust called here (`mk_early_map`) is
// written to the same rule.

.equ CURRENT_EL_EL2,        (2 << 2)
.equ HCR_EL2_RW,            (1 << 31)
.equ CNTHCTL_EL2_EL1_ACCESS, 3              // EL1PCTEN | EL1PCEN
.equ CPTR_EL2_NO_TRAPS,     (0x33ff)        // RES1 bits, TFP = 0
.equ ICC_SRE_EL2_ENABLE,    (0xf)           // SRE | DFB | DIB | Enable
.equ SCTLR_EL1_RES1,        ((1 << 29) | (1 << 28) | (1 << 23) | (1 << 22) | (1 << 20) | (1 << 11))
.equ SPSR_EL1H_MASKED,      (0x3c5)         // EL1h, D A I F masked
.equ CPACR_EL1_FPEN,        (3 << 20)
.equ MPIDR_AFF_LOW,         (0xffffff)
.equ HANDOFF_ENTRIES,       64              // MmuConfig is 64 bytes, then entries
.equ HANDOFF_ENTRY_SIZE,    32

.section .text.head, "ax"
.global _start
_start:
    // Linux arm64 Image header (Documentation/arch/arm64/booting.rst).
    b       primary_entry               // code0
    .word   0                           // code1
    .quad   0                           // text_offset
    .quad   __image_size                // image_size, bss included
    .quad   0xa                         // flags: LE, 4K pages, anywhere in RAM
    .quad   0, 0, 0                     // res2..res4
    .ascii  "ARM\x64"                   // magic
    .word   0                           // res5

primary_entry:
    mov     x19, x0                     // device tree blob (unchecked)
    mrs     x21, CurrentEL
    lsr     x21, x21, #2                // exception level we were entered at
    bl      mk_el2_to_el1
    bl      mk_el1_setup
    adrp    x20, __image_start          // physical load address
    adrp    x0, __boot_stack_top
    add     x0, x0, :lo12:__boot_stack_top
    mov     sp, x0
    adrp    x0, __bss_start
    add     x0, x0, :lo12:__bss_start
    adrp    x1, __bss_end
    add     x1, x1, :lo12:__bss_end
1:  cmp     x0, x1
    b.hs    2f
    stp     xzr, xzr, [x0], #16
    b       1b
2:  mov     x0, x20
    ldr     x1, =__image_start          // link (virtual) address
    bl      mk_early_map                // returns the MmuConfig (physical)
    bl      mk_enable_mmu
    ldr     x0, =__boot_stack_top
    mov     sp, x0
    mov     x0, x19
    mov     x1, x20
    mov     x2, x21
    ldr     x3, =mk_board_primary
    br      x3

// Secondary CPUs (PSCI CPU_ON or spin-table) enter here with the MMU off and
// x0 unspecified (spin-table gives 0): find our hand-off entry by MPIDR.
.global mk_secondary_entry
mk_secondary_entry:
    bl      mk_el2_to_el1
    bl      mk_el1_setup
    mrs     x0, mpidr_el1
    and     x1, x0, #MPIDR_AFF_LOW
    ubfx    x0, x0, #32, #8
    orr     x0, x1, x0, lsl #32         // Aff3 | Aff2..Aff0
    adrp    x2, BOOT_HANDOFF
    add     x2, x2, :lo12:BOOT_HANDOFF
    add     x4, x2, #HANDOFF_ENTRIES
    mov     x3, #64                     // MAX_CPUS entries
3:  cbz     x3, 5f
    ldr     x5, [x4, #24]               // entry point; 0 = unused slot
    cbz     x5, 4f
    ldr     x5, [x4]
    cmp     x5, x0
    b.eq    6f
4:  add     x4, x4, #HANDOFF_ENTRY_SIZE
    sub     x3, x3, #1
    b       3b
5:  wfe                                 // not ours to run: park
    b       5b
6:  mov     x0, x2
    bl      mk_enable_mmu               // preserves x4
    ldr     x1, [x4, #8]
    mov     sp, x1
    ldr     x0, [x4, #16]
    ldr     x2, [x4, #24]
    br      x2

// Drop from EL2 to EL1 (returns at EL1); a no-op at EL1.
mk_el2_to_el1:
    mrs     x0, CurrentEL
    cmp     x0, #CURRENT_EL_EL2
    b.ne    1f
    mov     x0, #HCR_EL2_RW
    msr     hcr_el2, x0
    mrs     x0, cnthctl_el2
    orr     x0, x0, #CNTHCTL_EL2_EL1_ACCESS
    msr     cnthctl_el2, x0
    msr     cntvoff_el2, xzr
    mov     x0, #CPTR_EL2_NO_TRAPS
    msr     cptr_el2, x0
    msr     hstr_el2, xzr
    mrs     x0, mpidr_el1
    msr     vmpidr_el2, x0
    mrs     x0, midr_el1
    msr     vpidr_el2, x0
    mrs     x0, id_aa64pfr0_el1
    ubfx    x0, x0, #24, #4             // GIC system register interface
    cbz     x0, 2f
    mrs     x0, S3_4_C12_C9_5           // ICC_SRE_EL2
    orr     x0, x0, #ICC_SRE_EL2_ENABLE
    msr     S3_4_C12_C9_5, x0
    isb
    msr     S3_4_C12_C11_0, xzr         // ICH_HCR_EL2
2:  ldr     x0, =SCTLR_EL1_RES1
    msr     sctlr_el1, x0
    mov     x0, #SPSR_EL1H_MASKED
    msr     spsr_el2, x0
    msr     elr_el2, x30
    isb
    eret
1:  ret

// EL1 basics: MMU and caches off in a known state, FP/SIMD usable (EL0 needs it).
mk_el1_setup:
    ldr     x0, =SCTLR_EL1_RES1
    msr     sctlr_el1, x0
    mov     x0, #CPACR_EL1_FPEN
    msr     cpacr_el1, x0
    isb
    ret

// x0 = physical address of an MmuConfig { mair, tcr, ttbr0, ttbr1, sctlr }.
// Uses x0, x1 only.
.global mk_enable_mmu
mk_enable_mmu:
    ldr     x1, [x0, #0]
    msr     mair_el1, x1
    ldr     x1, [x0, #8]
    msr     tcr_el1, x1
    ldr     x1, [x0, #16]
    msr     ttbr0_el1, x1
    ldr     x1, [x0, #24]
    msr     ttbr1_el1, x1
    isb
    tlbi    vmalle1
    ic      iallu
    dsb     nsh
    isb
    ldr     x1, [x0, #32]
    msr     sctlr_el1, x1
    isb
    ret

.ltorg

// The boot CPU's stack until its per-core stack exists.
.section .bss.boot_stack, "aw", %nobits
.balign 16
__boot_stack:
    .space  65536
.global __boot_stack_top
__boot_stack_top:

