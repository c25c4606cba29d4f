//! The publisher side of an RTMP publish session: FLV message bodies in, tracks and units out.
//! Both runtime adapters use it.

use super::{MediaKind, RtmpServerConnection};
use crate::flv::{FlvDemuxer, FlvOutput, MetaValue};
use crate::rtmp::Amf0Value;
use bytes::Bytes;

/// An `onMetaData` value reduced to what the FLV demuxer reads.
pub(crate) fn meta_value(v: &Amf0Value) -> MetaValue {
    match v {
        Amf0Value::Number(n) => MetaValue::Number(*n),
        Amf0Value::Boolean(b) => MetaValue::Bool(*b),
        Amf0Value::String(s) => MetaValue::String(s.clone()),
        _ => MetaValue::Other,
    }
}

/// Demuxes one publisher's media messages.
#[derive(Debug)]
pub struct RtmpPublisher {
    demuxer: FlvDemuxer,
    outputs: Vec<FlvOutput>,
    /// Whether an invalid message was already logged (once per publisher).
    warned: bool,
}

impl Default for RtmpPublisher {
    fn default() -> Self {
        RtmpPublisher::new()
    }
}

impl RtmpPublisher {
    /// A publisher that has sent nothing yet.
    pub fn new() -> RtmpPublisher {
        RtmpPublisher {
            demuxer: FlvDemuxer::new(),
            outputs: Vec::with_capacity(4),
            warned: false,
        }
    }

    /// Takes the publisher's `onMetaData` entries (codec hints for the demuxer).
    pub fn handle_metadata(&mut self, entries: &[(String, Amf0Value)]) {
        let meta: Vec<(String, MetaValue)> = entries
            .iter()
            .map(|(k, v)| (k.clone(), meta_value(v)))
            .collect();
        self.demuxer.handle_metadata(&meta);
    }

    /// Demuxes one media message of `conn` and hands what it produced, in order, to `f`
    /// (new tracks, units). An invalid message is dropped and logged once.
    pub fn handle_media(
        &mut self,
        conn: &RtmpServerConnection,
        kind: MediaKind,
        timestamp_ms: i64,
        body: &Bytes,
        mut f: impl FnMut(FlvOutput),
    ) {
        let is_video = match kind {
            MediaKind::Video => true,
            MediaKind::Audio => false,
            MediaKind::Data => return,
        };
        self.outputs.clear();
        if let Err(e) = self
            .demuxer
            .push(is_video, timestamp_ms, body, &mut self.outputs)
        {
            if !self.warned {
                self.warned = true;
                tracing::warn!("{} invalid media message: {e:?}", conn.log_prefix());
            }
        }
        for out in self.outputs.drain(..) {
            f(out);
        }
    }
}
