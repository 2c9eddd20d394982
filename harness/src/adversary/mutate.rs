//! Mutation at the bytes level: the encoded message changes, nothing is re-signed.
//!
//! Each mutation is a value (so a case can say what was done) and [`ByteMutation::apply`]
//! never panics: an offset past the end is an error naming the input length.

use super::GenError;

/// One change to an encoded value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ByteMutation {
    /// Drop the last `count` bytes.
    Truncate { count: usize },
    /// Append bytes after a complete value.
    Extend { bytes: Vec<u8> },
    /// XOR the byte at `offset` with `mask` (offsets from the end when `from_end`).
    Flip {
        offset: usize,
        from_end: bool,
        mask: u8,
    },
    /// Replace `length` bytes at `offset` with `bytes` (a re-encoding of a field).
    Splice {
        offset: usize,
        length: usize,
        bytes: Vec<u8>,
    },
    /// Exchange two adjacent ranges: `[offset, offset + first)` and the `second` bytes
    /// after it (two fields in the wrong order).
    Swap {
        offset: usize,
        first: usize,
        second: usize,
    },
}

impl ByteMutation {
    pub fn apply(&self, input: &[u8]) -> Result<Vec<u8>, GenError> {
        let out_of_range = |what: &str| {
            GenError::new(
                "byte mutation",
                format!("{what} is outside an input of {} bytes", input.len()),
            )
        };
        let mut out = input.to_vec();
        match self {
            ByteMutation::Truncate { count } => {
                if *count > out.len() {
                    return Err(out_of_range("truncation"));
                }
                out.truncate(out.len() - count);
            }
            ByteMutation::Extend { bytes } => out.extend_from_slice(bytes),
            ByteMutation::Flip {
                offset,
                from_end,
                mask,
            } => {
                let index = if *from_end {
                    out.len()
                        .checked_sub(offset + 1)
                        .ok_or_else(|| out_of_range("flip offset"))?
                } else {
                    *offset
                };
                let byte = out
                    .get_mut(index)
                    .ok_or_else(|| out_of_range("flip offset"))?;
                *byte ^= mask;
            }
            ByteMutation::Splice {
                offset,
                length,
                bytes,
            } => {
                if offset + length > out.len() {
                    return Err(out_of_range("splice"));
                }
                out.splice(*offset..offset + length, bytes.iter().copied());
            }
            ByteMutation::Swap {
                offset,
                first,
                second,
            } => {
                let end = offset + first + second;
                if end > out.len() {
                    return Err(out_of_range("swap"));
                }
                let (a, b) = (
                    input[*offset..offset + first].to_vec(),
                    input[offset + first..end].to_vec(),
                );
                out.splice(*offset..end, b.into_iter().chain(a));
            }
        }
        Ok(out)
    }
}

/// The last byte flipped.
pub fn flip_last(input: &[u8]) -> Result<Vec<u8>, GenError> {
    ByteMutation::Flip {
        offset: 0,
        from_end: true,
        mask: 0x01,
    }
    .apply(input)
}

/// The byte at `offset` flipped.
pub fn flip_at(input: &[u8], offset: usize) -> Result<Vec<u8>, GenError> {
    ByteMutation::Flip {
        offset,
        from_end: false,
        mask: 0x01,
    }
    .apply(input)
}

/// Flips one byte of an owned byte string in place (the last one); empty stays empty.
pub fn flip_in_place(bytes: &mut [u8]) {
    if let Some(last) = bytes.last_mut() {
        *last ^= 0x01;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mutation_does_what_it_says() -> Result<(), GenError> {
        let input = [1u8, 2, 3, 4, 5];
        assert_eq!(
            ByteMutation::Truncate { count: 2 }.apply(&input)?,
            vec![1, 2, 3]
        );
        assert_eq!(
            ByteMutation::Extend { bytes: vec![0] }.apply(&input)?,
            vec![1, 2, 3, 4, 5, 0]
        );
        assert_eq!(flip_last(&input)?, vec![1, 2, 3, 4, 4]);
        assert_eq!(flip_at(&input, 0)?, vec![0, 2, 3, 4, 5]);
        assert_eq!(
            ByteMutation::Splice {
                offset: 1,
                length: 1,
                bytes: vec![9, 9]
            }
            .apply(&input)?,
            vec![1, 9, 9, 3, 4, 5]
        );
        assert_eq!(
            ByteMutation::Swap {
                offset: 0,
                first: 2,
                second: 1
            }
            .apply(&input)?,
            vec![3, 1, 2, 4, 5]
        );
        Ok(())
    }

    #[test]
    fn offsets_past_the_end_are_errors_not_panics() {
        assert!(ByteMutation::Truncate { count: 6 }.apply(&[0; 5]).is_err());
        assert!(flip_at(&[0; 5], 5).is_err());
        assert!(flip_last(&[]).is_err());
        assert!(
            ByteMutation::Swap {
                offset: 4,
                first: 1,
                second: 1
            }
            .apply(&[0; 5])
            .is_err()
        );
    }
}
