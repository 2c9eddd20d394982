//! Clients under test: the interface Concord's runner drives, the MLSClient gRPC client
//! that reaches any remote client, and the server that exposes any in-process client.
//!
//! ```text
//!                      ┌── reference (in process)
//! runner ── dyn ClientUnderTest ──┼── grpc::GrpcClient ── MLSClient gRPC ──> any client's server
//!                      └── adapters (concord-openmls, concord-mls-rs)
//! serve::Served(dyn ClientUnderTest, shared or one per connection) ── MLSClient gRPC server
//! ```
//!
//! The interface mirrors the working group's MLSClient RPC set method for method, with the
//! generated protobuf messages as its requests and responses: bytes in, bytes out, so an
//! in-process client and a remote one are interchangeable, and any in-process client can
//! also be served over gRPC unchanged.

#[cfg(feature = "grpc")]
pub mod grpc;
pub mod proto;
#[cfg(feature = "grpc")]
pub mod serve;

use std::time::Duration;

use proto::*;

/// How a call to a client under test failed. The first two are answers from a working
/// client; the others are verdicts on the client itself (exit code 3 class).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The client does not implement this operation (gRPC UNIMPLEMENTED): reported as
    /// unsupported, never as a failure.
    #[error("{method}: not supported by this client")]
    Unsupported { method: &'static str },
    /// The client answered with an error status: it refused the request (which may be
    /// right, for an invalid input, or wrong, for a valid one: the runner decides). A
    /// server's own INTERNAL or UNKNOWN status is such an answer too (MLSpp answers every
    /// exception so): the server was reached and said no.
    #[error("{method}: the client refused ({code}): {message}")]
    Refused {
        method: &'static str,
        code: String,
        message: String,
    },
    /// Nothing answered: the connection was refused or could not be made (a server that
    /// is not running, or no longer running).
    #[error("{method}: the client could not be reached: {detail}")]
    Unreachable {
        method: &'static str,
        detail: String,
    },
    /// The connection was reset or closed during the call: the server was reached, then
    /// died (or dropped the call) before answering.
    #[error("{method}: the connection broke during the call (the client crashed?): {detail}")]
    Crashed {
        method: &'static str,
        detail: String,
    },
    /// No answer within the call timeout: the client hangs.
    #[error("{method}: no answer within {after:?} (the client hangs)")]
    Timeout {
        method: &'static str,
        after: Duration,
    },
    /// An answer that is not a well-formed response.
    #[error("{method}: malformed answer: {detail}")]
    Malformed {
        method: &'static str,
        detail: String,
    },
}

impl ClientError {
    /// Whether this is a verdict on the client (crashed, hung, garbage), as opposed to an
    /// answer it gave.
    pub fn is_client_fault(&self) -> bool {
        matches!(
            self,
            ClientError::Unreachable { .. }
                | ClientError::Crashed { .. }
                | ClientError::Timeout { .. }
                | ClientError::Malformed { .. }
        )
    }

    /// Whether the client is gone or stuck after this error (unreachable, crashed, hung):
    /// later calls would only fail the same way.
    pub fn leaves_client_down(&self) -> bool {
        matches!(
            self,
            ClientError::Unreachable { .. }
                | ClientError::Crashed { .. }
                | ClientError::Timeout { .. }
        )
    }

    /// Adds `text` (a server's exit status, the tail of its stderr) to the error's detail.
    pub fn with_context(self, text: &str) -> Self {
        if text.is_empty() {
            return self;
        }
        match self {
            ClientError::Unreachable { method, detail } => ClientError::Unreachable {
                method,
                detail: format!("{detail}; {text}"),
            },
            ClientError::Crashed { method, detail } => ClientError::Crashed {
                method,
                detail: format!("{detail}; {text}"),
            },
            ClientError::Malformed { method, detail } => ClientError::Malformed {
                method,
                detail: format!("{detail}; {text}"),
            },
            ClientError::Timeout { method, after } => ClientError::Crashed {
                method,
                detail: format!("no answer within {after:?}, then stopped; {text}"),
            },
            other => other,
        }
    }
}

