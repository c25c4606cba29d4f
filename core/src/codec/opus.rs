//! Opus over RTP (RFC 7587): each RTP payload is exactly one Opus packet (RFC 6716).

use crate::codec::fmtp;
use crate::codec::rtp_out::RtpWriter;
use crate::codec::{AccessUnit, CodecError, Depacketizer, MAX_UNITS_PER_ACCESS_UNIT};
use crate::rtp::{RtpPacket, SeqNo, Ssrc};
use smallvec::SmallVec;

/// The RTP clock rate of Opus, whatever the coded bandwidth (RFC 7587 §4.1).
pub const OPUS_CLOCK_RATE: u32 = 48_000;

/// The Opus parameters of an SDP media description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpusParams {
    /// The channel count of the rtpmap encoding parameters (`opus/48000/2` → 2; 1 when absent).
    pub channel_count: u8,
    /// The fmtp `sprop-stereo` value, when given.
    pub sprop_stereo: Option<bool>,
}

impl OpusParams {
    /// Parses an rtpmap value (`"opus/48000/2"`, with or without the payload type).
    pub fn from_rtpmap(rtpmap: &str) -> Result<Self, CodecError> {
        let r = fmtp::rtpmap(rtpmap)?;
        if !r.encoding.eq_ignore_ascii_case("opus") {
            return Err(CodecError::Invalid("rtpmap is not opus"));
        }
        let channels = r.channels.unwrap_or(1);
        let channel_count = u8::try_from(channels)
            .ok()
            .filter(|&c| c > 0)
            .ok_or(CodecError::Invalid("bad opus channel count"))?;
        Ok(OpusParams {
            channel_count,
            sprop_stereo: None,
        })
    }

    /// Parses the rtpmap value and, when given, the fmtp value (`sprop-stereo`).
    pub fn from_sdp(rtpmap: &str, fmtp_value: Option<&str>) -> Result<Self, CodecError> {
        let mut p = Self::from_rtpmap(rtpmap)?;
        p.sprop_stereo = fmtp_value
            .and_then(|f| fmtp::get(f, "sprop-stereo"))
            .map(|v| v.trim() == "1");
        Ok(p)
    }

    /// The rtpmap encoding weir announces: `opus/48000/<channels>`.
    pub fn to_rtpmap(&self) -> String {
        format!("opus/{OPUS_CLOCK_RATE}/{}", self.channel_count)
    }

    /// The fmtp value weir announces: `sprop-stereo=1` for stereo, `sprop-stereo=0` otherwise.
    pub fn to_fmtp(&self) -> String {
        let stereo = self.sprop_stereo.unwrap_or(self.channel_count >= 2);
        format!("sprop-stereo={}", u8::from(stereo))
    }
}

/// The duration of an Opus packet in 48 kHz samples, from its TOC byte (RFC 6716 §3.1); `None`
/// for an empty packet, a missing frame count byte, or more than 120 ms.
pub fn packet_duration(packet: &[u8]) -> Option<u32> {
    let toc = *packet.first()?;
    let config = toc >> 3;
    let frame = match config {
        0..=11 => [480, 960, 1920, 2880][usize::from(config % 4)],
        12..=15 => [480, 960][usize::from(config % 2)],
        _ => [120, 240, 480, 960][usize::from(config % 4)],
    };
    let frames = match toc & 3 {
        0 => 1,
        1 | 2 => 2,
        _ => u32::from(*packet.get(1)? & 0x3f),
    };
    let total = frame * frames;
    (total > 0 && total <= 5760).then_some(total)
}

/// Depacketizes Opus: every non-empty payload is one Opus packet, kept as one zero-copy
/// [`AccessUnit::data`] entry. Units are always key units.
#[derive(Debug, Default)]
pub struct OpusDepacketizer {
    packets: SmallVec<[bytes::Bytes; 4]>,
}

impl OpusDepacketizer {
    /// A depacketizer with nothing pending.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Depacketizer for OpusDepacketizer {
    fn push(&mut self, packet: &RtpPacket) -> Result<(), CodecError> {
        let len = packet.payload().len();
        if len == 0 {
            return Err(CodecError::Truncated);
        }
        if self.packets.len() >= MAX_UNITS_PER_ACCESS_UNIT {
            return Err(CodecError::TooLarge);
        }
        self.packets.push(packet.payload_slice(0..len));
        Ok(())
    }

    fn finish(&mut self) -> Option<AccessUnit> {
        let data = std::mem::take(&mut self.packets);
        (!data.is_empty()).then_some(AccessUnit { key: true, data })
    }
}

/// Packetizes Opus: one RTP packet per Opus packet; entry `i + 1` of an [`AccessUnit`] is
/// stamped after entry `i` by that packet's duration (20 ms when the TOC is unreadable).
#[derive(Debug, Clone)]
pub struct OpusPacketizer {
    writer: RtpWriter,
}

impl OpusPacketizer {
    /// A packetizer writing `payload_type`/`ssrc` packets starting at `initial_seq`. Opus
    /// packets are never split, so `mtu_payload` is only accepted for symmetry.
    pub fn new(payload_type: u8, ssrc: Ssrc, initial_seq: SeqNo, mtu_payload: usize) -> Self {
        let _ = mtu_payload;
        OpusPacketizer {
            writer: RtpWriter::new(payload_type, ssrc, initial_seq),
        }
    }

    /// The sequence number of the next packet (for RTP-Info).
    pub fn next_sequence_number(&self) -> SeqNo {
        self.writer.next_sequence_number()
    }

