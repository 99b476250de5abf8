//! Links the board binary with the kernel's link script.
fn main() {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../linker/kernel.ld");
    println!("cargo:rustc-link-arg-bins=-T{}", script.display());
    println!("cargo:rerun-if-changed={}", script.display());
}
