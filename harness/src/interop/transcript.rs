//! The RPC transcript: one JSON line per call a run makes (`DIR/transcript.jsonl`).
//!
//! ```text
//! {"case":"commit/add/1/private/0-1","step":3,"actor":"bob","client":"openmls",
//!  "method":"Commit","request":"<hex of the protobuf encoding>","response":"<hex>"}
//! {"case":...,"method":"JoinGroup","request":"...","error":"JoinGroup: the client refused ..."}
//! ```
//!
//! Lines are numbered from 1; a case's verdict names the lines of the step that decided it,
//! so `sed -n 'A,Bp' transcript.jsonl` shows exactly what was sent and answered.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

/// One call, as written.
#[derive(Debug, Clone, Serialize)]
pub struct Entry<'a> {
    pub case: &'a str,
    /// The script step the call belongs to (`null` for the clean-up after the last step).
    pub step: Option<usize>,
    pub actor: &'a str,
    pub client: &'a str,
    pub method: &'a str,
    /// Hex of the request's protobuf encoding.
    pub request: String,
    /// Hex of the response's protobuf encoding, when the call answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    /// The error, when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Where the lines go: a file, memory (one case run on a parallel lane, appended to the file
/// in plan order later), or nowhere (lines are still counted).
#[derive(Debug)]
pub struct Transcript {
    path: Option<PathBuf>,
    out: Option<BufWriter<File>>,
    buffer: Option<Vec<u8>>,
    lines: u64,
    /// The first write error; later lines are counted but not written.
    error: Option<String>,
}

impl Transcript {
    /// Creates (truncates) `path`.
    pub fn create(path: &Path) -> std::io::Result<Self> {
        let file = File::create(path)?;
        Ok(Transcript {
            path: Some(path.to_path_buf()),
            out: Some(BufWriter::new(file)),
            buffer: None,
            lines: 0,
            error: None,
        })
    }

    /// A transcript that only counts lines.
    pub fn discard() -> Self {
        Transcript {
            path: None,
            out: None,
            buffer: None,
            lines: 0,
            error: None,
        }
    }

    /// A transcript kept in memory, numbered from 1, for [`Transcript::append`].
    pub fn memory() -> Self {
        Transcript {
            buffer: Some(Vec::new()),
            ..Transcript::discard()
        }
    }

    /// Appends the lines of a memory transcript; returns the offset to add to the line
    /// numbers `other` handed out to get their numbers here.
    pub fn append(&mut self, other: Transcript) -> u64 {
        let offset = self.lines;
        self.lines += other.lines;
        if let Some(bytes) = other.buffer {
            if let Some(out) = &mut self.out
                && let Err(e) = out.write_all(&bytes)
            {
                self.error.get_or_insert(e.to_string());
                self.out = None;
            }
            if let Some(buffer) = &mut self.buffer {
                buffer.extend_from_slice(&bytes);
            }
        }
        offset
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Writes one line and returns its number (from 1).
    pub fn write(&mut self, entry: &Entry<'_>) -> u64 {
        self.lines += 1;
        if let Some(buffer) = &mut self.buffer {
            // Serializing plain strings and numbers into memory cannot fail.
            if serde_json::to_writer(&mut *buffer, entry).is_ok() {
                buffer.push(b'\n');
            }
        }
        if let Some(out) = &mut self.out {
            let written = serde_json::to_writer(&mut *out, entry)
                .map_err(|e| e.to_string())
                .and_then(|()| out.write_all(b"\n").map_err(|e| e.to_string()));
            if let Err(e) = written {
                self.error.get_or_insert(e);
                self.out = None;
            }
        }
        self.lines
    }

    /// Writes one line that is not a call (the run's header: run tag, seed) and returns
    /// its number.
    pub fn header(&mut self, value: &serde_json::Value) -> u64 {
        self.lines += 1;
        let mut bytes = value.to_string().into_bytes();
        bytes.push(b'\n');
        if let Some(buffer) = &mut self.buffer {
            buffer.extend_from_slice(&bytes);
        }
        if let Some(out) = &mut self.out
            && let Err(e) = out.write_all(&bytes)
        {
            self.error.get_or_insert(e.to_string());
            self.out = None;
        }
        self.lines
    }

    /// Lines written so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Flushes the file; returns the first error met while writing, if any.
    pub fn finish(&mut self) -> Result<(), String> {
        if let Some(out) = &mut self.out
            && let Err(e) = out.flush()
        {
            self.error.get_or_insert(e.to_string());
        }
        match &self.error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }
}
