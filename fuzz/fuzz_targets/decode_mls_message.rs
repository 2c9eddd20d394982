//! Any byte string fed to the MLSMessage decoder: no panic, and whatever decodes
//! re-encodes to exactly the input (the codec is strict, so there is one encoding).
#![no_main]

use concord_reference::codec::Codec;
use concord_reference::messages::MlsMessage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = MlsMessage::from_bytes(data) {
        assert_eq!(
            message.to_bytes(),
            data,
            "a decoded MLSMessage re-encodes differently"
        );
    }
});
