//! `deserialization.json`: variable-length integer headers (RFC 9420 section 2.1.2).
//!
//! ```text
//! { vlbytes_header: hex, length: u64 }
//! ```
//! The header decodes to `length` and `length` encodes to exactly the header.

use concord_reference::codec::{Reader, write_varint};
use serde::{Deserialize, Serialize};

use super::{
    AtField, CaseVerdict, HexBytes, MalformedCase, Mismatch, expect_bytes, expect_eq, parse_case,
};

#[derive(Debug, Serialize, Deserialize)]
pub struct Case {
    pub vlbytes_header: HexBytes,
    pub length: u64,
}

pub fn check(case_index: usize, case: &serde_json::Value) -> Result<CaseVerdict, MalformedCase> {
    let case: Case = parse_case(case_index, case)?;
    Ok(match verify(&case) {
        Ok(()) => CaseVerdict::Passed,
        Err(Mismatch { field, detail }) => CaseVerdict::Failed { field, detail },
    })
}

fn verify(case: &Case) -> Result<(), Mismatch> {
    let mut reader = Reader::new(&case.vlbytes_header);
    let decoded = reader.varint().at("vlbytes_header")?;
    reader.finish("vlbytes_header").at("vlbytes_header")?;
    expect_eq("length", decoded, case.length)?;
    let mut encoded = Vec::new();
    write_varint(&mut encoded, case.length);
    expect_bytes("vlbytes_header", &encoded, &case.vlbytes_header)
}
