//! A bounds-checked big-endian reader over a [`Bytes`] body; every slice it hands out is a
//! zero-copy view of the body.

use super::FlvError;
use bytes::Bytes;

/// Reads fields front to back; every read past the end is [`FlvError::Malformed`].
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    data: &'a Bytes,
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A reader at the start of `data`.
    pub(crate) fn new(data: &'a Bytes) -> Self {
        Cursor { data, pos: 0 }
    }

    /// Bytes left to read.
    #[cfg(test)]
    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// The next `n` bytes as a borrowed slice.
    fn raw(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], FlvError> {
        let data: &'a [u8] = self.data;
        let end = self.pos.checked_add(n).ok_or(FlvError::Malformed(what))?;
        let s = data.get(self.pos..end).ok_or(FlvError::Malformed(what))?;
        self.pos = end;
        Ok(s)
    }

    /// One byte.
    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, FlvError> {
        Ok(self.raw(1, what)?[0])
    }

    /// A big-endian 16-bit value.
    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16, FlvError> {
        let s = self.raw(2, what)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }

    /// A big-endian signed 24-bit value (the FLV composition time).
    pub(crate) fn i24(&mut self, what: &'static str) -> Result<i32, FlvError> {
        let s = self.raw(3, what)?;
        // Sign-extend from bit 23.
        Ok(i32::from_be_bytes([s[0], s[1], s[2], 0]) >> 8)
    }

    /// A FourCC code.
    pub(crate) fn fourcc(&mut self, what: &'static str) -> Result<[u8; 4], FlvError> {
        let s = self.raw(4, what)?;
        Ok([s[0], s[1], s[2], s[3]])
    }

    /// Skips `n` bytes.
    pub(crate) fn skip(&mut self, n: usize, what: &'static str) -> Result<(), FlvError> {
        self.raw(n, what).map(|_| ())
    }

    /// The next `n` bytes as a zero-copy slice of the body.
    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<Bytes, FlvError> {
        let start = self.pos;
        self.raw(n, what)?;
        Ok(self.data.slice(start..self.pos))
    }

    /// Everything left, as a zero-copy slice of the body.
    pub(crate) fn rest(&mut self) -> Bytes {
        let start = self.pos;
        self.pos = self.data.len();
        self.data.slice(start..)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_bounds() {
        let b = Bytes::from_static(&[1, 0, 2, 0xff, 0xff, 0xb0, b'h', b'v', b'c', b'1', 9]);
        let mut c = Cursor::new(&b);
        assert_eq!(c.u8("a").unwrap(), 1);
        assert_eq!(c.u16("b").unwrap(), 2);
        assert_eq!(c.i24("c").unwrap(), -80);
        assert_eq!(&c.fourcc("d").unwrap(), b"hvc1");
        assert_eq!(c.remaining(), 1);
        assert_eq!(c.take(2, "e"), Err(FlvError::Malformed("e")));
        assert_eq!(c.skip(usize::MAX, "f"), Err(FlvError::Malformed("f")));
        assert_eq!(&c.rest()[..], &[9]);
        assert_eq!(c.u8("g"), Err(FlvError::Malformed("g")));
    }
}
