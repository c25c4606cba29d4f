//! The MPEG-TS muxer: units of a stream in, 188-byte transport stream packets out.

use super::adts::AdtsConfig;
use super::packet::{write_pes, write_section, FirstPacket};
use super::pes::{self, to_90khz, STREAM_ID_AUDIO, STREAM_ID_PRIVATE_1, STREAM_ID_VIDEO};
use super::psi::{self, PmtStream};
use super::video::{write_access_unit, ParameterSets, VideoCodec};
use super::{MuxError, FIRST_ES_PID, PAT_PID, PMT_PID, PROGRAM_NUMBER};
use crate::codec::mpeg4audio::AudioSpecificConfig;
use crate::codec::CodecKind;
use crate::media::{StreamDescription, Unit};

/// The largest PES buffer kept between units.
const MAX_KEPT_SCRATCH: usize = 4 << 20;

/// What an elementary stream carries.
#[derive(Debug, Clone)]
enum Payload {
    /// H.264 or H.265 as Annex-B access units.
    Video(VideoCodec, ParameterSets),
    /// AAC access units behind ADTS headers.
    Aac(AdtsConfig),
    /// Opus packets behind opus_control_headers (ETSI TS 103 491).
    Opus,
}

/// One elementary stream of the program.
#[derive(Debug, Clone)]
struct Elementary {
    pid: u16,
    stream_id: u8,
    stream_type: u8,
    /// ES_info descriptors of the PMT.
    descriptors: Vec<u8>,
    /// The continuity counter of the next packet.
    cc: u8,
    clock_rate: u32,
    payload: Payload,
}

/// An MPEG-TS muxer for one stream: one program (number 1), its PMT on PID 0x1000, one
/// elementary stream per carried track on PIDs from 0x100 in track order.
///
/// Carried: H.264, H.265 (stream types 0x1B, 0x24; Annex-B with an access unit delimiter and,
/// before key frames that lack them, the parameter sets from the fmtp or the latest in-band
/// ones), MPEG-4 audio `mpeg4-generic` (stream type 0x0F, one ADTS frame per access unit, all
/// the access units of a unit in one PES packet), Opus (stream type 0x06 with the `Opus`
/// registration descriptor, ETSI TS 103 491, mono or stereo). Other tracks are ignored.
///
/// Timestamps are converted from the track clock to 90 kHz (rounded down) and wrap at 2^33;
/// a DTS is written when it differs from the PTS. The PCR travels in the first packet of every
/// PES packet of the first video track (or of the first track when there is no video) and
/// equals that unit's DTS; `random_access_indicator` marks key units. The PAT and PMT are
/// written before the first unit, before each key frame of the PCR track when it is video, and
/// on [`write_tables`] (call it at each segment start of an audio-only stream).
///
/// [`write_tables`]: TsMuxer::write_tables
#[derive(Debug, Clone)]
pub struct TsMuxer {
    streams: Vec<Elementary>,
    /// Stream description track index → index in `streams`.
    by_track: Vec<Option<usize>>,
    /// Index in `streams` of the PCR carrier.
    pcr: usize,
    pat: Vec<u8>,
    pmt: Vec<u8>,
    pat_cc: u8,
    pmt_cc: u8,
    tables_written: bool,
    /// The tables were just written and no unit followed yet.
    tables_fresh: bool,
    /// Reused PES buffer.
    scratch: Vec<u8>,
}

