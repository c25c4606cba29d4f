//! The `Transport` header (RFC 2326 §12.39): how the media of one stream is carried.
//!
//! Parsing is lenient the way real clients and cameras need: tokens are case-insensitive,
//! `RTP/AVP` means UDP, values may be quoted or padded with spaces, a single port `5000` means
//! the pair `5000-5001` (the same for `interleaved`), `mode=receive` is RFC 2326's alias for
//! `record`, a `destination`/`source` that is a host name rather than an address is ignored, an
//! `ssrc` that is not 1–8 hex digits is ignored, and unknown parameters are ignored.

use super::{name_value, split_unquoted, unquote, HeaderError};
use core::net::IpAddr;
use smallvec::SmallVec;

/// The RTP profile (RFC 3551 AVP, RFC 4585 AVPF, RFC 3711 SAVP, RFC 5124 SAVPF).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// `RTP/AVP`.
    Avp,
    /// `RTP/AVPF`.
    Avpf,
    /// `RTP/SAVP`.
    Savp,
    /// `RTP/SAVPF`.
    Savpf,
}

/// The lower transport carrying RTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LowerTransport {
    /// UDP (the default when none is named).
    Udp,
    /// TCP, interleaved in the RTSP connection (RFC 2326 §10.12).
    Tcp,
}

/// Unicast or multicast delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Delivery {
    /// `unicast`.
    Unicast,
    /// `multicast`.
    Multicast,
}

/// The direction a SETUP is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportMode {
    /// `mode=play`: the server sends media (the default).
    Play,
    /// `mode=record` (or its alias `receive`): the client sends media.
    Record,
}

/// One transport specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Transport {
    /// The RTP profile.
    pub profile: Profile,
    /// UDP or TCP.
    pub lower: LowerTransport,
    /// `unicast` or `multicast`, if given.
    pub delivery: Option<Delivery>,
    /// `destination=`, if given as an IP address.
    pub destination: Option<IpAddr>,
    /// `source=`, if given as an IP address.
    pub source: Option<IpAddr>,
    /// `interleaved=` channels (RTP, RTCP).
    pub interleaved: Option<(u8, u8)>,
    /// `client_port=` (RTP, RTCP).
    pub client_port: Option<(u16, u16)>,
    /// `server_port=` (RTP, RTCP).
    pub server_port: Option<(u16, u16)>,
    /// `port=` multicast ports (RTP, RTCP).
    pub port: Option<(u16, u16)>,
    /// `ttl=` for multicast.
    pub ttl: Option<u8>,
    /// `ssrc=` (written as 8 hex digits).
    pub ssrc: Option<u32>,
    /// `mode=`, if given.
    pub mode: Option<TransportMode>,
}

/// Builds the error for this header.
fn bad(reason: &'static str) -> HeaderError {
    HeaderError {
        header: "Transport",
        reason,
    }
}

/// Parses `a-b`, or a single `a` meaning `(a, a + 1)`; digits only.
fn port_pair(v: &str) -> Option<(u16, u16)> {
    let num = |s: &str| {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u16>().ok())
            .flatten()
    };
    match v.split_once('-') {
        Some((a, b)) => Some((num(a)?, num(b)?)),
        None => {
            let a = num(v)?;
            Some((a, a.checked_add(1)?))
        }
    }
}

/// Parses an IP address, allowing IPv6 in brackets; host names give `None`.
fn ip(v: &str) -> Option<IpAddr> {
    let v = v
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(v);
    v.parse().ok()
}

/// Parses an SSRC: 1 to 8 hex digits.
fn ssrc(v: &str) -> Option<u32> {
    let ok = (1..=8).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| u32::from_str_radix(v, 16).ok()).flatten()
}

impl Transport {
    /// A transport with the given profile and lower transport and no parameters.
    pub fn new(profile: Profile, lower: LowerTransport) -> Transport {
        Transport {
            profile,
            lower,
            delivery: None,
            destination: None,
            source: None,
            interleaved: None,
            client_port: None,
            server_port: None,
            port: None,
            ttl: None,
            ssrc: None,
            mode: None,
        }
    }

