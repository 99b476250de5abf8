//! The wire form: round trips for arbitrary updates and messages, canonical
//! decoding, and a fuzz test over random words.

use std::println;
use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use crate::sim::Rng;
use crate::*;

fn core() -> impl Strategy<Value = CoreId> {
    (0..MAX_CORES as u8).prop_map(CoreId)
}

fn op() -> impl Strategy<Value = OpId> {
    (core(), any::<u32>()).prop_map(|(core, n)| OpId { core, n })
}

fn obj() -> impl Strategy<Value = ObjId> {
    any::<u64>().prop_map(ObjId)
}

fn name() -> impl Strategy<Value = Name> {
    prop_oneof![any::<[u8; 16]>().prop_map(Name), "[a-z]{0,16}".prop_map(|s| Name::new(&s))]
}

fn update() -> impl Strategy<Value = Update> {
    let range = (any::<u32>(), any::<u32>()).prop_map(|(base, count)| RamRange { base, count });
    let desc = (any::<u8>(), any::<u64>(), any::<u64>()).prop_map(|(kind, base, bytes)| CapDesc {
        kind,
        base,
        bytes,
    });
    let endpoint = (core(), any::<u32>()).prop_map(|(core, port)| Endpoint { core, port });
    prop_oneof![
        (core(), core(), range, op()).prop_map(|(from, to, range, op)| Update::RamTransfer {
            from,
            to,
            range,
            op
        }),
        (obj(), op(), desc).prop_map(|(obj, op, desc)| Update::CapCreate { obj, op, desc }),
        (obj(), core(), op()).prop_map(|(obj, to, op)| Update::CapCopy { obj, to, op }),
        (obj(), op()).prop_map(|(obj, op)| Update::CapDelete { obj, op }),
        (obj(), op()).prop_map(|(obj, op)| Update::RevokeMark { obj, op }),
        obj().prop_map(|obj| Update::RevokeCommit { obj }),
        (name(), endpoint, op()).prop_map(|(name, endpoint, op)| Update::Register { name, endpoint, op }),
        (name(), op()).prop_map(|(name, op)| Update::Unregister { name, op }),
        core().prop_map(|core| Update::CoreDown { core }),
    ]
}

/// Every message that has a wire form.
fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        (update(), any::<u8>()).prop_map(|(update, hops)| Message::Submit { update, hops }),
        (any::<u64>(), update(), any::<u8>()).prop_map(|(seq, update, hops)| Message::Ordered {
            seq,
            update,
            hops
        }),
        any::<u64>().prop_map(|next| Message::Sync { next }),
        (op(), any::<u32>()).prop_map(|(op, count)| Message::RamAsk { op, count }),
        op().prop_map(|op| Message::RamDeny { op }),
        obj().prop_map(|obj| Message::RevokeAck { obj }),
        any::<u64>().prop_map(|next| Message::Report { next }),
        any::<u64>().prop_map(|next| Message::Fetch { next }),
        any::<u64>().prop_map(|next| Message::Start { next }),
        any::<u64>().prop_map(|next| Message::Applied { next }),
        any::<u64>().prop_map(|below| Message::Trim { below }),
    ]
}

/// The decoders' canonical-form properties on arbitrary input.
fn check_update_words(words: [u64; UPDATE_WORDS]) -> bool {
    match Update::from_words(words) {
        Some(u) => {
            assert_eq!(u.to_words(), words, "{u:?}");
            true
        }
        None => false,
    }
}

