//! Reading the TOML input files (expectations, claims) with errors that name the file, the
//! line and the field.

use serde::de::DeserializeOwned;

/// A malformed input file: where, which field, what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub file: String,
    /// Line and column (from 1) of the offending value; 0 when unknown (the file could not
    /// be read at all).
    pub line: usize,
    pub column: usize,
    /// The field's path, e.g. `known_failure[1].reason`; empty for the file as a whole.
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if !self.field.is_empty() {
            write!(f, ": field `{}`", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for InputError {}

/// Line and column (from 1) of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(1, |last| last.chars().count() + 1);
    (line, column)
}

/// Deserializes `text` (the content of `file`) into `T`, naming the field path and its line.
pub(crate) fn from_toml<T: DeserializeOwned>(text: &str, file: &str) -> Result<T, InputError> {
    let error = |span: Option<std::ops::Range<usize>>, field: String, message: String| {
        let (line, column) = span.map_or((0, 0), |s| line_column(text, s.start));
        InputError {
            file: file.to_string(),
            line,
            column,
            field,
            message,
        }
    };
    let deserializer = toml::de::Deserializer::parse(text)
        .map_err(|e| error(e.span(), String::new(), e.message().trim().to_string()))?;
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        // `Spanned` entries add a private key to the path; readers know the field without it.
        let path = e
            .path()
            .to_string()
            .replace(".$__serde_spanned_private_value", "");
        let inner = e.into_inner();
        let field = if path == "." { String::new() } else { path };
        error(inner.span(), field, inner.message().trim().to_string())
    })
}

/// Reads an input file's text, or says why it cannot.
pub(crate) fn read(path: &std::path::Path) -> Result<(String, String), InputError> {
    let file = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((text, file)),
        Err(e) => Err(InputError {
            file,
            line: 0,
            column: 0,
            field: String::new(),
            message: format!("cannot read: {e}"),
        }),
    }
}

/// A non-empty string (reasons, names): an empty one is refused where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonEmpty(pub String);

impl<'de> serde::Deserialize<'de> for NonEmpty {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text.trim().is_empty() {
            Err(serde::de::Error::custom("must not be empty"))
        } else {
            Ok(NonEmpty(text))
        }
    }
}

/// `*` matches any run of characters (also none); everything else matches itself.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, rest) = match parts.split_first() {
        Some(split) => split,
        None => return false,
    };
    let Some(mut remaining) = text.strip_prefix(first) else {
        return false;
    };
    let (last, middle) = match rest.split_last() {
        Some(split) => split,
        None => return true,
    };
    for part in middle {
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("interop/*", "interop/commit.json/add"));
        assert!(glob_match("*add*", "interop/commit.json/add/1"));
        assert!(glob_match("a*b*c", "abc"));
        assert!(!glob_match("a*b*c", "acb"));
        assert!(glob_match("exact", "exact"));
        assert!(!glob_match("exact", "exactly"));
        assert!(!glob_match("ab*ba", "aba"));
        assert!(glob_match("*", ""));
    }

    #[test]
    fn line_and_column() {
        assert_eq!(line_column("a\nbc\nd", 3), (2, 2));
        assert_eq!(line_column("abc", 0), (1, 1));
    }
}
