//! AMF0 values: the encoder and decoder of the commands and data messages the RTMP tests
//! send and receive.

/// One AMF0 value (the subset RTMP commands use).
#[derive(Clone, Debug, PartialEq)]
pub enum Amf0 {
    /// Marker 0x00: an IEEE 754 double.
    Number(f64),
    /// Marker 0x01.
    Boolean(bool),
    /// Marker 0x02 (or 0x0C, long string, when decoded).
    String(String),
    /// Marker 0x03: key/value pairs in order, ended by `00 00 09`.
    Object(Vec<(String, Amf0)>),
    /// Marker 0x05.
    Null,
    /// Marker 0x06.
    Undefined,
    /// Marker 0x08: a count (advisory) then pairs like an object.
    EcmaArray(Vec<(String, Amf0)>),
    /// Marker 0x0A: a count then that many values.
    StrictArray(Vec<Amf0>),
    /// Marker 0x0B: milliseconds since the epoch and a time zone (ignored).
    Date(f64),
}

impl Amf0 {
    /// A string value.
    pub fn str(s: &str) -> Amf0 {
        Amf0::String(s.to_string())
    }

    /// An object from `(key, value)` pairs.
    pub fn obj(pairs: &[(&str, Amf0)]) -> Amf0 {
        Amf0::Object(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.clone()))
                .collect(),
        )
    }

    /// The value of `key` in an object or ECMA array.
    pub fn get(&self, key: &str) -> Option<&Amf0> {
        match self {
            Amf0::Object(p) | Amf0::EcmaArray(p) => {
                p.iter().find(|(k, _)| k == key).map(|(_, v)| v)
            }
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Amf0::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if this is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Amf0::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// Appends the AMF0 encoding of this value to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Amf0::Number(n) => {
                out.push(0x00);
                out.extend_from_slice(&n.to_be_bytes());
            }
            Amf0::Boolean(b) => {
                out.push(0x01);
                out.push(u8::from(*b));
            }
            Amf0::String(s) => {
                out.push(0x02);
                amf0_put_utf8(out, s);
            }
            Amf0::Object(pairs) => {
                out.push(0x03);
                amf0_put_pairs(out, pairs);
            }
            Amf0::Null => out.push(0x05),
            Amf0::Undefined => out.push(0x06),
            Amf0::EcmaArray(pairs) => {
                out.push(0x08);
                out.extend_from_slice(&(pairs.len() as u32).to_be_bytes());
                amf0_put_pairs(out, pairs);
            }
            Amf0::StrictArray(values) => {
                out.push(0x0a);
                out.extend_from_slice(&(values.len() as u32).to_be_bytes());
                for v in values {
                    v.encode(out);
                }
            }
            Amf0::Date(ms) => {
                out.push(0x0b);
                out.extend_from_slice(&ms.to_be_bytes());
                out.extend_from_slice(&[0, 0]);
            }
        }
    }
}

/// A UTF-8 string with a 16-bit length (truncated to 65535 bytes).
fn amf0_put_utf8(out: &mut Vec<u8>, s: &str) {
    let b = &s.as_bytes()[..s.len().min(0xffff)];
    out.extend_from_slice(&(b.len() as u16).to_be_bytes());
    out.extend_from_slice(b);
}

/// Object/ECMA array body: each key (16-bit length + UTF-8) and value, then the end marker `00 00 09`.
fn amf0_put_pairs(out: &mut Vec<u8>, pairs: &[(String, Amf0)]) {
    for (k, v) in pairs {
        amf0_put_utf8(out, k);
        v.encode(out);
    }
    out.extend_from_slice(&[0, 0, 0x09]);
}

/// The concatenated AMF0 encodings of `values` (a command or data message body).
pub fn amf0_encode_all(values: &[Amf0]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in values {
        v.encode(&mut out);
    }
    out
}

