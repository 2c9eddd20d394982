//! The TLS presentation language as RFC 9420 uses it (section 2.1), strict.
//!
//! ```text
//! bytes ──Reader──> T: Codec ──Writer(Vec<u8>)──> bytes
//! ```
//!
//! Vectors carry a variable-length integer prefix (RFC 9420 section 2.1.2) that counts
//! *bytes*, not items. Decoding is strict: a varint that is not in its minimal form, a
//! length that runs past the end of the input, an `optional<T>` presence byte other than
//! 0 or 1, and bytes left over after a top-level value are all typed errors.
//!
//! Code points (cipher suites, extension types, ...) are open newtypes defined next to
//! the structs that use them, so values this crate does not know survive a round trip.

use std::fmt;

/// Why a byte string does not decode. Every variant is a fault of whoever produced the
/// bytes; none is an internal error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ended while `needed` more bytes were expected.
    #[error("input ended: needed {needed} more bytes for {what}, {remaining} remain")]
    UnexpectedEnd {
        what: &'static str,
        needed: usize,
        remaining: usize,
    },
    /// RFC 9420 section 2.1.2: the two-bit prefix `11` is reserved.
    #[error("variable-length integer uses the reserved prefix 0b11 (first byte {first_byte:#04x})")]
    VarintReservedPrefix { first_byte: u8 },
    /// RFC 9420 section 2.1.2: "the encoded value MUST be in the minimal form".
    #[error("variable-length integer {value} is not in its minimal {length}-byte form")]
    VarintNotMinimal { value: u64, length: usize },
    /// A length prefix claims more bytes than the value that holds it.
    #[error("{what}: length prefix says {declared} bytes but only {remaining} remain")]
    LengthPastEnd {
        what: &'static str,
        declared: usize,
        remaining: usize,
    },
    /// Bytes remain after a complete value (a whole message, or inside a vector whose
    /// items did not consume exactly the declared length).
    #[error("{count} trailing bytes after {what}")]
    TrailingBytes { what: &'static str, count: usize },
    /// `optional<T>` presence byte other than 0 or 1.
    #[error("optional presence byte is {value}, expected 0 or 1")]
    InvalidOptionalPresence { value: u8 },
    /// An enumerated value outside the set the struct allows (where the RFC closes it).
    #[error("{what}: value {value} is not allowed here")]
    InvalidValue { what: &'static str, value: u64 },
    /// A value exceeds a bound the codec or the RFC sets.
    #[error("{what}: {detail}")]
    Malformed { what: &'static str, detail: String },
}

/// The largest value a varint can carry: 30 bits (RFC 9420 section 2.1.2).
pub const VARINT_MAX: u64 = (1 << 30) - 1;

/// A cursor over borrowed bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, position: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.position
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.position
    }

    /// The whole input this reader was made from.
    pub fn input(&self) -> &'a [u8] {
        self.bytes
    }

    /// Takes exactly `count` bytes.
    pub fn take(&mut self, count: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let remaining = self.remaining();
        if count > remaining {
            return Err(DecodeError::UnexpectedEnd {
                what,
                needed: count,
                remaining,
            });
        }
        let start = self.position;
        self.position += count;
        Ok(&self.bytes[start..self.position])
    }

    pub fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?[0])
    }

    pub fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    /// RFC 9420 section 2.1.2 variable-length integer, minimal form enforced.
    pub fn varint(&mut self) -> Result<u64, DecodeError> {
        let first = self.u8("varint")?;
        let length = match first >> 6 {
            0 => 1,
            1 => 2,
            2 => 4,
            _ => return Err(DecodeError::VarintReservedPrefix { first_byte: first }),
        };
        let mut value = u64::from(first & 0x3f);
        for &b in self.take(length - 1, "varint")? {
            value = (value << 8) | u64::from(b);
        }
        if varint_length(value) != length {
            return Err(DecodeError::VarintNotMinimal { value, length });
        }
        Ok(value)
    }

    /// Reads a varint length prefix and returns a sub-reader over exactly that many bytes.
    pub fn sub_reader(&mut self, what: &'static str) -> Result<Reader<'a>, DecodeError> {
        let declared = self.varint()?;
        let remaining = self.remaining();
        let declared = usize::try_from(declared).unwrap_or(usize::MAX);
        if declared > remaining {
            return Err(DecodeError::LengthPastEnd {
                what,
                declared,
                remaining,
            });
        }
        Ok(Reader::new(self.take(declared, what)?))
    }

    /// `opaque data<V>`: a varint length then that many bytes.
    pub fn opaque(&mut self, what: &'static str) -> Result<Vec<u8>, DecodeError> {
        Ok(self.sub_reader(what)?.bytes.to_vec())
    }

    /// Fails unless every byte has been consumed.
    pub fn finish(&self, what: &'static str) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(DecodeError::TrailingBytes { what, count }),
        }
    }
}

