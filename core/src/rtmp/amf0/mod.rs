//! AMF0 (Action Message Format, version 0): the value encoding of RTMP commands and data
//! messages.
//!
//! Every AMF0 type is covered, both directions: number, boolean, string, object, null,
//! undefined, reference, ECMA array, object end, strict array, date, long string, unsupported,
//! XML document, typed object, and the AVM+ marker (one AMF3 value follows, decoded by
//! [`super::amf3`]). Short (`0x02`) and long (`0x0C`) strings both decode to
//! [`Amf0Value::String`]; the writer picks the marker by length. References (`0x07`) are kept as
//! their index, not expanded, so a hostile message cannot multiply its size through them.
//!
//! Decoding is bounded: nesting depth and an estimate of the memory the decoded values take are
//! limited by [`AmfLimits`]; strings with invalid UTF-8 are decoded lossily.

use super::amf3::{Amf3Reader, Amf3Value};

/// Markers of the AMF0 types.
pub mod marker {
    /// IEEE-754 double.
    pub const NUMBER: u8 = 0x00;
    /// One byte, non-zero is true.
    pub const BOOLEAN: u8 = 0x01;
    /// UTF-8 with a 16-bit length.
    pub const STRING: u8 = 0x02;
    /// Anonymous object: properties until the object end.
    pub const OBJECT: u8 = 0x03;
    /// Reserved (MovieClip), not allowed.
    pub const MOVIECLIP: u8 = 0x04;
    /// Null.
    pub const NULL: u8 = 0x05;
    /// Undefined.
    pub const UNDEFINED: u8 = 0x06;
    /// Reference to a previous complex value by 16-bit index.
    pub const REFERENCE: u8 = 0x07;
    /// Associative array: 32-bit count hint, then properties until the object end.
    pub const ECMA_ARRAY: u8 = 0x08;
    /// Ends an object, ECMA array or typed object (after an empty key).
    pub const OBJECT_END: u8 = 0x09;
    /// Dense array: 32-bit count, then values.
    pub const STRICT_ARRAY: u8 = 0x0A;
    /// Milliseconds since the epoch (double) and a 16-bit time zone.
    pub const DATE: u8 = 0x0B;
    /// UTF-8 with a 32-bit length.
    pub const LONG_STRING: u8 = 0x0C;
    /// Unsupported value.
    pub const UNSUPPORTED: u8 = 0x0D;
    /// Reserved (RecordSet), not allowed.
    pub const RECORDSET: u8 = 0x0E;
    /// XML document as a long string.
    pub const XML_DOCUMENT: u8 = 0x0F;
    /// Object with a class name.
    pub const TYPED_OBJECT: u8 = 0x10;
    /// The next value is AMF3.
    pub const AVMPLUS: u8 = 0x11;
}

/// One AMF0 value.
#[derive(Debug, Clone, PartialEq)]
pub enum Amf0Value {
    /// A number (all AMF0 numbers are doubles).
    Number(f64),
    /// A boolean.
    Boolean(bool),
    /// A string (short or long on the wire).
    String(String),
    /// An anonymous object: ordered (key, value) properties.
    Object(Vec<(String, Amf0Value)>),
    /// Null.
    Null,
    /// Undefined.
    Undefined,
    /// A reference to an earlier complex value of the same message, not expanded.
    Reference(u16),
    /// An associative ("ECMA") array: ordered (key, value) properties.
    EcmaArray(Vec<(String, Amf0Value)>),
    /// A dense ("strict") array.
    StrictArray(Vec<Amf0Value>),
    /// A date: milliseconds since the Unix epoch (UTC) and a time zone that should be 0.
    Date {
        /// Milliseconds since 1970-01-01 UTC.
        millis: f64,
        /// Reserved time zone offset.
        timezone: i16,
    },
    /// The "unsupported" marker.
    Unsupported,
    /// An XML document (text).
    XmlDocument(String),
    /// An object with a registered class name.
    TypedObject {
        /// The class name.
        class_name: String,
        /// Its properties.
        properties: Vec<(String, Amf0Value)>,
    },
    /// An AMF3 value behind the AVM+ marker (decode only: writing it is unsupported).
    Avmplus(Box<Amf3Value>),
}

impl Amf0Value {
    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Amf0Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Amf0Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The boolean, if this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Amf0Value::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// The properties of an object, ECMA array or typed object.
    pub fn properties(&self) -> Option<&[(String, Amf0Value)]> {
        match self {
            Amf0Value::Object(p) | Amf0Value::EcmaArray(p) => Some(p),
            Amf0Value::TypedObject { properties, .. } => Some(properties),
            _ => None,
        }
    }

