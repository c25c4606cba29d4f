//! A Low-Latency HLS part (partial segment): one `moof` + `mdat` fragment of a segment.

use bytes::Bytes;

/// One complete part: its media time, whether it starts with a key frame, and its bytes as
/// shared chunks (the segment that contains it references the same chunks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Part {
    /// The part number, counted over the whole stream (`part<id>.mp4`).
    pub id: u64,
    /// The duration in nanoseconds.
    pub duration_ns: i64,
    /// Whether its first video frame is a key frame (or the stream is audio-only):
    /// `INDEPENDENT=YES`.
    pub independent: bool,
    /// The fragment, as chunks to send in order.
    pub body: Vec<Bytes>,
}

impl Part {
    /// The file name the playlists use for this part.
    pub fn file_name(&self) -> String {
        part_file_name(self.id)
    }
}

/// The file name of part `id` (also the name a preload hint announces before it exists).
pub(super) fn part_file_name(id: u64) -> String {
    format!("part{id}.mp4")
}
