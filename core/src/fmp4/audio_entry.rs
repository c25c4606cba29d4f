//! Audio sample entries: `mp4a` with its `esds` (ISO/IEC 14496-14 §5.6, descriptors of
//! ISO/IEC 14496-1 §7.2.6) and `Opus` with its `dOps` (Encapsulation of Opus in ISO Base Media
//! File Format §4.3).

use super::boxes::{begin, begin_full, end, put_u16, put_u32, put_zeros};

/// Appends a descriptor tag and its size in the expandable form (7 bits per byte, shortest).
fn put_descriptor_header(buf: &mut Vec<u8>, tag: u8, size: usize) {
    buf.push(tag);
    let mut groups = [0u8; 4];
    let mut n = 0;
    let mut s = size.min((1 << 28) - 1);
    loop {
        groups[n] = (s & 0x7F) as u8;
        n += 1;
        s >>= 7;
        if s == 0 {
            break;
        }
    }
    for i in (0..n).rev() {
        buf.push(groups[i] | if i > 0 { 0x80 } else { 0 });
    }
}

/// Appends an `esds` box for MPEG-4 audio (objectTypeIndication 0x40) whose
/// DecoderSpecificInfo is the AudioSpecificConfig `config`.
pub(super) fn write_esds(buf: &mut Vec<u8>, config: &[u8]) -> Result<(), &'static str> {
    if config.len() > 1024 {
        return Err("AudioSpecificConfig too large");
    }
    let dsi = 1 + header_size(config.len()) + config.len();
    let dcd_body = 13 + dsi;
    let dcd = 1 + header_size(dcd_body) + dcd_body;
    let es_body = 3 + dcd + 3;
    let start = begin_full(buf, b"esds", 0, 0);
    put_descriptor_header(buf, 0x03, es_body); // ES_Descriptor
    put_u16(buf, 0); // ES_ID (0 in files)
    buf.push(0); // no dependency, URL or OCR stream; priority 0
    put_descriptor_header(buf, 0x04, dcd_body); // DecoderConfigDescriptor
    buf.push(0x40); // objectTypeIndication: Audio ISO/IEC 14496-3
    buf.push((0x05 << 2) | 1); // streamType audio, upStream 0, reserved 1
    put_zeros(buf, 3); // bufferSizeDB
    put_u32(buf, 0); // maxBitrate
    put_u32(buf, 0); // avgBitrate
    put_descriptor_header(buf, 0x05, config.len()); // DecoderSpecificInfo
    buf.extend_from_slice(config);
    put_descriptor_header(buf, 0x06, 1); // SLConfigDescriptor
    buf.push(0x02); // predefined: MP4 files
    end(buf, start);
    Ok(())
}

/// The size of a descriptor size field for `size`.
fn header_size(size: usize) -> usize {
    match size {
        0..=0x7F => 1,
        0x80..=0x3FFF => 2,
        0x4000..=0x1F_FFFF => 3,
        _ => 4,
    }
}

/// Appends a `dOps` box for a mono or stereo stream (ChannelMappingFamily 0, pre-skip and
/// gain 0: RTP carries neither).
pub(super) fn write_dops(buf: &mut Vec<u8>, channels: u8, input_sample_rate: u32) {
    let start = begin(buf, b"dOps");
    buf.push(0); // Version
    buf.push(channels); // OutputChannelCount
    put_u16(buf, 0); // PreSkip
    put_u32(buf, input_sample_rate);
    put_u16(buf, 0); // OutputGain
    buf.push(0); // ChannelMappingFamily
    end(buf, start);
}

/// Appends an AudioSampleEntry (§12.2.3) of type `kind` whose configuration box `config`
/// writes. A sample rate above 65535 Hz does not fit the 16.16 field and is written as 0
/// (the configuration box is authoritative).
pub(super) fn write_audio_entry(
    buf: &mut Vec<u8>,
    kind: &[u8; 4],
    channels: u16,
    sample_rate: u32,
    config: impl FnOnce(&mut Vec<u8>) -> Result<(), &'static str>,
) -> Result<(), &'static str> {
    let start = begin(buf, kind);
    put_zeros(buf, 6); // reserved
    put_u16(buf, 1); // data_reference_index
    put_zeros(buf, 8); // reserved
    put_u16(buf, channels);
    put_u16(buf, 16); // samplesize
    put_u16(buf, 0); // pre_defined
    put_u16(buf, 0); // reserved
    let rate = if sample_rate <= 0xFFFF {
        sample_rate << 16
    } else {
        0
    };
    put_u32(buf, rate);
    config(buf)?;
    end(buf, start);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esds_is_byte_exact() {
        let mut buf = Vec::new();
        write_esds(&mut buf, &[0x12, 0x10]).unwrap();
        #[rustfmt::skip]
        let expected = [
            0, 0, 0, 39, b'e', b's', b'd', b's', 0, 0, 0, 0,
            0x03, 25, 0, 0, 0,
            0x04, 17, 0x40, 0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0x05, 2, 0x12, 0x10,
            0x06, 1, 0x02,
        ];
        assert_eq!(buf, expected);
    }

    #[test]
    fn descriptor_sizes_use_the_expandable_form() {
        let mut buf = Vec::new();
        put_descriptor_header(&mut buf, 5, 0x80);
        assert_eq!(buf, [5, 0x81, 0x00]);
        let config = vec![0x12; 200];
        let mut buf = Vec::new();
        write_esds(&mut buf, &config).unwrap();
        assert_eq!(
            buf.len(),
            u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize
        );
        // ES body: 3 + (1 + 2 + 13 + (1 + 2 + 200)) + 3 = 225 = 0x81 0x61.
        assert_eq!(&buf[12..15], &[0x03, 0x81, 0x61]);
        assert!(write_esds(&mut Vec::new(), &[0; 2000]).is_err());
        for size in [0, 0x7F, 0x80, 0x3FFF, 0x4000, 0x1F_FFFF, 0x20_0000] {
            let mut b = Vec::new();
            put_descriptor_header(&mut b, 1, size);
            assert_eq!(b.len(), 1 + header_size(size), "{size}");
        }
    }

    #[test]
    fn dops_is_byte_exact() {
        let mut buf = Vec::new();
        write_dops(&mut buf, 2, 48_000);
        assert_eq!(
            buf,
            [0, 0, 0, 19, b'd', b'O', b'p', b's', 0, 2, 0, 0, 0, 0, 0xBB, 0x80, 0, 0, 0]
        );
    }
}
