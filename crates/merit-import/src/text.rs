//! Byte-level handling of incoming text files: byte-order marks, UTF-16,
//! Latin-1 fields, binary files.

use crate::FileRefused;
use encoding_rs::WINDOWS_1252;
use encoding_rs_io::{DecodeReaderBytes, DecodeReaderBytesBuilder};
use std::borrow::Cow;
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Bytes read from the start of a file to decide what it is.
pub const HEAD_BYTES: u64 = 8192;

/// Opens a text file for `format` (named in the messages): its first
/// bytes, and a decoding reader over the whole file. An empty or binary
/// file is refused.
pub fn open_text(
    path: &Path,
    format: &str,
) -> Result<(Vec<u8>, Box<dyn Read + Send>), FileRefused> {
    let file = path.display().to_string();
    let unreadable = |source| FileRefused::Unreadable {
        file: file.clone(),
        source,
    };
    let mut head = Vec::with_capacity(HEAD_BYTES as usize);
    File::open(path)
        .and_then(|f| f.take(HEAD_BYTES).read_to_end(&mut head))
        .map_err(unreadable)?;
    let refuse = |reason: String| FileRefused::NotThisFormat {
        file: file.clone(),
        reason,
    };
    if head.iter().all(u8::is_ascii_whitespace) {
        return Err(refuse("the file is empty".into()));
    }
    if looks_binary(&head) {
        return Err(refuse(format!("this is a binary file, not {format}")));
    }
    let reader = decoded(File::open(path).map_err(unreadable)?);
    Ok((head, Box::new(reader)))
}

/// Wraps a reader so that a BOM is stripped and UTF-16 becomes UTF-8; other
/// bytes pass through untouched (per-field decoding handles Latin-1).
pub fn decoded<R: Read>(reader: R) -> DecodeReaderBytes<R, Vec<u8>> {
    DecodeReaderBytesBuilder::new()
        .bom_sniffing(true)
        .strip_bom(true)
        .utf8_passthru(true)
        .build(reader)
}

/// A field as text: UTF-8 when it is, else Windows-1252 (a superset of Latin-1).
pub fn field_text(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => WINDOWS_1252.decode_without_bom_handling(bytes).0,
    }
}

/// True if the start of a file looks binary: a NUL byte outside UTF-16.
pub fn looks_binary(head: &[u8]) -> bool {
    let utf16 = head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]);
    !utf16 && head.contains(&0)
}

/// Splits a stream of JSON objects (one per line, concatenated without
/// separators, or in one array) into each top-level object's text and the
/// line it starts on. Text between objects other than whitespace, commas
/// and array brackets is reported, once per run, and skipped; an object
/// cut off by the end of the file is reported.
pub struct JsonObjects<R: std::io::BufRead> {
    bytes: std::io::Bytes<R>,
    line: u64,
    /// An object read right after stray text, returned after the stray text's report.
    pending: Option<Result<(u64, String), (u64, String)>>,
}

impl<R: std::io::BufRead> JsonObjects<R> {
    pub fn new(reader: R) -> Self {
        JsonObjects {
            bytes: reader.bytes(),
            line: 1,
            pending: None,
        }
    }
}

impl<R: std::io::BufRead> Iterator for JsonObjects<R> {
    /// `Ok((line, object text))` or `Err((line, reason))`.
    type Item = Result<(u64, String), (u64, String)>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(pending) = self.pending.take() {
            return Some(pending);
        }
        let mut stray: Option<u64> = None;
        loop {
            let byte = match self.bytes.next() {
                None => return stray.map(|line| Err((line, STRAY.into()))),
                Some(Err(e)) => return Some(Err((self.line, format!("cannot be read: {e}")))),
                Some(Ok(byte)) => byte,
            };
            match byte {
                b'\n' => self.line += 1,
                b'{' => {
                    let object = self.object();
                    if let Some(line) = stray {
                        self.pending = Some(object);
                        return Some(Err((line, STRAY.into())));
                    }
                    return Some(object);
                }
                b if b.is_ascii_whitespace() || matches!(b, b',' | b'[' | b']') => {}
                _ => {
                    stray.get_or_insert(self.line);
                }
            }
        }
    }
}

const STRAY: &str = "text outside any JSON object (expected one object per record)";

impl<R: std::io::BufRead> JsonObjects<R> {
    /// Reads the rest of an object whose `{` was just consumed.
    fn object(&mut self) -> Result<(u64, String), (u64, String)> {
        let start = self.line;
        let mut text = vec![b'{'];
        let (mut depth, mut in_string, mut escaped) = (1u32, false, false);
        while depth > 0 {
            let byte = match self.bytes.next() {
                None => {
                    return Err((
                        start,
                        "the JSON object starting here is cut off by the end of the file".into(),
                    ));
                }
                Some(Err(e)) => return Err((self.line, format!("cannot be read: {e}"))),
                Some(Ok(byte)) => byte,
            };
            text.push(byte);
            if byte == b'\n' {
                self.line += 1;
            }
            if in_string {
                match byte {
                    _ if escaped => escaped = false,
                    b'\\' => escaped = true,
                    b'"' => in_string = false,
                    _ => {}
                }
                continue;
            }
            match byte {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => depth -= 1,
                _ => {}
            }
        }
        Ok((start, field_text(&text).into_owned()))
    }
}
