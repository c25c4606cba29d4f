//! The server side of the RTMP handshake (§5.2): C0+C1 in, S0+S1+S2 out, C2 in.
//!
//! Two variants: the simple handshake of the specification (S1 random, S2 echoes C1) and the
//! digest handshake of Flash Player 9 and later (and of ffmpeg and some encoders): C1 carries an
//! HMAC-SHA256 digest keyed with the Flash Player key at a position given by one of two
//! schemes; the server answers with an S1 carrying its own digest (Flash Media Server key) at
//! the same scheme, and an S2 signed with a key derived from the client's digest. When C1's
//! digest does not validate, the server falls back to the simple handshake, as servers do.
//! C2 is not checked (the digest variant's C2 depends on S1 in ways clients do not agree on).

use bytes::{Buf, BytesMut};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The size of C1, C2, S1 and S2.
pub const HANDSHAKE_SIZE: usize = 1536;

/// The RTMP version in C0 and S0.
pub const RTMP_VERSION: u8 = 3;

/// The digest length (HMAC-SHA256).
const DIGEST_LEN: usize = 32;

/// The version weir puts in a digest handshake's S1 (any non-zero value marks the variant).
const S1_VERSION: [u8; 4] = [0x05, 0x00, 0x03, 0x01];

const FMS_TEXT: &[u8; 36] = b"Genuine Adobe Flash Media Server 001";
const FP_TEXT: &[u8; 30] = b"Genuine Adobe Flash Player 001";
const KEY_TAIL: [u8; 32] = [
    0xf0, 0xee, 0xc2, 0x4a, 0x80, 0x68, 0xbe, 0xe8, 0x2e, 0x00, 0xd0, 0xd1, 0x02, 0x9e, 0x7e, 0x57,
    0x6e, 0xec, 0x5d, 0x2d, 0x29, 0x80, 0x6f, 0xab, 0x93, 0xb8, 0xe6, 0x36, 0xcf, 0xeb, 0x31, 0xae,
];

const fn concat<const A: usize, const N: usize>(head: &[u8; A]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = if i < A { head[i] } else { KEY_TAIL[i - A] };
        i += 1;
    }
    out
}

/// The Flash Media Server key: text (36 bytes) and tail (32 bytes).
pub(crate) const FMS_KEY: [u8; 68] = concat::<36, 68>(FMS_TEXT);
/// The Flash Player key: text (30 bytes) and tail (32 bytes).
pub(crate) const FP_KEY: [u8; 62] = concat::<30, 62>(FP_TEXT);

/// HMAC-SHA256 of the concatenation of `parts`.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; DIGEST_LEN] {
    let mut out = [0u8; DIGEST_LEN];
    // HMAC accepts keys of any length: the error branch cannot happen.
    if let Ok(mut m) = Hmac::<Sha256>::new_from_slice(key) {
        for p in parts {
            m.update(p);
        }
        out.copy_from_slice(&m.finalize().into_bytes());
    }
    out
}

/// Where the digest of a C1 or S1 sits for `scheme` (0: digest block first, 1: key block
/// first): the sum of the four offset bytes modulo 728, after them.
pub(crate) fn digest_offset(block: &[u8; HANDSHAKE_SIZE], scheme: u8) -> usize {
    let base = if scheme == 0 { 8 } else { 772 };
    let sum: usize = block[base..base + 4].iter().map(|&b| usize::from(b)).sum();
    base + 4 + sum % 728
}

/// The digest of `block` with the 32 bytes at `offset` left out, keyed with `key`.
pub(crate) fn block_digest(
    block: &[u8; HANDSHAKE_SIZE],
    offset: usize,
    key: &[u8],
) -> [u8; DIGEST_LEN] {
    hmac_sha256(key, &[&block[..offset], &block[offset + DIGEST_LEN..]])
}

/// The scheme and digest of a C1 whose digest validates with the Flash Player key.
pub(crate) fn validate_client_digest(c1: &[u8; HANDSHAKE_SIZE]) -> Option<(u8, [u8; 32])> {
    if c1[4..8] == [0, 0, 0, 0] {
        return None;
    }
    (0..2u8).find_map(|scheme| {
        let off = digest_offset(c1, scheme);
        let d = block_digest(c1, off, &FP_KEY[..30]);
        (d[..] == c1[off..off + DIGEST_LEN]).then_some((scheme, d))
    })
}

/// Which handshake the client used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeKind {
    /// The specification's handshake (or a digest C1 that did not validate).
    Simple,
    /// The digest handshake; `scheme` 0 or 1 tells where the digest sits.
    Digest {
        /// The digest position scheme.
        scheme: u8,
    },
}

