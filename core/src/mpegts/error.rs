//! The error type shared by the MPEG-TS and fMP4 muxers.

use crate::error::Blame;

/// Why a muxer could not be built or could not mux a unit. Muxers take units from untrusted
/// publishers: every problem with the input is one of these, never a panic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MuxError {
    /// The stream description has no track this muxer can carry.
    NoTracks,
    /// An MPEG-4 audio track has no (valid) AudioSpecificConfig in its fmtp.
    MissingConfig {
        /// The track's index in the stream description.
        track: usize,
    },
    /// An H.264/H.265 track has no SPS/PPS (and VPS) in its fmtp (needed by the fMP4 init
    /// segment; the MPEG-TS muxer carries parameter sets in band instead).
    MissingParameterSets {
        /// The track's index in the stream description.
        track: usize,
    },
    /// A track's configuration cannot be written in this container.
    InvalidConfig {
        /// The track's index in the stream description.
        track: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// A unit has no payload to mux (it was skipped).
    EmptyUnit {
        /// The track's index in the stream description.
        track: usize,
    },
    /// A unit (or one of its pieces) is larger than the container can frame (it was skipped).
    UnitTooLarge {
        /// The track's index in the stream description.
        track: usize,
    },
    /// A fragment names an fMP4 track id that the init segment does not have.
    UnknownTrack(u32),
    /// A fragment's first decoding timestamp is negative (`tfdt` is unsigned).
    NegativeTimestamp {
        /// The fMP4 track id.
        track_id: u32,
    },
    /// A composition offset (pts − dts) does not fit the 32-bit field of `trun`.
    TimestampOutOfRange {
        /// The fMP4 track id.
        track_id: u32,
    },
    /// The media data of a fragment exceeds 2 GiB (trun data offsets are 32-bit signed).
    FragmentTooLarge,
}

impl MuxError {
    /// Who is to blame: the publisher's data, or a limit of the container.
    pub fn blame(&self) -> Blame {
        match self {
            MuxError::NoTracks | MuxError::InvalidConfig { .. } => Blame::Unsupported,
            MuxError::UnitTooLarge { .. } | MuxError::FragmentTooLarge => Blame::Limit,
            MuxError::UnknownTrack(_) => Blame::PeerMisbehaved,
            MuxError::MissingConfig { .. }
            | MuxError::MissingParameterSets { .. }
            | MuxError::EmptyUnit { .. }
            | MuxError::NegativeTimestamp { .. }
            | MuxError::TimestampOutOfRange { .. } => Blame::Malformed,
        }
    }
}

impl std::fmt::Display for MuxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MuxError::NoTracks => f.write_str("no track can be muxed"),
            MuxError::MissingConfig { track } => {
                write!(f, "track {track}: no MPEG-4 audio config")
            }
            MuxError::MissingParameterSets { track } => {
                write!(f, "track {track}: parameter sets are missing")
            }
            MuxError::InvalidConfig { track, what } => write!(f, "track {track}: {what}"),
            MuxError::EmptyUnit { track } => write!(f, "track {track}: empty unit"),
            MuxError::UnitTooLarge { track } => write!(f, "track {track}: unit too large"),
            MuxError::UnknownTrack(id) => write!(f, "unknown fMP4 track id {id}"),
            MuxError::NegativeTimestamp { track_id } => {
                write!(f, "fMP4 track {track_id}: negative decoding timestamp")
            }
            MuxError::TimestampOutOfRange { track_id } => {
                write!(f, "fMP4 track {track_id}: composition offset out of range")
            }
            MuxError::FragmentTooLarge => f.write_str("fragment too large"),
        }
    }
}

impl std::error::Error for MuxError {}
