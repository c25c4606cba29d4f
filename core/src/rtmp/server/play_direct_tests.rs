//! A player written straight from the ring ([`RtmpPlayer::plan_unit`] and
//! [`DirectMessage`]s, the connection's own output drained before each unit's messages) gets the
//! same messages as one written through the connection ([`RtmpPlayer::write_unit`]): the same
//! bodies, timestamps, types and message stream, and the sequence header of a resolution
//! change in the same place.

use super::direct::{DirectMessage, Gather};
use super::test_client::Received;
use super::tests::{s, Peer};
use super::{RtmpEvent, RtmpPlayer};
use crate::codec::CodecKind;
use crate::flv::test_support::{access_units, four_pics, media, primed, unit};
use crate::flv::FlvOutput;
use crate::media::{StreamDescription, Unit};
use crate::rtmp::amf0::Amf0Value;
use bytes::Bytes;
use smallvec::SmallVec;

/// A connection playing `live/cam` of `desc`, and what it sent so far.
fn playing(desc: &StreamDescription) -> (Peer, RtmpPlayer, Vec<u8>) {
    let mut p = Peer::new(false);
    assert_eq!(p.connect("live").len(), 4);
    p.cmd(0, "createStream", 2.0, vec![]);
    let play = p.client.command(
        1,
        "play",
        3.0,
        Amf0Value::Null,
        vec![s("cam"), Amf0Value::Number(-2000.0)],
    );
    p.buf.extend_from_slice(&play);
    p.conn.handle_input(p.now, &mut p.buf);
    assert!(matches!(p.conn.poll_event(), Some(RtmpEvent::Play { .. })));
    let player = RtmpPlayer::start(&mut p.conn, "live/cam", desc).expect("a playable stream");
    let mut wire = Vec::new();
    p.conn.poll_transmit(&mut wire);
    (p, player, wire)
}

/// 4pics.264 then blackframe.264 (another SPS: a resolution change), 30 fps, every other
/// picture with a composition offset, AAC units of one or two frames in between.
fn units(video: usize, audio: usize) -> Vec<Unit> {
    let (_, _, mut aus) = four_pics();
    aus.extend(access_units(&media("blackframe.264"), false));
    let mut out = vec![unit(
        audio,
        0,
        0,
        true,
        vec![Bytes::from_static(&[0x21; 20]); 2],
    )];
    for (i, au) in aus.into_iter().enumerate() {
        let dts = 3000 * i as i64 + 900;
        let key = au.iter().any(|n| n[0] & 0x1f == 5);
        out.push(unit(video, dts + 3000 * (i as i64 % 2), dts, key, au));
        let aac = vec![Bytes::from(vec![i as u8; 100 + i]); 1 + i % 2];
        out.push(unit(
            audio,
            (i as i64 + 1) * 1024 * 2,
            (i as i64 + 1) * 1024 * 2,
            true,
            aac,
        ));
    }
    out
}

fn media_messages(got: Vec<Received>) -> Vec<(u8, u32, u32, Bytes)> {
    got.into_iter()
        .filter_map(|r| match r {
            Received::Media(m) => Some((m.type_id, m.timestamp, m.stream_id, m.body)),
            _ => None,
        })
        .collect()
}

#[test]
fn direct_and_copied_players_receive_the_same_messages() {
    let (_, out) = primed();
    let Some(FlvOutput::Tracks(desc)) = out.first() else {
        panic!("no description")
    };
    let find = |c: CodecKind| desc.tracks.iter().position(|t| t.codec == c).unwrap();
    let units = units(find(CodecKind::H264), find(CodecKind::Mpeg4Audio));

    let (mut a, mut copied, mut wire_a) = playing(desc);
    for u in &units {
        copied.write_unit(&mut a.conn, u);
    }
    a.conn.poll_transmit(&mut wire_a);

    let (mut b, mut direct, mut wire_b) = playing(desc);
    let mut headers_between = 0;
    for u in &units {
        let mut msgs: SmallVec<[DirectMessage; 2]> = SmallVec::new();
        direct.plan_unit(&mut b.conn, u, &mut msgs);
        headers_between += usize::from(b.conn.poll_transmit(&mut wire_b));
        for m in &msgs {
            let mut sent = 0;
            while sent < m.wire_len() {
                let mut g: Gather<'_, 256, 8> = Gather::default();
                let added = m.gather(u, sent, &mut g);
                for piece in g.slices() {
                    wire_b.extend_from_slice(piece);
                }
                sent += added;
            }
        }
    }
    assert_eq!(
        headers_between, 1,
        "the resolution change's sequence header"
    );

    let got_a = media_messages(a.client.receive(&wire_a));
    let got_b = media_messages(b.client.receive(&wire_b));
    assert!(got_a.len() > units.len(), "{} messages", got_a.len());
    assert_eq!(got_a, got_b);
    let video_headers = got_b
        .iter()
        .filter(|m| m.0 == 9 && m.3.get(1) == Some(&0))
        .count();
    assert_eq!(video_headers, 2, "the one sent at PLAY and the new one");
}