/// Why the handshake failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeError {
    /// C0 asks for a version other than 3 (6 is RTMPE, which weir does not support).
    UnsupportedVersion(u8),
}

impl HandshakeError {
    /// Who is to blame.
    pub fn blame(&self) -> crate::error::Blame {
        crate::error::Blame::Unsupported
    }
}

impl std::fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HandshakeError::UnsupportedVersion(v) => write!(f, "unsupported RTMP version {v}"),
        }
    }
}

impl std::error::Error for HandshakeError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    WaitC0C1,
    WaitC2,
    Done,
}

/// The server side of one handshake.
#[derive(Debug)]
pub struct ServerHandshake {
    state: State,
    rng: u64,
    kind: Option<HandshakeKind>,
}

impl ServerHandshake {
    /// A handshake whose S1 and S2 random bytes derive from `seed`.
    pub fn new(seed: u64) -> ServerHandshake {
        ServerHandshake {
            state: State::WaitC0C1,
            rng: seed,
            kind: None,
        }
    }

    /// Which handshake the client used, once C1 was read.
    pub fn kind(&self) -> Option<HandshakeKind> {
        self.kind
    }

    /// Whether C2 was read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    fn fill_random(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            // splitmix64
            self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.rng;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
    }

    /// Consumes handshake bytes from `buf` and appends S0+S1+S2 to `out` once C0+C1 are in.
    /// Returns whether the handshake is complete (bytes after C2 stay in `buf`).
    pub fn handle(
        &mut self,
        buf: &mut BytesMut,
        out: &mut Vec<u8>,
    ) -> Result<bool, HandshakeError> {
        loop {
            match self.state {
                State::WaitC0C1 => {
                    match buf.first() {
                        None => return Ok(false),
                        Some(&RTMP_VERSION) => {}
                        Some(&v) => return Err(HandshakeError::UnsupportedVersion(v)),
                    }
                    if buf.len() < 1 + HANDSHAKE_SIZE {
                        return Ok(false);
                    }
                    let mut c1 = [0u8; HANDSHAKE_SIZE];
                    c1.copy_from_slice(&buf[1..1 + HANDSHAKE_SIZE]);
                    buf.advance(1 + HANDSHAKE_SIZE);
                    self.answer(&c1, out);
                    self.state = State::WaitC2;
                }
                State::WaitC2 => {
                    if buf.len() < HANDSHAKE_SIZE {
                        return Ok(false);
                    }
                    buf.advance(HANDSHAKE_SIZE);
                    self.state = State::Done;
                }
                State::Done => return Ok(true),
            }
        }
    }

    /// Writes S0, S1 and S2 for `c1`.
    fn answer(&mut self, c1: &[u8; HANDSHAKE_SIZE], out: &mut Vec<u8>) {
        out.push(RTMP_VERSION);
        let mut s1 = [0u8; HANDSHAKE_SIZE];
        self.fill_random(&mut s1[8..]);
        match validate_client_digest(c1) {
            Some((scheme, client_digest)) => {
                self.kind = Some(HandshakeKind::Digest { scheme });
                s1[4..8].copy_from_slice(&S1_VERSION);
                let off = digest_offset(&s1, scheme);
                let d = block_digest(&s1, off, &FMS_KEY[..36]);
                s1[off..off + DIGEST_LEN].copy_from_slice(&d);
                out.extend_from_slice(&s1);

                let mut s2 = [0u8; HANDSHAKE_SIZE];
                self.fill_random(&mut s2[..HANDSHAKE_SIZE - DIGEST_LEN]);
                let key = hmac_sha256(&FMS_KEY, &[&client_digest]);
                let sig = hmac_sha256(&key, &[&s2[..HANDSHAKE_SIZE - DIGEST_LEN]]);
                s2[HANDSHAKE_SIZE - DIGEST_LEN..].copy_from_slice(&sig);
                out.extend_from_slice(&s2);
            }
            None => {
                self.kind = Some(HandshakeKind::Simple);
                out.extend_from_slice(&s1);
                out.extend_from_slice(c1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c1_with_digest(scheme: u8) -> [u8; HANDSHAKE_SIZE] {
        let mut c1 = [0u8; HANDSHAKE_SIZE];
        for (i, b) in c1.iter_mut().enumerate() {
            *b = (i * 7 + 3) as u8;
        }
        c1[4..8].copy_from_slice(&[9, 0, 124, 2]);
        let off = digest_offset(&c1, scheme);
        let d = block_digest(&c1, off, &FP_KEY[..30]);
        c1[off..off + 32].copy_from_slice(&d);
        c1
    }

    #[test]
    fn keys_are_the_published_ones() {
        assert_eq!(&FMS_KEY[..36], b"Genuine Adobe Flash Media Server 001");
        assert_eq!(&FP_KEY[..30], b"Genuine Adobe Flash Player 001");
        assert_eq!(FMS_KEY[36..], KEY_TAIL);
        assert_eq!(FP_KEY[61], 0xae);
    }

    #[test]
    fn offsets_follow_the_schemes() {
        let mut b = [0u8; HANDSHAKE_SIZE];
        b[8..12].copy_from_slice(&[1, 2, 3, 4]);
        assert_eq!(digest_offset(&b, 0), 12 + 10);
        b[772..776].copy_from_slice(&[255, 255, 255, 255]);
        assert_eq!(digest_offset(&b, 1), 776 + 1020 % 728);
    }

    #[test]
    fn simple_handshake_echoes_c1() {
        let mut hs = ServerHandshake::new(1);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        buf.extend_from_slice(&[3]);
        assert_eq!(hs.handle(&mut buf, &mut out), Ok(false));
        let c1 = [0x5au8; HANDSHAKE_SIZE];
        buf.extend_from_slice(&c1);
        assert_eq!(hs.handle(&mut buf, &mut out), Ok(false));
        assert_eq!(out.len(), 1 + 2 * HANDSHAKE_SIZE);
        assert_eq!(out[0], 3);
        assert_eq!(&out[1..9], &[0; 8], "S1: time 0, zero");
        assert_eq!(&out[1 + HANDSHAKE_SIZE..], &c1[..], "S2 echoes C1");
        assert_eq!(hs.kind(), Some(HandshakeKind::Simple));
        buf.extend_from_slice(&[0u8; HANDSHAKE_SIZE]);
        buf.extend_from_slice(b"next");
        assert_eq!(hs.handle(&mut buf, &mut out), Ok(true));
        assert_eq!(&buf[..], b"next");
    }

    #[test]
    fn digest_handshake_both_schemes() {
        for scheme in 0..2 {
            let c1 = c1_with_digest(scheme);
            let mut hs = ServerHandshake::new(7);
            let mut buf = BytesMut::new();
            buf.extend_from_slice(&[3]);
            buf.extend_from_slice(&c1);
            let mut out = Vec::new();
            assert_eq!(hs.handle(&mut buf, &mut out), Ok(false));
            assert_eq!(hs.kind(), Some(HandshakeKind::Digest { scheme }));
            let mut s1 = [0u8; HANDSHAKE_SIZE];
            s1.copy_from_slice(&out[1..1 + HANDSHAKE_SIZE]);
            assert_ne!(s1[4], 0);
            let off = digest_offset(&s1, scheme);
            assert_eq!(
                block_digest(&s1, off, &FMS_KEY[..36])[..],
                s1[off..off + 32]
            );
            // S2 is signed with a key derived from the client's digest.
            let c_off = digest_offset(&c1, scheme);
            let key = hmac_sha256(&FMS_KEY, &[&c1[c_off..c_off + 32]]);
            let s2 = &out[1 + HANDSHAKE_SIZE..];
            assert_eq!(hmac_sha256(&key, &[&s2[..1504]])[..], s2[1504..]);
        }
    }

    #[test]
    fn bad_digest_falls_back_to_simple() {
        let mut c1 = c1_with_digest(0);
        let off = digest_offset(&c1, 0);
        c1[off] ^= 1;
        let mut hs = ServerHandshake::new(7);
        let mut buf = BytesMut::from(&[3u8][..]);
        buf.extend_from_slice(&c1);
        let mut out = Vec::new();
        hs.handle(&mut buf, &mut out).unwrap();
        assert_eq!(hs.kind(), Some(HandshakeKind::Simple));
        assert_eq!(&out[1 + HANDSHAKE_SIZE..], &c1[..]);
    }

    #[test]
    fn other_versions_are_refused_at_once() {
        let mut hs = ServerHandshake::new(7);
        let mut out = Vec::new();
        let mut buf = BytesMut::from(&b"GET / HTTP/1.1\r\n"[..]);
        assert_eq!(
            hs.handle(&mut buf, &mut out),
            Err(HandshakeError::UnsupportedVersion(b'G'))
        );
        let mut buf = BytesMut::from(&[6u8][..]);
        assert_eq!(
            hs.handle(&mut buf, &mut out),
            Err(HandshakeError::UnsupportedVersion(6))
        );
        assert!(out.is_empty());
    }
}
