//! The SDP writer: CRLF-terminated lines in RFC 8866 order.

use super::{Attribute, Media, Sdp};

/// Appends `value` with any CR, LF or NUL removed, so a value can never break a line.
fn push_value(out: &mut String, value: &str) {
    if value.contains(['\r', '\n', '\0']) {
        out.extend(value.chars().filter(|c| !matches!(c, '\r' | '\n' | '\0')));
    } else {
        out.push_str(value);
    }
}

/// Appends one `<type>=<value>\r\n` line.
fn push_line(out: &mut String, kind: char, value: &str) {
    out.push(kind);
    out.push('=');
    push_value(out, value);
    out.push_str("\r\n");
}

/// Appends the `a=` lines of `attributes`.
fn push_attributes(out: &mut String, attributes: &[Attribute]) {
    for a in attributes {
        out.push_str("a=");
        push_value(out, &a.name);
        if let Some(v) = &a.value {
            out.push(':');
            push_value(out, v);
        }
        out.push_str("\r\n");
    }
}

impl Media {
    /// Appends this media description: `m=`, then `i=`, `c=`, `b=` and `a=` lines.
    pub fn write(&self, out: &mut String) {
        out.push_str("m=");
        push_value(out, &self.kind);
        out.push(' ');
        out.push_str(&self.port.to_string());
        if let Some(n) = self.port_count {
            out.push('/');
            out.push_str(&n.to_string());
        }
        out.push(' ');
        push_value(out, &self.protocol);
        for f in &self.formats {
            out.push(' ');
            push_value(out, f);
        }
        out.push_str("\r\n");
        if let Some(t) = &self.title {
            push_line(out, 'i', t);
        }
        if let Some(c) = &self.connection {
            push_line(out, 'c', c);
        }
        for b in &self.bandwidth {
            push_line(out, 'b', b);
        }
        push_attributes(out, &self.attributes);
    }
}

impl Sdp {
    /// Appends the session description as CRLF-terminated lines in RFC 8866 order: `v=`, `o=`,
    /// `s=`, `c=`, `b=`, `t=`, `a=`, then each media description.
    ///
    /// Optional fields that are `None` are not written (set `origin` and `timing` for a
    /// conforming description); an empty `session_name` is written as `s= ` as RFC 8866
    /// recommends. CR, LF and NUL characters inside values are dropped.
    pub fn write(&self, out: &mut String) {
        push_line(out, 'v', &self.version.to_string());
        if let Some(o) = &self.origin {
            push_line(out, 'o', o);
        }
        push_line(
            out,
            's',
            if self.session_name.is_empty() {
                " "
            } else {
                &self.session_name
            },
        );
        if let Some(c) = &self.connection {
            push_line(out, 'c', c);
        }
        for b in &self.bandwidth {
            push_line(out, 'b', b);
        }
        if let Some(t) = &self.timing {
            push_line(out, 't', t);
        }
        push_attributes(out, &self.attributes);
        for m in &self.media {
            m.write(out);
        }
    }
}

