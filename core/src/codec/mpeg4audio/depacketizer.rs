//! RTP → MPEG-4 audio access units (RFC 3640 `mpeg4-generic`, AAC-hbr and the generic AU
//! header layouts).

use super::Mpeg4AudioParams;
use crate::codec::bits::BitReader;
use crate::codec::{
    AccessUnit, CodecError, Depacketizer, MAX_ACCESS_UNIT_SIZE, MAX_UNITS_PER_ACCESS_UNIT,
};
use crate::rtp::{RtpPacket, SeqNo};
use bytes::Bytes;
use smallvec::SmallVec;

/// One AU being reassembled from fragments.
#[derive(Debug)]
struct Fragment {
    buf: Vec<u8>,
    /// The AU-size announced by the headers; `None` when there is no AU-size field (then the
    /// marker bit ends the AU).
    total: Option<usize>,
    expected_seq: SeqNo,
}

/// Depacketizes RFC 3640 payloads: AU-headers-length, AU headers (AU-size, AU-Index /
/// AU-Index-delta, optional CTS/DTS/RAP/stream-state fields), the optional auxiliary section,
/// then the AUs. Each AU becomes one [`AccessUnit::data`] entry (zero-copy); an AU fragmented
/// over several packets (one AU header whose AU-size exceeds the data) is reassembled.
/// Interleaving (non-zero AU-Index-delta) is not undone: AUs are kept in arrival order.
#[derive(Debug)]
pub struct Mpeg4AudioDepacketizer {
    params: Mpeg4AudioParams,
    aus: SmallVec<[Bytes; 4]>,
    size: usize,
    fragment: Option<Fragment>,
}

impl Mpeg4AudioDepacketizer {
    /// A depacketizer for the given AU header layout.
    pub fn new(params: Mpeg4AudioParams) -> Self {
        Mpeg4AudioDepacketizer {
            params,
            aus: SmallVec::new(),
            size: 0,
            fragment: None,
        }
    }

    /// A depacketizer configured from an fmtp value (see [`Mpeg4AudioParams::from_fmtp`]).
    pub fn from_fmtp(fmtp_value: &str) -> Result<Self, CodecError> {
        Ok(Self::new(Mpeg4AudioParams::from_fmtp(fmtp_value)?))
    }

    /// The parameters in use.
    pub fn params(&self) -> &Mpeg4AudioParams {
        &self.params
    }

    /// Keeps one complete AU.
    fn keep(&mut self, au: Bytes) -> Result<(), CodecError> {
        if au.is_empty() {
            return Ok(());
        }
        if self.aus.len() >= MAX_UNITS_PER_ACCESS_UNIT
            || self.size.saturating_add(au.len()) > MAX_ACCESS_UNIT_SIZE
        {
            return Err(CodecError::TooLarge);
        }
        self.size += au.len();
        self.aus.push(au);
        Ok(())
    }

    /// Reads the AU header section; returns the AU sizes (`None` entries when there is no
    /// AU-size field) and where the auxiliary section / AUs start.
    fn read_headers(
        &self,
        payload: &[u8],
    ) -> Result<(SmallVec<[Option<usize>; 8]>, usize), CodecError> {
        let p = &self.params;
        let mut sizes = SmallVec::new();
        if !p.has_au_headers() {
            sizes.push(None);
            return Ok((sizes, 0));
        }
        let len_field = payload.get(..2).ok_or(CodecError::Truncated)?;
        let header_bits = usize::from(u16::from_be_bytes([len_field[0], len_field[1]]));
        let header_bytes = header_bits.div_ceil(8);
        let section = payload
            .get(2..2 + header_bytes)
            .ok_or(CodecError::Truncated)?;
        let mut r = BitReader::new(section);
        while r.position() < header_bits {
            let before = r.position();
            let size = r.read_bits(u32::from(p.size_length))?;
            let index_bits = if sizes.is_empty() {
                p.index_length
            } else {
                p.index_delta_length
            };
            r.skip_bits(usize::from(index_bits))?;
            if p.cts_delta_length > 0 && r.read_flag()? {
                r.skip_bits(usize::from(p.cts_delta_length))?;
            }
            if p.dts_delta_length > 0 && r.read_flag()? {
                r.skip_bits(usize::from(p.dts_delta_length))?;
            }
            if p.random_access_indication {
                r.skip_bits(1)?;
            }
            r.skip_bits(usize::from(p.stream_state_indication))?;
            if r.position() > header_bits {
                return Err(CodecError::Invalid("AU header crosses AU-headers-length"));
            }
            if sizes.len() >= MAX_UNITS_PER_ACCESS_UNIT {
                return Err(CodecError::TooLarge);
            }
            sizes.push((p.size_length > 0).then_some(size as usize));
            if r.position() == before {
                // A layout whose later headers are empty: only one AU header is possible.
                break;
            }
        }
        if sizes.is_empty() {
            return Err(CodecError::Invalid("empty AU header section"));
        }
        let mut pos = 2 + header_bytes;
        if p.auxiliary_data_size_length > 0 {
            let aux = payload.get(pos..).ok_or(CodecError::Truncated)?;
            let mut r = BitReader::new(aux);
            let aux_bits = r.read_bits(u32::from(p.auxiliary_data_size_length))? as usize;
            pos += (usize::from(p.auxiliary_data_size_length) + aux_bits).div_ceil(8);
        }
        if pos > payload.len() {
            return Err(CodecError::Truncated);
        }
        Ok((sizes, pos))
    }

