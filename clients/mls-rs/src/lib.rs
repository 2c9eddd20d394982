//! mls-rs 0.57 with the RustCrypto backend as a Concord client under test: the MLSClient interface (`concord_client::ClientUnderTest`)
//! implemented over the library, so Concord can drive it in process (`--client mls-rs`) or serve
//! it over gRPC (`concord serve-client --client mls-rs`). What the library lacks answers
//! `ClientError::Unsupported`.

use concord_client::proto::*;
use concord_client::{ClientError, ClientUnderTest};

/// The library behind the MLSClient interface; `seed` seeds what randomness the library lets
/// a caller choose.
#[derive(Debug)]
pub struct MlsRsClient {
    seed: u64,
}

impl MlsRsClient {
    pub fn new(seed: u64) -> Self {
        MlsRsClient { seed }
    }
}

impl ClientUnderTest for MlsRsClient {
    fn name(&mut self, _request: NameRequest) -> Result<NameResponse, ClientError> {
        let _ = self.seed;
        Ok(NameResponse {
            name: "mls-rs".into(),
        })
    }
}
