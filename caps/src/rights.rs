//! Capability rights: a small bit set that derivation can only shrink.

bitflags::bitflags! {
    /// What a capability allows its holder to do with the object.
    ///
    /// Rights only shrink along derivation: a copy keeps them, a mint
    /// intersects them with the requested set, a retyped object inherits its
    /// RAM parent's rights.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct Rights: u8 {
        /// Read the object (map readable, receive on an endpoint).
        const READ = 1 << 0;
        /// Write the object (map writable, send, retype RAM, fill a CNode).
        const WRITE = 1 << 1;
        /// Map the object executable.
        const EXECUTE = 1 << 2;
        /// Transfer capabilities through the object (endpoints).
        const GRANT = 1 << 3;
    }
}

impl Rights {
    /// Every right: what boot-time capabilities carry.
    pub const ALL: Rights = Rights::all();

    /// `requested` limited to what `self` holds: rights never grow.
    pub const fn reduce(self, requested: Rights) -> Rights {
        self.intersection(requested)
    }
}