/// Formats the description exactly as [`Sdp::write`] does (CRLF lines), so `sdp.to_string()`
/// is the body of a DESCRIBE answer.
impl std::fmt::Display for Sdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::new();
        self.write(&mut s);
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{fmtp_params, parse, Attribute, Media, Sdp};
    use proptest::prelude::*;

    const H264_AAC: &str = "v=0\r\n\
        o=- 0 0 IN IP4 127.0.0.1\r\n\
        s=Stream\r\n\
        c=IN IP4 0.0.0.0\r\n\
        t=0 0\r\n\
        m=video 0 RTP/AVP 96\r\n\
        a=control:trackID=0\r\n\
        a=rtpmap:96 H264/90000\r\n\
        a=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z2QAKKzZQHgCJ+WEAAADAAQAAAMA8Dxgxlg=,aOvjyyLA; profile-level-id=640028\r\n\
        m=audio 0 RTP/AVP 97\r\n\
        a=control:trackID=1\r\n\
        a=rtpmap:97 mpeg4-generic/48000/2\r\n\
        a=fmtp:97 profile-level-id=1; mode=AAC-hbr; sizelength=13; indexlength=3; indexdeltalength=3; config=1190\r\n";

    fn h264_aac() -> Sdp {
        let media = |kind: &str, pt: &str, control: &str, rtpmap: &str, fmtp: &str| Media {
            kind: kind.into(),
            port: 0,
            port_count: None,
            protocol: "RTP/AVP".into(),
            formats: vec![pt.into()],
            title: None,
            connection: None,
            bandwidth: vec![],
            attributes: vec![
                Attribute::new("control", control),
                Attribute::new("rtpmap", format!("{pt} {rtpmap}")),
                Attribute::new("fmtp", format!("{pt} {fmtp}")),
            ],
        };
        Sdp {
            version: 0,
            origin: Some("- 0 0 IN IP4 127.0.0.1".into()),
            session_name: "Stream".into(),
            connection: Some("IN IP4 0.0.0.0".into()),
            timing: Some("0 0".into()),
            bandwidth: vec![],
            attributes: vec![],
            media: vec![
                media("video", "96", "trackID=0", "H264/90000",
                    "packetization-mode=1; sprop-parameter-sets=Z2QAKKzZQHgCJ+WEAAADAAQAAAMA8Dxgxlg=,aOvjyyLA; profile-level-id=640028"),
                media("audio", "97", "trackID=1", "mpeg4-generic/48000/2",
                    "profile-level-id=1; mode=AAC-hbr; sizelength=13; indexlength=3; indexdeltalength=3; config=1190"),
            ],
        }
    }

    #[test]
    fn writes_server_sdp_byte_exact() {
        let mut out = String::new();
        h264_aac().write(&mut out);
        assert_eq!(out, H264_AAC);
        assert_eq!(h264_aac().to_string(), H264_AAC);
    }

    #[test]
    fn parses_server_sdp() {
        let sdp = parse(H264_AAC.as_bytes()).unwrap();
        assert_eq!(sdp, h264_aac());
        let v = &sdp.media[0];
        assert_eq!(v.rtpmap().unwrap().encoding, "H264");
        let params: Vec<_> = fmtp_params(v.fmtp().unwrap()).collect();
        assert_eq!(params[0], ("packetization-mode", "1"));
        assert_eq!(params[2], ("profile-level-id", "640028"));
        let a = &sdp.media[1];
        let r = a.rtpmap().unwrap();
        assert_eq!((r.clock_rate, r.channels), (48000, Some(2)));
        assert_eq!(a.control(), Some("trackID=1"));
    }

    #[test]
    fn writes_optional_lines_and_flags() {
        let sdp = Sdp {
            bandwidth: vec!["AS:100".into()],
            attributes: vec![Attribute::flag("recvonly"), Attribute::new("tool", "")],
            media: vec![Media {
                kind: "application".into(),
                port: 5004,
                port_count: Some(2),
                protocol: "RTP/AVP".into(),
                formats: vec![],
                title: Some("meta".into()),
                connection: Some("IN IP4 1.2.3.4".into()),
                bandwidth: vec!["AS:1".into()],
                attributes: vec![],
            }],
            ..Sdp::default()
        };
        let expected = "v=0\r\ns= \r\nb=AS:100\r\na=recvonly\r\na=tool:\r\n\
            m=application 5004/2 RTP/AVP\r\ni=meta\r\nc=IN IP4 1.2.3.4\r\nb=AS:1\r\n";
        assert_eq!(sdp.to_string(), expected);
        assert_eq!(parse(expected.as_bytes()).unwrap(), sdp);
    }

    #[test]
    fn values_cannot_inject_lines() {
        let sdp = Sdp {
            session_name: "a\r\nm=video 0 RTP/AVP 96\0".into(),
            attributes: vec![Attribute::new("control", "x\ny")],
            ..Sdp::default()
        };
        assert_eq!(
            sdp.to_string(),
            "v=0\r\ns=am=video 0 RTP/AVP 96\r\na=control:xy\r\n"
        );
        assert!(parse(sdp.to_string().as_bytes()).unwrap().media.is_empty());
    }

    /// A value as the parser returns it: no surrounding whitespace, no line breaks.
    fn value() -> impl Strategy<Value = String> {
        "([!-~\u{e9}]([ -~\u{e9}]{0,20}[!-~\u{e9}])?)?"
    }

    /// A whitespace-free token (media type, protocol, format, attribute name).
    fn token() -> impl Strategy<Value = String> {
        "[!-9;-~]{1,12}"
    }

    fn attributes() -> impl Strategy<Value = Vec<Attribute>> {
        proptest::collection::vec(
            (token(), proptest::option::of(value()))
                .prop_map(|(name, value)| Attribute { name, value }),
            0..5,
        )
    }

    fn media() -> impl Strategy<Value = Media> {
        (
            (
                token(),
                any::<u16>(),
                proptest::option::of(any::<u16>()),
                token(),
            ),
            proptest::collection::vec(token(), 0..4),
            proptest::option::of(value()),
            proptest::option::of(value()),
            proptest::collection::vec(value(), 0..3),
            attributes(),
        )
            .prop_map(
                |(
                    (kind, port, port_count, protocol),
                    formats,
                    title,
                    connection,
                    bandwidth,
                    attributes,
                )| {
                    Media {
                        kind,
                        port,
                        port_count,
                        protocol,
                        formats,
                        title,
                        connection,
                        bandwidth,
                        attributes,
                    }
                },
            )
    }

    fn sdp() -> impl Strategy<Value = Sdp> {
        (
            (any::<u32>(), proptest::option::of(value()), value()),
            proptest::option::of(value()),
            proptest::option::of(value()),
            proptest::collection::vec(value(), 0..3),
            attributes(),
            proptest::collection::vec(media(), 0..4),
        )
            .prop_map(
                |(
                    (version, origin, session_name),
                    connection,
                    timing,
                    bandwidth,
                    attributes,
                    media,
                )| {
                    Sdp {
                        version,
                        origin,
                        session_name,
                        connection,
                        timing,
                        bandwidth,
                        attributes,
                        media,
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn write_parse_round_trip(sdp in sdp()) {
            let text = sdp.to_string();
            let back = parse(text.as_bytes()).unwrap();
            prop_assert_eq!(&back, &sdp);
            prop_assert_eq!(back.to_string(), text);
        }
    }
}
