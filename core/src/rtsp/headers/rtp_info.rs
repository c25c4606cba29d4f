//! The `RTP-Info` header (RFC 2326 §12.33): per-stream sequence number and RTP time at PLAY.
//!
//! Parsing is lenient: a comma only starts a new entry when `url=` follows it (so URLs may hold
//! commas), a `seq` or `rtptime` that is not a valid number reads as absent (Wowza has sent
//! `rtptime=-1`), `ssrc` (RFC 7826, Reolink) is ignored, other pieces right after the URL are
//! part of it, and empty parameters (a trailing `;`) are skipped.

use super::{name_value, HeaderError};
use std::fmt::Write as _;

/// One stream's entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpInfoEntry {
    /// The stream URL (absolute, or relative to the request URL as some cameras send it).
    pub url: String,
    /// The sequence number of the first packet sent after PLAY.
    pub seq: Option<u16>,
    /// The RTP timestamp corresponding to the start of the Range.
    pub rtptime: Option<u32>,
}

/// Builds the error for this header.
fn bad(reason: &'static str) -> HeaderError {
    HeaderError {
        header: "RTP-Info",
        reason,
    }
}

/// Whether `piece` starts with `url=` (case-insensitive, spaces allowed).
fn starts_entry(piece: &str) -> bool {
    let (name, value) = name_value(piece);
    value.is_some() && name.eq_ignore_ascii_case("url")
}

/// Parses a decimal number of type `T`, or `None`.
fn number<T: std::str::FromStr>(v: Option<&str>) -> Option<T> {
    v.filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse().ok())
}

/// Parses one entry: `url=…;seq=…;rtptime=…` in any parameter order. Pieces right after the
/// URL that are not `seq`, `rtptime` or `ssrc` belong to the URL (which may hold semicolons).
fn parse_entry(entry: &str) -> Result<RtpInfoEntry, HeaderError> {
    let (mut url, mut seq, mut rtptime): (Option<String>, _, _) = (None, None, None);
    let mut in_url = false;
    for piece in entry.split(';').filter(|p| !p.trim().is_empty()) {
        let (name, value) = name_value(piece);
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        if is("seq") {
            seq = number(value);
        } else if is("rtptime") {
            rtptime = number(value);
        } else if is("ssrc") {
            // RFC 7826 adds it; weir learns the SSRC from the packets.
        } else if is("url") && value.is_some() && url.is_none() {
            url = value.map(str::to_owned);
            in_url = true;
            continue;
        } else if let (true, Some(u)) = (in_url, url.as_mut()) {
            u.push(';');
            u.push_str(piece.trim());
            continue;
        }
        in_url = false;
    }
    let url = url
        .filter(|u| !u.is_empty())
        .ok_or(bad("entry without url"))?;
    Ok(RtpInfoEntry { url, seq, rtptime })
}

/// Parses an `RTP-Info` value into its entries (at least one).
pub fn parse_rtp_info(v: &str) -> Result<Vec<RtpInfoEntry>, HeaderError> {
    let mut raw: Vec<String> = Vec::new();
    for piece in v.split(',') {
        match raw.last_mut() {
            Some(last) if !starts_entry(piece) => {
                last.push(',');
                last.push_str(piece);
            }
            _ => raw.push(piece.to_owned()),
        }
    }
    let entries: Vec<RtpInfoEntry> = raw
        .iter()
        .filter(|e| !e.trim().is_empty())
        .map(|e| parse_entry(e))
        .collect::<Result<_, _>>()?;
    if entries.is_empty() {
        return Err(bad("empty"));
    }
    Ok(entries)
}

