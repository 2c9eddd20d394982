//! A strict reader and writer of deterministically encoded CBOR (RFC 8949 section 4.2.1),
//! as draft-ietf-mimi-content section 6 requires of MIMI content: definite lengths only,
//! every integer, length and tag in its shortest form, map keys in bytewise lexicographic
//! order of their encodings and never repeated, valid UTF-8 text, no trailing bytes, the
//! half-width quiet NaN as the only NaN. A document that breaks any of these is refused with
//! the byte offset and the rule; what is accepted re-encodes to the same bytes.
//!
//! ```text
//!  bytes ──decode (offset-tracking, strict)──> Value ──encode (shortest forms)──> bytes
//! ```

use std::fmt;

/// A CBOR data item. Maps keep their (sorted) order.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Unsigned(u64),
    /// A negative integer `-1 - n`, kept as `n`.
    Negative(u64),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Value>),
    Map(Vec<(Value, Value)>),
    Tag(u64, Box<Value>),
    Bool(bool),
    Null,
    Undefined,
    /// Another simple value (0..=19, 32..=255).
    Simple(u8),
    Float(f64),
}

impl Value {
    /// The integer value, when this is an integer that fits an `i128`.
    pub fn as_int(&self) -> Option<i128> {
        match self {
            Value::Unsigned(n) => Some(i128::from(*n)),
            Value::Negative(n) => Some(-1 - i128::from(*n)),
            _ => None,
        }
    }

    /// Nesting depth counting arrays, maps and tags (a scalar is 0).
    pub fn depth(&self) -> usize {
        match self {
            Value::Array(items) => 1 + items.iter().map(Value::depth).max().unwrap_or(0),
            Value::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|(k, v)| k.depth().max(v.depth()))
                    .max()
                    .unwrap_or(0)
            }
            Value::Tag(_, inner) => 1 + inner.depth(),
            _ => 0,
        }
    }

    /// A short name of the kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Unsigned(_) => "an unsigned integer",
            Value::Negative(_) => "a negative integer",
            Value::Bytes(_) => "a byte string",
            Value::Text(_) => "a text string",
            Value::Array(_) => "an array",
            Value::Map(_) => "a map",
            Value::Tag(..) => "a tag",
            Value::Bool(_) => "a boolean",
            Value::Null => "null",
            Value::Undefined => "undefined",
            Value::Simple(_) => "a simple value",
            Value::Float(_) => "a float",
        }
    }
}

/// Why bytes are not deterministic CBOR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CborError {
    /// Byte offset of the item at fault.
    pub offset: usize,
    pub reason: String,
}

impl fmt::Display for CborError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CBOR at byte {}: {}", self.offset, self.reason)
    }
}

impl std::error::Error for CborError {}

/// Deepest nesting the reader follows (the draft allows far less; this bounds recursion).
const MAX_DEPTH: usize = 64;

