//! SDP (RFC 8866): a lenient parser that accepts what real cameras write, and a writer.
//!
//! The model keeps what an RTSP server needs and no more: the session-level `v=`, `o=`, `s=`,
//! `c=`, `b=`, `t=` and `a=` lines, and per media description its `m=`, `i=`, `c=`, `b=` and `a=`
//! lines. Values are kept as written (trimmed of surrounding whitespace); typed views such as
//! [`Media::rtpmap`] and [`fmtp_params`] read them on demand. Session-level `i=`, `u=`, `e=`,
//! `p=`, `z=`, `k=` and `r=` lines, media-level `k=` lines and unknown line types are accepted and
//! dropped.
//!
//! [`parse`] is lenient (see its documentation for exactly what it accepts); [`Sdp::write`] and
//! the [`std::fmt::Display`] impl write CRLF-terminated lines in RFC 8866 order.

mod parse;
mod write;

#[cfg(test)]
mod camera_tests;

pub use parse::{parse, SdpError};

/// A session description: session-level fields plus one [`Media`] per `m=` section.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sdp {
    /// The protocol version from `v=` (0; also 0 when the line is missing).
    pub version: u32,
    /// The raw `o=` value (`<username> <sess-id> <sess-version> <nettype> <addrtype> <address>`).
    pub origin: Option<String>,
    /// The `s=` value (empty when missing).
    pub session_name: String,
    /// The session-level `c=` value, e.g. `IN IP4 0.0.0.0`.
    pub connection: Option<String>,
    /// The first `t=` value, e.g. `0 0`.
    pub timing: Option<String>,
    /// The session-level `b=` values, e.g. `AS:5050`.
    pub bandwidth: Vec<String>,
    /// The session-level `a=` lines, in order.
    pub attributes: Vec<Attribute>,
    /// The media descriptions, in order.
    pub media: Vec<Media>,
}

/// One `a=` line: `a=<name>` (a flag) or `a=<name>:<value>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Attribute {
    /// The attribute name, e.g. `rtpmap`.
    pub name: String,
    /// The value after the first `:`; `None` for a flag attribute such as `recvonly`.
    pub value: Option<String>,
}

/// One media description: an `m=` line and the lines that follow it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Media {
    /// The media type: `video`, `audio`, `application`… (kept as written).
    pub kind: String,
    /// The transport port (0 in RTSP DESCRIBE answers).
    pub port: u16,
    /// The number of ports from `<port>/<count>`, if given.
    pub port_count: Option<u16>,
    /// The transport protocol, e.g. `RTP/AVP`.
    pub protocol: String,
    /// The media formats; for RTP profiles, payload type numbers.
    pub formats: Vec<String>,
    /// The media-level `i=` value.
    pub title: Option<String>,
    /// The media-level `c=` value.
    pub connection: Option<String>,
    /// The media-level `b=` values.
    pub bandwidth: Vec<String>,
    /// The media-level `a=` lines, in order.
    pub attributes: Vec<Attribute>,
}

/// A parsed `a=rtpmap` value: `<payload type> <encoding name>/<clock rate>[/<channels>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    /// The RTP payload type.
    pub payload_type: u8,
    /// The encoding name as written (compare case-insensitively).
    pub encoding: String,
    /// The RTP clock rate in Hz.
    pub clock_rate: u32,
    /// The channel count (audio), if given.
    pub channels: Option<u16>,
}

