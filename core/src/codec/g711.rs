//! G.711 µ-law (PCMU) and A-law (PCMA) over RTP (RFC 3551 §4.5.14): the payload is the samples,
//! one byte per sample and channel.

use crate::codec::fmtp;
use crate::codec::rtp_out::RtpWriter;
use crate::codec::{AccessUnit, CodecError, Depacketizer, MAX_UNITS_PER_ACCESS_UNIT};
use crate::rtp::{RtpPacket, SeqNo, Ssrc};
use bytes::Bytes;
use smallvec::SmallVec;

/// The static RTP payload type of PCMU.
pub const PAYLOAD_TYPE_PCMU: u8 = 0;
/// The static RTP payload type of PCMA.
pub const PAYLOAD_TYPE_PCMA: u8 = 8;

/// The G.711 parameters of an SDP media description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct G711Params {
    /// µ-law (PCMU) rather than A-law (PCMA).
    pub mu_law: bool,
    /// The sampling (and RTP clock) rate, 8000 Hz normally.
    pub sample_rate: u32,
    /// The channel count (1 when absent).
    pub channel_count: u8,
}

impl G711Params {
    /// Parses an rtpmap value (`"PCMU/8000"`, `"PCMA/8000/2"`, with or without payload type).
    pub fn from_rtpmap(rtpmap: &str) -> Result<Self, CodecError> {
        let r = fmtp::rtpmap(rtpmap)?;
        let mu_law = if r.encoding.eq_ignore_ascii_case("PCMU") {
            true
        } else if r.encoding.eq_ignore_ascii_case("PCMA") {
            false
        } else {
            return Err(CodecError::Invalid("rtpmap is not PCMU or PCMA"));
        };
        let channel_count = u8::try_from(r.channels.unwrap_or(1))
            .ok()
            .filter(|&c| c > 0)
            .ok_or(CodecError::Invalid("bad G711 channel count"))?;
        let sample_rate = r.clock_rate.filter(|&c| c > 0).unwrap_or(8000);
        Ok(G711Params {
            mu_law,
            sample_rate,
            channel_count,
        })
    }

    /// The parameters implied by a static payload type (0 = PCMU, 8 = PCMA; 8 kHz mono).
    pub fn from_payload_type(payload_type: u8) -> Option<Self> {
        match payload_type {
            PAYLOAD_TYPE_PCMU => Some(G711Params {
                mu_law: true,
                sample_rate: 8000,
                channel_count: 1,
            }),
            PAYLOAD_TYPE_PCMA => Some(G711Params {
                mu_law: false,
                sample_rate: 8000,
                channel_count: 1,
            }),
            _ => None,
        }
    }

    /// The rtpmap encoding (`PCMU/8000`, or with `/<channels>` when not mono).
    pub fn to_rtpmap(&self) -> String {
        let name = if self.mu_law { "PCMU" } else { "PCMA" };
        if self.channel_count == 1 {
            format!("{name}/{}", self.sample_rate)
        } else {
            format!("{name}/{}/{}", self.sample_rate, self.channel_count)
        }
    }
}

/// Depacketizes G.711: every non-empty payload is kept as one zero-copy
/// [`AccessUnit::data`] entry of samples. Units are always key units.
#[derive(Debug, Default)]
pub struct G711Depacketizer {
    chunks: SmallVec<[Bytes; 4]>,
}

impl G711Depacketizer {
    /// A depacketizer with nothing pending.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Depacketizer for G711Depacketizer {
    fn push(&mut self, packet: &RtpPacket) -> Result<(), CodecError> {
        let len = packet.payload().len();
        if len == 0 {
            return Err(CodecError::Truncated);
        }
        if self.chunks.len() >= MAX_UNITS_PER_ACCESS_UNIT {
            return Err(CodecError::TooLarge);
        }
        self.chunks.push(packet.payload_slice(0..len));
        Ok(())
    }

    fn finish(&mut self) -> Option<AccessUnit> {
        let data = std::mem::take(&mut self.chunks);
        (!data.is_empty()).then_some(AccessUnit { key: true, data })
    }
}

/// Packetizes G.711 samples: one packet per entry, split at the payload budget (on a sample
/// boundary) when larger; each packet is stamped by the samples before it.
#[derive(Debug, Clone)]
pub struct G711Packetizer {
    writer: RtpWriter,
    mtu_payload: usize,
    channel_count: usize,
}

impl G711Packetizer {
    /// A packetizer writing `payload_type`/`ssrc` packets starting at `initial_seq`, with at most
    /// `mtu_payload` payload bytes per packet (1400 is a good default), for mono audio.
    pub fn new(payload_type: u8, ssrc: Ssrc, initial_seq: SeqNo, mtu_payload: usize) -> Self {
        G711Packetizer {
            writer: RtpWriter::new(payload_type, ssrc, initial_seq),
            mtu_payload: mtu_payload.max(1),
            channel_count: 1,
        }
    }

