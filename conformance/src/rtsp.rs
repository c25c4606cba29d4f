//! A small, independent RTSP stream splitter for captures: cuts one direction's bytes into
//! messages (start line, headers, body by Content-Length) and `$`-interleaved frames, and reads
//! the ports and channels out of a Transport header. It checks captures; weir's own parser
//! lives in weir-core and is what gets tested against them.

/// One RTSP request or response as found in a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtspMessage {
    /// Position of the message's first byte in the stream.
    pub offset: u64,
    /// The request or status line, without its line end.
    pub start_line: String,
    /// Header names and values in order, values trimmed.
    pub headers: Vec<(String, String)>,
    /// The body (Content-Length bytes).
    pub body: Vec<u8>,
}

impl RtspMessage {
    /// The method of a request (`None` for a response).
    pub fn method(&self) -> Option<&str> {
        if self.start_line.starts_with("RTSP/") {
            return None;
        }
        self.start_line.split(' ').next()
    }

    /// The URI of a request.
    pub fn uri(&self) -> Option<&str> {
        self.method()?;
        self.start_line.split(' ').nth(1)
    }

    /// The status code of a response (`None` for a request).
    pub fn status(&self) -> Option<u16> {
        let mut parts = self.start_line.split(' ');
        if !parts.next()?.starts_with("RTSP/") {
            return None;
        }
        parts.next()?.parse().ok()
    }

    /// The first header of this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The CSeq header as a number.
    pub fn cseq(&self) -> Option<u32> {
        self.header("CSeq")?.parse().ok()
    }
}

/// One item of an RTSP connection's byte stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RtspItem {
    /// A request or response.
    Message(RtspMessage),
    /// A `$`-framed interleaved packet (RTP or RTCP over the RTSP connection).
    Interleaved {
        /// Position of the `$` in the stream.
        offset: u64,
        /// The channel byte.
        channel: u8,
        /// The framed packet.
        data: Vec<u8>,
    },
}

/// The result of splitting a run of stream bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RtspSplit {
    /// The messages and interleaved frames, in stream order.
    pub items: Vec<RtspItem>,
    /// Bytes skipped because they were neither (garbage, or the tail of a message cut by a
    /// gap before the run), in total.
    pub skipped: u64,
    /// Bytes at the end that form an unfinished message or frame.
    pub incomplete: u64,
}

/// The longest message head (start line and headers) accepted.
const MAX_HEAD: usize = 64 * 1024;

/// Splits `data`, a run of one direction's bytes starting at stream position `offset`, into
/// RTSP messages and interleaved frames. With `resync`, bytes that start neither are skipped
/// up to the next plausible start line or `$` frame (use it after a gap); without it,
/// splitting stops at them and they count as skipped.
pub fn split_rtsp(data: &[u8], offset: u64, resync: bool) -> RtspSplit {
    let mut split = RtspSplit::default();
    let mut pos = 0;
    while pos < data.len() {
        let rest = &data[pos..];
        let at = offset + pos as u64;
        if rest[0] == b'$' {
            if rest.len() < 4 {
                split.incomplete = rest.len() as u64;
                break;
            }
            let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
            if rest.len() < 4 + len {
                split.incomplete = rest.len() as u64;
                break;
            }
            split.items.push(RtspItem::Interleaved {
                offset: at,
                channel: rest[1],
                data: rest[4..4 + len].to_vec(),
            });
            pos += 4 + len;
            continue;
        }
        if !looks_like_start_line(rest) {
            let next = if resync { find_resync(rest) } else { None };
            match next {
                Some(skip) => {
                    split.skipped += skip as u64;
                    pos += skip;
                    continue;
                }
                None => {
                    split.skipped += rest.len() as u64;
                    break;
                }
            }
        }
        match parse_message(rest, at) {
            Parsed::Message(message, used) => {
                split.items.push(RtspItem::Message(message));
                pos += used;
            }
            Parsed::Incomplete => {
                split.incomplete = rest.len() as u64;
                break;
            }
            Parsed::Invalid => {
                // A start line that did not lead to a message: skip its first byte and look on.
                let skip = if resync {
                    find_resync(&rest[1..]).map(|s| s + 1)
                } else {
                    None
                };
                match skip {
                    Some(skip) => {
                        split.skipped += skip as u64;
                        pos += skip;
                    }
                    None => {
                        split.skipped += rest.len() as u64;
                        break;
                    }
                }
            }
        }
    }
    split
}

