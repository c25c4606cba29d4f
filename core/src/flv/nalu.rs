//! Length-prefixed NAL units (the ISO/IEC 14496-15 sample format FLV uses for H.264 and H.265):
//! zero-copy splitting and writing, plus emulation-prevention removal for parameter set parsing.

use super::FlvError;
use crate::codec::MAX_UNITS_PER_ACCESS_UNIT;
use bytes::{BufMut, Bytes};
use smallvec::SmallVec;

/// Splits `data` (NAL units each preceded by a `length_size`-byte big-endian length) into NAL
/// units, zero-copy; empty NAL units are skipped. A length running past the end, a length size
/// outside 1..=4, or more than [`MAX_UNITS_PER_ACCESS_UNIT`] units is [`FlvError::Malformed`].
pub(crate) fn split_length_prefixed(
    data: &Bytes,
    length_size: usize,
    out: &mut SmallVec<[Bytes; 4]>,
) -> Result<(), FlvError> {
    if !(1..=4).contains(&length_size) {
        return Err(FlvError::Malformed("NAL length size not in 1..=4"));
    }
    let mut pos = 0;
    while pos < data.len() {
        let header = data
            .get(pos..pos + length_size)
            .ok_or(FlvError::Malformed("truncated NAL unit length"))?;
        let len = header
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        let start = pos + length_size;
        let end = start
            .checked_add(len)
            .filter(|&e| e <= data.len())
            .ok_or(FlvError::Malformed("NAL unit longer than the body"))?;
        if len > 0 {
            if out.len() >= MAX_UNITS_PER_ACCESS_UNIT {
                return Err(FlvError::Malformed("too many NAL units"));
            }
            out.push(data.slice(start..end));
        }
        pos = end;
    }
    Ok(())
}

/// Appends `nalu` with a 4-byte big-endian length prefix. NAL units of 4 GiB or more cannot
/// exist here (units are bounded far below by the ingest limits); they are cut to fit.
pub(crate) fn put_length_prefixed(out: &mut Vec<u8>, nalu: &[u8]) {
    let len = u32::try_from(nalu.len()).unwrap_or(u32::MAX);
    out.put_u32(len);
    out.extend_from_slice(&nalu[..len as usize]);
}

/// Removes emulation prevention bytes (`00 00 03` → `00 00`) from the first `max` bytes of a NAL
/// unit payload.
pub(crate) fn to_rbsp(data: &[u8], max: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len().min(max));
    let mut zeros = 0;
    for &b in data.iter().take(max) {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_with_each_length_size() {
        let mut out = SmallVec::new();
        let b = Bytes::from_static(&[0, 0, 0, 2, 0x65, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x41]);
        split_length_prefixed(&b, 4, &mut out).unwrap();
        assert_eq!(out.as_slice(), &[&[0x65, 1][..], &[0x41][..]]);
        out.clear();
        let b = Bytes::from_static(&[0, 1, 9, 0, 2, 7, 8]);
        split_length_prefixed(&b, 2, &mut out).unwrap();
        assert_eq!(out.as_slice(), &[&[9][..], &[7, 8][..]]);
        out.clear();
        let b = Bytes::from_static(&[1, 9, 0]);
        split_length_prefixed(&b, 1, &mut out).unwrap();
        assert_eq!(out.as_slice(), &[&[9][..]]);
    }

    #[test]
    fn rejects_bad_lengths() {
        let mut out = SmallVec::new();
        let b = Bytes::from_static(&[0, 0, 0, 9, 1]);
        assert!(split_length_prefixed(&b, 4, &mut out).is_err());
        let b = Bytes::from_static(&[0, 0]);
        assert!(split_length_prefixed(&b, 4, &mut out).is_err());
        assert!(split_length_prefixed(&b, 0, &mut out).is_err());
        assert!(split_length_prefixed(&b, 5, &mut out).is_err());
        let b = Bytes::from_static(&[0xff, 0xff, 0xff, 0xff]);
        assert!(split_length_prefixed(&b, 4, &mut out).is_err());
    }

    #[test]
    fn writes_and_unescapes() {
        let mut v = Vec::new();
        put_length_prefixed(&mut v, &[0x65, 1, 2]);
        assert_eq!(v, [0, 0, 0, 3, 0x65, 1, 2]);
        assert_eq!(
            to_rbsp(&[0, 0, 3, 1, 0, 0, 3, 0, 0, 3], 100),
            [0, 0, 1, 0, 0, 0, 0]
        );
        assert_eq!(to_rbsp(&[1, 2, 3], 2), [1, 2]);
    }
}
