//! Build script: declares the `loom` cfg so `--cfg loom` builds lint cleanly.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(loom)");
}
