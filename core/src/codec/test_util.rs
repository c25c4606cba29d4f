//! Helpers shared by the codec tests: sample files, access unit splitting, RTP packet building,
//! RTSP-interleaved capture parsing.

use crate::codec::{AccessUnit, Depacketizer};
use crate::rtp::{RtpHeader, RtpPacket, SeqNo, Ssrc};
use bytes::Bytes;
use smallvec::SmallVec;

/// Reads a file of `core/tests/data/media/`.
pub(crate) fn media(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/media/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Builds an RTP packet with the given sequence number, marker and payload.
pub(crate) fn packet(seq: u16, marker: bool, payload: &[u8]) -> RtpPacket {
    let header = RtpHeader {
        marker,
        payload_type: 96,
        sequence_number: SeqNo(seq),
        timestamp: 1234,
        ssrc: Ssrc(0x1234_5678),
    };
    RtpPacket::build(header, payload)
}

/// Which codec's access unit boundaries [`split_access_units`] looks for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Video {
    H264,
    H265,
}

/// Groups NAL units (decoding order) into access units (H.264 §7.4.1.2.3, H.265 §7.4.2.4.4):
/// a new unit starts at a parameter set / AUD / prefix SEI or at a first slice once the
/// current unit has a picture.
pub(crate) fn split_access_units(nalus: &[&[u8]], video: Video) -> Vec<Vec<Bytes>> {
    let mut units: Vec<Vec<Bytes>> = Vec::new();
    let mut current: Vec<Bytes> = Vec::new();
    let mut has_vcl = false;
    for &n in nalus {
        let (vcl, first_slice, prefix) = match video {
            Video::H264 => {
                let t = n[0] & 0x1f;
                let vcl = (1..=5).contains(&t);
                (
                    vcl,
                    vcl && n.get(1).is_some_and(|b| b & 0x80 != 0),
                    matches!(t, 6..=9 | 14..=18),
                )
            }
            Video::H265 => {
                let t = (n[0] >> 1) & 0x3f;
                let vcl = t < 32;
                (
                    vcl,
                    vcl && n.get(2).is_some_and(|b| b & 0x80 != 0),
                    matches!(t, 32..=35 | 39 | 41..=44),
                )
            }
        };
        if has_vcl && (prefix || first_slice) {
            units.push(std::mem::take(&mut current));
            has_vcl = false;
        }
        has_vcl |= vcl;
        current.push(Bytes::copy_from_slice(n));
    }
    if !current.is_empty() {
        units.push(current);
    }
    units
}

/// An access unit holding `nalus`.
pub(crate) fn access_unit(nalus: Vec<Bytes>, key: bool) -> AccessUnit {
    AccessUnit {
        key,
        data: SmallVec::from_vec(nalus),
    }
}

/// Pushes every packet and finishes; panics on a push error.
pub(crate) fn depacketize(d: &mut dyn Depacketizer, packets: &[RtpPacket]) -> Option<AccessUnit> {
    for p in packets {
        if let Err(e) = d.push(p) {
            panic!(
                "push failed: {e} (payload {:02x?})",
                &p.payload()[..p.payload().len().min(8)]
            );
        }
    }
    d.finish()
}

/// Parses an RTSP-interleaved byte stream (`$`, channel, u16 length, packet) into
/// (channel, RTP packet) pairs.
pub(crate) fn interleaved(data: &[u8]) -> Vec<(u8, RtpPacket)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + 4 <= data.len() {
        assert_eq!(data[pos], b'$', "not an interleaved frame at {pos}");
        let channel = data[pos + 1];
        let len = usize::from(u16::from_be_bytes([data[pos + 2], data[pos + 3]]));
        let frame = Bytes::copy_from_slice(&data[pos + 4..pos + 4 + len]);
        if channel % 2 == 0 {
            out.push((channel, RtpPacket::parse(frame).expect("RTP packet")));
        }
        pos += 4 + len;
    }
    assert_eq!(pos, data.len());
    out
}

/// Groups packets into access units the way the stream does: a unit ends on the marker bit or
/// before a packet with another timestamp.
pub(crate) fn group_by_marker(packets: &[RtpPacket]) -> Vec<Vec<RtpPacket>> {
    let mut groups: Vec<Vec<RtpPacket>> = Vec::new();
    let mut current: Vec<RtpPacket> = Vec::new();
    for p in packets {
        if current
            .first()
            .is_some_and(|f| f.header.timestamp != p.header.timestamp)
        {
            groups.push(std::mem::take(&mut current));
        }
        current.push(p.clone());
        if p.header.marker {
            groups.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        groups.push(current);
    }
    groups
}
