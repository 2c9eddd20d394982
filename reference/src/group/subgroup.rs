//! Branch and reinit (RFC 9420 sections 11.2 and 11.3).

/// What a committed ReInit asks of the new group.
#[derive(Debug, Clone)]
pub struct ReInitParameters;