/// Builds the elementary stream of a track, `None` for tracks MPEG-TS does not carry.
fn elementary(
    desc: &StreamDescription,
    track: usize,
    videos: &mut u8,
    audios: &mut u8,
) -> Result<Option<Elementary>, MuxError> {
    let Some(t) = desc.tracks.get(track) else {
        return Ok(None);
    };
    let fmtp = t.fmtp.as_deref();
    let (payload, stream_id, stream_type, descriptors) = match t.codec {
        CodecKind::H264 | CodecKind::H265 => {
            let (codec, stream_type) = if t.codec == CodecKind::H264 {
                (VideoCodec::H264, psi::STREAM_TYPE_H264)
            } else {
                (VideoCodec::H265, psi::STREAM_TYPE_H265)
            };
            let params = ParameterSets::from_fmtp(codec, fmtp);
            let id = STREAM_ID_VIDEO | (*videos & 0x0F);
            *videos = videos.wrapping_add(1);
            (Payload::Video(codec, params), id, stream_type, Vec::new())
        }
        CodecKind::Mpeg4Audio => {
            let config = fmtp
                .and_then(|f| AudioSpecificConfig::from_fmtp(f).ok())
                .ok_or(MuxError::MissingConfig { track })?;
            let adts = AdtsConfig::from_config(&config)
                .map_err(|what| MuxError::InvalidConfig { track, what })?;
            let id = STREAM_ID_AUDIO | (*audios & 0x1F);
            *audios = audios.wrapping_add(1);
            (
                Payload::Aac(adts),
                id,
                psi::STREAM_TYPE_AAC_ADTS,
                Vec::new(),
            )
        }
        CodecKind::Opus => {
            let channels = t.channels.unwrap_or(2);
            if !(1..=2).contains(&channels) {
                return Err(MuxError::InvalidConfig {
                    track,
                    what: "Opus in MPEG-TS: only mono and stereo are supported",
                });
            }
            // registration_descriptor "Opus", then the DVB extension descriptor carrying the
            // Opus audio descriptor (extension tag 0x80) with its channel_config_code.
            let d = vec![
                0x05,
                4,
                b'O',
                b'p',
                b'u',
                b's',
                0x7F,
                2,
                0x80,
                channels as u8,
            ];
            (
                Payload::Opus,
                STREAM_ID_PRIVATE_1,
                psi::STREAM_TYPE_PRIVATE_PES,
                d,
            )
        }
        _ => return Ok(None),
    };
    Ok(Some(Elementary {
        pid: 0,
        stream_id,
        stream_type,
        descriptors,
        cc: 0,
        clock_rate: t.clock_rate,
        payload,
    }))
}

impl TsMuxer {
    /// A muxer for the tracks of `desc` it can carry. Errors: no such track
    /// ([`MuxError::NoTracks`]), an MPEG-4 audio track without a usable config or with one
    /// ADTS cannot signal, Opus with more than two channels.
    pub fn new(desc: &StreamDescription) -> Result<TsMuxer, MuxError> {
        let mut streams: Vec<Elementary> = Vec::new();
        let mut by_track = vec![None; desc.tracks.len()];
        let (mut videos, mut audios) = (0u8, 0u8);
        for (track, slot) in by_track.iter_mut().enumerate() {
            if let Some(mut es) = elementary(desc, track, &mut videos, &mut audios)? {
                // At most MAX_TRACKS streams: far below the PID space.
                es.pid = FIRST_ES_PID + (streams.len() as u16 & 0x0FFF);
                *slot = Some(streams.len());
                streams.push(es);
            }
        }
        if streams.is_empty() {
            return Err(MuxError::NoTracks);
        }
        let pcr = streams
            .iter()
            .position(|s| matches!(s.payload, Payload::Video(..)))
            .unwrap_or(0);
        let mut pat = Vec::with_capacity(16);
        psi::write_pat(&mut pat, PROGRAM_NUMBER, PMT_PID);
        let entries: Vec<PmtStream<'_>> = streams
            .iter()
            .map(|s| PmtStream {
                stream_type: s.stream_type,
                pid: s.pid,
                descriptors: &s.descriptors,
            })
            .collect();
        let mut pmt = Vec::with_capacity(64);
        psi::write_pmt(&mut pmt, PROGRAM_NUMBER, streams[pcr].pid, &entries);
        Ok(TsMuxer {
            streams,
            by_track,
            pcr,
            pat,
            pmt,
            pat_cc: 0,
            pmt_cc: 0,
            tables_written: false,
            tables_fresh: false,
            scratch: Vec::new(),
        })
    }

    /// The PID carrying track `track` of the description, `None` when it is not carried.
    pub fn pid(&self, track: usize) -> Option<u16> {
        let i = (*self.by_track.get(track)?)?;
        Some(self.streams[i].pid)
    }

    /// The PID carrying the PCR.
    pub fn pcr_pid(&self) -> u16 {
        self.streams[self.pcr].pid
    }