    /// The first property named `key` of an object, ECMA array or typed object.
    pub fn get(&self, key: &str) -> Option<&Amf0Value> {
        self.properties()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Appends the encoding of this value to `out`. On error `out` may hold a partial value.
    pub fn write(&self, out: &mut Vec<u8>) -> Result<(), AmfError> {
        write_value(self, out, 0)
    }

    /// The encoding of this value.
    pub fn to_bytes(&self) -> Result<Vec<u8>, AmfError> {
        let mut out = Vec::new();
        self.write(&mut out)?;
        Ok(out)
    }
}

/// Limits applied while decoding AMF0 and AMF3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmfLimits {
    /// Maximum nesting of objects and arrays.
    pub max_depth: usize,
    /// Maximum estimated memory (bytes) of the decoded values of one message.
    pub max_cost: usize,
}

impl Default for AmfLimits {
    fn default() -> Self {
        AmfLimits {
            max_depth: 32,
            max_cost: 8 << 20,
        }
    }
}

/// Why an AMF value could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmfError {
    /// What went wrong.
    pub kind: AmfErrorKind,
    /// Byte position in the input (decoding) or 0 (encoding).
    pub position: usize,
}

/// The kinds of [`AmfError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmfErrorKind {
    /// The input ends inside a value.
    UnexpectedEnd,
    /// A type marker that does not exist or is reserved.
    UnknownMarker(u8),
    /// Nesting deeper than [`AmfLimits::max_depth`].
    TooDeep,
    /// The decoded values would exceed [`AmfLimits::max_cost`].
    TooLarge,
    /// A reference to a string or traits entry that does not exist (AMF3).
    BadReference(u32),
    /// A construct weir does not decode or encode (AMF3 externalizable objects; writing AMF3).
    Unsupported(&'static str),
    /// A string or key is too long for its length field (encoding).
    TooLong,
}

impl AmfError {
    pub(crate) fn new(kind: AmfErrorKind, position: usize) -> AmfError {
        AmfError { kind, position }
    }

    /// Who is to blame: a limit hit, or malformed input.
    pub fn blame(&self) -> crate::error::Blame {
        match self.kind {
            AmfErrorKind::TooDeep | AmfErrorKind::TooLarge | AmfErrorKind::TooLong => {
                crate::error::Blame::Limit
            }
            AmfErrorKind::Unsupported(_) => crate::error::Blame::Unsupported,
            _ => crate::error::Blame::Malformed,
        }
    }
}

impl std::fmt::Display for AmfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            AmfErrorKind::UnexpectedEnd => write!(f, "AMF value truncated")?,
            AmfErrorKind::UnknownMarker(m) => write!(f, "unknown AMF type marker 0x{m:02x}")?,
            AmfErrorKind::TooDeep => write!(f, "AMF values nested too deep")?,
            AmfErrorKind::TooLarge => write!(f, "AMF values too large")?,
            AmfErrorKind::BadReference(i) => write!(f, "invalid AMF3 reference {i}")?,
            AmfErrorKind::Unsupported(what) => write!(f, "unsupported AMF construct: {what}")?,
            AmfErrorKind::TooLong => write!(f, "AMF string too long for its length field")?,
        }
        write!(f, " at byte {}", self.position)
    }
}

impl std::error::Error for AmfError {}

/// The remaining depth and memory allowance of one decode, shared by AMF0 and AMF3.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    pub(crate) max_depth: usize,
    cost_left: usize,
}

impl Budget {
    pub(crate) fn new(limits: AmfLimits) -> Budget {
        Budget {
            max_depth: limits.max_depth,
            cost_left: limits.max_cost,
        }
    }

    /// Accounts for `bytes` more of decoded memory.
    pub(crate) fn charge(&mut self, bytes: usize, position: usize) -> Result<(), AmfError> {
        match self.cost_left.checked_sub(bytes) {
            Some(left) => {
                self.cost_left = left;
                Ok(())
            }
            None => Err(AmfError::new(AmfErrorKind::TooLarge, position)),
        }
    }

    pub(crate) fn check_depth(&self, depth: usize, position: usize) -> Result<(), AmfError> {
        if depth > self.max_depth {
            Err(AmfError::new(AmfErrorKind::TooDeep, position))
        } else {
            Ok(())
        }
    }
}

/// The estimated memory of one decoded value, before its contents.
const VALUE_COST: usize = std::mem::size_of::<Amf0Value>() + 16;

