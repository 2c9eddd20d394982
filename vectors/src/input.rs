//! Fields Concord does not know, in the formats it reads but does not own (the working
//! group's interop scripts and test vectors, whose upstream may add fields): reported with
//! their place, as a warning on stderr and in the reports, or as an input error (exit code 2)
//! under `--strict`. Concord's own formats (scenarios, expectations, claims, the catalog)
//! refuse unknown fields always.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};

static STRICT: AtomicBool = AtomicBool::new(false);

/// Sets `--strict` for the process: unknown fields become input errors.
pub fn set_strict(strict: bool) {
    STRICT.store(strict, Ordering::Relaxed);
}

/// Whether `--strict` is on.
pub fn strict() -> bool {
    STRICT.load(Ordering::Relaxed)
}

thread_local! {
    /// Unknown fields met by [`note_unknown`] on this thread since the last [`take_unknown`].
    static UNKNOWN: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Records an unknown field (its place, e.g. `case 3, field epochs[0].foo`).
pub fn note_unknown(place: String) {
    UNKNOWN.with(|u| u.borrow_mut().push(place));
}

/// The unknown fields recorded on this thread since the last call, in order.
pub fn take_unknown() -> Vec<String> {
    UNKNOWN.with(|u| std::mem::take(&mut *u.borrow_mut()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_taken_once_in_order() {
        note_unknown("a".into());
        note_unknown("b".into());
        assert_eq!(take_unknown(), vec!["a".to_string(), "b".to_string()]);
        assert!(take_unknown().is_empty());
    }
}
