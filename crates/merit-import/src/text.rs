//! Byte-level handling of incoming text files: byte-order marks, UTF-16,
//! Latin-1 fields, binary files.

use encoding_rs::WINDOWS_1252;
use encoding_rs_io::{DecodeReaderBytes, DecodeReaderBytesBuilder};
use std::borrow::Cow;
use std::io::Read;

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
