//! Bit-level reading and writing shared by the codec parsers: a bounds-checked MSB-first bit
//! reader with Exp-Golomb codes (H.264 §7.2, §9.1), a matching bit writer, and removal of
//! emulation-prevention bytes (H.264 §7.4.1, H.265 §7.4.2).

use super::CodecError;

/// An MSB-first bit reader over a byte slice; every read is bounds-checked and reports
/// [`CodecError::Truncated`] instead of panicking.
#[derive(Debug, Clone)]
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    /// Position in bits from the start of `data`.
    pos: usize,
}

impl<'a> BitReader<'a> {
    /// A reader positioned at the first bit of `data`.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        BitReader { data, pos: 0 }
    }

    /// Bits not yet read.
    pub(crate) fn remaining(&self) -> usize {
        (self.data.len() * 8).saturating_sub(self.pos)
    }

    /// Bits read so far.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// Reads one bit, `u(1)`.
    pub(crate) fn read_bit(&mut self) -> Result<bool, CodecError> {
        let byte = *self.data.get(self.pos / 8).ok_or(CodecError::Truncated)?;
        let bit = (byte >> (7 - (self.pos % 8))) & 1;
        self.pos += 1;
        Ok(bit == 1)
    }

    /// Reads a flag, `u(1)`, as a bool (alias of [`BitReader::read_bit`] named after the spec).
    pub(crate) fn read_flag(&mut self) -> Result<bool, CodecError> {
        self.read_bit()
    }

    /// Reads `n` bits (0..=32) as an unsigned integer, `u(n)`.
    pub(crate) fn read_bits(&mut self, n: u32) -> Result<u32, CodecError> {
        if n > 32 {
            return Err(CodecError::Invalid("bit field wider than 32 bits"));
        }
        if self.remaining() < n as usize {
            return Err(CodecError::Truncated);
        }
        let mut value: u64 = 0;
        for _ in 0..n {
            value = (value << 1) | u64::from(self.read_bit()?);
        }
        // `n <= 32`, so the value fits.
        Ok(value as u32)
    }

    /// Skips `n` bits.
    pub(crate) fn skip_bits(&mut self, n: usize) -> Result<(), CodecError> {
        if self.remaining() < n {
            return Err(CodecError::Truncated);
        }
        self.pos += n;
        Ok(())
    }

    /// Reads an unsigned Exp-Golomb code, `ue(v)` (values up to 2^32 - 2).
    pub(crate) fn read_ue(&mut self) -> Result<u32, CodecError> {
        let mut leading_zero_bits = 0u32;
        while !self.read_bit()? {
            leading_zero_bits += 1;
            if leading_zero_bits > 31 {
                return Err(CodecError::Invalid("Exp-Golomb code longer than 32 bits"));
            }
        }
        let suffix = self.read_bits(leading_zero_bits)?;
        // (2^lz - 1) + suffix <= 2^32 - 2 for lz <= 31.
        let prefix = ((1u64 << leading_zero_bits) - 1) as u32;
        Ok(prefix.wrapping_add(suffix))
    }

    /// Reads a signed Exp-Golomb code, `se(v)`.
    pub(crate) fn read_se(&mut self) -> Result<i32, CodecError> {
        let k = i64::from(self.read_ue()?);
        let value = if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) };
        Ok(value as i32)
    }

    /// Reads an `ue(v)` and checks it is at most `max`.
    pub(crate) fn read_ue_max(&mut self, max: u32, what: &'static str) -> Result<u32, CodecError> {
        let v = self.read_ue()?;
        if v > max {
            return Err(CodecError::Invalid(what));
        }
        Ok(v)
    }
}

/// An MSB-first bit writer (tests use it to build bitstreams).
#[cfg(test)]
#[derive(Debug, Clone, Default)]
pub(crate) struct BitWriter {
    bytes: Vec<u8>,
    /// Bits used in the last byte (0 = the next bit starts a new byte).
    used: u8,
}

#[cfg(test)]
impl BitWriter {
    /// An empty writer.
    pub(crate) fn new() -> Self {
        BitWriter::default()
    }

    /// Appends one bit.
    pub(crate) fn write_bit(&mut self, bit: bool) {
        if self.used == 0 {
            self.bytes.push(0);
        }
        if bit {
            if let Some(last) = self.bytes.last_mut() {
                *last |= 1 << (7 - self.used);
            }
        }
        self.used = (self.used + 1) % 8;
    }

    /// Appends the low `n` bits (0..=64) of `value`, MSB first.
    pub(crate) fn write_bits(&mut self, value: u64, n: u32) {
        for i in (0..n.min(64)).rev() {
            self.write_bit((value >> i) & 1 == 1);
        }
    }