    /// Sets the channel count (interleaved samples; one timestamp tick per sample frame).
    pub fn with_channel_count(mut self, channels: u8) -> Self {
        self.channel_count = usize::from(channels.max(1));
        self
    }

    /// The sequence number of the next packet (for RTP-Info).
    pub fn next_sequence_number(&self) -> SeqNo {
        self.writer.next_sequence_number()
    }

    /// Appends the packets of `au` to `out` (marker bit clear).
    pub fn packetize(&mut self, au: &AccessUnit, rtp_timestamp: u32, out: &mut Vec<RtpPacket>) {
        let chunk = (self.mtu_payload / self.channel_count).max(1) * self.channel_count;
        let mut ts = rtp_timestamp;
        for samples in au.data.iter().filter(|s| !s.is_empty()) {
            for piece in samples.chunks(chunk) {
                out.push(self.writer.packet(false, ts, piece));
                ts = ts.wrapping_add((piece.len() / self.channel_count) as u32);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtp::RtpHeader;
    use proptest::prelude::*;

    #[test]
    fn params() {
        let p = G711Params::from_rtpmap("0 PCMU/8000").unwrap();
        assert_eq!(
            p,
            G711Params {
                mu_law: true,
                sample_rate: 8000,
                channel_count: 1
            }
        );
        assert_eq!(p.to_rtpmap(), "PCMU/8000");
        let p = G711Params::from_rtpmap("pcma/16000/2").unwrap();
        assert_eq!(
            p,
            G711Params {
                mu_law: false,
                sample_rate: 16000,
                channel_count: 2
            }
        );
        assert_eq!(p.to_rtpmap(), "PCMA/16000/2");
        assert!(G711Params::from_rtpmap("opus/48000/2").is_err());
        assert_eq!(
            G711Params::from_payload_type(8).map(|p| p.mu_law),
            Some(false)
        );
        assert_eq!(G711Params::from_payload_type(96), None);
    }

    #[test]
    fn round_trip_and_split() {
        let samples: Vec<u8> = (0..=255).cycle().take(1000).collect();
        let au = AccessUnit {
            key: true,
            data: SmallVec::from_vec(vec![Bytes::from(samples.clone())]),
        };
        let mut p = G711Packetizer::new(8, Ssrc(7), SeqNo(10), 400).with_channel_count(2);
        let mut out = Vec::new();
        p.packetize(&au, 100, &mut out);
        assert_eq!(
            out.iter().map(|p| p.payload().len()).collect::<Vec<_>>(),
            [400, 400, 200]
        );
        assert_eq!(
            out.iter().map(|p| p.header.timestamp).collect::<Vec<_>>(),
            [100, 300, 500]
        );
        let mut d = G711Depacketizer::new();
        for pkt in &out {
            d.push(pkt).unwrap();
        }
        let back = d.finish().unwrap();
        assert!(back.key);
        assert_eq!(back.data.concat(), samples);
    }

    proptest! {
        #[test]
        fn packetize_depacketize_round_trip(
            chunks in proptest::collection::vec(
                proptest::collection::vec(any::<u8>(), 1..3000),
                1..4,
            ),
            mtu in 1usize..1500,
            channels in 1u8..3,
        ) {
            let data = chunks.iter().cloned().map(Bytes::from).collect();
            let au = AccessUnit { key: true, data };
            let mut p = G711Packetizer::new(0, Ssrc(1), SeqNo(0), mtu).with_channel_count(channels);
            let mut out = Vec::new();
            p.packetize(&au, 0, &mut out);
            prop_assert!(out.iter().all(|pk| pk.payload().len() <= mtu.max(usize::from(channels))));
            let mut d = G711Depacketizer::new();
            for pk in &out {
                d.push(pk).unwrap();
            }
            prop_assert_eq!(d.finish().unwrap().data.concat(), chunks.concat());
        }

        #[test]
        fn arbitrary_payloads_never_panic(
            payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..5),
        ) {
            let mut d = G711Depacketizer::new();
            for (i, p) in payloads.iter().enumerate() {
                let h = RtpHeader {
                    marker: false,
                    payload_type: 0,
                    sequence_number: SeqNo(i as u16),
                    timestamp: 0,
                    ssrc: Ssrc(1),
                };
                let _ = d.push(&RtpPacket::build(h, p));
            }
            let total: usize =
                d.finish().map(|au| au.data.iter().map(|b| b.len()).sum()).unwrap_or(0);
            prop_assert_eq!(total, payloads.iter().map(Vec::len).sum::<usize>());
        }
    }
}
