//! MPEG-4 Audio (AAC) over RTP, RFC 3640 `mpeg4-generic` (AAC-hbr and the generic AU header
//! layouts): depacketizer, packetizer, fmtp parameters and the AudioSpecificConfig.

mod config;
mod depacketizer;
mod packetizer;
mod params;
#[cfg(test)]
mod tests;

pub use config::AudioSpecificConfig;
pub use depacketizer::Mpeg4AudioDepacketizer;
pub use packetizer::Mpeg4AudioPacketizer;
pub use params::Mpeg4AudioParams;
