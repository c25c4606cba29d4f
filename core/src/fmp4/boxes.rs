//! Writing ISO BMFF boxes (ISO/IEC 14496-12 §4.2) into a `Vec<u8>`: a box is opened with its
//! type and a placeholder size, filled, then closed, which patches the size.

/// The identity transformation matrix of `mvhd` and `tkhd` (16.16 and 2.30 fixed point).
pub(super) const UNITY_MATRIX: [u32; 9] = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000];

/// Opens a box: a 32-bit size placeholder and the type; returns the box start for [`end`].
pub(super) fn begin(buf: &mut Vec<u8>, kind: &[u8; 4]) -> usize {
    let start = buf.len();
    buf.extend_from_slice(&[0, 0, 0, 0]);
    buf.extend_from_slice(kind);
    start
}

/// Opens a full box (version and 24-bit flags after the type).
pub(super) fn begin_full(buf: &mut Vec<u8>, kind: &[u8; 4], version: u8, flags: u32) -> usize {
    let start = begin(buf, kind);
    put_u32(buf, (u32::from(version) << 24) | (flags & 0x00FF_FFFF));
    start
}

/// Closes the box opened at `start`, writing its size. Boxes written by this module are
/// bounded by their inputs far below 4 GiB (fragments check their size first); a larger box
/// would get the size 0xFFFFFFFF rather than a wrapped one.
pub(super) fn end(buf: &mut Vec<u8>, start: usize) {
    let size = u32::try_from(buf.len() - start).unwrap_or(u32::MAX);
    buf[start..start + 4].copy_from_slice(&size.to_be_bytes());
}

/// Appends a big-endian u16.
pub(super) fn put_u16(buf: &mut Vec<u8>, v: u16) {
    buf.extend_from_slice(&v.to_be_bytes());
}

/// Appends a big-endian u32.
pub(super) fn put_u32(buf: &mut Vec<u8>, v: u32) {
    buf.extend_from_slice(&v.to_be_bytes());
}

/// Appends a big-endian u64.
pub(super) fn put_u64(buf: &mut Vec<u8>, v: u64) {
    buf.extend_from_slice(&v.to_be_bytes());
}

/// Appends `n` zero bytes.
pub(super) fn put_zeros(buf: &mut Vec<u8>, n: usize) {
    buf.resize(buf.len() + n, 0);
}

/// Appends the unity matrix.
pub(super) fn put_matrix(buf: &mut Vec<u8>) {
    for v in UNITY_MATRIX {
        put_u32(buf, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_sizes() {
        let mut buf = Vec::new();
        let outer = begin(&mut buf, b"moov");
        let inner = begin_full(&mut buf, b"mvex", 1, 0x12_3456);
        put_u16(&mut buf, 7);
        end(&mut buf, inner);
        end(&mut buf, outer);
        assert_eq!(
            buf,
            [
                0, 0, 0, 22, b'm', b'o', b'o', b'v', 0, 0, 0, 14, b'm', b'v', b'e', b'x', 1, 0x12,
                0x34, 0x56, 0, 7
            ]
        );
    }
}