    /// Continues the fragment in progress with `data`.
    fn continue_fragment(&mut self, packet: &RtpPacket, data: &[u8]) -> Result<(), CodecError> {
        let seq = packet.header.sequence_number;
        let Some(mut f) = self.fragment.take() else {
            return Err(CodecError::FragmentLost);
        };
        if f.expected_seq != seq {
            return Err(CodecError::FragmentLost);
        }
        if self
            .size
            .saturating_add(f.buf.len())
            .saturating_add(data.len())
            > MAX_ACCESS_UNIT_SIZE
        {
            return Err(CodecError::TooLarge);
        }
        f.buf.extend_from_slice(data);
        let complete = match f.total {
            Some(total) if f.buf.len() > total => {
                return Err(CodecError::Invalid("AU fragments exceed AU-size"))
            }
            Some(total) => f.buf.len() == total,
            None => packet.header.marker,
        };
        if complete {
            return self.keep(Bytes::from(f.buf));
        }
        f.expected_seq = SeqNo(seq.0.wrapping_add(1));
        self.fragment = Some(f);
        Ok(())
    }
}

impl Depacketizer for Mpeg4AudioDepacketizer {
    fn push(&mut self, packet: &RtpPacket) -> Result<(), CodecError> {
        let payload = packet.payload();
        let (sizes, start) = match self.read_headers(payload) {
            Ok(v) => v,
            Err(e) => {
                self.fragment = None;
                return Err(e);
            }
        };
        let data = &payload[start..];
        let single = sizes.len() == 1;
        if let Some(f) = &self.fragment {
            if single && sizes[0] == f.total {
                return self.continue_fragment(packet, data);
            }
            // Not a continuation: the fragmented AU lost its end.
            self.fragment = None;
            self.push_aus(packet, start, &sizes)?;
            return Err(CodecError::FragmentLost);
        }
        self.push_aus(packet, start, &sizes)
    }

    fn finish(&mut self) -> Option<AccessUnit> {
        self.fragment = None;
        self.size = 0;
        let data = std::mem::take(&mut self.aus);
        if data.is_empty() {
            return None;
        }
        Some(AccessUnit { key: true, data })
    }
}

impl Mpeg4AudioDepacketizer {
    /// Keeps the AUs of a packet that does not continue a fragment, or starts a fragment.
    fn push_aus(
        &mut self,
        packet: &RtpPacket,
        start: usize,
        sizes: &[Option<usize>],
    ) -> Result<(), CodecError> {
        let payload_len = packet.payload().len();
        let available = payload_len - start;
        let seq = packet.header.sequence_number;
        if let [size] = sizes {
            let fragmented = match *size {
                Some(total) => total > available,
                None => !packet.header.marker,
            };
            if fragmented {
                if size.is_some_and(|t| t > MAX_ACCESS_UNIT_SIZE) {
                    return Err(CodecError::TooLarge);
                }
                let data = &packet.payload()[start..];
                self.fragment = Some(Fragment {
                    buf: data.to_vec(),
                    total: *size,
                    expected_seq: SeqNo(seq.0.wrapping_add(1)),
                });
                return Ok(());
            }
            let len = size.unwrap_or(available);
            return self.keep(packet.payload_slice(start..start + len));
        }
        // Several AUs: every size is known (a layout without AU-size has one header).
        let total: usize = sizes.iter().map(|s| s.unwrap_or(0)).sum();
        if total > available {
            return Err(CodecError::Truncated);
        }
        let mut pos = start;
        for size in sizes.iter().map(|s| s.unwrap_or(0)) {
            self.keep(packet.payload_slice(pos..pos + size))?;
            pos += size;
        }
        Ok(())
    }
}