    /// Appends an unsigned Exp-Golomb code.
    pub(crate) fn write_ue(&mut self, value: u32) {
        let v = u64::from(value) + 1;
        let len = 64 - v.leading_zeros();
        self.write_bits(0, len - 1);
        self.write_bits(v, len);
    }

    /// Appends a signed Exp-Golomb code.
    pub(crate) fn write_se(&mut self, value: i32) {
        let k = if value > 0 {
            (i64::from(value) * 2 - 1) as u32
        } else {
            (-i64::from(value) * 2) as u32
        };
        self.write_ue(k);
    }

    /// Returns the bytes, the last one zero-padded.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// Hands the bytes of `nal` to `push` without its emulation-prevention bytes
/// (`00 00 03` → `00 00`).
fn unescape(nal: &[u8], mut push: impl FnMut(u8)) {
    let mut zeros = 0usize;
    for &b in nal {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        push(b);
    }
}

/// [`nal_to_rbsp`] of at most the first 64 bytes, on the stack (slice headers, parsed for
/// every picture, must not allocate).
pub(crate) fn nal_prefix_to_rbsp(nal: &[u8]) -> smallvec::SmallVec<[u8; 64]> {
    let mut out = smallvec::SmallVec::new();
    unescape(&nal[..nal.len().min(64)], |b| out.push(b));
    out
}

/// Removes emulation-prevention bytes (`00 00 03` → `00 00`) from at most the first `limit`
/// bytes of a NAL unit, giving its RBSP (or the start of it).
pub(crate) fn nal_to_rbsp(nal: &[u8], limit: usize) -> Vec<u8> {
    let nal = &nal[..nal.len().min(limit)];
    let mut out = Vec::with_capacity(nal.len());
    unescape(nal, |b| out.push(b));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_fixed_and_exp_golomb() {
        // 1 | 010 | 011 | 00100 | 00101 → ue 0, 1, 2, 3, 4
        let mut w = BitWriter::new();
        for v in [0u32, 1, 2, 3, 4, 255, u32::MAX - 1] {
            w.write_ue(v);
        }
        w.write_se(-3);
        w.write_se(3);
        w.write_bits(0b101, 3);
        let bytes = w.into_bytes();
        let mut r = BitReader::new(&bytes);
        for v in [0u32, 1, 2, 3, 4, 255, u32::MAX - 1] {
            assert_eq!(r.read_ue().unwrap(), v);
        }
        assert_eq!(r.read_se().unwrap(), -3);
        assert_eq!(r.read_se().unwrap(), 3);
        assert_eq!(r.read_bits(3).unwrap(), 0b101);
    }

    #[test]
    fn truncation_is_an_error() {
        let mut r = BitReader::new(&[0x00]);
        assert_eq!(r.read_ue(), Err(CodecError::Truncated));
        let mut r = BitReader::new(&[0xff]);
        assert_eq!(r.read_bits(9), Err(CodecError::Truncated));
        let mut r = BitReader::new(&[0, 0, 0, 0, 0]);
        assert!(r.read_ue().is_err());
    }

    #[test]
    fn removes_emulation_prevention() {
        assert_eq!(
            nal_to_rbsp(&[0, 0, 3, 1, 0, 0, 3], 100),
            vec![0, 0, 1, 0, 0]
        );
        assert_eq!(
            nal_to_rbsp(&[0, 0, 3, 0, 0, 3, 0], 100),
            vec![0, 0, 0, 0, 0]
        );
        assert_eq!(nal_to_rbsp(&[1, 2, 3], 2), vec![1, 2]);
    }

    proptest! {
        #[test]
        fn reader_never_panics(
            data in proptest::collection::vec(any::<u8>(), 0..16),
            ops in proptest::collection::vec(0u8..5, 0..32),
        ) {
            let mut r = BitReader::new(&data);
            for op in ops {
                let _ = match op {
                    0 => r.read_ue().map(|_| ()),
                    1 => r.read_se().map(|_| ()),
                    2 => r.read_bits(13).map(|_| ()),
                    3 => r.skip_bits(7),
                    _ => r.read_bits(33).map(|_| ()),
                };
            }
        }

        #[test]
        fn ue_round_trip(values in proptest::collection::vec(any::<u32>(), 0..8)) {
            let mut w = BitWriter::new();
            for &v in &values { w.write_ue(v.min(u32::MAX - 1)); }
            let bytes = w.into_bytes();
            let mut r = BitReader::new(&bytes);
            for &v in &values { prop_assert_eq!(r.read_ue().unwrap(), v.min(u32::MAX - 1)); }
        }
    }
}