/// Decodes one deterministic CBOR item that must span all of `bytes`.
pub fn decode(bytes: &[u8]) -> Result<Value, CborError> {
    let mut reader = Reader { bytes, at: 0 };
    let value = reader.item(0)?;
    if reader.at != bytes.len() {
        return Err(CborError {
            offset: reader.at,
            reason: format!("{} trailing bytes after the item", bytes.len() - reader.at),
        });
    }
    Ok(value)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn error<T>(&self, offset: usize, reason: impl Into<String>) -> Result<T, CborError> {
        Err(CborError {
            offset,
            reason: reason.into(),
        })
    }

    fn take(&mut self, n: usize) -> Result<&[u8], CborError> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.bytes.len());
        match end {
            Some(end) => {
                let out = &self.bytes[self.at..end];
                self.at = end;
                Ok(out)
            }
            None => self.error(
                self.at,
                format!(
                    "{n} bytes announced, {} left",
                    self.bytes.len().saturating_sub(self.at)
                ),
            ),
        }
    }

    /// The argument of an initial byte, checked to be in its shortest form.
    fn argument(&mut self, start: usize, info: u8) -> Result<u64, CborError> {
        let (value, minimum) = match info {
            0..=23 => return Ok(u64::from(info)),
            24 => (u64::from(self.take(1)?[0]), 24),
            25 => {
                let b = self.take(2)?;
                (u64::from(u16::from_be_bytes([b[0], b[1]])), 0x100)
            }
            26 => {
                let b = self.take(4)?;
                (
                    u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
                    0x1_0000,
                )
            }
            27 => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                (u64::from_be_bytes(a), 0x1_0000_0000)
            }
            31 => return self.error(start, "indefinite length (deterministic CBOR has none)"),
            _ => return self.error(start, format!("reserved additional information {info}")),
        };
        if value < minimum {
            return self.error(
                start,
                format!("{value} not in its shortest form (deterministic CBOR)"),
            );
        }
        Ok(value)
    }

    fn length(&mut self, start: usize, info: u8) -> Result<usize, CborError> {
        let n = self.argument(start, info)?;
        match usize::try_from(n) {
            Ok(n) if n <= self.bytes.len() - self.at.min(self.bytes.len()) || n == 0 => Ok(n),
            _ => self.error(start, format!("length {n} past the end of the input")),
        }
    }

    fn item(&mut self, depth: usize) -> Result<Value, CborError> {
        let start = self.at;
        if depth > MAX_DEPTH {
            return self.error(start, format!("nested deeper than {MAX_DEPTH}"));
        }
        let initial = self.take(1)?[0];
        let (major, info) = (initial >> 5, initial & 0x1f);
        Ok(match major {
            0 => Value::Unsigned(self.argument(start, info)?),
            1 => Value::Negative(self.argument(start, info)?),
            2 => {
                let n = self.length(start, info)?;
                Value::Bytes(self.take(n)?.to_vec())
            }
            3 => {
                let n = self.length(start, info)?;
                let raw = self.take(n)?.to_vec();
                match String::from_utf8(raw) {
                    Ok(s) => Value::Text(s),
                    Err(_) => return self.error(start, "a text string that is not valid UTF-8"),
                }
            }
            4 => {
                let n = self.length(start, info)?;
                let mut items = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    items.push(self.item(depth + 1)?);
                }
                Value::Array(items)
            }
            5 => {
                let n = self.length(start, info)?;
                let mut entries: Vec<(Value, Value)> = Vec::with_capacity(n.min(1024));
                let mut previous: Option<(usize, Vec<u8>)> = None;
                for _ in 0..n {
                    let key_start = self.at;
                    let key = self.item(depth + 1)?;
                    let key_bytes = self.bytes[key_start..self.at].to_vec();
                    if let Some((_, before)) = &previous {
                        match before.as_slice().cmp(key_bytes.as_slice()) {
                            std::cmp::Ordering::Equal => {
                                return self.error(key_start, "a map key repeated");
                            }
                            std::cmp::Ordering::Greater => {
                                return self.error(
                                    key_start,
                                    "map keys out of order (deterministic CBOR sorts them \
                                     bytewise by their encoding)",
                                );
                            }
                            std::cmp::Ordering::Less => {}
                        }
                    }
                    previous = Some((key_start, key_bytes));
                    let value = self.item(depth + 1)?;
                    entries.push((key, value));
                }
                Value::Map(entries)
            }
            6 => {
                let tag = self.argument(start, info)?;
                Value::Tag(tag, Box::new(self.item(depth + 1)?))
            }
            _ => match info {
                20 => Value::Bool(false),
                21 => Value::Bool(true),
                22 => Value::Null,
                23 => Value::Undefined,
                24 => {
                    let v = self.take(1)?[0];
                    if v < 32 {
                        return self.error(start, format!("simple value {v} in two bytes"));
                    }
                    Value::Simple(v)
                }
                0..=19 => Value::Simple(info),
                25 => {
                    let b = self.take(2)?;
                    let bits = u16::from_be_bytes([b[0], b[1]]);
                    let value = half_to_f64(bits);
                    if value.is_nan() && bits != 0x7e00 {
                        return self.error(start, "a NaN other than the half-width quiet NaN");
                    }
                    Value::Float(value)
                }
                26 => {
                    let b = self.take(4)?;
                    let value = f64::from(f32::from_be_bytes([b[0], b[1], b[2], b[3]]));
                    self.shortest_float(start, value, 4)?;
                    Value::Float(value)
                }
                27 => {
                    let b = self.take(8)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(b);
                    let value = f64::from_be_bytes(a);
                    self.shortest_float(start, value, 8)?;
                    Value::Float(value)
                }
                31 => return self.error(start, "a break outside an indefinite-length item"),
                _ => return self.error(start, format!("reserved simple encoding {info}")),
            },
        })
    }

    fn shortest_float(&self, start: usize, value: f64, width: usize) -> Result<(), CborError> {
        if value.is_nan() {
            return self.error(start, "a NaN other than the half-width quiet NaN");
        }
        if float_width(value) < width {
            return self.error(
                start,
                format!("a {width}-byte float that fits a shorter one (deterministic CBOR)"),
            );
        }
        Ok(())
    }
}