/// Number of bytes the minimal varint encoding of `value` takes (values past
/// [`VARINT_MAX`] report 0: they cannot be encoded).
pub fn varint_length(value: u64) -> usize {
    match value {
        0..=0x3f => 1,
        0x40..=0x3fff => 2,
        0x4000..=VARINT_MAX => 4,
        _ => 0,
    }
}

/// Appends the minimal varint encoding of `value`.
///
/// # Panics
/// If `value` exceeds [`VARINT_MAX`]: lengths come from this process's own buffers,
/// and a vector of a gigabyte or more is a caller bug, not peer input.
pub fn write_varint(out: &mut Vec<u8>, value: u64) {
    match varint_length(value) {
        1 => out.push(value as u8),
        2 => out.extend_from_slice(&((value as u16) | 0x4000).to_be_bytes()),
        4 => out.extend_from_slice(&((value as u32) | 0x8000_0000).to_be_bytes()),
        _ => panic!("vector length {value} exceeds the varint range (RFC 9420 section 2.1.2)"),
    }
}

/// `opaque data<V>`.
pub fn write_opaque(out: &mut Vec<u8>, data: &[u8]) {
    write_varint(out, data.len() as u64);
    out.extend_from_slice(data);
}

/// Writes a vector whose body `body` produces, with its varint byte-length prefix.
pub fn write_vector_with(out: &mut Vec<u8>, body: impl FnOnce(&mut Vec<u8>)) {
    let mut inner = Vec::new();
    body(&mut inner);
    write_opaque(out, &inner);
}

/// A value with a wire form.
pub trait Codec: Sized {
    fn encode(&self, out: &mut Vec<u8>);
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError>;

    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Decodes a complete value: bytes left over are an error.
    fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = Reader::new(bytes);
        let value = Self::decode(&mut reader)?;
        reader.finish(std::any::type_name::<Self>())?;
        Ok(value)
    }
}

impl Codec for u8 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(*self);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        reader.u8("uint8")
    }
}

impl Codec for u16 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_be_bytes());
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        reader.u16("uint16")
    }
}

impl Codec for u32 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_be_bytes());
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        reader.u32("uint32")
    }
}

impl Codec for u64 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_be_bytes());
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        reader.u64("uint64")
    }
}

/// `T items<V>`: a varint byte length, then items until exactly that many bytes are used.
impl<T: Codec> Codec for Vec<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        write_vector_with(out, |inner| {
            for item in self {
                item.encode(inner);
            }
        });
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut inner = reader.sub_reader("vector")?;
        let mut items = Vec::new();
        while !inner.is_empty() {
            items.push(T::decode(&mut inner)?);
        }
        Ok(items)
    }
}

/// `optional<T>`: a presence byte (0 or 1), then the value when present.
impl<T: Codec> Codec for Option<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(value) => {
                out.push(1);
                value.encode(out);
            }
        }
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match reader.u8("optional presence")? {
            0 => Ok(None),
            1 => Ok(Some(T::decode(reader)?)),
            value => Err(DecodeError::InvalidOptionalPresence { value }),
        }
    }
}

/// `opaque data<V>` as an owned byte string: faster than `Vec<u8>` item by item, and
/// printed as hex.
#[derive(Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Bytes(pub Vec<u8>);

impl Bytes {
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Bytes(v)
    }
}

impl From<&[u8]> for Bytes {
    fn from(v: &[u8]) -> Self {
        Bytes(v.to_vec())
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Codec for Bytes {
    fn encode(&self, out: &mut Vec<u8>) {
        write_opaque(out, &self.0);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Bytes(reader.opaque("opaque")?))
    }
}

#[cfg(test)]
#[path = "codec_tests.rs"]
mod tests;
