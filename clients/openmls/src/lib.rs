//! OpenMLS 0.9 with the RustCrypto provider as a Concord client under test: the MLSClient interface (`concord_client::ClientUnderTest`)
//! implemented over the library, so Concord can drive it in process (`--client openmls`) or serve
//! it over gRPC (`concord serve-client --client openmls`). What the library lacks answers
//! `ClientError::Unsupported`.

use concord_client::proto::*;
use concord_client::{ClientError, ClientUnderTest};

/// The library behind the MLSClient interface; `seed` seeds what randomness the library lets
/// a caller choose.
#[derive(Debug)]
pub struct OpenMlsClient {
    seed: u64,
}

impl OpenMlsClient {
    pub fn new(seed: u64) -> Self {
        OpenMlsClient { seed }
    }
}

impl ClientUnderTest for OpenMlsClient {
    fn name(&mut self, _request: NameRequest) -> Result<NameResponse, ClientError> {
        let _ = self.seed;
        Ok(NameResponse {
            name: "openmls".into(),
        })
    }
}