fn half_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exponent = i32::from((bits >> 10) & 0x1f);
    let mantissa = f64::from(bits & 0x3ff);
    sign * match exponent {
        0 => mantissa * 2f64.powi(-24),
        31 if mantissa == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        e => (1.0 + mantissa / 1024.0) * 2f64.powi(e - 15),
    }
}

/// The half-float bits of `value`, if it is exactly representable in 2 bytes.
fn f64_to_half(value: f64) -> Option<u16> {
    if value.is_nan() {
        return Some(0x7e00);
    }
    let sign: u16 = if value.is_sign_negative() { 0x8000 } else { 0 };
    let magnitude = value.abs();
    if magnitude == 0.0 {
        return Some(sign);
    }
    if magnitude.is_infinite() {
        return Some(sign | 0x7c00);
    }
    for exponent in 1..31u16 {
        let scale = 2f64.powi(i32::from(exponent) - 15);
        let mantissa = (magnitude / scale - 1.0) * 1024.0;
        if (0.0..1024.0).contains(&mantissa) && mantissa.fract() == 0.0 {
            return Some(sign | (exponent << 10) | mantissa as u16);
        }
    }
    let mantissa = magnitude / 2f64.powi(-24);
    if mantissa < 1024.0 && mantissa.fract() == 0.0 {
        return Some(sign | mantissa as u16);
    }
    None
}

/// The shortest width (2, 4 or 8 bytes) that holds `value` exactly.
fn float_width(value: f64) -> usize {
    if f64_to_half(value).is_some() {
        2
    } else if f64::from(value as f32) == value {
        4
    } else {
        8
    }
}

fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    if n < 24 {
        out.push(m | n as u8);
    } else if n <= 0xff {
        out.extend_from_slice(&[m | 24, n as u8]);
    } else if n <= 0xffff {
        out.push(m | 25);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else if n <= 0xffff_ffff {
        out.push(m | 26);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Encodes `value` deterministically (maps in the order they hold: a decoded map is sorted).
pub fn encode(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Unsigned(n) => head(out, 0, *n),
        Value::Negative(n) => head(out, 1, *n),
        Value::Bytes(b) => {
            head(out, 2, b.len() as u64);
            out.extend_from_slice(b);
        }
        Value::Text(t) => {
            head(out, 3, t.len() as u64);
            out.extend_from_slice(t.as_bytes());
        }
        Value::Array(items) => {
            head(out, 4, items.len() as u64);
            for item in items {
                encode(item, out);
            }
        }
        Value::Map(entries) => {
            head(out, 5, entries.len() as u64);
            for (k, v) in entries {
                encode(k, out);
                encode(v, out);
            }
        }
        Value::Tag(tag, inner) => {
            head(out, 6, *tag);
            encode(inner, out);
        }
        Value::Bool(false) => out.push(0xf4),
        Value::Bool(true) => out.push(0xf5),
        Value::Null => out.push(0xf6),
        Value::Undefined => out.push(0xf7),
        Value::Simple(v) if *v < 24 => out.push(0xe0 | v),
        Value::Simple(v) => out.extend_from_slice(&[0xf8, *v]),
        Value::Float(f) => match (f64_to_half(*f), float_width(*f)) {
            (Some(bits), _) => {
                out.push(0xf9);
                out.extend_from_slice(&bits.to_be_bytes());
            }
            (None, 4) => {
                out.push(0xfa);
                out.extend_from_slice(&(*f as f32).to_be_bytes());
            }
            _ => {
                out.push(0xfb);
                out.extend_from_slice(&f.to_be_bytes());
            }
        },
    }
}

/// `value` encoded.
pub fn to_bytes(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    encode(value, &mut out);
    out
}

/// Sorts a map's entries as deterministic CBOR requires (bytewise by encoded key).
pub fn sort_map(entries: &mut [(Value, Value)]) {
    entries.sort_by_cached_key(|(k, _)| to_bytes(k));
}