    /// Appends the PAT and the PMT to `out` (one packet each, unless the PMT lists many Opus
    /// streams).
    pub fn write_tables(&mut self, out: &mut Vec<u8>) {
        write_section(out, PAT_PID, &mut self.pat_cc, &self.pat);
        write_section(out, PMT_PID, &mut self.pmt_cc, &self.pmt);
        self.tables_written = true;
        self.tables_fresh = true;
    }

    /// Appends the packets of `unit` to `out` (preceded by the PAT and PMT when due, see the
    /// type docs). Units of tracks this muxer does not carry are ignored (`Ok`). Errors leave
    /// `out` untouched and skip the unit: [`MuxError::EmptyUnit`] when it has no payload,
    /// [`MuxError::UnitTooLarge`] when an AAC access unit exceeds an ADTS frame or an audio
    /// PES packet would exceed 64 KiB.
    pub fn write_unit(&mut self, unit: &Unit, out: &mut Vec<u8>) -> Result<(), MuxError> {
        let Some(index) = self.by_track.get(unit.track).copied().flatten() else {
            return Ok(());
        };
        let mut pes = std::mem::take(&mut self.scratch);
        pes.clear();
        let result = self.build_pes(index, unit, &mut pes);
        if result.is_ok() {
            let video = matches!(self.streams[index].payload, Payload::Video(..));
            let due = !self.tables_written
                || (index == self.pcr && video && unit.key && !self.tables_fresh);
            if due {
                self.write_tables(out);
            }
            let es = &mut self.streams[index];
            let first = FirstPacket {
                pcr: (index == self.pcr).then(|| to_90khz(unit.dts, es.clock_rate)),
                random_access: unit.key,
            };
            write_pes(out, es.pid, &mut es.cc, &pes, first);
            self.tables_fresh = false;
        }
        if pes.capacity() > MAX_KEPT_SCRATCH {
            // Do not keep the memory of one huge unit for the muxer's lifetime.
            pes = Vec::new();
        }
        self.scratch = pes;
        result
    }

    /// Writes the PES packet of `unit` into `pes` (empty on entry).
    fn build_pes(&mut self, index: usize, unit: &Unit, pes: &mut Vec<u8>) -> Result<(), MuxError> {
        let track = unit.track;
        let es = &mut self.streams[index];
        let pts = to_90khz(unit.pts, es.clock_rate);
        let dts = to_90khz(unit.dts, es.clock_rate);
        let video = matches!(es.payload, Payload::Video(..));
        let dts = (video && dts != pts).then_some(dts);
        let header_len = pes::header_len(dts.is_some());
        pes.resize(header_len, 0);
        let mut pieces = unit.payload.iter().filter(|p| !p.is_empty()).peekable();
        if pieces.peek().is_none() {
            return Err(MuxError::EmptyUnit { track });
        }
        match &mut es.payload {
            Payload::Video(codec, params) => {
                write_access_unit(*codec, params, &unit.payload, unit.key, pes);
            }
            Payload::Aac(adts) => {
                for piece in pieces {
                    let h = adts
                        .header(piece.len())
                        .ok_or(MuxError::UnitTooLarge { track })?;
                    pes.extend_from_slice(&h);
                    pes.extend_from_slice(piece);
                    if pes.len() > usize::from(u16::MAX) {
                        return Err(MuxError::UnitTooLarge { track });
                    }
                }
            }
            Payload::Opus => {
                for piece in pieces {
                    if piece.len() > usize::from(u16::MAX) {
                        return Err(MuxError::UnitTooLarge { track });
                    }
                    // control_header_prefix 0x3FF, no trim, no extension; then au_size.
                    pes.extend_from_slice(&[0x7F, 0xE0]);
                    pes.resize(pes.len() + piece.len() / 255, 0xFF);
                    pes.push((piece.len() % 255) as u8);
                    pes.extend_from_slice(piece);
                }
            }
        }
        let (h, len) = pes::header(es.stream_id, pts, dts, pes.len() - header_len, video)
            .ok_or(MuxError::UnitTooLarge { track })?;
        pes[..len].copy_from_slice(&h[..len]);
        Ok(())
    }
}
