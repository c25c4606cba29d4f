//! The reader side of an RTMP play session: a stream's units as FLV messages on the
//! connection, timestamps starting at 0. Both runtime adapters use it.

use super::DirectMessage;
use super::{MediaKind, RtmpServerConnection};
use crate::flv::{FlvMuxer, MetaValue, Planned};
use crate::media::{PathError, StreamDescription, Unit};
use crate::rtmp::Amf0Value;
use smallvec::SmallVec;

/// "2 tracks (H264, MPEG-4 Audio)", as the log lines say it.
pub fn tracks_text(desc: &StreamDescription) -> String {
    format!("{} ({})", desc.track_count_text(), desc.codec_list())
}

fn amf_value(v: &MetaValue) -> Option<Amf0Value> {
    match v {
        MetaValue::Number(n) => Some(Amf0Value::Number(*n)),
        MetaValue::Bool(b) => Some(Amf0Value::Boolean(*b)),
        MetaValue::String(s) => Some(Amf0Value::String(s.clone())),
        MetaValue::Other => None,
    }
}

/// Turns one stream's units into media messages for one playing connection.
#[derive(Debug)]
pub struct RtmpPlayer {
    muxer: FlvMuxer,
    /// The stream time (ms) of the first message: the reader's timestamps start at 0 there,
    /// like the metadata and sequence headers sent at PLAY.
    base_ms: Option<i64>,
}

impl RtmpPlayer {
    /// Answers the connection's pending [`super::RtmpEvent::Play`] for a stream of `desc`:
    /// on success writes `onMetaData` and the known sequence headers and logs the "is reading"
    /// line; a stream with no track RTMP can carry is refused (the caller then releases the
    /// reader slot it took).
    pub fn start(
        conn: &mut RtmpServerConnection,
        path: &str,
        desc: &StreamDescription,
    ) -> Result<RtmpPlayer, PathError> {
        let mut muxer = match FlvMuxer::new(desc) {
            Ok(m) => m,
            Err(_) => {
                let e = PathError::NoCompatibleTracks(path.to_owned());
                conn.answer_play(Err(e.clone()));
                return Err(e);
            }
        };
        conn.answer_play(Ok(()));
        let meta: Vec<(String, Amf0Value)> = muxer
            .metadata()
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), amf_value(v)?)))
            .collect();
        let mut body = Vec::with_capacity(256);
        let on_meta = [
            Amf0Value::String("onMetaData".into()),
            Amf0Value::EcmaArray(meta),
        ];
        if on_meta.iter().all(|v| v.write(&mut body).is_ok()) {
            conn.write_media(MediaKind::Data, 0, &body);
        }
        for (is_video, header) in muxer.sequence_headers() {
            let kind = if is_video {
                MediaKind::Video
            } else {
                MediaKind::Audio
            };
            conn.write_media(kind, 0, &header);
        }
        let mut carried = StreamDescription { tracks: Vec::new() };
        for t in [muxer.video_track(), muxer.audio_track()]
            .into_iter()
            .flatten()
        {
            carried.tracks.push(desc.tracks[t].clone());
        }
        conn.log_reading(&tracks_text(&carried));
        Ok(RtmpPlayer {
            muxer,
            base_ms: None,
        })
    }

    /// Writes the messages of one unit (none for tracks not carried, or before the first key
    /// frame). Audio that precedes the first message in time is dropped: squashing it onto 0
    /// would break its timing. Allocates nothing once the muxer's scratch buffer has grown.
    pub fn write_unit(&mut self, conn: &mut RtmpServerConnection, unit: &Unit) {
        let base_ms = &mut self.base_ms;
        self.muxer
            .push_unit_with(unit, |is_video, timestamp_ms, body| {
                let kind = if is_video {
                    MediaKind::Video
                } else {
                    MediaKind::Audio
                };
                let base = *base_ms.get_or_insert(timestamp_ms);
                if timestamp_ms >= base {
                    conn.write_media(kind, (timestamp_ms - base) as u32, body);
                }
            });
    }

    /// [`Self::write_unit`] for writers that send media straight from the ring: sequence
    /// headers still go through `conn` (drain [`RtmpServerConnection::poll_transmit`] before
    /// writing what comes next), the media messages are appended to `out`.
    pub fn plan_unit(
        &mut self,
        conn: &mut RtmpServerConnection,
        unit: &Unit,
        out: &mut SmallVec<[DirectMessage; 2]>,
    ) {
        let base_ms = &mut self.base_ms;
        self.muxer.plan_unit(unit, |p| {
            let timestamp_ms = match &p {
                Planned::Header { timestamp_ms, .. } => *timestamp_ms,
                Planned::Message(m) => m.timestamp_ms,
            };
            let base = *base_ms.get_or_insert(timestamp_ms);
            if timestamp_ms < base {
                return;
            }
            let rel = (timestamp_ms - base) as u32;
            match p {
                Planned::Header { is_video, body, .. } => {
                    let kind = if is_video {
                        MediaKind::Video
                    } else {
                        MediaKind::Audio
                    };
                    conn.write_media(kind, rel, body);
                }
                Planned::Message(m) => {
                    if let Some(d) = conn.direct_media(m, unit, rel) {
                        out.push(d);
                    }
                }
            }
        });
    }
}
