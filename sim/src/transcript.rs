//! The run's transcript: one JSON object per line, in the order things happened, with
//! virtual time only (never the wall clock), so the same seed gives the same bytes.

use std::io::Write;

use serde_json::{Map, Value};

/// A JSONL sink that counts its lines (verdicts cite line ranges).
pub struct Transcript {
    out: Option<Box<dyn Write>>,
    lines: u64,
    error: Option<String>,
}

impl std::fmt::Debug for Transcript {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transcript")
            .field("lines", &self.lines)
            .finish_non_exhaustive()
    }
}

impl Transcript {
    /// Lines go to `out` (`None`: only counted).
    pub fn new(out: Option<Box<dyn Write>>) -> Self {
        Transcript {
            out,
            lines: 0,
            error: None,
        }
    }

    /// Lines written so far; the next line has number `lines() + 1`.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Writes one line: `scenario`, `t` (virtual microseconds), `kind`, then `fields`.
    pub fn write(&mut self, scenario: &str, t: u64, kind: &str, fields: Value) {
        let mut line = Map::new();
        line.insert("scenario".into(), Value::from(scenario));
        line.insert("t".into(), Value::from(t));
        line.insert("kind".into(), Value::from(kind));
        if let Value::Object(more) = fields {
            line.extend(more);
        }
        self.lines += 1;
        if let Some(out) = &mut self.out {
            let result = serde_json::to_writer(&mut *out, &Value::Object(line))
                .map_err(|e| e.to_string())
                .and_then(|()| out.write_all(b"\n").map_err(|e| e.to_string()));
            if let Err(e) = result
                && self.error.is_none()
            {
                self.error = Some(e);
            }
        }
    }

    /// Flushes; the first write error, if any.
    pub fn finish(&mut self) -> Result<(), String> {
        if let Some(out) = &mut self.out {
            out.flush().map_err(|e| e.to_string())?;
        }
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
