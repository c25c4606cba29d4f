//! Command messages (RTMP §7.1.1, §7.2): a name, a transaction id, a command object and
//! arguments, all AMF0 (type 20) or AMF3-switched (type 17); and the values of data messages
//! (types 18 and 15).

use super::amf0::{self, Amf0Value, AmfError};
use super::amf3;
use super::message::type_id;

/// One command: `name`, `transaction_id`, the command object and the remaining arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// The command name (`connect`, `publish`, `_result`…).
    pub name: String,
    /// The transaction id (0 when no answer is expected).
    pub transaction_id: f64,
    /// The command object (often [`Amf0Value::Null`]).
    pub object: Amf0Value,
    /// The arguments after the command object.
    pub args: Vec<Amf0Value>,
}

/// Why a command message could not be read.
#[derive(Debug, Clone, PartialEq)]
pub enum CommandError {
    /// The AMF values are invalid.
    Amf(AmfError),
    /// The first value is not a string.
    MissingName,
}

impl CommandError {
    /// Who is to blame.
    pub fn blame(&self) -> crate::error::Blame {
        match self {
            CommandError::Amf(e) => e.blame(),
            CommandError::MissingName => crate::error::Blame::Malformed,
        }
    }
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommandError::Amf(e) => write!(f, "invalid command: {e}"),
            CommandError::MissingName => write!(f, "invalid command: no command name"),
        }
    }
}

impl std::error::Error for CommandError {}

impl From<AmfError> for CommandError {
    fn from(e: AmfError) -> Self {
        CommandError::Amf(e)
    }
}

/// Decodes the values of a command or data message body. Types 17 and 15 start with a format
/// byte 0 and carry AMF0 values that may switch to AMF3 (what Flash sends); a type 15/17 body
/// that does not decode that way is tried as a plain AMF3 sequence. Top-level AMF3 values are
/// converted with [`amf3::Amf3Value::to_amf0`].
pub fn decode_values(message_type: u8, body: &[u8]) -> Result<Vec<Amf0Value>, AmfError> {
    let amf3_container = matches!(message_type, type_id::COMMAND_AMF3 | type_id::DATA_AMF3);
    let inner = if amf3_container && body.first() == Some(&0) {
        &body[1..]
    } else {
        body
    };
    let values = match amf0::decode_all(inner) {
        Ok(v) => v,
        Err(e) if amf3_container => match amf3::decode_all(body) {
            Ok(v) => return Ok(v.iter().map(amf3::Amf3Value::to_amf0).collect()),
            Err(_) => return Err(e),
        },
        Err(e) => return Err(e),
    };
    Ok(values
        .into_iter()
        .map(|v| match v {
            Amf0Value::Avmplus(inner) => inner.to_amf0(),
            v => v,
        })
        .collect())
}

impl Command {
    /// A command.
    pub fn new(name: &str, transaction_id: f64, object: Amf0Value, args: Vec<Amf0Value>) -> Self {
        Command {
            name: name.to_owned(),
            transaction_id,
            object,
            args,
        }
    }

    /// Parses a command message body of type 20 or 17. A missing transaction id reads as 0,
    /// a missing command object as null.
    pub fn parse(message_type: u8, body: &[u8]) -> Result<Command, CommandError> {
        let mut values = decode_values(message_type, body)?.into_iter();
        let name = match values.next() {
            Some(Amf0Value::String(s)) => s,
            _ => return Err(CommandError::MissingName),
        };
        let transaction_id = values.next().and_then(|v| v.as_f64()).unwrap_or(0.0);
        let object = values.next().unwrap_or(Amf0Value::Null);
        Ok(Command {
            name,
            transaction_id,
            object,
            args: values.collect(),
        })
    }

    /// The `i`-th argument after the command object.
    pub fn arg(&self, i: usize) -> Option<&Amf0Value> {
        self.args.get(i)
    }

    /// Appends the AMF0 body (message type 20) to `out`.
    pub fn write(&self, out: &mut Vec<u8>) -> Result<(), AmfError> {
        Amf0Value::String(self.name.clone()).write(out)?;
        Amf0Value::Number(self.transaction_id).write(out)?;
        self.object.write(out)?;
        for a in &self.args {
            a.write(out)?;
        }
        Ok(())
    }
}

/// The properties of a data message's metadata (`@setDataFrame`, `onMetaData`, object or
/// ECMA array), as publishers and servers send it; `None` for other data messages.
pub fn metadata_properties(values: &[Amf0Value]) -> Option<&[(String, Amf0Value)]> {
    let mut it = values.iter();
    let obj = match it.next().and_then(Amf0Value::as_str) {
        Some("@setDataFrame") => match it.next() {
            Some(Amf0Value::String(s)) if s == "onMetaData" => it.next(),
            other => other,
        },
        Some("onMetaData") => it.next(),
        _ => None,
    };
    obj.and_then(Amf0Value::properties)
}

/// Extends 32-bit RTMP message timestamps to 64 bits: wraps and small steps back are
/// followed from the previous timestamp.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimestampExtender {
    last: Option<(u32, i64)>,
}

impl TimestampExtender {
    /// The 64-bit timestamp of `ts`.
    pub fn extend(&mut self, ts: u32) -> i64 {
        let v = match self.last {
            None => i64::from(ts),
            Some((last32, last64)) => last64 + i64::from(ts.wrapping_sub(last32) as i32),
        };
        self.last = Some((ts, v));
        v
    }
}