/// Decodes a whole command or data message body into its values.
pub fn amf0_decode_all(bytes: &[u8]) -> Result<Vec<Amf0>, String> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < bytes.len() {
        out.push(amf0_decode(bytes, &mut pos, 0)?);
    }
    Ok(out)
}

/// The next `n` bytes at `*pos` (advancing it), or an error if fewer remain.
fn take<'a>(bytes: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8], String> {
    let end = pos
        .checked_add(n)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| {
            format!(
                "AMF0: {n} bytes needed at {pos}, {} left",
                bytes.len() - *pos
            )
        })?;
    let s = &bytes[*pos..end];
    *pos = end;
    Ok(s)
}

/// A big-endian u16 at `*pos` (a string or key length).
fn take_u16(bytes: &[u8], pos: &mut usize) -> Result<usize, String> {
    let b = take(bytes, pos, 2)?;
    Ok(usize::from(u16::from_be_bytes([b[0], b[1]])))
}

/// A big-endian u32 at `*pos` (an array count or long string length).
fn take_u32(bytes: &[u8], pos: &mut usize) -> Result<u32, String> {
    let b = take(bytes, pos, 4)?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// A big-endian IEEE 754 double at `*pos`.
fn take_f64(bytes: &[u8], pos: &mut usize) -> Result<f64, String> {
    let b = take(bytes, pos, 8)?;
    Ok(f64::from_be_bytes(b.try_into().expect("8 bytes")))
}

/// `len` bytes at `*pos` as (lossy) UTF-8.
fn take_utf8(bytes: &[u8], pos: &mut usize, len: usize) -> Result<String, String> {
    Ok(String::from_utf8_lossy(take(bytes, pos, len)?).into_owned())
}

/// Key/value pairs up to the end marker (an empty key followed by 0x09).
fn take_pairs(bytes: &[u8], pos: &mut usize, depth: usize) -> Result<Vec<(String, Amf0)>, String> {
    let mut pairs = Vec::new();
    loop {
        let len = take_u16(bytes, pos)?;
        if len == 0 && bytes.get(*pos) == Some(&0x09) {
            *pos += 1;
            return Ok(pairs);
        }
        let key = take_utf8(bytes, pos, len)?;
        let value = amf0_decode(bytes, pos, depth + 1)?;
        pairs.push((key, value));
    }
}

/// One AMF0 value at `*pos`; nesting is limited to 32 levels.
fn amf0_decode(bytes: &[u8], pos: &mut usize, depth: usize) -> Result<Amf0, String> {
    if depth > 32 {
        return Err("AMF0: nesting deeper than 32".into());
    }
    let marker = take(bytes, pos, 1)?[0];
    Ok(match marker {
        0x00 => Amf0::Number(take_f64(bytes, pos)?),
        0x01 => Amf0::Boolean(take(bytes, pos, 1)?[0] != 0),
        0x02 => {
            let len = take_u16(bytes, pos)?;
            Amf0::String(take_utf8(bytes, pos, len)?)
        }
        0x03 => Amf0::Object(take_pairs(bytes, pos, depth)?),
        0x05 => Amf0::Null,
        0x06 => Amf0::Undefined,
        0x08 => {
            take_u32(bytes, pos)?;
            Amf0::EcmaArray(take_pairs(bytes, pos, depth)?)
        }
        0x0a => {
            let n = take_u32(bytes, pos)? as usize;
            let mut values = Vec::new();
            for _ in 0..n {
                values.push(amf0_decode(bytes, pos, depth + 1)?);
            }
            Amf0::StrictArray(values)
        }
        0x0b => {
            let ms = take_f64(bytes, pos)?;
            take(bytes, pos, 2)?;
            Amf0::Date(ms)
        }
        0x0c => {
            let len = take_u32(bytes, pos)? as usize;
            Amf0::String(take_utf8(bytes, pos, len)?)
        }
        m => {
            return Err(format!(
                "AMF0: unsupported marker 0x{m:02x} at {}",
                *pos - 1
            ))
        }
    })
}
