use super::*;
use proptest::prelude::*;

#[test]
fn varint_boundaries_round_trip_in_minimal_form() {
    for (value, encoded) in [
        (0u64, &[0x00][..]),
        (63, &[0x3f]),
        (64, &[0x40, 0x40]),
        (16383, &[0x7f, 0xff]),
        (16384, &[0x80, 0x00, 0x40, 0x00]),
        (VARINT_MAX, &[0xbf, 0xff, 0xff, 0xff]),
    ] {
        let mut out = Vec::new();
        write_varint(&mut out, value);
        assert_eq!(out, encoded, "encoding of {value}");
        let mut reader = Reader::new(encoded);
        assert_eq!(reader.varint(), Ok(value));
        assert!(reader.is_empty());
    }
}

#[test]
fn varint_rejects_non_minimal_forms() {
    // 37 in two bytes, then in four bytes.
    assert_eq!(
        Reader::new(&[0x40, 0x25]).varint(),
        Err(DecodeError::VarintNotMinimal {
            value: 37,
            length: 2
        })
    );
    assert_eq!(
        Reader::new(&[0x80, 0x00, 0x00, 0x25]).varint(),
        Err(DecodeError::VarintNotMinimal {
            value: 37,
            length: 4
        })
    );
}

#[test]
fn varint_rejects_reserved_prefix() {
    assert_eq!(
        Reader::new(&[0xc0, 0, 0, 0, 0, 0, 0, 1]).varint(),
        Err(DecodeError::VarintReservedPrefix { first_byte: 0xc0 })
    );
}

#[test]
fn length_past_end_is_an_error() {
    assert_eq!(
        Bytes::from_bytes(&[0x05, 1, 2]),
        Err(DecodeError::LengthPastEnd {
            what: "opaque",
            declared: 5,
            remaining: 2
        })
    );
}

#[test]
fn trailing_bytes_are_an_error() {
    assert!(matches!(
        Bytes::from_bytes(&[0x01, 1, 2]),
        Err(DecodeError::TrailingBytes { count: 1, .. })
    ));
}

#[test]
fn vector_items_must_fill_the_declared_length() {
    // A vector of u16 declared as 3 bytes: the second item is cut in half.
    assert!(matches!(
        Vec::<u16>::from_bytes(&[0x03, 0, 1, 0]),
        Err(DecodeError::UnexpectedEnd { .. })
    ));
}

#[test]
fn optional_presence_must_be_zero_or_one() {
    assert_eq!(
        Option::<u8>::from_bytes(&[2, 7]),
        Err(DecodeError::InvalidOptionalPresence { value: 2 })
    );
    assert_eq!(Option::<u8>::from_bytes(&[1, 7]), Ok(Some(7)));
    assert_eq!(Option::<u8>::from_bytes(&[0]), Ok(None));
}

proptest! {
    #[test]
    fn varint_round_trips(value in 0u64..=VARINT_MAX) {
        let mut out = Vec::new();
        write_varint(&mut out, value);
        prop_assert_eq!(out.len(), varint_length(value));
        let mut reader = Reader::new(&out);
        prop_assert_eq!(reader.varint(), Ok(value));
        prop_assert!(reader.is_empty());
    }

    #[test]
    fn nested_vectors_round_trip(value in proptest::collection::vec(proptest::collection::vec(any::<u16>(), 0..40), 0..20),
                                 opt in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..300))) {
        let bytes = value.to_bytes();
        prop_assert_eq!(Vec::<Vec<u16>>::from_bytes(&bytes), Ok(value));
        let opt_bytes = opt.clone().map(Bytes).to_bytes();
        prop_assert_eq!(Option::<Bytes>::from_bytes(&opt_bytes), Ok(opt.map(Bytes)));
    }

    #[test]
    fn random_bytes_never_panic_the_decoders(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = Vec::<Vec<u32>>::from_bytes(&bytes);
        let _ = Option::<Bytes>::from_bytes(&bytes);
        let _ = Reader::new(&bytes).varint();
    }
}
