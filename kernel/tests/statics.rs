//! CPU drivers share no mutable state: fails on any mutable or
//! interior-mutable `static` in the kernel outside a short allow-list.

use std::fs;
use std::path::Path;

/// The shared statics the design allows, and why.
const ALLOWED: &[(&str, &str)] = &[
    ("CONSOLE", "the console lock and UART address, shared by design"),
    ("BOOT_HANDOFF", "the boot hand-off block, read once by each starting CPU"),
    ("TABLE_POOL", "boot page tables, written by the boot CPU before others start"),
];

/// Types that make a static mutable from behind `&`.
const INTERIOR: &[&str] =
    &["Cell", "Atomic", "Mutex", "Once", "Lazy", "RwLock", "HandoffCell", "TablePool", "Console"];

fn visit(dir: &Path, found: &mut Vec<String>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            visit(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.trim_start();
                let Some(rest) = code.strip_prefix("pub static ").or_else(|| code.strip_prefix("static "))
                else {
                    continue;
                };
                let name = rest.trim_start_matches("mut ").split(':').next().unwrap_or("").trim();
                let mutable = rest.starts_with("mut ");
                let ty = rest.split_once(':').map_or("", |(_, t)| t);
                let interior = INTERIOR.iter().any(|t| ty.contains(t));
                if (mutable || interior) && !ALLOWED.iter().any(|(a, _)| *a == name) {
                    found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
    }
}

#[test]
fn no_shared_mutable_statics_outside_the_allow_list() {
    let mut found = Vec::new();
    visit(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut found);
    assert!(found.is_empty(), "mutable statics outside the allow-list:\n{}", found.join("\n"));
}

#[test]
fn allow_list_entries_exist() {
    let mut text = String::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                text.push_str(&fs::read_to_string(&path).unwrap());
            }
        }
    }
    for (name, why) in ALLOWED {
        assert!(text.contains(&format!("static {name}:")), "{name} ({why}) is gone: drop it from the list");
    }
}