/// A media direction attribute (RFC 8866 §6.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `a=sendrecv`.
    SendRecv,
    /// `a=sendonly`.
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`.
    Inactive,
}

/// The RFC 3551 static payload types: (payload type, encoding, clock rate, channels).
const STATIC_PAYLOAD_TYPES: &[(u8, &str, u32, Option<u16>)] = &[
    (0, "PCMU", 8000, Some(1)),
    (3, "GSM", 8000, Some(1)),
    (4, "G723", 8000, Some(1)),
    (5, "DVI4", 8000, Some(1)),
    (6, "DVI4", 16000, Some(1)),
    (7, "LPC", 8000, Some(1)),
    (8, "PCMA", 8000, Some(1)),
    (9, "G722", 8000, Some(1)),
    (10, "L16", 44100, Some(2)),
    (11, "L16", 44100, Some(1)),
    (12, "QCELP", 8000, Some(1)),
    (13, "CN", 8000, Some(1)),
    (14, "MPA", 90000, None),
    (15, "G728", 8000, Some(1)),
    (16, "DVI4", 11025, Some(1)),
    (17, "DVI4", 22050, Some(1)),
    (18, "G729", 8000, Some(1)),
    (25, "CelB", 90000, None),
    (26, "JPEG", 90000, None),
    (28, "nv", 90000, None),
    (31, "H261", 90000, None),
    (32, "MPV", 90000, None),
    (33, "MP2T", 90000, None),
    (34, "H263", 90000, None),
];

impl RtpMap {
    /// The RFC 3551 default mapping of a static payload type, if it has one.
    pub fn static_payload_type(payload_type: u8) -> Option<RtpMap> {
        STATIC_PAYLOAD_TYPES
            .iter()
            .find(|e| e.0 == payload_type)
            .map(|&(pt, enc, rate, ch)| RtpMap {
                payload_type: pt,
                encoding: enc.to_owned(),
                clock_rate: rate,
                channels: ch,
            })
    }

    /// Parses an `a=rtpmap` value such as `96 H264/90000` or `97 MPEG4-GENERIC/48000/2`.
    /// Returns `None` when the payload type or clock rate is not a number.
    pub fn parse(value: &str) -> Option<RtpMap> {
        let value = value.trim();
        let (pt, rest) = split_token(value);
        let payload_type = parse_payload_type(pt)?;
        let mut parts = rest.trim().split('/');
        let encoding = parts.next()?.trim();
        if encoding.is_empty() {
            return None;
        }
        let clock_rate = parts.next()?.trim().parse().ok()?;
        let channels = match parts.next() {
            Some(c) => Some(c.trim().parse().ok()?),
            None => None,
        };
        Some(RtpMap {
            payload_type,
            encoding: encoding.to_owned(),
            clock_rate,
            channels,
        })
    }
}

/// Splits `s` at its first run of whitespace: `("96", "H264/90000")`.
fn split_token(s: &str) -> (&str, &str) {
    match s.find(|c: char| c.is_ascii_whitespace()) {
        Some(i) => (&s[..i], s[i..].trim_start()),
        None => (s, ""),
    }
}

/// A 7-bit RTP payload type from its decimal text.
fn parse_payload_type(s: &str) -> Option<u8> {
    s.trim().parse::<u8>().ok().filter(|pt| *pt < 128)
}

/// The value of the first attribute called `name` (ASCII case-insensitive); `""` for a flag.
fn find_attribute<'a>(attributes: &'a [Attribute], name: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(name))
        .map(|a| a.value.as_deref().unwrap_or(""))
}

/// The direction attribute among `attributes`, if any.
fn find_direction(attributes: &[Attribute]) -> Option<Direction> {
    attributes.iter().find_map(|a| {
        let n = a.name.as_str();
        if n.eq_ignore_ascii_case("sendrecv") {
            Some(Direction::SendRecv)
        } else if n.eq_ignore_ascii_case("sendonly") {
            Some(Direction::SendOnly)
        } else if n.eq_ignore_ascii_case("recvonly") {
            Some(Direction::RecvOnly)
        } else if n.eq_ignore_ascii_case("inactive") {
            Some(Direction::Inactive)
        } else {
            None
        }
    })
}

impl Attribute {
    /// A `a=<name>:<value>` attribute.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Attribute {
        Attribute {
            name: name.into(),
            value: Some(value.into()),
        }
    }

    /// A flag attribute `a=<name>`.
    pub fn flag(name: impl Into<String>) -> Attribute {
        Attribute {
            name: name.into(),
            value: None,
        }
    }
}

impl Sdp {
    /// The value of the first session-level attribute `name` (ASCII case-insensitive); `""` for
    /// a flag attribute.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        find_attribute(&self.attributes, name)
    }

    /// The session-level `a=control` value (`*` or an absolute/relative URL).
    pub fn control(&self) -> Option<&str> {
        self.attribute("control")
    }

    /// The session-level direction attribute, if any.
    pub fn direction(&self) -> Option<Direction> {
        find_direction(&self.attributes)
    }
}

impl Media {
    /// The value of the first attribute `name` (ASCII case-insensitive); `""` for a flag.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        find_attribute(&self.attributes, name)
    }

    /// The first format as an RTP payload type (`None` if it is not a number below 128).
    pub fn payload_type(&self) -> Option<u8> {
        self.formats.first().and_then(|f| parse_payload_type(f))
    }

    /// The rtpmap of the first payload type: the first matching `a=rtpmap`, else the RFC 3551
    /// default for a static payload type.
    pub fn rtpmap(&self) -> Option<RtpMap> {
        self.rtpmap_for(self.payload_type()?)
    }

    /// The rtpmap of `payload_type`: the first parsable matching `a=rtpmap`, else the RFC 3551
    /// default for a static payload type.
    pub fn rtpmap_for(&self, payload_type: u8) -> Option<RtpMap> {
        self.attributes
            .iter()
            .filter(|a| a.name.eq_ignore_ascii_case("rtpmap"))
            .filter_map(|a| RtpMap::parse(a.value.as_deref()?))
            .find(|m| m.payload_type == payload_type)
            .or_else(|| RtpMap::static_payload_type(payload_type))
    }

    /// The `a=fmtp` parameters of the first payload type (the text after `<pt> `).
    pub fn fmtp(&self) -> Option<&str> {
        self.fmtp_for(self.payload_type()?)
    }

    /// The `a=fmtp` parameters of `payload_type` (the text after `<pt> `, trimmed; `""` when the
    /// line has no parameters).
    pub fn fmtp_for(&self, payload_type: u8) -> Option<&str> {
        self.attributes
            .iter()
            .filter(|a| a.name.eq_ignore_ascii_case("fmtp"))
            .find_map(|a| {
                let (pt, rest) = split_token(a.value.as_deref()?.trim());
                (parse_payload_type(pt)? == payload_type).then_some(rest.trim())
            })
    }

    /// The media-level `a=control` value.
    pub fn control(&self) -> Option<&str> {
        self.attribute("control")
    }

    /// The media-level direction attribute, if any.
    pub fn direction(&self) -> Option<Direction> {
        find_direction(&self.attributes)
    }

    /// True if the media section says `a=recvonly`.
    pub fn is_recvonly(&self) -> bool {
        self.direction() == Some(Direction::RecvOnly)
    }

    /// True if the media section says `a=sendonly`.
    pub fn is_sendonly(&self) -> bool {
        self.direction() == Some(Direction::SendOnly)
    }
}

/// Splits an fmtp parameter string into `(key, value)` pairs at `;`, trimming both; empty
/// entries (a trailing `;`) are skipped and a key without `=` yields `(key, "")`.
pub fn fmtp_params(fmtp: &str) -> impl Iterator<Item = (&str, &str)> {
    fmtp.split(';').filter_map(|p| {
        let p = p.trim();
        if p.is_empty() {
            return None;
        }
        Some(match p.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => (p, ""),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media(attrs: &[(&str, Option<&str>)], formats: &[&str]) -> Media {
        Media {
            kind: "audio".into(),
            protocol: "RTP/AVP".into(),
            formats: formats.iter().map(|f| f.to_string()).collect(),
            attributes: attrs
                .iter()
                .map(|(n, v)| Attribute {
                    name: n.to_string(),
                    value: v.map(str::to_owned),
                })
                .collect(),
            ..Media::default()
        }
    }

    #[test]
    fn fmtp_params_split() {
        let got: Vec<_> = fmtp_params("packetization-mode=1; sprop-parameter-sets=Z0,aM").collect();
        assert_eq!(
            got,
            [
                ("packetization-mode", "1"),
                ("sprop-parameter-sets", "Z0,aM")
            ]
        );
        let got: Vec<_> = fmtp_params(" a = 1 ;; flag ; config=1188; ").collect();
        assert_eq!(got, [("a", "1"), ("flag", ""), ("config", "1188")]);
        assert_eq!(fmtp_params("").count(), 0);
        let got: Vec<_> = fmtp_params("sprop=Zz==").collect();
        assert_eq!(got, [("sprop", "Zz==")]);
    }

    #[test]
    fn static_payload_types() {
        let m = media(&[], &["0"]);
        let r = m.rtpmap().unwrap();
        assert_eq!(
            (r.encoding.as_str(), r.clock_rate, r.channels),
            ("PCMU", 8000, Some(1))
        );
        for (pt, enc, rate) in [
            (8, "PCMA", 8000),
            (14, "MPA", 90000),
            (26, "JPEG", 90000),
            (32, "MPV", 90000),
            (33, "MP2T", 90000),
        ] {
            let r = RtpMap::static_payload_type(pt).unwrap();
            assert_eq!(
                (r.payload_type, r.encoding.as_str(), r.clock_rate),
                (pt, enc, rate)
            );
        }
        assert_eq!(RtpMap::static_payload_type(96), None);
        assert_eq!(media(&[], &["96"]).rtpmap(), None);
        // An explicit rtpmap wins over the static default.
        let m = media(&[("rtpmap", Some("0 MPEG4-GENERIC/16000/2"))], &["0"]);
        assert_eq!(m.rtpmap().unwrap().encoding, "MPEG4-GENERIC");
    }

    #[test]
    fn rtpmap_parse_variants() {
        let r = RtpMap::parse("96  H264/90000 ").unwrap();
        assert_eq!(
            (
                r.payload_type,
                r.encoding.as_str(),
                r.clock_rate,
                r.channels
            ),
            (96, "H264", 90000, None)
        );
        let r = RtpMap::parse("97 mpeg4-generic/48000/2").unwrap();
        assert_eq!(r.channels, Some(2));
        assert_eq!(RtpMap::parse("x H264/90000"), None);
        assert_eq!(RtpMap::parse("200 H264/90000"), None);
        assert_eq!(RtpMap::parse("96 H264"), None);
        assert_eq!(RtpMap::parse("96 /90000"), None);
        assert_eq!(RtpMap::parse("96 L16/44100/x"), None);
        assert_eq!(RtpMap::parse(""), None);
    }

    #[test]
    fn media_accessors() {
        let m = media(
            &[
                ("control", Some("trackID=1")),
                ("recvonly", None),
                ("rtpmap", Some("98 opus/48000/2")),
                ("rtpmap", Some("97 H264/90000")),
                ("fmtp", Some("98 x=1")),
                ("fmtp", Some("97   packetization-mode=1 ")),
            ],
            &["97", "98"],
        );
        assert_eq!(m.payload_type(), Some(97));
        assert_eq!(m.rtpmap().unwrap().encoding, "H264");
        assert_eq!(m.fmtp(), Some("packetization-mode=1"));
        assert_eq!(m.fmtp_for(98), Some("x=1"));
        assert_eq!(m.control(), Some("trackID=1"));
        assert_eq!(m.attribute("RECVONLY"), Some(""));
        assert!(m.is_recvonly());
        assert!(!m.is_sendonly());
        assert_eq!(media(&[("fmtp", Some("96"))], &["96"]).fmtp(), Some(""));
        assert_eq!(media(&[], &["smart/1/90000"]).payload_type(), None);
        assert_eq!(media(&[], &[]).rtpmap(), None);
    }
}
