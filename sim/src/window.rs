//! A map keyed by sequence numbers that come nearly in order: packet ids waiting for their
//! acknowledgement, deliveries that came before their turn. It is a window over the keys
//! from the least one held on, one place per key, so a lookup is an index, not a search
//! through a tree or a probe into a table that is cold in the cache.

use std::collections::VecDeque;

/// Values by `u64` key, held in a window from the least key to the greatest. Meant for
/// keys that stay close together: the window spans every key between those two.
#[derive(Debug)]
pub struct Window<T> {
    /// The key of `places[0]`.
    base: u64,
    places: VecDeque<Option<T>>,
    count: usize,
}

impl<T> Default for Window<T> {
    fn default() -> Self {
        Window {
            base: 0,
            places: VecDeque::new(),
            count: 0,
        }
    }
}

impl<T> Window<T> {
    /// Holds `value` at `key`; a value already there is replaced and returned.
    pub fn insert(&mut self, key: u64, value: T) -> Option<T> {
        if self.places.is_empty() {
            self.base = key;
        }
        while key < self.base {
            self.places.push_front(None);
            self.base -= 1;
        }
        let index = usize::try_from(key - self.base).unwrap_or(usize::MAX);
        while self.places.len() <= index {
            self.places.push_back(None);
        }
        let old = self.places[index].replace(value);
        if old.is_none() {
            self.count += 1;
        }
        old
    }

    fn place(&self, key: u64) -> Option<&Option<T>> {
        self.places
            .get(usize::try_from(key.checked_sub(self.base)?).ok()?)
    }

    pub fn get(&self, key: u64) -> Option<&T> {
        self.place(key)?.as_ref()
    }

    pub fn get_mut(&mut self, key: u64) -> Option<&mut T> {
        let index = usize::try_from(key.checked_sub(self.base)?).ok()?;
        self.places.get_mut(index)?.as_mut()
    }

    pub fn contains(&self, key: u64) -> bool {
        self.get(key).is_some()
    }

    /// Takes the value at `key`; the window then shrinks past empty places at both ends.
    pub fn remove(&mut self, key: u64) -> Option<T> {
        let index = usize::try_from(key.checked_sub(self.base)?).ok()?;
        let removed = self.places.get_mut(index)?.take()?;
        self.count -= 1;
        while let Some(None) = self.places.front() {
            self.places.pop_front();
            self.base += 1;
        }
        while let Some(None) = self.places.back() {
            self.places.pop_back();
        }
        Some(removed)
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// In key order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &T)> {
        (self.base..)
            .zip(&self.places)
            .filter_map(|(key, value)| Some((key, value.as_ref()?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    proptest! {
        /// The window answers as a `BTreeMap` would over any inserts and removals near
        /// one another (repeated, unknown and long-gone keys among them), and spans no
        /// more than from its least key to its greatest.
        #[test]
        fn a_window_answers_as_a_map(
            steps in prop::collection::vec((0u8..3, 0u64..48), 1..400),
        ) {
            let mut window = Window::default();
            let mut model = BTreeMap::new();
            let origin = 1_000;
            for (i, (kind, offset)) in steps.into_iter().enumerate() {
                let key = origin + offset;
                match kind {
                    0 => prop_assert_eq!(window.insert(key, i), model.insert(key, i)),
                    1 => prop_assert_eq!(window.remove(key), model.remove(&key)),
                    _ => {
                        prop_assert_eq!(window.get(key), model.get(&key));
                        prop_assert_eq!(window.get_mut(key).map(|v| *v), model.get(&key).copied());
                        prop_assert_eq!(window.contains(key), model.contains_key(&key));
                    }
                }
                prop_assert_eq!(window.count, model.len());
                prop_assert_eq!(window.is_empty(), model.is_empty());
                let held: Vec<(u64, usize)> = window.iter().map(|(k, v)| (k, *v)).collect();
                prop_assert_eq!(held, model.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>());
                let span = match (model.keys().next(), model.keys().next_back()) {
                    (Some(first), Some(last)) => (last - first + 1) as usize,
                    _ => 0,
                };
                prop_assert_eq!(window.places.len(), span);
                prop_assert!(window.get(key.saturating_sub(origin)).is_none());
            }
        }
    }
}