fn check_wire(wire: Wire) -> bool {
    assert_eq!(Wire::from_slot(&wire.to_slot()), Some(wire));
    match Message::from_wire(&wire) {
        Some(m) => {
            assert_eq!(m.to_wire(), Some(wire), "{m:?}");
            true
        }
        None => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn updates_round_trip(u in update()) {
        let words = u.to_words();
        prop_assert_eq!(Update::from_words(words), Some(u));
        prop_assert_eq!(words[0] >> 56, 0, "the top byte of u0 is left for hops");
    }

    #[test]
    fn messages_round_trip(m in message()) {
        let wire = m.to_wire().expect("every message but Catchup has a wire form");
        prop_assert_ne!(wire.kind, 0);
        prop_assert_eq!(Message::from_wire(&wire), Some(m.clone()));
        prop_assert_eq!(Wire::from_slot(&wire.to_slot()), Some(wire));
        let split: Vec<Message> = m.clone().split_catchup().collect();
        prop_assert_eq!(split, [m]);
    }

    #[test]
    fn catchups_split_into_ordered(from in any::<u32>(), entries in proptest::collection::vec((update(), any::<u8>()), 0..20)) {
        let from = from as u64;
        let catchup = Message::Catchup { from, entries: entries.clone() };
        prop_assert!(catchup.to_wire().is_none());
        let split: Vec<Message> = catchup.split_catchup().collect();
        prop_assert_eq!(split.len(), entries.len());
        for (i, (m, (update, hops))) in split.iter().zip(entries).enumerate() {
            prop_assert_eq!(m, &Message::Ordered { seq: from + i as u64, update, hops });
            prop_assert_eq!(Message::from_wire(&m.to_wire().unwrap()), Some(m.clone()));
        }
    }

    /// Flipping any bit of a valid encoding gives either garbage the decoder
    /// rejects or another canonical encoding.
    #[test]
    fn bit_flips_stay_canonical(m in message(), word in 0..WIRE_WORDS, bit in 0..64u32, kind_bit in 0..9u32) {
        let mut wire = m.to_wire().unwrap();
        wire.words[word] ^= 1 << bit;
        check_wire(wire);
        if kind_bit < 8 {
            wire.kind ^= 1 << kind_bit;
            check_wire(wire);
        }
        if let Message::Submit { update, .. } | Message::Ordered { update, .. } = m {
            let mut words = update.to_words();
            words[word % UPDATE_WORDS] ^= 1 << bit;
            check_update_words(words);
        }
    }

    /// Core ids of `MAX_CORES` and more have no wire form.
    #[test]
    fn large_core_ids_are_rejected(bad in MAX_CORES as u8..=u8::MAX, o in op()) {
        let bad = CoreId(bad);
        for u in [
            Update::CoreDown { core: bad },
            Update::CapCopy { obj: ObjId(1), to: bad, op: o },
            Update::CapDelete { obj: ObjId(1), op: OpId { core: bad, n: 3 } },
            Update::Register { name: Name::new("x"), endpoint: Endpoint { core: bad, port: 1 }, op: o },
        ] {
            prop_assert_eq!(Update::from_words(u.to_words()), None);
        }
        let m = Message::RamDeny { op: OpId { core: bad, n: 0 } };
        prop_assert_eq!(Message::from_wire(&m.to_wire().unwrap()), None);
    }
}

/// A word biased towards the shapes the layout uses, so that a useful share
/// of random inputs decodes.
fn random_word(rng: &mut Rng) -> u64 {
    match rng.below(8) {
        0..=2 => 0,
        3 => rng.below(16),
        4 => rng.below(1 << 16) | (rng.below(80) << 32),
        5 => rng.next_u64() >> (rng.below(64) as u32),
        _ => rng.next_u64(),
    }
}

/// A header word: a small tag, small fields, sometimes stray bits.
fn random_header(rng: &mut Rng) -> u64 {
    let mut w = rng.below(12) | (rng.below(80) << 8) | (rng.below(80) << 16);
    if rng.below(2) == 0 {
        w |= rng.below(1 << 16) << 16;
    }
    if rng.below(4) == 0 {
        w |= rng.next_u64() & (u64::MAX << rng.below(64) as u32);
    }
    w
}

#[test]
fn fuzz_decoders_never_panic_and_stay_canonical() {
    let rounds = 1_000_000;
    let mut rng = Rng(0xf022);
    let (mut updates, mut messages) = (0u32, 0u32);
    for _ in 0..rounds {
        let mut words = [0u64; UPDATE_WORDS];
        words.iter_mut().for_each(|w| *w = random_word(&mut rng));
        if rng.below(2) == 0 {
            words[0] = random_header(&mut rng);
        }
        updates += check_update_words(words) as u32;

        let mut wire = Wire { kind: rng.below(13) as u8, words: [0; WIRE_WORDS] };
        if rng.below(16) == 0 {
            wire.kind = rng.next_u64() as u8;
        }
        wire.words.iter_mut().for_each(|w| *w = random_word(&mut rng));
        let header = random_header(&mut rng) | (rng.below(256) << 56);
        match rng.below(3) {
            0 => wire.words[0] = header,
            1 => wire.words[1] = header,
            _ => {}
        }
        messages += check_wire(wire) as u32;

        let mut slot = [0u64; SLOT_WORDS];
        slot.iter_mut().for_each(|w| *w = random_word(&mut rng));
        if let Some(wire) = Wire::from_slot(&slot) {
            assert_eq!(wire.to_slot(), slot);
            check_wire(wire);
        }
    }
    println!("fuzz: {rounds} rounds, {updates} updates and {messages} messages decoded");
    assert!(
        updates > rounds / 1000 && messages > rounds / 1000,
        "too few valid inputs: {updates} {messages}"
    );
}

#[test]
fn ordered_fields_decode_like_the_message() {
    use crate::message::WIRE_WORDS;
    let mut rng = crate::sim::Rng(7);
    let mut decoded = 0;
    for _ in 0..100_000 {
        let mut w = [0u64; WIRE_WORDS];
        for word in w.iter_mut() {
            // Mostly small values, so that some decode.
            *word =
                rng.next_u64() & [0xff, 0xffff_ffff, u64::MAX, 0x3f_0000_0003][(rng.next_u64() % 4) as usize];
        }
        w[1] = (w[1] & !0xff) | (rng.next_u64() % 10);
        let whole = Message::from_wire(&Wire { kind: 2, words: w });
        let fields =
            Message::ordered_from_wire(&w).map(|(seq, update, hops)| Message::Ordered { seq, update, hops });
        assert_eq!(whole, fields, "{w:?}");
        decoded += usize::from(whole.is_some());
    }
    assert!(decoded > 100, "only {decoded} inputs decoded");
}

#[test]
fn fail_over_kinds_are_7_to_9() {
    for (message, kind) in
        [(Message::Report { next: 3 }, 7), (Message::Fetch { next: 4 }, 8), (Message::Start { next: 5 }, 9)]
    {
        let wire = message.to_wire().unwrap();
        assert_eq!((wire.kind, wire.words), (kind, [message_next(&message), 0, 0, 0, 0, 0]));
        assert_eq!(Message::from_wire(&wire), Some(message));
        let mut bad = wire;
        bad.words[1] = 1;
        assert_eq!(Message::from_wire(&bad), None, "unused words must be zero");
    }
}

#[test]
fn trim_kinds_are_10_and_11() {
    for (message, kind, word) in
        [(Message::Applied { next: 128 }, 10, 128), (Message::Trim { below: 64 }, 11, 64)]
    {
        let wire = message.to_wire().unwrap();
        assert_eq!((wire.kind, wire.words), (kind, [word, 0, 0, 0, 0, 0]));
        assert_eq!(Message::from_wire(&wire), Some(message));
        for i in 1..WIRE_WORDS {
            let mut bad = wire;
            bad.words[i] = 1 << i;
            assert_eq!(Message::from_wire(&bad), None, "unused words must be zero");
        }
    }
    assert_eq!(Message::from_wire(&Wire { kind: 12, words: [0; WIRE_WORDS] }), None);
}

fn message_next(m: &Message) -> u64 {
    match *m {
        Message::Report { next } | Message::Fetch { next } | Message::Start { next } => next,
        _ => unreachable!(),
    }
}
