//! Transport stream packets (ISO/IEC 13818-1 §2.4.3.2): a PES packet or a PSI section split
//! into 188-byte packets, with the adaptation field carrying the PCR, the random access
//! indicator and stuffing.

/// The size of a transport stream packet.
pub const PACKET_SIZE: usize = 188;
/// The first byte of every transport stream packet.
pub const SYNC_BYTE: u8 = 0x47;
/// Payload bytes of a packet without adaptation field.
const PAYLOAD_SIZE: usize = PACKET_SIZE - 4;

/// What the adaptation field of the first packet of a PES packet carries.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct FirstPacket {
    /// The program clock reference base (90 kHz, 33 bits), on the PCR PID.
    pub pcr: Option<u64>,
    /// Sets random_access_indicator (a key frame starts in this packet).
    pub random_access: bool,
}

/// Writes the 4-byte packet header; `adaptation` says whether an adaptation field follows.
fn header(out: &mut Vec<u8>, pid: u16, start: bool, adaptation: bool, cc: u8) {
    let afc = if adaptation { 0x30 } else { 0x10 };
    out.extend_from_slice(&[
        SYNC_BYTE,
        (u8::from(start) << 6) | ((pid >> 8) as u8 & 0x1F),
        pid as u8,
        afc | (cc & 0x0F),
    ]);
}

/// The 6-byte PCR field: 33-bit base, 6 reserved bits, 9-bit extension (0).
fn pcr_field(base: u64) -> [u8; 6] {
    let b = base & ((1 << 33) - 1);
    [
        (b >> 25) as u8,
        (b >> 17) as u8,
        (b >> 9) as u8,
        (b >> 1) as u8,
        ((b as u8 & 1) << 7) | 0x7E,
        0x00,
    ]
}

/// Appends the packets of one PES packet on `pid`, advancing the continuity counter `cc`.
/// The last packet is filled up with adaptation-field stuffing.
pub(super) fn write_pes(out: &mut Vec<u8>, pid: u16, cc: &mut u8, pes: &[u8], first: FirstPacket) {
    out.reserve((pes.len() / PAYLOAD_SIZE + 2) * PACKET_SIZE);
    let mut rest = pes;
    let mut is_first = true;
    loop {
        let (pcr, random_access) = if is_first {
            (first.pcr, first.random_access)
        } else {
            (None, false)
        };
        // Length byte + flags byte + PCR, when anything must be signalled.
        let required = if pcr.is_some() || random_access {
            2 + if pcr.is_some() { 6 } else { 0 }
        } else {
            0
        };
        let take = rest.len().min(PAYLOAD_SIZE - required);
        let adaptation = PAYLOAD_SIZE - take;
        header(out, pid, is_first, adaptation > 0, *cc);
        if adaptation > 0 {
            // adaptation_field_length: the bytes after it.
            out.push((adaptation - 1) as u8);
            if adaptation >= 2 {
                out.push((u8::from(random_access) << 6) | (u8::from(pcr.is_some()) << 4));
                let mut used = 2;
                if let Some(pcr) = pcr {
                    out.extend_from_slice(&pcr_field(pcr));
                    used += 6;
                }
                out.resize(out.len() + (adaptation - used), 0xFF);
            }
        }
        out.extend_from_slice(&rest[..take]);
        rest = &rest[take..];
        *cc = (*cc + 1) & 0x0F;
        is_first = false;
        if rest.is_empty() {
            return;
        }
    }
}

/// Appends the packets of one PSI section on `pid` (pointer_field 0 in the first packet; the
/// last packet is filled up with 0xFF), advancing the continuity counter `cc`.
pub(super) fn write_section(out: &mut Vec<u8>, pid: u16, cc: &mut u8, section: &[u8]) {
    let total = section.len() + 1;
    let packets = total.div_ceil(PAYLOAD_SIZE).max(1);
    out.reserve(packets * PACKET_SIZE);
    let mut rest = section;
    for i in 0..packets {
        header(out, pid, i == 0, false, *cc);
        let mut room = PAYLOAD_SIZE;
        if i == 0 {
            out.push(0x00); // pointer_field
            room -= 1;
        }
        let take = rest.len().min(room);
        out.extend_from_slice(&rest[..take]);
        rest = &rest[take..];
        out.resize(out.len() + (room - take), 0xFF);
        *cc = (*cc + 1) & 0x0F;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcr_encoding() {
        // base 0x1_8000_0001: top bit in byte 0, lowest bit in byte 4.
        assert_eq!(
            pcr_field(0x1_8000_0001),
            [0xC0, 0x00, 0x00, 0x00, 0xFE, 0x00]
        );
        assert_eq!(pcr_field(0), [0, 0, 0, 0, 0x7E, 0]);
    }

    #[test]
    fn small_pes_with_pcr_is_stuffed() {
        let mut out = Vec::new();
        let mut cc = 15;
        let pes = [0xAB; 10];
        let first = FirstPacket {
            pcr: Some(90_000),
            random_access: true,
        };
        write_pes(&mut out, 0x100, &mut cc, &pes, first);
        assert_eq!(out.len(), PACKET_SIZE);
        assert_eq!(cc, 0);
        assert_eq!(&out[..4], &[0x47, 0x41, 0x00, 0x3F]);
        assert_eq!(out[4] as usize, 183 - 10); // adaptation_field_length
        assert_eq!(out[5], 0x50); // random_access_indicator + PCR_flag
        assert_eq!(&out[6..12], &pcr_field(90_000));
        assert!(out[12..178].iter().all(|&b| b == 0xFF));
        assert_eq!(&out[178..], &pes);
    }

    #[test]
    fn one_byte_of_stuffing_is_an_empty_adaptation_field() {
        let mut out = Vec::new();
        let mut cc = 0;
        write_pes(&mut out, 0x101, &mut cc, &[1; 183], FirstPacket::default());
        assert_eq!(out.len(), PACKET_SIZE);
        assert_eq!(&out[..5], &[0x47, 0x41, 0x01, 0x30, 0x00]);
        let mut out = Vec::new();
        write_pes(
            &mut out,
            0x101,
            &mut cc,
            &[1; 184 + 182],
            FirstPacket::default(),
        );
        assert_eq!(out.len(), 2 * PACKET_SIZE);
        assert_eq!(&out[..4], &[0x47, 0x41, 0x01, 0x11]);
        // Second packet: 182 bytes of payload, a 2-byte adaptation field (length 1, flags 0).
        assert_eq!(&out[188..194], &[0x47, 0x01, 0x01, 0x32, 0x01, 0x00]);
        assert_eq!(cc, 3);
    }

    #[test]
    fn sections_are_padded_with_ff() {
        let mut out = Vec::new();
        let mut cc = 0;
        write_section(&mut out, 0, &mut cc, &[0x00, 0xB0, 0x0D]);
        assert_eq!(out.len(), PACKET_SIZE);
        assert_eq!(&out[..8], &[0x47, 0x40, 0x00, 0x10, 0x00, 0x00, 0xB0, 0x0D]);
        assert!(out[8..].iter().all(|&b| b == 0xFF));
        let mut out = Vec::new();
        write_section(&mut out, 0x1000, &mut cc, &[0x02; 300]);
        assert_eq!(out.len(), 2 * PACKET_SIZE);
        assert_eq!(&out[188..192], &[0x47, 0x10, 0x00, 0x12]);
    }
}
