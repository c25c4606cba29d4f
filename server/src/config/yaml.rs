//! A generic YAML value, deserialized with serde-saphyr, so that the loader can check every key
//! against MediaMTX's list and compare values with MediaMTX's defaults; and [`KeyLines`], where
//! each key of the file is written, so that errors can name the line.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::fmt;

/// A YAML value.
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    /// `null`, `~` or an empty value.
    Null,
    /// `true` / `false` (also `yes` / `no`).
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Yaml>),
    /// A mapping (keys as strings, ordered).
    Map(BTreeMap<String, Yaml>),
}

impl Yaml {
    /// The mapping, if this is one (null counts as an empty mapping).
    pub fn as_map(&self) -> Option<BTreeMap<String, Yaml>> {
        match self {
            Yaml::Map(m) => Some(m.clone()),
            Yaml::Null => Some(BTreeMap::new()),
            _ => None,
        }
    }

    /// A short name of the type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Yaml::Null => "null",
            Yaml::Bool(_) => "a boolean",
            Yaml::Int(_) => "an integer",
            Yaml::Float(_) => "a number",
            Yaml::Str(_) => "a string",
            Yaml::Seq(_) => "a list",
            Yaml::Map(_) => "a map",
        }
    }
}

struct YamlVisitor;

impl<'de> Visitor<'de> for YamlVisitor {
    type Value = Yaml;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }
    fn visit_none<E>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Yaml, D::Error> {
        Yaml::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Yaml, E> {
        Ok(Yaml::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Yaml, E> {
        Ok(Yaml::Int(v))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Yaml, E> {
        i64::try_from(v)
            .map(Yaml::Int)
            .map_err(|_| E::custom("integer too large"))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Yaml, E> {
        Ok(Yaml::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Yaml, E> {
        Ok(Yaml::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Yaml, E> {
        Ok(Yaml::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Yaml, A::Error> {
        let mut v = Vec::new();
        while let Some(x) = a.next_element()? {
            v.push(x);
        }
        Ok(Yaml::Seq(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Yaml, A::Error> {
        let mut m = BTreeMap::new();
        while let Some((k, v)) = a.next_entry::<String, Yaml>()? {
            if m.insert(k.clone(), v).is_some() {
                return Err(serde::de::Error::custom(format!("key '{k}' is repeated")));
            }
        }
        Ok(Yaml::Map(m))
    }
}

impl<'de> Deserialize<'de> for Yaml {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Yaml, D::Error> {
        d.deserialize_any(YamlVisitor)
    }
}

/// The line of every mapping key of a YAML document, by key path (sequence items by index).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyLines {
    /// The children: a mapping's keys with their 1-based lines, or a sequence's items.
    children: Vec<(String, usize, KeyLines)>,
}

impl KeyLines {
    /// Reads the key lines of `text` (empty if the text is not YAML; the value parse reports that).
    pub fn parse(text: &str) -> KeyLines {
        serde_saphyr::from_str(text).unwrap_or_default()
    }

    /// The 1-based line where the key at `path` is written (`["paths", "cam", "source"]`).
    pub fn line(&self, path: &[&str]) -> Option<usize> {
        let (first, rest) = path.split_first()?;
        let (_, line, child) = self.children.iter().find(|(k, _, _)| k == first)?;
        if rest.is_empty() {
            Some(*line)
        } else {
            child.line(rest)
        }
    }
}

struct KeyLinesVisitor;

impl<'de> Visitor<'de> for KeyLinesVisitor {
    type Value = KeyLines;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<KeyLines, E> {
        Ok(KeyLines::default())
    }
    fn visit_none<E>(self) -> Result<KeyLines, E> {
        Ok(KeyLines::default())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<KeyLines, D::Error> {
        KeyLines::deserialize(d)
    }
    fn visit_bool<E>(self, _: bool) -> Result<KeyLines, E> {
        Ok(KeyLines::default())
    }
    fn visit_i64<E>(self, _: i64) -> Result<KeyLines, E> {
        Ok(KeyLines::default())
    }
    fn visit_u64<E>(self, _: u64) -> Result<KeyLines, E> {
        Ok(KeyLines::default())
    }
    fn visit_f64<E>(self, _: f64) -> Result<KeyLines, E> {
        Ok(KeyLines::default())
    }
    fn visit_str<E>(self, _: &str) -> Result<KeyLines, E> {
        Ok(KeyLines::default())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<KeyLines, A::Error> {
        let mut children = Vec::new();
        while let Some(x) = a.next_element::<KeyLines>()? {
            children.push((children.len().to_string(), 0, x));
        }
        Ok(KeyLines { children })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<KeyLines, A::Error> {
        let mut children = Vec::new();
        while let Some((k, v)) = a.next_entry::<Spanned<String>, KeyLines>()? {
            children.push((k.value, k.referenced.line() as usize, v));
        }
        Ok(KeyLines { children })
    }
}

impl<'de> Deserialize<'de> for KeyLines {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<KeyLines, D::Error> {
        d.deserialize_any(KeyLinesVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_lines_follow_nesting_and_quoting() {
        let text = "# comment\nlogLevel: info\npaths:\n  '~^(a)$':\n    source: x\n  cam:\n\
                    pathDefaults:\n  source: publisher\nusers:\n  - user: any\n    pass: x\n";
        let l = KeyLines::parse(text);
        assert_eq!(l.line(&["logLevel"]), Some(2));
        assert_eq!(l.line(&["paths"]), Some(3));
        assert_eq!(l.line(&["paths", "~^(a)$"]), Some(4));
        assert_eq!(l.line(&["paths", "~^(a)$", "source"]), Some(5));
        assert_eq!(l.line(&["paths", "cam"]), Some(6));
        assert_eq!(l.line(&["pathDefaults", "source"]), Some(8));
        assert_eq!(l.line(&["users", "0", "pass"]), Some(11));
        assert_eq!(l.line(&["source"]), None, "only top-level keys at the top");
        assert_eq!(l.line(&["paths", "nope"]), None);
    }
}
