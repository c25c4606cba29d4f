//! Annex-B byte streams (H.264 Annex B, H.265 Annex B): NAL units separated by start codes
//! `00 00 01` / `00 00 00 01`. Shared by [`super::h264`] and [`super::h265`].

/// An iterator over the NAL units of an Annex-B byte stream, returned by [`split_annexb`].
#[derive(Debug, Clone)]
pub struct AnnexBSplit<'a> {
    rest: &'a [u8],
}

/// Position of the next `00 00 01` in `data`, if any.
fn find_start_code(data: &[u8]) -> Option<usize> {
    let mut i = 2;
    while i < data.len() {
        match data[i] {
            1 if data[i - 1] == 0 && data[i - 2] == 0 => return Some(i - 2),
            // A byte > 1 cannot be part of a start code ending at i+1 or i+2 with it in the
            // zero positions, so jump ahead.
            b if b > 1 => i += 3,
            _ => i += 1,
        }
    }
    None
}

/// Splits an Annex-B byte stream into NAL units (start codes removed, trailing zero bytes
/// trimmed, empty units skipped). Bytes before the first start code are ignored, so a buffer
/// without any start code yields nothing.
pub fn split_annexb(data: &[u8]) -> AnnexBSplit<'_> {
    let rest = match find_start_code(data) {
        Some(p) => &data[p + 3..],
        None => &[],
    };
    AnnexBSplit { rest }
}

impl<'a> Iterator for AnnexBSplit<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        while !self.rest.is_empty() {
            let (nal, rest) = match find_start_code(self.rest) {
                Some(p) => (&self.rest[..p], &self.rest[p + 3..]),
                None => (self.rest, &[][..]),
            };
            self.rest = rest;
            let end = nal.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
            if end > 0 {
                return Some(&nal[..end]);
            }
        }
        None
    }
}

/// Joins NAL units into an Annex-B byte stream with 4-byte start codes.
pub fn join_annexb<T: AsRef<[u8]>>(nalus: &[T]) -> Vec<u8> {
    let len = nalus.iter().map(|n| n.as_ref().len() + 4).sum();
    let mut out = Vec::with_capacity(len);
    for n in nalus {
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(n.as_ref());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn splits_three_and_four_byte_start_codes() {
        let data = [
            0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 0, 1, 0x65, 0, 0, 3, 1,
        ];
        let v: Vec<&[u8]> = split_annexb(&data).collect();
        assert_eq!(
            v,
            vec![&[0x67, 1, 2][..], &[0x68, 3][..], &[0x65, 0, 0, 3, 1][..]]
        );
    }

    #[test]
    fn ignores_garbage_and_empty_units() {
        assert_eq!(split_annexb(&[1, 2, 3]).count(), 0);
        assert_eq!(split_annexb(&[0, 0, 1, 0, 0, 1, 0, 0, 0]).count(), 0);
        let v: Vec<&[u8]> = split_annexb(&[9, 0, 0, 1, 5]).collect();
        assert_eq!(v, vec![&[5][..]]);
    }

    proptest! {
        #[test]
        fn join_then_split(nalus in proptest::collection::vec(
            (1u8..=255, proptest::collection::vec(1u8..=255, 0..20)), 0..6)) {
            // NAL bodies without zero bytes cannot contain start codes.
            let nalus: Vec<Vec<u8>> = nalus
                .into_iter()
                .map(|(h, mut b)| {
                    b.insert(0, h);
                    b
                })
                .collect();
            let joined = join_annexb(&nalus);
            let back: Vec<Vec<u8>> = split_annexb(&joined).map(<[u8]>::to_vec).collect();
            prop_assert_eq!(back, nalus);
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(0u8..3, 0..64)) {
            for n in split_annexb(&data) { prop_assert!(!n.is_empty()); }
        }
    }
}
