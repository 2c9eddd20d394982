//! The first byte picks a wire struct, the rest is its encoding: no decoder panics, and
//! whatever decodes re-encodes to exactly the input.
#![no_main]

use concord_reference::codec::Codec;
use concord_reference::messages::{
    Commit, ContentType, GroupInfo, GroupSecrets, KeyPackage, LeafNode, PrivateMessageContent,
    Proposal, RatchetTree, UpdatePath, Welcome,
};
use libfuzzer_sys::fuzz_target;

fn round_trip<T: Codec>(data: &[u8]) {
    if let Ok(value) = T::from_bytes(data) {
        assert_eq!(
            value.to_bytes(),
            data,
            "{} re-encodes differently",
            std::any::type_name::<T>()
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 12 {
        0 => round_trip::<KeyPackage>(rest),
        1 => round_trip::<Welcome>(rest),
        2 => round_trip::<GroupInfo>(rest),
        3 => round_trip::<GroupSecrets>(rest),
        4 => round_trip::<Proposal>(rest),
        5 => round_trip::<Commit>(rest),
        6 => round_trip::<RatchetTree>(rest),
        7 => round_trip::<LeafNode>(rest),
        8 => round_trip::<UpdatePath>(rest),
        content_type => {
            let content_type = match content_type {
                9 => ContentType::Application,
                10 => ContentType::Proposal,
                _ => ContentType::Commit,
            };
            if let Ok(content) = PrivateMessageContent::from_bytes(content_type, rest) {
                assert_eq!(
                    content.to_bytes(),
                    rest,
                    "PrivateMessageContent re-encodes differently"
                );
            }
        }
    }
});
