//! Structural validation of a flattened device tree before `fdt` reads it.
//!
//! The `fdt` crate panics (`unwrap`/`expect`) on a structure block that is cut
//! short, on names that are not NUL-terminated UTF-8 and on property names that
//! point outside the strings block. A kernel must reject such a blob with a
//! clear reason instead, so every byte `fdt` will later trust is checked here.

use super::DtError;

/// The FDT header magic, `d0 0d fe ed`.
const MAGIC: u32 = u32::from_be_bytes([0xd0, 0x0d, 0xfe, 0xed]);
const HEADER_LEN: usize = 40;
const TOKEN_BEGIN_NODE: u32 = 1;
const TOKEN_END_NODE: u32 = 2;
const TOKEN_PROP: u32 = 3;
const TOKEN_NOP: u32 = 4;
const TOKEN_END: u32 = 9;
/// Deepest node nesting accepted (real trees stay under 8).
pub const MAX_DEPTH: usize = 16;

fn be32(data: &[u8], offset: usize) -> Result<u32, DtError> {
    let bytes =
        data.get(offset..offset.checked_add(4).ok_or(DtError::Truncated)?).ok_or(DtError::Truncated)?;
    Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

/// Reads `totalsize` from a header, after checking the magic.
pub fn total_size(header: &[u8]) -> Result<usize, DtError> {
    if be32(header, 0)? != MAGIC {
        return Err(DtError::BadMagic);
    }
    Ok(be32(header, 4)? as usize)
}

/// Checks that `blob` is a device tree that `fdt` can walk without panicking.
pub fn validate(blob: &[u8]) -> Result<(), DtError> {
    let total = total_size(blob)?;
    if total < HEADER_LEN || total > blob.len() {
        return Err(DtError::Truncated);
    }
    let blob = &blob[..total];
    let version = be32(blob, 20)?;
    if version < 17 {
        return Err(DtError::UnsupportedVersion(version));
    }
    let struct_block = block(blob, be32(blob, 8)?, be32(blob, 36)?)?;
    let strings = block(blob, be32(blob, 12)?, be32(blob, 32)?)?;
    check_reservations(blob, be32(blob, 16)? as usize)?;
    check_structure(struct_block, strings)
}

fn block(blob: &[u8], offset: u32, size: u32) -> Result<&[u8], DtError> {
    let start = offset as usize;
    let end = start.checked_add(size as usize).ok_or(DtError::Truncated)?;
    if !start.is_multiple_of(4) && size != 0 {
        return Err(DtError::Malformed(start));
    }
    blob.get(start..end).ok_or(DtError::Truncated)
}

fn check_reservations(blob: &[u8], offset: usize) -> Result<(), DtError> {
    let mut at = offset;
    loop {
        let entry = blob.get(at..at.checked_add(16).ok_or(DtError::Truncated)?).ok_or(DtError::Truncated)?;
        if entry.iter().all(|&b| b == 0) {
            return Ok(());
        }
        at += 16;
    }
}

/// Length of the NUL-terminated UTF-8 string at the start of `bytes`.
fn c_string(bytes: &[u8], at: usize) -> Result<usize, DtError> {
    let rest = bytes.get(at..).ok_or(DtError::Malformed(at))?;
    let len = rest.iter().position(|&b| b == 0).ok_or(DtError::Malformed(at))?;
    core::str::from_utf8(&rest[..len]).map_err(|_| DtError::Malformed(at))?;
    Ok(len)
}

fn align4(value: usize) -> usize {
    (value + 3) & !3
}

fn check_structure(structure: &[u8], strings: &[u8]) -> Result<(), DtError> {
    let mut at = 0usize;
    let mut depth = 0usize;
    let mut seen_root = false;
    loop {
        let token = be32(structure, at).map_err(|_| DtError::Malformed(at))?;
        match token {
            TOKEN_BEGIN_NODE => {
                if depth == 0 && seen_root {
                    return Err(DtError::Malformed(at));
                }
                seen_root = true;
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(DtError::TooDeep);
                }
                let len = c_string(structure, at + 4)?;
                at = align4(at + 4 + len + 1);
            }
            TOKEN_END_NODE => {
                depth = depth.checked_sub(1).ok_or(DtError::Malformed(at))?;
                at += 4;
            }
            TOKEN_PROP => {
                if depth == 0 {
                    return Err(DtError::Malformed(at));
                }
                let len = be32(structure, at + 4).map_err(|_| DtError::Malformed(at))? as usize;
                let name = be32(structure, at + 8).map_err(|_| DtError::Malformed(at))? as usize;
                c_string(strings, name)?;
                let end = (at + 12).checked_add(len).ok_or(DtError::Malformed(at))?;
                if end > structure.len() {
                    return Err(DtError::Malformed(at));
                }
                at = align4(end);
            }
            TOKEN_NOP => at += 4,
            TOKEN_END if depth == 0 && seen_root => return Ok(()),
            _ => return Err(DtError::Malformed(at)),
        }
    }
}
