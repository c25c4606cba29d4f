//! AMF3 decoding: the values a Flash-era client may put in data and command messages (message
//! types 15 and 17, or behind the AMF0 AVM+ marker).
//!
//! Covered: undefined, null, false, true, integer (29-bit, sign-extended), double, string
//! (with the string reference table), XML document, date, array (associative and dense parts),
//! object (sealed and dynamic members, inline and referenced traits), XML, byte array, the four
//! vector types and dictionary. Not covered: externalizable objects (their encoding belongs to
//! the class; decoding one is an [`AmfErrorKind::Unsupported`] error). References to earlier
//! complex values (the object table) are kept as [`Amf3Value::Reference`] rather than expanded,
//! so a message cannot blow up through them. There is no AMF3 writer: weir answers in AMF0.

use super::amf0::{Amf0Value, AmfError, AmfErrorKind, AmfLimits, Budget};

/// One AMF3 value.
#[derive(Debug, Clone, PartialEq)]
pub enum Amf3Value {
    /// undefined.
    Undefined,
    /// null.
    Null,
    /// false or true.
    Boolean(bool),
    /// A 29-bit signed integer.
    Integer(i32),
    /// A double.
    Double(f64),
    /// A string.
    String(String),
    /// A legacy XML document (text).
    XmlDocument(String),
    /// A date: milliseconds since the Unix epoch (UTC).
    Date(f64),
    /// An array: its associative part and its dense part.
    Array {
        /// (key, value) entries.
        assoc: Vec<(String, Amf3Value)>,
        /// Dense entries.
        dense: Vec<Amf3Value>,
    },
    /// An object: class name (empty when anonymous) and members, sealed then dynamic.
    Object {
        /// The class name.
        class_name: String,
        /// The members.
        members: Vec<(String, Amf3Value)>,
    },
    /// An E4X XML value (text).
    Xml(String),
    /// A byte array.
    ByteArray(Vec<u8>),
    /// A Vector.<int>.
    VectorInt(Vec<i32>),
    /// A Vector.<uint>.
    VectorUint(Vec<u32>),
    /// A Vector.<Number>.
    VectorDouble(Vec<f64>),
    /// A Vector.<Object>.
    VectorObject {
        /// The element type name.
        type_name: String,
        /// The elements.
        items: Vec<Amf3Value>,
    },
    /// A Dictionary: (key, value) entries.
    Dictionary(Vec<(Amf3Value, Amf3Value)>),
    /// A reference to an earlier complex value by object-table index (not expanded).
    Reference(u32),
}

impl Amf3Value {
    /// The closest AMF0 value: integers and doubles become numbers, anonymous objects objects,
    /// named ones typed objects, arrays strict arrays (dense only) or ECMA arrays (dense entries
    /// keyed by their index); the rest is wrapped in [`Amf0Value::Avmplus`].
    pub fn to_amf0(&self) -> Amf0Value {
        fn pairs(p: &[(String, Amf3Value)]) -> Vec<(String, Amf0Value)> {
            p.iter().map(|(k, v)| (k.clone(), v.to_amf0())).collect()
        }
        match self {
            Amf3Value::Undefined => Amf0Value::Undefined,
            Amf3Value::Null => Amf0Value::Null,
            Amf3Value::Boolean(b) => Amf0Value::Boolean(*b),
            Amf3Value::Integer(i) => Amf0Value::Number(f64::from(*i)),
            Amf3Value::Double(d) => Amf0Value::Number(*d),
            Amf3Value::String(s) => Amf0Value::String(s.clone()),
            Amf3Value::XmlDocument(s) => Amf0Value::XmlDocument(s.clone()),
            Amf3Value::Date(ms) => Amf0Value::Date {
                millis: *ms,
                timezone: 0,
            },
            Amf3Value::Array { assoc, dense } if assoc.is_empty() => {
                Amf0Value::StrictArray(dense.iter().map(Amf3Value::to_amf0).collect())
            }
            Amf3Value::Array { assoc, dense } => {
                let mut p: Vec<(String, Amf0Value)> = dense
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (i.to_string(), v.to_amf0()))
                    .collect();
                p.extend(pairs(assoc));
                Amf0Value::EcmaArray(p)
            }
            Amf3Value::Object {
                class_name,
                members,
            } if class_name.is_empty() => Amf0Value::Object(pairs(members)),
            Amf3Value::Object {
                class_name,
                members,
            } => Amf0Value::TypedObject {
                class_name: class_name.clone(),
                properties: pairs(members),
            },
            other => Amf0Value::Avmplus(Box::new(other.clone())),
        }
    }
}