enum Parsed {
    Message(RtspMessage, usize),
    Incomplete,
    Invalid,
}

fn parse_message(data: &[u8], offset: u64) -> Parsed {
    let Some(head_end) = find(data, b"\r\n\r\n").map(|i| i + 4) else {
        return if data.len() > MAX_HEAD {
            Parsed::Invalid
        } else {
            Parsed::Incomplete
        };
    };
    let Ok(head) = std::str::from_utf8(&data[..head_end]) else {
        return Parsed::Invalid;
    };
    let mut lines = head.split("\r\n");
    let start_line = lines.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return Parsed::Invalid;
        };
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("Content-Length"))
        .map(|(_, v)| v.parse::<usize>());
    let body_len = match length {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return Parsed::Invalid,
    };
    let Some(end) = head_end.checked_add(body_len).filter(|&e| e <= data.len()) else {
        return Parsed::Incomplete;
    };
    Parsed::Message(
        RtspMessage {
            offset,
            start_line,
            headers,
            body: data[head_end..end].to_vec(),
        },
        end,
    )
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Whether `data` starts like a request line (`TOKEN SP ... RTSP/1.x`) or a status line
/// (`RTSP/1.x SP`), judged on its first line (or as much of it as there is).
pub fn looks_like_start_line(data: &[u8]) -> bool {
    let line_end = find(data, b"\r\n").unwrap_or(data.len()).min(4096);
    let line = &data[..line_end];
    if line.starts_with(b"RTSP/1.") {
        return true;
    }
    let method_len = line
        .iter()
        .take_while(|b| b.is_ascii_uppercase() || **b == b'_')
        .count();
    if method_len == 0 || line.get(method_len) != Some(&b' ') {
        return false;
    }
    // The line is whole: it must end with the version. Otherwise its start is enough.
    if line_end < data.len() {
        line.ends_with(b" RTSP/1.0") || line.ends_with(b" RTSP/1.1") || line.ends_with(b" RTSP/2.0")
    } else {
        true
    }
}

/// The offset of the next line in `data` that looks like a start line, or of a `$` at a line
/// start.
fn find_resync(data: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(nl) = find(&data[i..], b"\n") {
        let at = i + nl + 1;
        if at >= data.len() {
            return None;
        }
        if data[at] == b'$' || looks_like_start_line(&data[at..]) {
            return Some(at);
        }
        i = at;
    }
    None
}

/// The ports and channels of one transport specification of a Transport header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransportSpec {
    /// The protocol token (`RTP/AVP`, `RTP/AVP/TCP`, ...).
    pub protocol: String,
    /// `client_port=a-b` (a single port gives `(a, a + 1)`).
    pub client_port: Option<(u16, u16)>,
    /// `server_port=a-b`.
    pub server_port: Option<(u16, u16)>,
    /// `interleaved=a-b`.
    pub interleaved: Option<(u8, u8)>,
    /// `port=a-b` (multicast).
    pub port: Option<(u16, u16)>,
    /// `multicast` was given.
    pub multicast: bool,
}

/// Parses a Transport header value into its comma-separated specifications.
pub fn parse_transport(value: &str) -> Vec<TransportSpec> {
    value
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|spec| {
            let mut parts = spec.split(';').map(str::trim);
            let mut out = TransportSpec {
                protocol: parts.next().unwrap_or_default().to_string(),
                ..TransportSpec::default()
            };
            for part in parts {
                let (key, val) = part.split_once('=').unwrap_or((part, ""));
                match key.to_ascii_lowercase().as_str() {
                    "client_port" => out.client_port = port_pair(val),
                    "server_port" => out.server_port = port_pair(val),
                    "port" => out.port = port_pair(val),
                    "interleaved" => {
                        out.interleaved = pair::<u8>(val).map(|(a, b)| (a, b.unwrap_or(a)))
                    }
                    "multicast" => out.multicast = true,
                    _ => {}
                }
            }
            out
        })
        .collect()
}

fn port_pair(value: &str) -> Option<(u16, u16)> {
    let (a, b) = pair::<u16>(value)?;
    Some((a, b.unwrap_or(a.wrapping_add(1))))
}

fn pair<T: std::str::FromStr>(value: &str) -> Option<(T, Option<T>)> {
    match value.split_once('-') {
        Some((a, b)) => Some((a.trim().parse().ok()?, Some(b.trim().parse().ok()?))),
        None => Some((value.trim().parse().ok()?, None)),
    }
}