    /// Appends one packet per non-empty entry of `au` to `out` (marker bit clear).
    pub fn packetize(&mut self, au: &AccessUnit, rtp_timestamp: u32, out: &mut Vec<RtpPacket>) {
        let mut ts = rtp_timestamp;
        for p in au.data.iter().filter(|p| !p.is_empty()) {
            out.push(self.writer.packet(false, ts, p));
            ts = ts.wrapping_add(packet_duration(p).unwrap_or(960));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtp::RtpHeader;
    use bytes::Bytes;
    use proptest::prelude::*;

    const OPUS_AUDIO: &[u8] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/media/opus-audio"
    ));
    const OPUS_HEAD: &[u8] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/media/opus-head"
    ));

    #[test]
    fn real_packet_round_trip() {
        let au = AccessUnit {
            key: true,
            data: SmallVec::from_vec(vec![Bytes::from_static(OPUS_AUDIO)]),
        };
        let mut p = OpusPacketizer::new(111, Ssrc(1), SeqNo(65535), 1400);
        let mut out = Vec::new();
        p.packetize(&au, 1000, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].header.sequence_number, SeqNo(65535));
        assert_eq!(p.next_sequence_number(), SeqNo(0));
        let mut d = OpusDepacketizer::new();
        d.push(&out[0]).unwrap();
        assert_eq!(d.finish(), Some(au));
        assert_eq!(d.finish(), None);
        // The sample packet: TOC config and code give a plausible duration.
        let dur = packet_duration(OPUS_AUDIO).unwrap();
        assert!(
            [120, 240, 480, 960, 1920, 2880].contains(&dur) || dur % 120 == 0,
            "{dur}"
        );
    }

    #[test]
    fn opus_head_matches_channel_parsing() {
        // OpusHead: magic, version, channel count at offset 9.
        assert_eq!(&OPUS_HEAD[..8], b"OpusHead");
        let channels = OPUS_HEAD[9];
        let p = OpusParams::from_rtpmap(&format!("opus/48000/{channels}")).unwrap();
        assert_eq!(p.channel_count, channels);
    }

    #[test]
    fn params() {
        let p = OpusParams::from_sdp(
            "97 opus/48000/2",
            Some("minptime=10; useinbandfec=1; sprop-stereo=1"),
        )
        .unwrap();
        assert_eq!(
            p,
            OpusParams {
                channel_count: 2,
                sprop_stereo: Some(true)
            }
        );
        assert_eq!(p.to_rtpmap(), "opus/48000/2");
        assert_eq!(p.to_fmtp(), "sprop-stereo=1");
        assert_eq!(
            OpusParams::from_rtpmap("OPUS/48000").unwrap().channel_count,
            1
        );
        assert!(OpusParams::from_rtpmap("PCMU/8000").is_err());
        assert!(OpusParams::from_rtpmap("opus/48000/0").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(packet_duration(&[]), None);
        assert_eq!(packet_duration(&[0b0000_1000]), Some(960)); // SILK 20 ms, 1 frame
        assert_eq!(packet_duration(&[0b1111_1001]), Some(1920)); // CELT 20 ms, 2 frames
        assert_eq!(packet_duration(&[0b1111_1011, 3]), Some(2880)); // CELT 20 ms ×3
        assert_eq!(packet_duration(&[0b1111_1011, 7]), None); // 140 ms
        assert_eq!(packet_duration(&[0b1111_1011]), None);
    }

    #[test]
    fn empty_payload_is_refused() {
        let h = RtpHeader {
            marker: false,
            payload_type: 111,
            sequence_number: SeqNo(1),
            timestamp: 0,
            ssrc: Ssrc(1),
        };
        let mut d = OpusDepacketizer::new();
        assert_eq!(
            d.push(&RtpPacket::build(h, &[])),
            Err(CodecError::Truncated)
        );
        assert_eq!(d.finish(), None);
    }

    proptest! {
        #[test]
        fn packetize_depacketize_round_trip(
            packets in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..400), 1..4),
            ts: u32,
        ) {
            let au = AccessUnit { key: true, data: packets.into_iter().map(Bytes::from).collect() };
            let mut p = OpusPacketizer::new(111, Ssrc(1), SeqNo(0), 1400);
            let mut out = Vec::new();
            p.packetize(&au, ts, &mut out);
            prop_assert_eq!(out.len(), au.data.len());
            prop_assert_eq!(out[0].header.timestamp, ts);
            let mut back = Vec::new();
            for pk in &out {
                let mut d = OpusDepacketizer::new();
                d.push(pk).unwrap();
                back.extend(d.finish().unwrap().data);
            }
            prop_assert_eq!(&back[..], &au.data[..]);
        }

        #[test]
        fn arbitrary_payloads(
            payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..5),
        ) {
            let mut d = OpusDepacketizer::new();
            let mut expected = Vec::new();
            for (i, p) in payloads.iter().enumerate() {
                let h = RtpHeader {
                    marker: false,
                    payload_type: 111,
                    sequence_number: SeqNo(i as u16),
                    timestamp: 0,
                    ssrc: Ssrc(1),
                };
                if d.push(&RtpPacket::build(h, p)).is_ok() { expected.push(p.clone()); }
                let _ = packet_duration(p);
            }
            let got: Vec<Vec<u8>> = d
                .finish()
                .map(|au| au.data.iter().map(|b| b.to_vec()).collect())
                .unwrap_or_default();
            prop_assert_eq!(got, expected);
        }
    }
}
