//! Host tests: properties, stress, hostile peers, and the loom model check.

#[cfg(loom)]
mod loom;
#[cfg(not(loom))]
mod model;
#[cfg(not(loom))]
mod scribble;
#[cfg(not(loom))]
mod stress;
#[cfg(not(loom))]
mod threads;

/// A message whose words are all derived from `index`, with a checksum last.
#[cfg(not(loom))]
pub(crate) fn numbered(index: u64) -> crate::Message {
    let mut words = [0; crate::PAYLOAD_WORDS];
    words[0] = index;
    for (i, word) in words.iter_mut().enumerate().take(crate::PAYLOAD_WORDS - 1).skip(1) {
        *word = mix(index ^ (i as u64) << 56);
    }
    words[crate::PAYLOAD_WORDS - 1] = checksum(&words);
    crate::Message::new(words)
}

/// The checksum `numbered` stores in the last word.
#[cfg(not(loom))]
pub(crate) fn checksum(words: &[u64; crate::PAYLOAD_WORDS]) -> u64 {
    words[..crate::PAYLOAD_WORDS - 1].iter().fold(0x5eed, |sum, &word| mix(sum ^ word))
}

/// A cheap 64-bit mixer (splitmix64's finaliser).
#[cfg(not(loom))]
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The word-array forms interoperate with the message forms, in order,
/// across wrap-around, and refuse a full or empty ring alike.
#[cfg(not(loom))]
#[test]
fn word_forms_match_message_forms() {
    use crate::{RecvError, Ring, SendError};
    let ring = Ring::<4>::new();
    let (mut sender, mut receiver) = (ring.sender(), ring.receiver());
    let mut out = [0; crate::PAYLOAD_WORDS];
    assert_eq!(receiver.try_recv_into(&mut out), Err(RecvError::Empty));
    for round in 0..10u64 {
        let first = numbered(2 * round);
        let second = numbered(2 * round + 1);
        sender.try_send_words(&first.words).unwrap();
        sender.try_send(&second).unwrap();
        assert_eq!(receiver.try_recv().unwrap(), first);
        receiver.try_recv_into(&mut out).unwrap();
        assert_eq!(out, second.words);
    }
    for index in 0..4 {
        sender.try_send_words(&numbered(index).words).unwrap();
    }
    assert_eq!(sender.try_send_words(&numbered(9).words), Err(SendError::Full));
    assert_eq!(out, numbered(19).words, "a failed receive leaves `out` alone");
}