/// Markers of the AMF3 types.
pub mod marker {
    /// undefined.
    pub const UNDEFINED: u8 = 0x00;
    /// null.
    pub const NULL: u8 = 0x01;
    /// false.
    pub const FALSE: u8 = 0x02;
    /// true.
    pub const TRUE: u8 = 0x03;
    /// integer (U29).
    pub const INTEGER: u8 = 0x04;
    /// double.
    pub const DOUBLE: u8 = 0x05;
    /// string.
    pub const STRING: u8 = 0x06;
    /// XML document.
    pub const XML_DOC: u8 = 0x07;
    /// date.
    pub const DATE: u8 = 0x08;
    /// array.
    pub const ARRAY: u8 = 0x09;
    /// object.
    pub const OBJECT: u8 = 0x0A;
    /// XML.
    pub const XML: u8 = 0x0B;
    /// byte array.
    pub const BYTE_ARRAY: u8 = 0x0C;
    /// Vector.<int>.
    pub const VECTOR_INT: u8 = 0x0D;
    /// Vector.<uint>.
    pub const VECTOR_UINT: u8 = 0x0E;
    /// Vector.<Number>.
    pub const VECTOR_DOUBLE: u8 = 0x0F;
    /// Vector.<Object>.
    pub const VECTOR_OBJECT: u8 = 0x10;
    /// Dictionary.
    pub const DICTIONARY: u8 = 0x11;
}

/// Traits of a class, kept for trait references.
#[derive(Debug, Clone)]
struct Traits {
    class_name: String,
    dynamic: bool,
    sealed: Vec<String>,
}

/// The estimated memory of one decoded value, before its contents.
const VALUE_COST: usize = std::mem::size_of::<Amf3Value>() + 16;

/// A cursor decoding AMF3 values, with the string, traits and object reference tables of one
/// AMF3 context.
#[derive(Debug)]
pub struct Amf3Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    budget: Budget,
    strings: Vec<String>,
    traits: Vec<Traits>,
    objects: u32,
}

