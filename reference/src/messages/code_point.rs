//! The two shapes of enumerated value RFC 9420 uses on the wire.
//!
//! ```text
//! uint16 ExtensionType;            open: any value decodes and re-encodes unchanged
//! enum { reserved(0), a(1), ... }  closed: values outside the list (and reserved(0)) are errors
//! ```
//!
//! Open code points are IANA registries (section 17): values this crate does not know,
//! GREASE values among them, must survive a round trip. Closed enums are the `enum`s whose
//! select bodies the RFC defines in full; a value outside them leaves the rest of the
//! struct without a shape, so decoding stops with [`DecodeError::InvalidValue`].
//!
//! [`DecodeError::InvalidValue`]: crate::codec::DecodeError::InvalidValue

/// An open `uint16` code point: a newtype with named constants.
macro_rules! open_code_point {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $(#[$constant_meta:meta])* $constant:ident = $value:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u16);

        impl $name {
            $( $(#[$constant_meta])* pub const $constant: Self = Self($value); )*

            /// The registered name, for the values this crate knows.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some(stringify!($constant)), )*
                    _ => None,
                }
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.name() {
                    Some(name) => write!(f, "{}::{}", stringify!($name), name),
                    None => write!(f, "{}({:#06x})", stringify!($name), self.0),
                }
            }
        }

        impl $crate::codec::Codec for $name {
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.0.to_be_bytes());
            }
            fn decode(
                reader: &mut $crate::codec::Reader<'_>,
            ) -> Result<Self, $crate::codec::DecodeError> {
                Ok(Self(reader.u16($what)?))
            }
        }
    };
}

/// A closed `uint8` enum: reserved and unlisted values do not decode.
macro_rules! closed_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $(#[$variant_meta:meta])* $variant:ident = $value:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum $name {
            $( $(#[$variant_meta])* $variant = $value, )+
        }

        impl $name {
            /// The variant with this code point, if the RFC defines one.
            pub fn from_u8(value: u8) -> Option<Self> {
                match value {
                    $( $value => Some(Self::$variant), )+
                    _ => None,
                }
            }

            /// The code point on the wire.
            pub fn to_u8(self) -> u8 {
                self as u8
            }
        }

        impl $crate::codec::Codec for $name {
            fn encode(&self, out: &mut Vec<u8>) {
                out.push(self.to_u8());
            }
            fn decode(
                reader: &mut $crate::codec::Reader<'_>,
            ) -> Result<Self, $crate::codec::DecodeError> {
                let value = reader.u8($what)?;
                Self::from_u8(value).ok_or($crate::codec::DecodeError::InvalidValue {
                    what: $what,
                    value: u64::from(value),
                })
            }
        }
    };
}

/// RFC 9420 section 13.5: the GREASE values are `0x0A0A`, `0x1A1A`, ..., `0xEAEA`.
pub fn is_grease(value: u16) -> bool {
    let [high, low] = value.to_be_bytes();
    high == low && low & 0x0f == 0x0a && high != 0xfa
}
