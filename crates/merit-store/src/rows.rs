//! Records as rows of plain values, so that one bulk writer per backend
//! serves every record kind.

/// One column value. Text a program names (an enum's name, an empty
/// list) is `Static`: equal to, and written and hashed as, the same `Text`,
/// without an allocation per row.
#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Static(&'static str),
    Bool(bool),
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        self.borrowed() == other.borrowed()
    }
}

/// A column value as written: borrowed from a row, so that a row's keys
/// and texts are bound where they are instead of copied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Int(i64),
    Text(&'a str),
    Bool(bool),
}

impl Value {
    pub fn borrowed(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Int(v) => ValueRef::Int(*v),
            Value::Text(text) => ValueRef::Text(text),
            Value::Static(text) => ValueRef::Text(text),
            Value::Bool(v) => ValueRef::Bool(*v),
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<&'static str> for Value {
    fn from(v: &'static str) -> Self {
        Value::Static(v)
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// A revisioned record ready to write: its identity, its time-key and content
/// hash, the kind-specific column values, and child rows (survey answers).
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub source_system: String,
    pub source_id: String,
    pub time_ms: i64,
    pub content_hash: i64,
    pub values: Vec<Value>,
    pub children: Vec<Vec<Value>>,
    /// What the record adds to its packed day (contacts, survey answers).
    pub(crate) packed: crate::packed_days::Packed,
}

/// FNV-1a (64 bits), fed a piece at a time: stable across runs and
/// versions, which std's hasher is not promised to be.
pub(crate) struct Fnv1a(u64);

impl Fnv1a {
    pub(crate) fn new() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }

    pub(crate) fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    pub(crate) fn finish(&self) -> i64 {
        self.0 as i64
    }
}

/// Appends one field in PostgreSQL's COPY csv format: NULL is an unquoted
/// empty field, text is always quoted so an empty string stays a string.
/// (A general CSV writer cannot tell NULL from "", which COPY must.)
pub fn push_copy_field(out: &mut Vec<u8>, value: ValueRef) {
    match value {
        ValueRef::Null => {}
        ValueRef::Int(v) => out.extend_from_slice(v.to_string().as_bytes()),
        ValueRef::Bool(v) => out.extend_from_slice(if v { b"t" } else { b"f" }),
        ValueRef::Text(text) => {
            out.push(b'"');
            for &byte in text.as_bytes() {
                if byte == b'"' {
                    out.push(b'"');
                }
                out.push(byte);
            }
            out.push(b'"');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Fnv1a;

    fn fnv1a(pieces: &[&[u8]]) -> u64 {
        let mut hash = Fnv1a::new();
        for piece in pieces {
            hash.write(piece);
        }
        hash.finish() as u64
    }

    #[test]
    fn fnv1a_gives_the_published_values_whatever_the_pieces() {
        // Test vectors of the FNV reference (Fowler, Noll, Vo), 64-bit FNV-1a.
        assert_eq!(fnv1a(&[]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(&[b"a"]), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(&[b"foobar"]), 0x8594_4171_f739_67e8);
        assert_eq!(fnv1a(&[b"foo", b"", b"b", b"ar"]), fnv1a(&[b"foobar"]));
    }
}
