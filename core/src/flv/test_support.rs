//! Throwaway helpers for the FLV tests: a pcap TCP stream extractor, an RTMP chunk walker and an
//! AMF0 reader just good enough for the captures in `testdata/` (the real RTMP layer lives in
//! `crate::rtmp`; these stay independent of it on purpose), and access unit grouping for
//! Annex-B sample files.

use super::{AvcConfig, FlvDemuxer, FlvMessage, FlvMuxer, FlvOutput, MetaValue};
use crate::media::{StreamDescription, Unit};
use bytes::Bytes;
use smallvec::SmallVec;

/// Reads a file of `core/src/flv/testdata/`.
pub(crate) fn testdata(name: &str) -> Vec<u8> {
    let path = format!("{}/src/flv/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Reads a file of `core/tests/data/media/`.
pub(crate) fn media(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/media/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn be16(d: &[u8], at: usize) -> usize {
    usize::from(u16::from_be_bytes([d[at], d[at + 1]]))
}

fn be32(d: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([d[at], d[at + 1], d[at + 2], d[at + 3]])
}

/// The TCP payload sent to `dst_port` in a little-endian Ethernet/IPv4 pcap, in capture order,
/// retransmitted bytes skipped (loopback captures need no reordering).
pub(crate) fn pcap_tcp_stream(pcap: &[u8], dst_port: u16) -> Vec<u8> {
    assert_eq!(&pcap[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "little-endian pcap");
    let mut out = Vec::new();
    let mut next_seq: Option<u32> = None;
    let mut pos = 24;
    while pos + 16 <= pcap.len() {
        let incl = u32::from_le_bytes(pcap[pos + 8..pos + 12].try_into().unwrap()) as usize;
        let frame = &pcap[pos + 16..pos + 16 + incl];
        pos += 16 + incl;
        let ip = &frame[14..];
        if ip[0] >> 4 != 4 || ip[9] != 6 {
            continue;
        }
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        let total = be16(ip, 2);
        let tcp = &ip[ihl..total];
        if be16(tcp, 2) != usize::from(dst_port) {
            continue;
        }
        let seq = be32(tcp, 4);
        let payload = &tcp[usize::from(tcp[12] >> 4) * 4..];
        if payload.is_empty() {
            continue;
        }
        let expected = *next_seq.get_or_insert(seq);
        let skip = expected.wrapping_sub(seq) as usize;
        if skip < payload.len() && skip < 1 << 30 {
            out.extend_from_slice(&payload[skip..]);
            next_seq = Some(seq.wrapping_add(payload.len() as u32));
        }
    }
    out
}

/// One RTMP message: type id, timestamp (ms), body.
pub(crate) struct RtmpMessage {
    pub(crate) type_id: u8,
    pub(crate) timestamp: u32,
    pub(crate) body: Bytes,
}

#[derive(Default, Clone)]
struct ChunkStream {
    timestamp: u32,
    delta: u32,
    length: usize,
    type_id: u8,
    partial: Vec<u8>,
}

/// Walks the chunk stream after the 3073-byte handshake of one direction (C0+C1+C2 or
/// S0+S1+S2): chunk types 0–3, extended timestamps, Set Chunk Size. Enough for the captures.
pub(crate) fn rtmp_messages(stream: &[u8]) -> Vec<RtmpMessage> {
    let d = &stream[3073..];
    let mut chunk_size = 128;
    let mut streams: std::collections::HashMap<u32, ChunkStream> = Default::default();
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < d.len() {
        let fmt = d[pos] >> 6;
        let mut csid = u32::from(d[pos] & 0x3f);
        pos += 1;
        if csid == 0 {
            csid = 64 + u32::from(d[pos]);
            pos += 1;
        } else if csid == 1 {
            csid = 64 + u32::from(d[pos]) + 256 * u32::from(d[pos + 1]);
            pos += 2;
        }
        let cs = streams.entry(csid).or_default();
        let mut field = 0;
        if fmt <= 2 {
            field = u32::from_be_bytes([0, d[pos], d[pos + 1], d[pos + 2]]);
            pos += 3;
        }
        if fmt <= 1 {
            cs.length = u32::from_be_bytes([0, d[pos], d[pos + 1], d[pos + 2]]) as usize;
            cs.type_id = d[pos + 3];
            pos += 4;
        }
        if fmt == 0 {
            pos += 4; // message stream id
        }
        if fmt <= 2 && field == 0xff_ffff {
            field = be32(d, pos);
            pos += 4;
        }
        let starting = cs.partial.is_empty();
        match fmt {
            0 => {
                cs.timestamp = field;
                cs.delta = field;
            }
            1 | 2 => {
                cs.delta = field;
                cs.timestamp = cs.timestamp.wrapping_add(field);
            }
            _ if starting => cs.timestamp = cs.timestamp.wrapping_add(cs.delta),
            _ => {}
        }
        let n = (cs.length - cs.partial.len()).min(chunk_size);
        if pos + n > d.len() {
            break; // the capture ends mid-message
        }
        cs.partial.extend_from_slice(&d[pos..pos + n]);
        pos += n;
        if cs.partial.len() == cs.length {
            let body = Bytes::from(std::mem::take(&mut cs.partial));
            if cs.type_id == 1 {
                chunk_size = (be32(&body, 0) & 0x7fff_ffff) as usize;
            }
            out.push(RtmpMessage {
                type_id: cs.type_id,
                timestamp: cs.timestamp,
                body,
            });
        }
    }
    out
}

/// Reads one AMF0 value at `pos`, flattening it into a [`MetaValue`]; returns the next position.
/// ECMA arrays and objects are read into `entries` when given (one level).
fn amf0_value(
    d: &[u8],
    mut pos: usize,
    entries: Option<&mut Vec<(String, MetaValue)>>,
) -> (MetaValue, usize) {
    let marker = d[pos];
    pos += 1;
    match marker {
        0x00 => (
            MetaValue::Number(f64::from_be_bytes(d[pos..pos + 8].try_into().unwrap())),
            pos + 8,
        ),
        0x01 => (MetaValue::Bool(d[pos] != 0), pos + 1),
        0x02 => {
            let len = be16(d, pos);
            let s = String::from_utf8_lossy(&d[pos + 2..pos + 2 + len]).into_owned();
            (MetaValue::String(s), pos + 2 + len)
        }
        0x05 | 0x06 => (MetaValue::Other, pos),
        0x03 | 0x08 => {
            if marker == 0x08 {
                pos += 4;
            }
            let mut local = Vec::new();
            loop {
                let len = be16(d, pos);
                pos += 2;
                if len == 0 && d[pos] == 0x09 {
                    pos += 1;
                    break;
                }
                let key = String::from_utf8_lossy(&d[pos..pos + len]).into_owned();
                let (v, next) = amf0_value(d, pos + len, None);
                local.push((key, v));
                pos = next;
            }
            if let Some(e) = entries {
                e.extend(local);
            }
            (MetaValue::Other, pos)
        }
        other => panic!("AMF0 marker {other:#x} not needed by the captures"),
    }
}

/// The entries of an `@setDataFrame onMetaData {…}` / `onMetaData {…}` data message body.
pub(crate) fn on_metadata(body: &[u8]) -> Vec<(String, MetaValue)> {
    let mut entries = Vec::new();
    let mut pos = 0;
    while pos < body.len() {
        let (v, next) = amf0_value(body, pos, Some(&mut entries));
        let _ = v;
        pos = next;
    }
    entries
}

/// Groups Annex-B NAL units into access units: a new unit starts at an AUD / parameter set /
/// prefix SEI, or at a first slice, once the current unit has a picture.
pub(crate) fn access_units(annexb: &[u8], h265: bool) -> Vec<Vec<Bytes>> {
    let mut units: Vec<Vec<Bytes>> = Vec::new();
    let mut current: Vec<Bytes> = Vec::new();
    let mut has_vcl = false;
    for n in crate::codec::annexb::split_annexb(annexb) {
        let (vcl, first_slice, prefix) = if h265 {
            let t = (n[0] >> 1) & 0x3f;
            (
                t < 32,
                t < 32 && n.get(2).is_some_and(|b| b & 0x80 != 0),
                matches!(t, 32..=35 | 39),
            )
        } else {
            let t = n[0] & 0x1f;
            let vcl = (1..=5).contains(&t);
            (
                vcl,
                vcl && n.get(1).is_some_and(|b| b & 0x80 != 0),
                matches!(t, 6..=9),
            )
        };
        if has_vcl && (prefix || first_slice) {
            units.push(std::mem::take(&mut current));
            has_vcl = false;
        }
        has_vcl |= vcl;
        current.push(Bytes::copy_from_slice(n));
    }
    if !current.is_empty() {
        units.push(current);
    }
    units
}

/// A unit of `track`.
pub(crate) fn unit(track: usize, pts: i64, dts: i64, key: bool, payload: Vec<Bytes>) -> Unit {
    Unit {
        track,
        pts,
        dts,
        key,
        payload: SmallVec::from_vec(payload),
        rtp: SmallVec::new(),
    }
}

/// A demuxed unit: (track, pts, dts, key, payload).
pub(crate) type Got = (usize, i64, i64, bool, Vec<Bytes>);

/// Feeds messages to a demuxer; returns the descriptions and units it produced.
pub(crate) fn demux_all(
    d: &mut FlvDemuxer,
    messages: &[FlvMessage],
) -> (Vec<std::sync::Arc<StreamDescription>>, Vec<Got>) {
    let mut out = Vec::new();
    for m in messages {
        d.push(m.is_video, m.timestamp_ms, &m.body, &mut out)
            .unwrap();
    }
    let mut descs = Vec::new();
    let mut units = Vec::new();
    for o in out {
        match o {
            FlvOutput::Tracks(t) => descs.push(t),
            FlvOutput::Unit {
                track,
                pts,
                dts,
                key,
                payload,
            } => units.push((track, pts, dts, key, payload.to_vec())),
        }
    }
    (descs, units)
}

/// The parameter sets of 4pics.264 and its access units.
pub(crate) fn four_pics() -> (Bytes, Bytes, Vec<Vec<Bytes>>) {
    let aus = access_units(&media("4pics.264"), false);
    let find = |t: u8| {
        aus.iter()
            .flatten()
            .find(|n| n[0] & 0x1f == t)
            .unwrap()
            .clone()
    };
    (find(7), find(8), aus)
}

/// The messages of `units` (headers first, stamped like the first unit), as a reader would get
/// them.
pub(crate) fn mux_all(m: &mut FlvMuxer, units: &[Unit]) -> Vec<FlvMessage> {
    let mut out: Vec<FlvMessage> = m
        .sequence_headers()
        .into_iter()
        .map(|(is_video, body)| FlvMessage {
            is_video,
            timestamp_ms: 0,
            body,
        })
        .collect();
    let headers = out.len();
    for u in units {
        m.push_unit(u, &mut out);
    }
    if let Some(first) = out.get(headers).map(|m| m.timestamp_ms) {
        for h in &mut out[..headers] {
            h.timestamp_ms = first;
        }
    }
    out
}

/// What the RTMP layers do to timestamps: written modulo 2^32, unwrapped by the receiver
/// (starting from the first message's full value, as if the stream had started there).
pub(crate) fn rewrap(messages: &[FlvMessage]) -> Vec<FlvMessage> {
    let mut last: Option<(u32, i64)> = None;
    messages
        .iter()
        .map(|m| {
            let ts32 = m.timestamp_ms as u32;
            let unwrapped = match last {
                None => m.timestamp_ms,
                Some((l, u)) => u + i64::from(ts32.wrapping_sub(l) as i32),
            };
            last = Some((ts32, unwrapped));
            FlvMessage {
                timestamp_ms: unwrapped,
                ..m.clone()
            }
        })
        .collect()
}

/// A demuxer primed with an AVC and an AAC sequence header (announced by metadata).
pub(crate) fn primed() -> (FlvDemuxer, Vec<FlvOutput>) {
    let (sps, pps, _) = four_pics();
    let mut avc = vec![0x17, 0, 0, 0, 0];
    avc.extend_from_slice(&AvcConfig::from_parameter_sets(sps, pps).unwrap().to_bytes());
    let mut d = FlvDemuxer::new();
    d.handle_metadata(&[
        ("videocodecid".into(), MetaValue::Number(7.0)),
        ("audiocodecid".into(), MetaValue::Number(10.0)),
    ]);
    let mut out = Vec::new();
    d.push(true, 0, &Bytes::from(avc), &mut out).unwrap();
    assert!(out.is_empty() && d.description().is_none());
    d.push(false, 0, &Bytes::from_static(b"\xaf\x00\x11\x90"), &mut out)
        .unwrap();
    assert!(matches!(out.as_slice(), [FlvOutput::Tracks(_)]));
    (d, out)
}