    /// Parses one transport specification, e.g. `RTP/AVP/TCP;unicast;interleaved=0-1`.
    pub fn parse(spec: &str) -> Result<Transport, HeaderError> {
        let mut params = split_unquoted(spec, b';');
        let protocol = params.next().unwrap_or_default().trim();
        let mut parts = protocol.split('/').map(str::trim);
        let (Some(rtp), Some(profile), lower, None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("expected RTP/profile[/lower-transport]"));
        };
        if !rtp.eq_ignore_ascii_case("RTP") {
            return Err(bad("transport protocol is not RTP"));
        }
        let profile = [
            ("AVP", Profile::Avp),
            ("AVPF", Profile::Avpf),
            ("SAVP", Profile::Savp),
            ("SAVPF", Profile::Savpf),
        ]
        .into_iter()
        .find(|(name, _)| profile.eq_ignore_ascii_case(name))
        .ok_or(bad("unknown RTP profile"))?
        .1;
        let lower = match lower {
            None => LowerTransport::Udp,
            Some(l) if l.eq_ignore_ascii_case("UDP") => LowerTransport::Udp,
            Some(l) if l.eq_ignore_ascii_case("TCP") => LowerTransport::Tcp,
            Some(_) => return Err(bad("unknown lower transport")),
        };
        let mut t = Transport::new(profile, lower);
        for param in params {
            let (name, value) = name_value(param);
            let value = value.map(|v| unquote(v).trim());
            let is = |n: &str| name.eq_ignore_ascii_case(n);
            let needed = || value.ok_or(bad("parameter needs a value"));
            if is("unicast") {
                t.delivery = Some(Delivery::Unicast);
            } else if is("multicast") {
                t.delivery = Some(Delivery::Multicast);
            } else if is("destination") {
                t.destination = value.and_then(ip);
            } else if is("source") {
                t.source = value.and_then(ip);
            } else if is("interleaved") {
                let (a, b) = port_pair(needed()?).ok_or(bad("bad interleaved channels"))?;
                let ch = |c: u16| u8::try_from(c).map_err(|_| bad("interleaved channel above 255"));
                t.interleaved = Some((ch(a)?, ch(b)?));
            } else if is("client_port") {
                t.client_port = Some(port_pair(needed()?).ok_or(bad("bad client_port"))?);
            } else if is("server_port") {
                t.server_port = Some(port_pair(needed()?).ok_or(bad("bad server_port"))?);
            } else if is("port") {
                t.port = Some(port_pair(needed()?).ok_or(bad("bad port"))?);
            } else if is("ttl") {
                let v = needed()?;
                let ok = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
                t.ttl = Some(ok.then(|| v.parse().ok()).flatten().ok_or(bad("bad ttl"))?);
            } else if is("ssrc") {
                t.ssrc = value.and_then(ssrc);
            } else if is("mode") {
                let v = needed()?;
                t.mode = Some(if v.eq_ignore_ascii_case("play") {
                    TransportMode::Play
                } else if v.eq_ignore_ascii_case("record") || v.eq_ignore_ascii_case("receive") {
                    TransportMode::Record
                } else {
                    return Err(bad("unsupported mode"));
                });
            }
        }
        Ok(t)
    }

    /// Parses a header holding comma-separated alternatives, in the client's order of
    /// preference. Alternatives weir cannot parse (another protocol, an odd mode) are skipped; the
    /// first error is returned only if none parses.
    pub fn parse_list(v: &str) -> Result<SmallVec<[Transport; 2]>, HeaderError> {
        let mut out = SmallVec::new();
        let mut first_error = None;
        for spec in split_unquoted(v, b',').filter(|s| !s.trim().is_empty()) {
            match Transport::parse(spec) {
                Ok(t) => out.push(t),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match (out.is_empty(), first_error) {
            (true, Some(e)) => Err(e),
            (true, None) => Err(bad("empty")),
            (false, _) => Ok(out),
        }
    }
}

impl std::fmt::Display for Transport {
    /// Writes the canonical form, e.g. `RTP/AVP/TCP;unicast;interleaved=0-1;mode=record`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let profile = match self.profile {
            Profile::Avp => "AVP",
            Profile::Avpf => "AVPF",
            Profile::Savp => "SAVP",
            Profile::Savpf => "SAVPF",
        };
        write!(f, "RTP/{profile}")?;
        if self.lower == LowerTransport::Tcp {
            f.write_str("/TCP")?;
        }
        match self.delivery {
            Some(Delivery::Unicast) => f.write_str(";unicast")?,
            Some(Delivery::Multicast) => f.write_str(";multicast")?,
            None => {}
        }
        if let Some(ip) = self.destination {
            write!(f, ";destination={ip}")?;
        }
        if let Some(ip) = self.source {
            write!(f, ";source={ip}")?;
        }
        let pairs = [
            (
                "interleaved",
                self.interleaved.map(|(a, b)| (u16::from(a), u16::from(b))),
            ),
            ("client_port", self.client_port),
            ("server_port", self.server_port),
            ("port", self.port),
        ];
        for (name, pair) in pairs {
            if let Some((a, b)) = pair {
                write!(f, ";{name}={a}-{b}")?;
            }
        }
        if let Some(ttl) = self.ttl {
            write!(f, ";ttl={ttl}")?;
        }
        if let Some(ssrc) = self.ssrc {
            write!(f, ";ssrc={ssrc:08X}")?;
        }
        match self.mode {
            Some(TransportMode::Play) => f.write_str(";mode=play"),
            Some(TransportMode::Record) => f.write_str(";mode=record"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtsp::testdata::header;
    use core::net::Ipv4Addr;
    use proptest::prelude::*;

    fn tcp(ch: (u8, u8)) -> Transport {
        Transport {
            delivery: Some(Delivery::Unicast),
            interleaved: Some(ch),
            ..Transport::new(Profile::Avp, LowerTransport::Tcp)
        }
    }

    fn parse_camera(file: &str) -> Transport {
        let list = Transport::parse_list(header(file, "Transport"))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(list.len(), 1);
        list[0]
    }

    fn v4(a: u8, b: u8, c: u8, d: u8) -> Option<IpAddr> {
        Some(IpAddr::V4(Ipv4Addr::new(a, b, c, d)))
    }

    #[test]
    fn canonical_table_both_ways() {
        let udp = Transport::new(Profile::Avp, LowerTransport::Udp);
        let table = [
            ("RTP/AVP/TCP;unicast;interleaved=0-1", tcp((0, 1))),
            (
                "RTP/AVP/TCP;unicast;interleaved=2-3;mode=record",
                Transport {
                    mode: Some(TransportMode::Record),
                    ..tcp((2, 3))
                },
            ),
            (
                "RTP/AVP;unicast;client_port=5000-5001;server_port=6000-6001;ssrc=0000ABCD",
                Transport {
                    delivery: Some(Delivery::Unicast),
                    client_port: Some((5000, 5001)),
                    server_port: Some((6000, 6001)),
                    ssrc: Some(0xabcd),
                    ..udp
                },
            ),
            (
                "RTP/SAVPF;multicast;destination=224.1.2.3;port=7000-7001;ttl=16;mode=play",
                Transport {
                    profile: Profile::Savpf,
                    delivery: Some(Delivery::Multicast),
                    destination: v4(224, 1, 2, 3),
                    port: Some((7000, 7001)),
                    ttl: Some(16),
                    mode: Some(TransportMode::Play),
                    ..udp
                },
            ),
            (
                "RTP/AVPF",
                Transport {
                    profile: Profile::Avpf,
                    ..udp
                },
            ),
        ];
        for (text, t) in table {
            assert_eq!(t.to_string(), text);
            assert_eq!(Transport::parse(text), Ok(t), "{text}");
        }
    }

    #[test]
    fn client_quirks() {
        let rec = |t: Transport| Transport {
            mode: Some(TransportMode::Record),
            ..t
        };
        let table = [
            ("rtp/avp/tcp;UNICAST;Interleaved=0-1", tcp((0, 1))),
            ("RTP/AVP/TCP;unicast;interleaved=4", tcp((4, 5))),
            (
                "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record",
                rec(tcp((0, 1))),
            ),
            (
                "RTP/AVP/TCP;unicast;interleaved=0-1;mode=\"RECORD\"",
                rec(tcp((0, 1))),
            ),
            (
                "RTP/AVP/TCP;unicast;interleaved=0-1;mode=receive",
                rec(tcp((0, 1))),
            ),
            (
                "RTP/AVP/TCP;unicast;interleaved=0-1;destination=cam.local;append;x-foo=1;",
                tcp((0, 1)),
            ),
            ("RTP/AVP/TCP ; unicast ; interleaved = 0 - 1", tcp((0, 1))),
        ];
        for (text, t) in table {
            assert_eq!(Transport::parse(text), Ok(t), "{text}");
        }
        let udp = Transport::parse("RTP/AVP/UDP;unicast;client_port=5000").unwrap();
        assert_eq!(
            (udp.lower, udp.client_port),
            (LowerTransport::Udp, Some((5000, 5001)))
        );
        let v6 = Transport::parse("RTP/AVP;destination=[::1];source=::2").unwrap();
        assert_eq!(
            (v6.destination, v6.source),
            ("::1".parse().ok(), "::2".parse().ok())
        );
    }

    #[test]
    fn rejects_garbage() {
        for v in [
            "",
            "RTP",
            "RAW/RAW/UDP",
            "RTP/XYZ",
            "RTP/AVP/SCTP",
            "RTP/AVP/TCP/X",
            "RTP/AVP;interleaved",
            "RTP/AVP;interleaved=255",
            "RTP/AVP;interleaved=0-256",
            "RTP/AVP;client_port=65535",
            "RTP/AVP;client_port=a-b",
            "RTP/AVP;client_port=+1-2",
            "RTP/AVP;ttl=256",
            "RTP/AVP;mode=teardown",
            "RTP/AVP;mode=\"PLAY,RECORD\"",
        ] {
            assert!(Transport::parse(v).is_err(), "{v:?}");
        }
    }

    #[test]
    fn list_skips_alternatives_it_cannot_parse() {
        let v =
            "RAW/RAW/UDP;unicast, RTP/AVP/TCP;unicast;interleaved=0-1 ,RTP/AVP;client_port=1-2,";
        let list = Transport::parse_list(v).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0], tcp((0, 1)));
        assert_eq!(list[1].client_port, Some((1, 2)));
        assert!(Transport::parse_list("").is_err());
        assert_eq!(
            Transport::parse_list("RTP/XYZ, x").unwrap_err().reason,
            "unknown RTP profile"
        );
    }

    /// Wowza (Big Buck Bunny demo): the plain interleaved form.
    #[test]
    fn wowza() {
        assert_eq!(parse_camera("client_bunny_setup.txt"), tcp((0, 1)));
    }

    /// Dahua: an upper-case hex SSRC.
    #[test]
    fn dahua() {
        assert_eq!(
            parse_camera("client_dahua_setup.txt"),
            Transport {
                ssrc: Some(0x30a98ee7),
                ..tcp((0, 1))
            }
        );
    }

    /// GW Security: destination and source addresses on a TCP transport.
    #[test]
    fn gw_security() {
        let want = |ch| Transport {
            destination: v4(192, 168, 1, 210),
            source: v4(192, 168, 1, 110),
            ..tcp(ch)
        };
        assert_eq!(parse_camera("client_gw_main_setup_video.txt"), want((0, 1)));
        assert_eq!(parse_camera("client_gw_main_setup_audio.txt"), want((2, 3)));
        assert_eq!(parse_camera("client_gw_sub_setup.txt"), want((0, 1)));
    }

    /// H264DVR: upper-case `mode=PLAY` before the ports, and `ssrc=0`.
    #[test]
    fn h264dvr() {
        let t = parse_camera("client_h264dvr_setup_video.txt");
        assert_eq!(t.mode, Some(TransportMode::Play));
        assert_eq!(
            (t.source, t.client_port, t.server_port),
            (v4(127, 0, 0, 1), Some((18714, 18715)), Some((40004, 40005)))
        );
        assert_eq!((t.lower, t.ssrc), (LowerTransport::Udp, Some(0)));
        assert_eq!(
            parse_camera("client_h264dvr_setup_audio.txt").client_port,
            Some((18716, 18717))
        );
    }

    /// Hikvision: a lower-case SSRC and a quoted lower-case `mode="play"`.
    #[test]
    fn hikvision() {
        let want = Transport {
            ssrc: Some(0x4cacc3d1),
            mode: Some(TransportMode::Play),
            ..tcp((0, 1))
        };
        assert_eq!(parse_camera("client_hikvision_setup.txt"), want);
    }

    /// Hikvision (other firmware): `ssrc= d6d6627`, a space and only 7 hex digits.
    #[test]
    fn hikvision_ssrc_space() {
        assert_eq!(
            parse_camera("client_hikvision_setup_ssrc_space.txt"),
            Transport {
                ssrc: Some(0x0d6d6627),
                ..tcp((0, 1))
            }
        );
    }

    /// Luckfox rkipc: `ssrc` before the other parameters, and no `unicast` on TCP.
    #[test]
    fn luckfox_rkipc() {
        let t = parse_camera("client_luckfox_rkipc_setup_tcp.txt");
        assert_eq!(
            t,
            Transport {
                delivery: None,
                ssrc: Some(0x22345684),
                ..tcp((0, 1))
            }
        );
        let u = parse_camera("client_luckfox_rkipc_setup_udp.txt");
        assert_eq!(
            (u.ssrc, u.client_port, u.server_port),
            (Some(0x22345685), Some((54060, 54061)), Some((49152, 49153)))
        );
    }

    /// Reolink: destination and source on TCP.
    #[test]
    fn reolink() {
        let want = Transport {
            destination: v4(192, 168, 1, 210),
            source: v4(192, 168, 5, 206),
            ..tcp((0, 1))
        };
        assert_eq!(parse_camera("client_reolink_setup.txt"), want);
    }

    fn any_transport() -> impl Strategy<Value = Transport> {
        let profile = prop_oneof![
            Just(Profile::Avp),
            Just(Profile::Avpf),
            Just(Profile::Savp),
            Just(Profile::Savpf)
        ];
        let lower = prop_oneof![Just(LowerTransport::Udp), Just(LowerTransport::Tcp)];
        let delivery = proptest::option::of(prop_oneof![
            Just(Delivery::Unicast),
            Just(Delivery::Multicast)
        ]);
        let mode = proptest::option::of(prop_oneof![
            Just(TransportMode::Play),
            Just(TransportMode::Record)
        ]);
        let ip = proptest::option::of(any::<IpAddr>());
        let pairs = (
            any::<Option<(u8, u8)>>(),
            any::<Option<(u16, u16)>>(),
            any::<Option<(u16, u16)>>(),
            any::<Option<(u16, u16)>>(),
        );
        (
            (profile, lower, delivery, mode),
            (ip.clone(), ip),
            pairs,
            any::<Option<u8>>(),
            any::<Option<u32>>(),
        )
            .prop_map(
                |(
                    (profile, lower, delivery, mode),
                    (destination, source),
                    (interleaved, client_port, server_port, port),
                    ttl,
                    ssrc,
                )| Transport {
                    profile,
                    lower,
                    delivery,
                    destination,
                    source,
                    interleaved,
                    client_port,
                    server_port,
                    port,
                    ttl,
                    ssrc,
                    mode,
                },
            )
    }

    proptest! {
        #[test]
        fn round_trips(t in any_transport(), u in any_transport()) {
            prop_assert_eq!(Transport::parse(&t.to_string()), Ok(t));
            let list = Transport::parse_list(&format!("{t},{u}")).unwrap();
            prop_assert_eq!(&list[..], &[t, u][..]);
        }

        #[test]
        fn never_panics(s in "\\PC{0,80}",
                        r in "(RTP/AVP(/TCP)?;)?([a-z_]{1,12}(=[0-9a-fA-F\" -]{0,12})?;){0,6}") {
            let _ = Transport::parse_list(&s);
            let _ = Transport::parse_list(&r);
        }
    }
}
