//! A tiny RTMP client for the tests, built from weir's own encoder and decoders: handshake
//! bytes, commands, data and media messages out; the server's messages decoded back.

use crate::rtmp::amf0::Amf0Value;
use crate::rtmp::chunk::{ChunkDecoder, ChunkEncoder, RawMessage};
use crate::rtmp::command::{decode_values, Command};
use crate::rtmp::handshake::{block_digest, digest_offset, FP_KEY, HANDSHAKE_SIZE};
use crate::rtmp::message::{type_id, ControlMessage};
use bytes::BytesMut;

/// One message the server sent, decoded.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Received {
    /// A protocol control message.
    Control(ControlMessage),
    /// A command, with its message stream.
    Command(u32, Command),
    /// A data message's values, with its message stream.
    Data(u32, Vec<Amf0Value>),
    /// Audio or video.
    Media(RawMessage),
}

impl Received {
    /// The command, if this is one.
    pub(super) fn command(&self) -> Option<&Command> {
        match self {
            Received::Command(_, c) => Some(c),
            _ => None,
        }
    }

    /// `info.code` of an `onStatus`, `_result` or `_error` command.
    pub(super) fn code(&self) -> Option<&str> {
        let c = self.command()?;
        c.args.iter().find_map(|a| a.get("code")?.as_str())
    }
}

/// The client side of the chunk stream.
pub(super) struct TestClient {
    enc: ChunkEncoder,
    dec: ChunkDecoder,
    inbox: BytesMut,
}

impl TestClient {
    pub(super) fn new() -> TestClient {
        TestClient {
            enc: ChunkEncoder::new(),
            dec: ChunkDecoder::default(),
            inbox: BytesMut::new(),
        }
    }

    /// C0 and C1: a simple C1 (zero version) or a digest C1 (scheme 1, as ffmpeg sends).
    pub(super) fn c0c1(digest: bool) -> Vec<u8> {
        let mut c1 = [0u8; HANDSHAKE_SIZE];
        for (i, b) in c1.iter_mut().enumerate().skip(8) {
            *b = (i as u32).wrapping_mul(2_654_435_761).to_be_bytes()[0];
        }
        if digest {
            c1[4..8].copy_from_slice(&[9, 0, 124, 2]);
            let off = digest_offset(&c1, 1);
            let d = block_digest(&c1, off, &FP_KEY[..30]);
            c1[off..off + 32].copy_from_slice(&d);
        }
        let mut out = vec![3];
        out.extend_from_slice(&c1);
        out
    }

    /// Changes the client's outgoing chunk size (after sending Set Chunk Size).
    pub(super) fn set_chunk_size(&mut self, size: u32) {
        self.enc.set_chunk_size(size).unwrap();
    }

    /// A raw message on chunk stream `csid`.
    pub(super) fn message(
        &mut self,
        csid: u32,
        ts: u32,
        type_id: u8,
        stream_id: u32,
        body: &[u8],
    ) -> Vec<u8> {
        let mut out = Vec::new();
        self.enc
            .write(&mut out, csid, ts, type_id, stream_id, body)
            .unwrap();
        out
    }

    /// A protocol control message.
    pub(super) fn control(&mut self, c: ControlMessage) -> Vec<u8> {
        let mut body = Vec::new();
        c.write_body(&mut body);
        self.message(2, 0, c.type_id(), 0, &body)
    }

    /// An AMF0 command on message stream `stream_id`.
    pub(super) fn command(
        &mut self,
        stream_id: u32,
        name: &str,
        txn: f64,
        object: Amf0Value,
        args: Vec<Amf0Value>,
    ) -> Vec<u8> {
        let mut body = Vec::new();
        Command::new(name, txn, object, args)
            .write(&mut body)
            .unwrap();
        let csid = if stream_id == 0 { 3 } else { 8 };
        self.message(csid, 0, type_id::COMMAND_AMF0, stream_id, &body)
    }

    /// An AMF0 data message on message stream `stream_id`.
    pub(super) fn data(&mut self, stream_id: u32, values: &[Amf0Value]) -> Vec<u8> {
        let mut body = Vec::new();
        for v in values {
            v.write(&mut body).unwrap();
        }
        self.message(4, 0, type_id::DATA_AMF0, stream_id, &body)
    }

    /// Decodes what the server sent, applying its chunk size changes.
    pub(super) fn receive(&mut self, bytes: &[u8]) -> Vec<Received> {
        self.inbox.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(m) = self.dec.decode(&mut self.inbox).unwrap() {
            out.push(match m.type_id {
                1..=6 => {
                    let c = ControlMessage::parse(m.type_id, &m.body).unwrap();
                    if let ControlMessage::SetChunkSize(n) = c {
                        self.dec.set_chunk_size(n).unwrap();
                    }
                    Received::Control(c)
                }
                type_id::COMMAND_AMF0 => {
                    Received::Command(m.stream_id, Command::parse(m.type_id, &m.body).unwrap())
                }
                type_id::DATA_AMF0 => {
                    Received::Data(m.stream_id, decode_values(m.type_id, &m.body).unwrap())
                }
                _ => Received::Media(m),
            });
        }
        out
    }
}
