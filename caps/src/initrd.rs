//! The boot modules' format, shared by the kernel (which starts each core's
//! first program from them) and user space (which spawns programs from
//! them): a CPIO archive in the "new ASCII" (`newc`, magic `070701`) format,
//! as `cpio -H newc` and the Linux initramfs write it.
//!
//! Only headers are read: finding a file costs one header per file before
//! it, not a pass over every byte before it (the `cpio_reader` crate sums
//! every file's bytes for the CRC variant even when it does not check them,
//! which made starting a program cost ~10^7 instructions). Anything
//! malformed ends the walk; nothing here panics on bad input.

/// One file of the archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct File<'a> {
    /// Its name, without a leading `./`.
    pub name: &'a str,
    /// Its bytes.
    pub data: &'a [u8],
}

/// Bytes of a `newc` header.
const HEADER: usize = 110;
/// The name of the archive's last (empty) entry.
const TRAILER: &str = "TRAILER!!!";

/// The files of `archive`, in order (the walk stops at the trailer, at the
/// end, or at the first malformed header).
pub fn files(archive: &[u8]) -> impl Iterator<Item = File<'_>> {
    let mut rest = archive;
    let mut offset = 0usize;
    core::iter::from_fn(move || loop {
        let (file, next) = entry(rest, offset)?;
        offset += next;
        rest = rest.get(next..)?;
        match file {
            Some(file) => return Some(file),
            // A directory or other non-file entry: skip it.
            None => continue,
        }
    })
}

/// The file named `name` (leading `./` ignored on both sides).
pub fn find<'a>(archive: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let name = name.trim_start_matches("./");
    files(archive).find(|file| file.name == name).map(|file| file.data)
}

/// A hexadecimal header field of 8 ASCII digits.
fn field(header: &[u8], index: usize) -> Option<usize> {
    let digits = header.get(6 + index * 8..6 + index * 8 + 8)?;
    let text = core::str::from_utf8(digits).ok()?;
    usize::from_str_radix(text, 16).ok()
}

/// `value` rounded up to a multiple of 4.
fn pad4(value: usize) -> Option<usize> {
    value.checked_add(3).map(|v| v & !3)
}

/// The entry at the start of `rest` (`offset` bytes into the archive, for
/// the 4-byte alignment): `Some(file)` for a regular file, `None` for
/// another kind, and the bytes it takes; `None` at the trailer or on
/// malformed input.
fn entry(rest: &[u8], offset: usize) -> Option<(Option<File<'_>>, usize)> {
    let header = rest.get(..HEADER)?;
    if &header[..6] != b"070701" && &header[..6] != b"070702" {
        return None;
    }
    let mode = field(header, 1)?;
    let size = field(header, 6)?;
    let name_size = field(header, 11)?;
    if name_size == 0 {
        return None;
    }
    let name_bytes = rest.get(HEADER..HEADER.checked_add(name_size)?)?;
    // The name is NUL-terminated.
    let name = core::str::from_utf8(&name_bytes[..name_size - 1]).ok()?;
    if name == TRAILER {
        return None;
    }
    let data_start = pad4(offset.checked_add(HEADER + name_size)?)? - offset;
    let data = rest.get(data_start..data_start.checked_add(size)?)?;
    let next = pad4(offset.checked_add(data_start + size)?)? - offset;
    let regular = mode & 0o170_000 == 0o100_000;
    let file = regular.then(|| File { name: name.trim_start_matches("./"), data });
    Some((file, next.min(rest.len())))
}

#[cfg(test)]
mod tests {
    use super::{files, find, File};
    use alloc::vec::Vec;

    /// A `newc` archive of `entries` (name, mode, data), with the trailer.
    fn archive(entries: &[(&str, u32, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut push = |name: &str, mode: u32, data: &[u8]| {
            let header = alloc::format!(
                "070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
                1,
                mode,
                0,
                0,
                1,
                0,
                data.len(),
                0,
                0,
                0,
                0,
                name.len() + 1,
                0
            );
            out.extend_from_slice(header.as_bytes());
            out.extend_from_slice(name.as_bytes());
            out.push(0);
            while out.len() % 4 != 0 {
                out.push(0);
            }
            out.extend_from_slice(data);
            while out.len() % 4 != 0 {
                out.push(0);
            }
        };
        for &(name, mode, data) in entries {
            push(name, mode, data);
        }
        push("TRAILER!!!", 0, &[]);
        out
    }

    #[test]
    fn finds_files_and_skips_directories() {
        let a =
            archive(&[("bin", 0o40_755, b""), ("./hello", 0o100_755, b"abc"), ("true", 0o100_644, b"12345")]);
        let all: Vec<File<'_>> = files(&a).collect();
        assert_eq!(all, [File { name: "hello", data: b"abc" }, File { name: "true", data: b"12345" }]);
        assert_eq!(find(&a, "true"), Some(&b"12345"[..]));
        assert_eq!(find(&a, "./hello"), Some(&b"abc"[..]));
        assert_eq!(find(&a, "nosuch"), None);
    }

    #[test]
    fn bad_input_ends_the_walk_without_panicking() {
        let a = archive(&[("a", 0o100_644, b"xyz"), ("b", 0o100_644, b"1")]);
        for cut in 0..a.len() {
            let _ = files(&a[..cut]).count();
        }
        let mut state = 0x1234_5678_u64;
        for _ in 0..2000 {
            let mut bad = a.clone();
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let at = (state >> 33) as usize % bad.len();
            bad[at] = (state >> 13) as u8;
            assert!(files(&bad).count() <= 2);
        }
        assert_eq!(files(b"").count(), 0);
        assert_eq!(files(b"070701zzzzzzzz").count(), 0);
    }
}