impl<'a> Amf3Reader<'a> {
    /// A reader with the default [`AmfLimits`].
    pub fn new(buf: &'a [u8]) -> Amf3Reader<'a> {
        Amf3Reader::with_limits(buf, AmfLimits::default())
    }

    /// A reader with the given limits.
    pub fn with_limits(buf: &'a [u8], limits: AmfLimits) -> Amf3Reader<'a> {
        Amf3Reader::resume(buf, 0, Budget::new(limits))
    }

    /// A fresh AMF3 context reading `buf` from `pos` (after an AMF0 AVM+ marker).
    pub(crate) fn resume(buf: &'a [u8], pos: usize, budget: Budget) -> Amf3Reader<'a> {
        Amf3Reader {
            buf,
            pos,
            budget,
            strings: Vec::new(),
            traits: Vec::new(),
            objects: 0,
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

    pub(crate) fn budget(&self) -> Budget {
        self.budget
    }

    /// Decodes the next value.
    pub fn read_value(&mut self) -> Result<Amf3Value, AmfError> {
        self.value(0)
    }

    pub(crate) fn read_value_at_depth(&mut self, depth: usize) -> Result<Amf3Value, AmfError> {
        self.value(depth)
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

    /// A variable-length unsigned 29-bit integer: up to three bytes of 7 bits with a
    /// continuation bit, then one byte of 8 bits.
    fn u29(&mut self) -> Result<u32, AmfError> {
        let mut v: u32 = 0;
        for i in 0..4 {
            let b = self.u8()?;
            if i == 3 {
                return Ok((v << 8) | u32::from(b));
            }
            v = (v << 7) | u32::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
        }
        Ok(v)
    }

    /// Checks that `count` items of at least `min_size` bytes each can be in the input.
    fn check_count(&self, count: u32, min_size: usize) -> Result<usize, AmfError> {
        let count = count as usize;
        let left = self.buf.len().saturating_sub(self.pos);
        if count.saturating_mul(min_size) > left {
            return Err(self.err(AmfErrorKind::UnexpectedEnd));
        }
        Ok(count)
    }

    fn string(&mut self) -> Result<String, AmfError> {
        let at = self.pos;
        let h = self.u29()?;
        if h & 1 == 0 {
            let idx = h >> 1;
            let s = self
                .strings
                .get(idx as usize)
                .ok_or_else(|| AmfError::new(AmfErrorKind::BadReference(idx), at))?;
            self.budget.charge(s.len(), at)?;
            return Ok(s.clone());
        }
        let len = (h >> 1) as usize;
        let bytes = self.take(len)?;
        self.budget.charge(len * 2, at)?;
        let s = String::from_utf8_lossy(bytes).into_owned();
        if !s.is_empty() {
            self.strings.push(s.clone());
        }
        Ok(s)
    }

    /// The header of a value that may be a reference: `Ok(Err(index))` for a reference,
    /// `Ok(Ok(value >> 1))` for an inline value.
    fn ref_or_inline(&mut self) -> Result<Result<u32, u32>, AmfError> {
        let h = self.u29()?;
        if h & 1 == 0 {
            Ok(Err(h >> 1))
        } else {
            Ok(Ok(h >> 1))
        }
    }

    fn reference(&self, idx: u32, at: usize) -> Result<Amf3Value, AmfError> {
        if idx >= self.objects {
            return Err(AmfError::new(AmfErrorKind::BadReference(idx), at));
        }
        Ok(Amf3Value::Reference(idx))
    }

    fn text(&mut self, make: fn(String) -> Amf3Value) -> Result<Amf3Value, AmfError> {
        let at = self.pos;
        match self.ref_or_inline()? {
            Err(idx) => self.reference(idx, at),
            Ok(len) => {
                self.objects += 1;
                let bytes = self.take(len as usize)?;
                self.budget.charge(bytes.len(), at)?;
                Ok(make(String::from_utf8_lossy(bytes).into_owned()))
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Amf3Value, AmfError> {
        let at = self.pos;
        self.budget.check_depth(depth, at)?;
        self.budget.charge(VALUE_COST, at)?;
        let m = self.u8()?;
        Ok(match m {
            marker::UNDEFINED => Amf3Value::Undefined,
            marker::NULL => Amf3Value::Null,
            marker::FALSE => Amf3Value::Boolean(false),
            marker::TRUE => Amf3Value::Boolean(true),
            marker::INTEGER => {
                let v = self.u29()?;
                // Sign-extend the 29-bit value.
                Amf3Value::Integer(((v << 3) as i32) >> 3)
            }
            marker::DOUBLE => Amf3Value::Double(self.f64()?),
            marker::STRING => Amf3Value::String(self.string()?),
            marker::XML_DOC => self.text(Amf3Value::XmlDocument)?,
            marker::XML => self.text(Amf3Value::Xml)?,
            marker::DATE => match self.ref_or_inline()? {
                Err(idx) => self.reference(idx, at)?,
                Ok(_) => {
                    self.objects += 1;
                    Amf3Value::Date(self.f64()?)
                }
            },
            marker::ARRAY => match self.ref_or_inline()? {
                Err(idx) => self.reference(idx, at)?,
                Ok(count) => {
                    self.objects += 1;
                    let mut assoc = Vec::new();
                    loop {
                        let key = self.string()?;
                        if key.is_empty() {
                            break;
                        }
                        assoc.push((key, self.value(depth + 1)?));
                    }
                    let count = self.check_count(count, 1)?;
                    let mut dense = Vec::with_capacity(count.min(1024));
                    for _ in 0..count {
                        dense.push(self.value(depth + 1)?);
                    }
                    Amf3Value::Array { assoc, dense }
                }
            },
            marker::OBJECT => self.object(depth, at)?,
            marker::BYTE_ARRAY => match self.ref_or_inline()? {
                Err(idx) => self.reference(idx, at)?,
                Ok(len) => {
                    self.objects += 1;
                    let bytes = self.take(len as usize)?;
                    self.budget.charge(bytes.len(), at)?;
                    Amf3Value::ByteArray(bytes.to_vec())
                }
            },
            marker::VECTOR_INT | marker::VECTOR_UINT | marker::VECTOR_DOUBLE => {
                match self.ref_or_inline()? {
                    Err(idx) => self.reference(idx, at)?,
                    Ok(count) => {
                        self.objects += 1;
                        let _fixed = self.u8()?;
                        let size = if m == marker::VECTOR_DOUBLE { 8 } else { 4 };
                        let count = self.check_count(count, size)?;
                        self.budget.charge(count * size, at)?;
                        match m {
                            marker::VECTOR_INT => Amf3Value::VectorInt(
                                (0..count)
                                    .map(|_| self.u32().map(|v| v as i32))
                                    .collect::<Result<_, _>>()?,
                            ),
                            marker::VECTOR_UINT => Amf3Value::VectorUint(
                                (0..count).map(|_| self.u32()).collect::<Result<_, _>>()?,
                            ),
                            _ => Amf3Value::VectorDouble(
                                (0..count).map(|_| self.f64()).collect::<Result<_, _>>()?,
                            ),
                        }
                    }
                }
            }
            marker::VECTOR_OBJECT => match self.ref_or_inline()? {
                Err(idx) => self.reference(idx, at)?,
                Ok(count) => {
                    self.objects += 1;
                    let _fixed = self.u8()?;
                    let type_name = self.string()?;
                    let count = self.check_count(count, 1)?;
                    let mut items = Vec::with_capacity(count.min(1024));
                    for _ in 0..count {
                        items.push(self.value(depth + 1)?);
                    }
                    Amf3Value::VectorObject { type_name, items }
                }
            },
            marker::DICTIONARY => match self.ref_or_inline()? {
                Err(idx) => self.reference(idx, at)?,
                Ok(count) => {
                    self.objects += 1;
                    let _weak_keys = self.u8()?;
                    let count = self.check_count(count, 2)?;
                    let mut entries = Vec::with_capacity(count.min(1024));
                    for _ in 0..count {
                        let k = self.value(depth + 1)?;
                        let v = self.value(depth + 1)?;
                        entries.push((k, v));
                    }
                    Amf3Value::Dictionary(entries)
                }
            },
            other => return Err(AmfError::new(AmfErrorKind::UnknownMarker(other), at)),
        })
    }

    fn object(&mut self, depth: usize, at: usize) -> Result<Amf3Value, AmfError> {
        let h = self.u29()?;
        if h & 1 == 0 {
            return self.reference(h >> 1, at);
        }
        self.objects += 1;
        let traits = if h & 2 == 0 {
            let idx = h >> 2;
            let t = self
                .traits
                .get(idx as usize)
                .ok_or_else(|| AmfError::new(AmfErrorKind::BadReference(idx), at))?
                .clone();
            let cost = t.class_name.len() + t.sealed.iter().map(|s| s.len() + 24).sum::<usize>();
            self.budget.charge(cost, at)?;
            t
        } else if h & 4 != 0 {
            return Err(AmfError::new(
                AmfErrorKind::Unsupported("externalizable AMF3 object"),
                at,
            ));
        } else {
            let dynamic = h & 8 != 0;
            let count = self.check_count(h >> 4, 1)?;
            let class_name = self.string()?;
            let mut sealed = Vec::with_capacity(count.min(256));
            for _ in 0..count {
                sealed.push(self.string()?);
            }
            let t = Traits {
                class_name,
                dynamic,
                sealed,
            };
            self.traits.push(t.clone());
            t
        };
        let mut members = Vec::with_capacity(traits.sealed.len());
        for name in traits.sealed {
            let v = self.value(depth + 1)?;
            members.push((name, v));
        }
        if traits.dynamic {
            loop {
                let key = self.string()?;
                if key.is_empty() {
                    break;
                }
                let v = self.value(depth + 1)?;
                members.push((key, v));
            }
        }
        Ok(Amf3Value::Object {
            class_name: traits.class_name,
            members,
        })
    }
}

/// Decodes every value of `buf` in one AMF3 context.
pub fn decode_all(buf: &[u8]) -> Result<Vec<Amf3Value>, AmfError> {
    let mut r = Amf3Reader::new(buf);
    let mut out = Vec::new();
    while !r.is_empty() {
        out.push(r.read_value()?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