/// Appends `url=…;seq=…;rtptime=…` entries separated by commas (absent fields are left out).
pub fn write_rtp_info(entries: &[RtpInfoEntry], out: &mut String) {
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("url=");
        out.push_str(&e.url);
        if let Some(seq) = e.seq {
            let _ = write!(out, ";seq={seq}");
        }
        if let Some(rtptime) = e.rtptime {
            let _ = write!(out, ";rtptime={rtptime}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtsp::testdata::header;
    use proptest::prelude::*;

    fn entry(url: &str, seq: Option<u16>, rtptime: Option<u32>) -> RtpInfoEntry {
        RtpInfoEntry {
            url: url.to_owned(),
            seq,
            rtptime,
        }
    }

    fn parse_camera(file: &str) -> Vec<RtpInfoEntry> {
        parse_rtp_info(header(file, "RTP-Info")).unwrap_or_else(|e| panic!("{file}: {e}"))
    }

    #[test]
    fn canonical_table_both_ways() {
        let table = [
            (
                "url=rtsp://h/p/trackID=0;seq=1;rtptime=2",
                vec![entry("rtsp://h/p/trackID=0", Some(1), Some(2))],
            ),
            (
                "url=rtsp://h/p/trackID=0;seq=65535;rtptime=4294967295,url=rtsp://h/p/trackID=1",
                vec![
                    entry("rtsp://h/p/trackID=0", Some(65535), Some(u32::MAX)),
                    entry("rtsp://h/p/trackID=1", None, None),
                ],
            ),
        ];
        for (text, entries) in table {
            let mut out = String::new();
            write_rtp_info(&entries, &mut out);
            assert_eq!(out, text);
            assert_eq!(parse_rtp_info(text), Ok(entries), "{text}");
        }
    }

    #[test]
    fn lenient_forms() {
        let got =
            parse_rtp_info(" url = rtsp://h/a?x=1,2 ; rtptime=7 ;seq=3, url=b;seq=70000").unwrap();
        assert_eq!(
            got,
            [
                entry("rtsp://h/a?x=1,2", Some(3), Some(7)),
                entry("b", None, None)
            ]
        );
        let got = parse_rtp_info("url=rtsp://h/a;b=c;ssrc=1;seq=4;;").unwrap();
        assert_eq!(got, [entry("rtsp://h/a;b=c", Some(4), None)]);
    }

    #[test]
    fn rejects_garbage() {
        for v in ["", " , ", "seq=1;rtptime=2", "url=;seq=1", "rtsp://h/p"] {
            assert!(parse_rtp_info(v).is_err(), "{v:?}");
        }
    }

    /// Wowza has sent `rtptime=-1` (moonfire-nvr issue 224): read as absent.
    #[test]
    fn wowza_bad_rtptime() {
        let got = parse_camera("client_bad_rtptime.txt");
        let second = "rtsp://wowzaec2demo.streamlock.net/vod/mp4:BigBuckBunny_115k.mov/trackID=2";
        assert_eq!(
            got,
            [
                entry("trackID=1", Some(1), None),
                entry(second, Some(1), None)
            ]
        );
        let got = parse_camera("client_bunny_play.txt");
        assert_eq!(
            got,
            [
                entry("trackID=1", Some(1), Some(0)),
                entry(second, Some(1), Some(0))
            ]
        );
    }

    /// Dahua: three relative URLs.
    #[test]
    fn dahua() {
        let got = parse_camera("client_dahua_play.txt");
        let want = [
            entry("trackID=0", Some(47121), Some(3475222385)),
            entry("trackID=1", Some(45186), Some(2234446919)),
            entry("trackID=4", Some(36583), Some(816418535)),
        ];
        assert_eq!(got, want);
    }

    /// Hikvision: a URL with a query string.
    #[test]
    fn hikvision() {
        let url = "rtsp://192.168.5.106:554/Streaming/Channels/101/trackID=1\
                   ?transportmode=unicast&profile=Profile_1";
        assert_eq!(
            parse_camera("client_hikvision_play.txt"),
            [entry(url, Some(24104), Some(1270711678))]
        );
    }

    /// GW Security: an absolute URL on a non-default port.
    #[test]
    fn gw_security() {
        let url = "rtsp://192.168.1.110:5050/H264/video";
        assert_eq!(
            parse_camera("client_gw_main_play.txt"),
            [entry(url, Some(271), Some(1621990950))]
        );
        assert_eq!(parse_camera("client_gw_sub_play.txt")[0].seq, Some(273));
    }

    /// Laureii: a trailing semicolon.
    #[test]
    fn laureii() {
        let url = "rtsp://192.168.1.19:554/0/main/trackID=0";
        assert_eq!(
            parse_camera("client_laureii_play.txt"),
            [entry(url, Some(0), Some(0))]
        );
    }

    /// Reolink: an extra `ssrc` parameter per entry.
    #[test]
    fn reolink() {
        let got = parse_camera("client_reolink_play.txt");
        assert_eq!(
            got,
            [
                entry("trackID=1", Some(16852), Some(1070938629)),
                entry("trackID=2", Some(39409), Some(3075976528))
            ]
        );
    }

    proptest! {
        #[test]
        fn round_trips(entries in proptest::collection::vec(
            ("[a-zA-Z0-9:/?&=._-]{1,30}", any::<Option<u16>>(), any::<Option<u32>>())
                .prop_map(|(url, seq, rtptime)| RtpInfoEntry { url, seq, rtptime }),
            1..4,
        )) {
            let mut text = String::new();
            write_rtp_info(&entries, &mut text);
            prop_assert_eq!(parse_rtp_info(&text), Ok(entries));
        }

        #[test]
        fn never_panics(s in "\\PC{0,60}", t in "(url=[a-z,;=]{0,8};seq=[0-9-]{0,6},?){0,4}") {
            let _ = parse_rtp_info(&s);
            let _ = parse_rtp_info(&t);
        }
    }
}
