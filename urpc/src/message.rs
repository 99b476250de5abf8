//! The message: 56 bytes of payload, the private copy of one ring slot.

/// Payload words in one message (the eighth word of the line is the header).
pub const PAYLOAD_WORDS: usize = 7;

/// Payload bytes in one message.
pub const PAYLOAD_BYTES: usize = PAYLOAD_WORDS * 8;

/// One message's payload, as copied into or out of a ring slot.
///
/// A received message is a private copy: validating it cannot race with the
/// peer. Its contents come from an untrusted peer and must be validated
/// before use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Message {
    /// The payload, word by word.
    pub words: [u64; PAYLOAD_WORDS],
}

impl Message {
    /// A message with the given payload words.
    pub const fn new(words: [u64; PAYLOAD_WORDS]) -> Self {
        Self { words }
    }

    /// A message from 56 payload bytes, little-endian per word.
    pub fn from_bytes(bytes: &[u8; PAYLOAD_BYTES]) -> Self {
        let mut words = [0; PAYLOAD_WORDS];
        for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
            let mut le = [0; 8];
            le.copy_from_slice(chunk);
            *word = u64::from_le_bytes(le);
        }
        Self { words }
    }

    /// The 56 payload bytes, little-endian per word.
    pub fn to_bytes(&self) -> [u8; PAYLOAD_BYTES] {
        let mut bytes = [0; PAYLOAD_BYTES];
        for (chunk, word) in bytes.chunks_exact_mut(8).zip(self.words) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        bytes
    }
}
