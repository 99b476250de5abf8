//! Filling every FP/SIMD register, waiting to be preempted, and reading
//! them back: shows the kernel (between dispatchers) and the thread runtime
//! (between threads) keep each one's FP/SIMD state.

/// Loads the 32 q registers from `input`, spins until the word at
/// `counter` has grown by at least `rounds`, then stores them to `output`.
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub fn hold_registers(input: &[u128; 32], output: &mut [u128; 32], counter: *const u64, rounds: u64) {
    // SAFETY: reads 512 bytes of `input`, writes 512 bytes of `output`,
    // reads `counter` (a mapped word); every vector register is declared
    // clobbered; no stack use.
    unsafe {
        core::arch::asm!(
            "ldp q0, q1, [{input}, #0]",
            "ldp q2, q3, [{input}, #32]",
            "ldp q4, q5, [{input}, #64]",
            "ldp q6, q7, [{input}, #96]",
            "ldp q8, q9, [{input}, #128]",
            "ldp q10, q11, [{input}, #160]",
            "ldp q12, q13, [{input}, #192]",
            "ldp q14, q15, [{input}, #224]",
            "ldp q16, q17, [{input}, #256]",
            "ldp q18, q19, [{input}, #288]",
            "ldp q20, q21, [{input}, #320]",
            "ldp q22, q23, [{input}, #352]",
            "ldp q24, q25, [{input}, #384]",
            "ldp q26, q27, [{input}, #416]",
            "ldp q28, q29, [{input}, #448]",
            "ldp q30, q31, [{input}, #480]",
            "ldr {start}, [{counter}]",
            "2:",
            "ldr {now}, [{counter}]",
            "sub {now}, {now}, {start}",
            "cmp {now}, {rounds}",
            "b.lo 2b",
            "stp q0, q1, [{output}, #0]",
            "stp q2, q3, [{output}, #32]",
            "stp q4, q5, [{output}, #64]",
            "stp q6, q7, [{output}, #96]",
            "stp q8, q9, [{output}, #128]",
            "stp q10, q11, [{output}, #160]",
            "stp q12, q13, [{output}, #192]",
            "stp q14, q15, [{output}, #224]",
            "stp q16, q17, [{output}, #256]",
            "stp q18, q19, [{output}, #288]",
            "stp q20, q21, [{output}, #320]",
            "stp q22, q23, [{output}, #352]",
            "stp q24, q25, [{output}, #384]",
            "stp q26, q27, [{output}, #416]",
            "stp q28, q29, [{output}, #448]",
            "stp q30, q31, [{output}, #480]",
            input = in(reg) input.as_ptr(),
            output = in(reg) output.as_mut_ptr(),
            counter = in(reg) counter,
            rounds = in(reg) rounds,
            start = out(reg) _,
            now = out(reg) _,
            out("v0") _,
            out("v1") _,
            out("v2") _,
            out("v3") _,
            out("v4") _,
            out("v5") _,
            out("v6") _,
            out("v7") _,
            out("v8") _,
            out("v9") _,
            out("v10") _,
            out("v11") _,
            out("v12") _,
            out("v13") _,
            out("v14") _,
            out("v15") _,
            out("v16") _,
            out("v17") _,
            out("v18") _,
            out("v19") _,
            out("v20") _,
            out("v21") _,
            out("v22") _,
            out("v23") _,
            out("v24") _,
            out("v25") _,
            out("v26") _,
            out("v27") _,
            out("v28") _,
            out("v29") _,
            out("v30") _,
            out("v31") _,
            options(nostack),
        );
    }
}

/// Host stand-in: copies.
#[cfg(not(all(target_arch = "aarch64", target_os = "none")))]
pub fn hold_registers(input: &[u128; 32], output: &mut [u128; 32], _counter: *const u64, _rounds: u64) {
    *output = *input;
}

/// A pattern for owner `seed`: every register different.
pub fn pattern(seed: u128) -> [u128; 32] {
    core::array::from_fn(|i| {
        seed.wrapping_mul(0x0123_4567_89ab_cdef_0f1e_2d3c_4b5a_6978) ^ (i as u128 * 0x1111)
    })
}
