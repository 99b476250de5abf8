//! A minimal reader for a validated flattened device tree: nodes, their
//! properties and children, with NOP tokens skipped.
//!
//! The `fdt` crate (0.1.5) was used first, but it panics on valid trees
//! that contain `FDT_NOP` tokens between nodes — which libfdt leaves when it
//! edits a tree, as QEMU's `raspi4b` does to the Pi's own blob — and on
//! damaged blobs. This reader never panics: `validate` has checked every
//! token, name and length, and every read here is bounds-checked anyway.

const BEGIN_NODE: u32 = 1;
const END_NODE: u32 = 2;
const PROP: u32 = 3;
const NOP: u32 = 4;

/// A validated blob's structure and strings blocks.
#[derive(Clone, Copy)]
pub struct Tree<'a> {
    blob: &'a [u8],
    structure: &'a [u8],
    strings: &'a [u8],
}

/// One property: its name and raw value.
#[derive(Clone, Copy)]
pub struct Property<'a> {
    /// Name from the strings block.
    pub name: &'a str,
    /// Raw big-endian value.
    pub value: &'a [u8],
}

/// One node: its name (with unit address) and where its body starts.
#[derive(Clone, Copy)]
pub struct Node<'a> {
    tree: Tree<'a>,
    /// `name@unit`, empty for the root.
    pub name: &'a str,
    body: usize,
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn c_string(bytes: &[u8], at: usize) -> Option<&str> {
    let rest = bytes.get(at..)?;
    let len = rest.iter().position(|&b| b == 0)?;
    core::str::from_utf8(&rest[..len]).ok()
}

fn align4(value: usize) -> usize {
    (value + 3) & !3
}

impl<'a> Tree<'a> {
    /// The tree in `blob`, which `validate` accepted.
    pub fn new(blob: &'a [u8]) -> Option<Self> {
        let block = |offset: usize, size: usize| {
            blob.get(be32(blob, offset)? as usize..)?.get(..be32(blob, size)? as usize)
        };
        Some(Tree { blob, structure: block(8, 36)?, strings: block(12, 32)? })
    }

    /// The root node.
    pub fn root(self) -> Option<Node<'a>> {
        let at = self.skip_nops(0)?;
        self.node_at(at)
    }

    /// `/memreserve/` entries as (address, size).
    pub fn reservations(self) -> impl Iterator<Item = (u64, u64)> + 'a {
        let start = be32(self.blob, 16).unwrap_or(0) as usize;
        let read64 = move |at: usize| {
            Some((u64::from(be32(self.blob, at)?) << 32) | u64::from(be32(self.blob, at + 4)?))
        };
        (0..).map_while(move |i: usize| {
            let at = start + i * 16;
            let entry = (read64(at)?, read64(at + 8)?);
            (entry != (0, 0)).then_some(entry)
        })
    }

    fn skip_nops(self, mut at: usize) -> Option<usize> {
        while be32(self.structure, at)? == NOP {
            at += 4;
        }
        Some(at)
    }

    fn node_at(self, at: usize) -> Option<Node<'a>> {
        if be32(self.structure, at)? != BEGIN_NODE {
            return None;
        }
        let name = c_string(self.structure, at + 4)?;
        Some(Node { tree: self, name, body: align4(at + 4 + name.len() + 1) })
    }

    /// The property at `at`, and the offset after it.
    fn property_at(self, at: usize) -> Option<(Property<'a>, usize)> {
        let len = be32(self.structure, at + 4)? as usize;
        let name = c_string(self.strings, be32(self.structure, at + 8)? as usize)?;
        let value = self.structure.get(at + 12..at + 12 + len)?;
        Some((Property { name, value }, align4(at + 12 + len)))
    }

    /// The offset of the first token after the properties starting at `at`.
    fn after_properties(self, mut at: usize) -> Option<usize> {
        loop {
            at = self.skip_nops(at)?;
            if be32(self.structure, at)? != PROP {
                return Some(at);
            }
            at = self.property_at(at)?.1;
        }
    }

    /// The offset just after the node starting at `at` (its END_NODE).
    fn skip_node(self, mut at: usize) -> Option<usize> {
        let mut depth = 0usize;
        loop {
            match be32(self.structure, at)? {
                BEGIN_NODE => {
                    depth += 1;
                    at = align4(at + 4 + c_string(self.structure, at + 4)?.len() + 1);
                }
                END_NODE => {
                    depth = depth.checked_sub(1)?;
                    at += 4;
                    if depth == 0 {
                        return Some(at);
                    }
                }
                PROP => at = self.property_at(at)?.1,
                NOP => at += 4,
                _ => return None,
            }
        }
    }
}

impl<'a> Node<'a> {
    /// The node's properties, in order.
    pub fn properties(self) -> impl Iterator<Item = Property<'a>> {
        let tree = self.tree;
        let mut at = Some(self.body);
        core::iter::from_fn(move || {
            let here = tree.skip_nops(at?)?;
            if be32(tree.structure, here)? != PROP {
                at = None;
                return None;
            }
            let (property, next) = tree.property_at(here)?;
            at = Some(next);
            Some(property)
        })
    }

    /// The node's children, in order.
    pub fn children(self) -> impl Iterator<Item = Node<'a>> {
        let tree = self.tree;
        let mut at = tree.after_properties(self.body);
        core::iter::from_fn(move || {
            let here = tree.skip_nops(at?)?;
            let child = tree.node_at(here);
            at = child.and_then(|_| tree.skip_node(here));
            child
        })
    }
}