/// Expands `$body` once with the whole MLSClient method table:
/// `(rust_name, RpcName, Request, Response)`, in the service's order.
#[macro_export]
macro_rules! for_each_mls_client_method {
    ($body:ident) => {
        $body! {
            (name, Name, NameRequest, NameResponse),
            (supported_ciphersuites, SupportedCiphersuites, SupportedCiphersuitesRequest, SupportedCiphersuitesResponse),
            (create_group, CreateGroup, CreateGroupRequest, CreateGroupResponse),
            (create_key_package, CreateKeyPackage, CreateKeyPackageRequest, CreateKeyPackageResponse),
            (join_group, JoinGroup, JoinGroupRequest, JoinGroupResponse),
            (external_join, ExternalJoin, ExternalJoinRequest, ExternalJoinResponse),
            (group_info, GroupInfo, GroupInfoRequest, GroupInfoResponse),
            (state_auth, StateAuth, StateAuthRequest, StateAuthResponse),
            (export, Export, ExportRequest, ExportResponse),
            (protect, Protect, ProtectRequest, ProtectResponse),
            (unprotect, Unprotect, UnprotectRequest, UnprotectResponse),
            (store_psk, StorePSK, StorePskRequest, StorePskResponse),
            (add_proposal, AddProposal, AddProposalRequest, ProposalResponse),
            (update_proposal, UpdateProposal, UpdateProposalRequest, ProposalResponse),
            (remove_proposal, RemoveProposal, RemoveProposalRequest, ProposalResponse),
            (external_psk_proposal, ExternalPSKProposal, ExternalPskProposalRequest, ProposalResponse),
            (resumption_psk_proposal, ResumptionPSKProposal, ResumptionPskProposalRequest, ProposalResponse),
            (group_context_extensions_proposal, GroupContextExtensionsProposal, GroupContextExtensionsProposalRequest, ProposalResponse),
            (commit, Commit, CommitRequest, CommitResponse),
            (handle_commit, HandleCommit, HandleCommitRequest, HandleCommitResponse),
            (handle_pending_commit, HandlePendingCommit, HandlePendingCommitRequest, HandleCommitResponse),
            (re_init_proposal, ReInitProposal, ReInitProposalRequest, ProposalResponse),
            (re_init_commit, ReInitCommit, CommitRequest, CommitResponse),
            (handle_pending_re_init_commit, HandlePendingReInitCommit, HandlePendingCommitRequest, HandleReInitCommitResponse),
            (handle_re_init_commit, HandleReInitCommit, HandleCommitRequest, HandleReInitCommitResponse),
            (re_init_welcome, ReInitWelcome, ReInitWelcomeRequest, CreateSubgroupResponse),
            (handle_re_init_welcome, HandleReInitWelcome, HandleReInitWelcomeRequest, JoinGroupResponse),
            (create_branch, CreateBranch, CreateBranchRequest, CreateSubgroupResponse),
            (handle_branch, HandleBranch, HandleBranchRequest, HandleBranchResponse),
            (new_member_add_proposal, NewMemberAddProposal, NewMemberAddProposalRequest, NewMemberAddProposalResponse),
            (create_external_signer, CreateExternalSigner, CreateExternalSignerRequest, CreateExternalSignerResponse),
            (add_external_signer, AddExternalSigner, AddExternalSignerRequest, ProposalResponse),
            (external_signer_proposal, ExternalSignerProposal, ExternalSignerProposalRequest, ProposalResponse),
            (free, Free, FreeRequest, FreeResponse),
        }
    };
}

macro_rules! define_client_under_test {
    ($(($method:ident, $rpc:ident, $request:ident, $response:ident)),* $(,)?) => {
        /// A client under test: one method per MLSClient RPC. Every method has a default
        /// that answers [`ClientError::Unsupported`], so a client implements what it supports.
        pub trait ClientUnderTest: Send {
            $(
                #[doc = concat!("The `", stringify!($rpc), "` RPC.")]
                fn $method(&mut self, request: $request) -> Result<$response, ClientError> {
                    let _ = request;
                    Err(ClientError::Unsupported { method: stringify!($rpc) })
                }
            )*
        }

        /// The RPC names of the service, in its order.
        pub const MLS_CLIENT_METHODS: &[&str] = &[$(stringify!($rpc)),*];
    };
}
for_each_mls_client_method!(define_client_under_test);

#[cfg(test)]
mod tests {
    use super::*;

    struct Nothing;
    impl ClientUnderTest for Nothing {}

    #[test]
    fn unimplemented_methods_answer_unsupported_with_their_rpc_name() {
        let mut client = Nothing;
        assert_eq!(
            client.commit(CommitRequest::default()),
            Err(ClientError::Unsupported { method: "Commit" })
        );
        assert_eq!(
            client.store_psk(StorePskRequest::default()),
            Err(ClientError::Unsupported { method: "StorePSK" })
        );
        assert_eq!(MLS_CLIENT_METHODS.len(), 34);
    }

    #[test]
    fn only_transport_failures_are_client_faults() {
        assert!(!ClientError::Unsupported { method: "Name" }.is_client_fault());
        assert!(
            ClientError::Timeout {
                method: "Name",
                after: Duration::from_secs(1)
            }
            .is_client_fault()
        );
    }
}
