//! Program-specific information (ISO/IEC 13818-1 §2.4.4): the program association table (PAT)
//! and the program map table (PMT) of a single-program transport stream.

use super::crc::crc32_mpeg2;

/// table_id of a program association section.
pub const TABLE_ID_PAT: u8 = 0x00;
/// table_id of a TS program map section.
pub const TABLE_ID_PMT: u8 = 0x02;

/// stream_type of an H.264 video stream (Table 2-34).
pub const STREAM_TYPE_H264: u8 = 0x1B;
/// stream_type of an H.265 video stream.
pub const STREAM_TYPE_H265: u8 = 0x24;
/// stream_type of ISO/IEC 13818-7 audio with ADTS transport syntax (AAC).
pub const STREAM_TYPE_AAC_ADTS: u8 = 0x0F;
/// stream_type of PES packets containing private data (Opus, with its descriptors).
pub const STREAM_TYPE_PRIVATE_PES: u8 = 0x06;

/// One elementary stream of a PMT.
#[derive(Debug, Clone, Copy)]
pub(super) struct PmtStream<'a> {
    /// stream_type.
    pub stream_type: u8,
    /// elementary_PID.
    pub pid: u16,
    /// The ES_info descriptors, already encoded (tag, length, body…).
    pub descriptors: &'a [u8],
}

/// Writes the common long-form section header; returns the section's start in `out`.
fn begin_section(out: &mut Vec<u8>, table_id: u8, table_id_extension: u16) -> usize {
    let start = out.len();
    out.push(table_id);
    // section_syntax_indicator 1, '0', reserved '11', section_length patched at the end.
    out.extend_from_slice(&[0xB0, 0x00]);
    out.extend_from_slice(&table_id_extension.to_be_bytes());
    // reserved '11', version_number 0, current_next_indicator 1.
    out.push(0xC1);
    out.push(0x00); // section_number
    out.push(0x00); // last_section_number
    start
}

/// Patches section_length and appends the CRC.
fn finish_section(out: &mut Vec<u8>, start: usize) {
    // Bytes after the length field, CRC included. At most 1021 for the tables built here
    // (a PMT of 16 streams with 10-byte descriptors is 253 bytes).
    let len = (out.len() - start - 3 + 4) & 0x0FFF;
    out[start + 1] = 0xB0 | (len >> 8) as u8;
    out[start + 2] = len as u8;
    let crc = crc32_mpeg2(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// Appends a PAT section mapping `program_number` to `pmt_pid` (transport_stream_id 1).
pub(super) fn write_pat(out: &mut Vec<u8>, program_number: u16, pmt_pid: u16) {
    let start = begin_section(out, TABLE_ID_PAT, 1);
    out.extend_from_slice(&program_number.to_be_bytes());
    out.extend_from_slice(&pid_field(pmt_pid));
    finish_section(out, start);
}

/// Appends a PMT section for `program_number` with `pcr_pid` and `streams`.
pub(super) fn write_pmt(
    out: &mut Vec<u8>,
    program_number: u16,
    pcr_pid: u16,
    streams: &[PmtStream<'_>],
) {
    let start = begin_section(out, TABLE_ID_PMT, program_number);
    out.extend_from_slice(&pid_field(pcr_pid));
    out.extend_from_slice(&[0xF0, 0x00]); // reserved '1111', program_info_length 0
    for s in streams {
        out.push(s.stream_type);
        out.extend_from_slice(&pid_field(s.pid));
        // Descriptors come from this crate and are a few bytes long.
        let len = s.descriptors.len().min(0x3FF);
        out.push(0xF0 | (len >> 8) as u8);
        out.push(len as u8);
        out.extend_from_slice(&s.descriptors[..len]);
    }
    finish_section(out, start);
}

/// A 13-bit PID preceded by three reserved '1' bits.
fn pid_field(pid: u16) -> [u8; 2] {
    [0xE0 | ((pid >> 8) as u8 & 0x1F), pid as u8]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pat_is_byte_exact() {
        let mut out = Vec::new();
        write_pat(&mut out, 1, 0x1000);
        // CRC computed independently (bitwise CRC-32/MPEG-2); the same bytes ffmpeg writes.
        assert_eq!(
            out,
            [
                0x00, 0xB0, 0x0D, 0x00, 0x01, 0xC1, 0x00, 0x00, 0x00, 0x01, 0xF0, 0x00, 0x2A, 0xB1,
                0x04, 0xB2
            ]
        );
    }

    #[test]
    fn pmt_h264_aac_is_byte_exact() {
        let mut out = Vec::new();
        let streams = [
            PmtStream {
                stream_type: STREAM_TYPE_H264,
                pid: 0x100,
                descriptors: &[],
            },
            PmtStream {
                stream_type: STREAM_TYPE_AAC_ADTS,
                pid: 0x101,
                descriptors: &[],
            },
        ];
        write_pmt(&mut out, 1, 0x100, &streams);
        assert_eq!(
            out,
            [
                0x02, 0xB0, 0x17, 0x00, 0x01, 0xC1, 0x00, 0x00, 0xE1, 0x00, 0xF0, 0x00, 0x1B, 0xE1,
                0x00, 0xF0, 0x00, 0x0F, 0xE1, 0x01, 0xF0, 0x00, 0x2F, 0x44, 0xB9, 0x9B
            ]
        );
        assert_eq!(crc32_mpeg2(&out), 0);
    }

    #[test]
    fn pmt_with_descriptors() {
        let mut out = Vec::new();
        let desc = [0x05, 0x04, b'O', b'p', b'u', b's'];
        let streams = [PmtStream {
            stream_type: STREAM_TYPE_PRIVATE_PES,
            pid: 0x100,
            descriptors: &desc,
        }];
        write_pmt(&mut out, 1, 0x100, &streams);
        assert_eq!(out[2] as usize, out.len() - 3);
        assert_eq!(&out[12..17], &[0x06, 0xE1, 0x00, 0xF0, 0x06]);
        assert_eq!(&out[17..23], &desc);
        assert_eq!(crc32_mpeg2(&out), 0);
    }
}
