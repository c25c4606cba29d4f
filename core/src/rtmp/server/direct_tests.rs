//! The direct path writes, byte for byte, what the chunk encoder writes for the same message
//! on a fresh chunk stream, whatever the chunk size, timestamp, payload, and however the
//! writes are cut.

use super::direct::{DirectMessage, Gather};
use crate::flv::{NalSyntax, PayloadRef, PlannedMessage, TagHeader};
use crate::media::Unit;
use crate::rtmp::chunk::ChunkEncoder;
use bytes::Bytes;
use proptest::prelude::*;

fn nal_unit(nals: &[Vec<u8>]) -> Unit {
    Unit {
        payload: nals.iter().map(|n| Bytes::from(n.clone())).collect(),
        ..Unit::default()
    }
}

fn tag(bytes: &[u8]) -> TagHeader {
    TagHeader::build(|out| bytes::BufMut::put_slice(out, bytes))
}

/// What the chunk encoder writes for `m`'s body.
fn reference(m: &PlannedMessage, unit: &Unit, ts: u32, csid: u32, chunk: u32) -> Vec<u8> {
    let mut body = Vec::new();
    m.write_body(unit, &mut body);
    let mut enc = ChunkEncoder::new();
    enc.set_chunk_size(chunk).unwrap();
    let mut out = Vec::new();
    let type_id = if m.is_video { 9 } else { 8 };
    enc.write(&mut out, csid, ts, type_id, 1, &body).unwrap();
    out
}

/// The message's wire bytes gathered `N` pieces at a time, resuming where each gather ended
/// (and, when `cut` is given, as if the socket took only `cut` bytes of each gather).
fn gathered<const N: usize>(d: &DirectMessage, unit: &Unit, cut: Option<usize>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut sent = 0;
    let total = d.wire_len();
    let mut rounds = 0;
    while sent < total {
        rounds += 1;
        assert!(rounds < 100_000, "no progress");
        let mut g: Gather<'_, 256, N> = Gather::default();
        let added = d.gather(unit, sent, &mut g);
        assert!(added > 0, "a gather with room added nothing");
        let bytes: Vec<u8> = g.slices().flatten().copied().collect();
        assert_eq!(bytes.len(), added, "segments and the count agree");
        let take = cut.map_or(added, |c| c.clamp(1, added));
        out.extend_from_slice(&bytes[..take]);
        sent += take;
    }
    out
}

#[test]
fn a_key_frame_over_several_chunks_matches_the_encoder() {
    let unit = nal_unit(&[
        vec![0x09, 0xf0],
        vec![0x67; 30],
        vec![0x68; 4],
        vec![0x65; 10_000],
    ]);
    let m = PlannedMessage {
        is_video: true,
        timestamp_ms: 40,
        tag: tag(&[0x17, 1, 0, 0, 0]),
        payload: PayloadRef::Nals(NalSyntax::H264),
    };
    let d = DirectMessage::new(m, &unit, 40, 6, 1, 4096).unwrap();
    let want = reference(&m, &unit, 40, 6, 4096);
    assert_eq!(d.wire_len(), want.len());
    assert_eq!(gathered::<64>(&d, &unit, None), want);
    assert_eq!(gathered::<4>(&d, &unit, Some(7)), want);
    // The delimiter is left out: 5 + (4 + 30) + (4 + 4) + (4 + 10000) body bytes.
    assert_eq!(m.body_len(&unit), 10_051);
}

#[test]
fn extended_timestamps_repeat_in_every_continuation() {
    let unit = nal_unit(&[vec![0x41; 300]]);
    let m = PlannedMessage {
        is_video: true,
        timestamp_ms: 0,
        tag: tag(&[0x27, 1, 0, 0, 0]),
        payload: PayloadRef::Nals(NalSyntax::H264),
    };
    let ts = 0x0100_0000;
    let d = DirectMessage::new(m, &unit, ts, 6, 1, 128).unwrap();
    let want = reference(&m, &unit, ts, 6, 128);
    assert_eq!(gathered::<64>(&d, &unit, None), want);
    // 3 chunks: 12 + 4 header bytes, then 1 + 4 for each continuation.
    assert_eq!(want.len(), 309 + 16 + 2 * 5);
}

#[test]
fn an_audio_frame_is_sent_as_is() {
    let unit = Unit {
        payload: [Bytes::from_static(&[1; 10]), Bytes::from_static(&[2; 200])]
            .into_iter()
            .collect(),
        ..Unit::default()
    };
    let m = PlannedMessage {
        is_video: false,
        timestamp_ms: 0,
        tag: tag(&[0xaf, 1]),
        payload: PayloadRef::Frame(1),
    };
    let d = DirectMessage::new(m, &unit, 23, 4, 1, 128).unwrap();
    let want = reference(&m, &unit, 23, 4, 128);
    assert_eq!(gathered::<64>(&d, &unit, None), want);
    assert_eq!(&want[12..14], &[0xaf, 1]);
    assert_eq!(want.len(), 12 + 128 + 1 + 74);
}

proptest! {
    #[test]
    fn any_message_matches_the_encoder(
        nals in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..700), 1..6),
        chunk in prop_oneof![Just(1u32), 2u32..300, Just(4096u32)],
        ts in prop_oneof![0u32..100_000, 0x00ff_fff0u32..0x0100_0010],
        tag_len in 1usize..=8,
        cut in proptest::option::of(1usize..200),
    ) {
        let unit = nal_unit(&nals);
        let m = PlannedMessage {
            is_video: true,
            timestamp_ms: 0,
            tag: tag(&[0x17, 1, 2, 3, 4, 5, 6, 7][..tag_len]),
            payload: PayloadRef::Nals(NalSyntax::H264),
        };
        let d = DirectMessage::new(m, &unit, ts, 6, 1, chunk).unwrap();
        let want = reference(&m, &unit, ts, 6, chunk);
        prop_assert_eq!(d.wire_len(), want.len());
        prop_assert_eq!(&gathered::<64>(&d, &unit, cut), &want);
        prop_assert_eq!(&gathered::<3>(&d, &unit, None), &want);
    }
}