/// A cursor decoding AMF0 values one after the other from a byte slice.
#[derive(Debug)]
pub struct Amf0Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    budget: Budget,
}

impl<'a> Amf0Reader<'a> {
    /// A reader with the default [`AmfLimits`].
    pub fn new(buf: &'a [u8]) -> Amf0Reader<'a> {
        Amf0Reader::with_limits(buf, AmfLimits::default())
    }

    /// A reader with the given limits (shared by all values it reads).
    pub fn with_limits(buf: &'a [u8], limits: AmfLimits) -> Amf0Reader<'a> {
        Amf0Reader {
            buf,
            pos: 0,
            budget: Budget::new(limits),
        }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Whether every byte was consumed.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// Decodes the next value.
    pub fn read_value(&mut self) -> Result<Amf0Value, AmfError> {
        self.value(0)
    }

    fn err(&self, kind: AmfErrorKind) -> AmfError {
        AmfError::new(kind, self.pos)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], AmfError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| self.err(AmfErrorKind::UnexpectedEnd))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, AmfError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, AmfError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, AmfError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn f64(&mut self) -> Result<f64, AmfError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(f64::from_be_bytes(a))
    }

    fn string_of(&mut self, len: usize) -> Result<String, AmfError> {
        let at = self.pos;
        let bytes = self.take(len)?;
        self.budget.charge(len, at)?;
        Ok(String::from_utf8_lossy(bytes).into_owned())
    }

    fn short_string(&mut self) -> Result<String, AmfError> {
        let len = usize::from(self.u16()?);
        self.string_of(len)
    }

    fn long_string(&mut self) -> Result<String, AmfError> {
        let len = self.u32()? as usize;
        self.string_of(len)
    }

    fn value(&mut self, depth: usize) -> Result<Amf0Value, AmfError> {
        let at = self.pos;
        self.budget.check_depth(depth, at)?;
        self.budget.charge(VALUE_COST, at)?;
        let m = self.u8()?;
        Ok(match m {
            marker::NUMBER => Amf0Value::Number(self.f64()?),
            marker::BOOLEAN => Amf0Value::Boolean(self.u8()? != 0),
            marker::STRING => Amf0Value::String(self.short_string()?),
            marker::OBJECT => Amf0Value::Object(self.properties(depth, None)?),
            marker::NULL => Amf0Value::Null,
            marker::UNDEFINED => Amf0Value::Undefined,
            marker::REFERENCE => Amf0Value::Reference(self.u16()?),
            marker::ECMA_ARRAY => {
                let count = self.u32()?;
                Amf0Value::EcmaArray(self.properties(depth, Some(count))?)
            }
            marker::STRICT_ARRAY => {
                let count = self.u32()? as usize;
                // Every value takes at least one byte: a count beyond the input is a lie.
                if count > self.buf.len() - self.pos {
                    return Err(self.err(AmfErrorKind::UnexpectedEnd));
                }
                let mut items = Vec::with_capacity(count.min(1024));
                for _ in 0..count {
                    items.push(self.value(depth + 1)?);
                }
                Amf0Value::StrictArray(items)
            }
            marker::DATE => {
                let millis = self.f64()?;
                let timezone = self.u16()? as i16;
                Amf0Value::Date { millis, timezone }
            }
            marker::LONG_STRING => Amf0Value::String(self.long_string()?),
            marker::UNSUPPORTED => Amf0Value::Unsupported,
            marker::XML_DOCUMENT => Amf0Value::XmlDocument(self.long_string()?),
            marker::TYPED_OBJECT => {
                let class_name = self.short_string()?;
                let properties = self.properties(depth, None)?;
                Amf0Value::TypedObject {
                    class_name,
                    properties,
                }
            }
            marker::AVMPLUS => {
                let mut r = Amf3Reader::resume(self.buf, self.pos, self.budget);
                let v = r.read_value_at_depth(depth + 1)?;
                self.pos = r.position();
                self.budget = r.budget();
                Amf0Value::Avmplus(Box::new(v))
            }
            other => return Err(AmfError::new(AmfErrorKind::UnknownMarker(other), at)),
        })
    }

    /// Properties until an empty key followed by the object end marker. An ECMA array whose
    /// input ends right after its announced count of entries is accepted without the marker
    /// (some encoders leave it out).
    fn properties(
        &mut self,
        depth: usize,
        ecma_count: Option<u32>,
    ) -> Result<Vec<(String, Amf0Value)>, AmfError> {
        let mut props = Vec::new();
        loop {
            if let Some(n) = ecma_count {
                if self.is_empty() && props.len() as u64 >= u64::from(n) {
                    return Ok(props);
                }
            }
            let key = self.short_string()?;
            if key.is_empty() && self.buf.get(self.pos) == Some(&marker::OBJECT_END) {
                self.pos += 1;
                return Ok(props);
            }
            let v = self.value(depth + 1)?;
            props.push((key, v));
        }
    }
}

/// Decodes every value of `buf` (a command or data message body).
pub fn decode_all(buf: &[u8]) -> Result<Vec<Amf0Value>, AmfError> {
    let mut r = Amf0Reader::new(buf);
    let mut out = Vec::new();
    while !r.is_empty() {
        out.push(r.read_value()?);
    }
    Ok(out)
}

/// The deepest nesting the writer accepts.
const MAX_WRITE_DEPTH: usize = 64;

fn write_key(key: &str, out: &mut Vec<u8>) -> Result<(), AmfError> {
    let len = u16::try_from(key.len()).map_err(|_| AmfError::new(AmfErrorKind::TooLong, 0))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(key.as_bytes());
    Ok(())
}

fn write_properties(
    props: &[(String, Amf0Value)],
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), AmfError> {
    for (k, v) in props {
        write_key(k, out)?;
        write_value(v, out, depth + 1)?;
    }
    out.extend_from_slice(&[0, 0, marker::OBJECT_END]);
    Ok(())
}

fn write_long(s: &str, out: &mut Vec<u8>) -> Result<(), AmfError> {
    let len = u32::try_from(s.len()).map_err(|_| AmfError::new(AmfErrorKind::TooLong, 0))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

fn write_value(v: &Amf0Value, out: &mut Vec<u8>, depth: usize) -> Result<(), AmfError> {
    if depth > MAX_WRITE_DEPTH {
        return Err(AmfError::new(AmfErrorKind::TooDeep, 0));
    }
    match v {
        Amf0Value::Number(n) => {
            out.push(marker::NUMBER);
            out.extend_from_slice(&n.to_be_bytes());
        }
        Amf0Value::Boolean(b) => out.extend_from_slice(&[marker::BOOLEAN, u8::from(*b)]),
        Amf0Value::String(s) => {
            if s.len() <= usize::from(u16::MAX) {
                out.push(marker::STRING);
                write_key(s, out)?;
            } else {
                out.push(marker::LONG_STRING);
                write_long(s, out)?;
            }
        }
        Amf0Value::Object(p) => {
            out.push(marker::OBJECT);
            write_properties(p, out, depth)?;
        }
        Amf0Value::Null => out.push(marker::NULL),
        Amf0Value::Undefined => out.push(marker::UNDEFINED),
        Amf0Value::Reference(i) => {
            out.push(marker::REFERENCE);
            out.extend_from_slice(&i.to_be_bytes());
        }
        Amf0Value::EcmaArray(p) => {
            out.push(marker::ECMA_ARRAY);
            let n = u32::try_from(p.len()).map_err(|_| AmfError::new(AmfErrorKind::TooLong, 0))?;
            out.extend_from_slice(&n.to_be_bytes());
            write_properties(p, out, depth)?;
        }
        Amf0Value::StrictArray(items) => {
            out.push(marker::STRICT_ARRAY);
            let n =
                u32::try_from(items.len()).map_err(|_| AmfError::new(AmfErrorKind::TooLong, 0))?;
            out.extend_from_slice(&n.to_be_bytes());
            for item in items {
                write_value(item, out, depth + 1)?;
            }
        }
        Amf0Value::Date { millis, timezone } => {
            out.push(marker::DATE);
            out.extend_from_slice(&millis.to_be_bytes());
            out.extend_from_slice(&timezone.to_be_bytes());
        }
        Amf0Value::Unsupported => out.push(marker::UNSUPPORTED),
        Amf0Value::XmlDocument(s) => {
            out.push(marker::XML_DOCUMENT);
            write_long(s, out)?;
        }
        Amf0Value::TypedObject {
            class_name,
            properties,
        } => {
            out.push(marker::TYPED_OBJECT);
            write_key(class_name, out)?;
            write_properties(properties, out, depth)?;
        }
        Amf0Value::Avmplus(_) => {
            return Err(AmfError::new(
                AmfErrorKind::Unsupported("writing AMF3 values"),
                0,
            ))
        }
    }
    Ok(())
}

/// Builds an [`Amf0Value::Object`] from `(&str, value)` pairs.
pub fn object<const N: usize>(props: [(&str, Amf0Value); N]) -> Amf0Value {
    Amf0Value::Object(props.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

#[cfg(test)]
mod tests;
