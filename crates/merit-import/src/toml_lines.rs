//! Pointing at lines of a TOML file: the line of an offset, and the line
//! that sets a field within a table (up to the next table header).

/// The 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Whether a line (without its indent) is `field = ...`.
fn sets_field(line: &str, field: &str) -> bool {
    line.strip_prefix(field)
        .is_some_and(|rest| rest.trim_start().starts_with('='))
}

/// The line of `field = ...` in the table that starts at `start` (up to
/// the next table header), else the table's first line.
pub fn field_line(text: &str, start: usize, field: &str) -> usize {
    let start = start.min(text.len());
    let mut offset = start;
    for (n, line) in text[start..].split_inclusive('\n').enumerate() {
        let trimmed = line.trim_start();
        if n > 0 && trimmed.starts_with('[') {
            break;
        }
        if sets_field(trimmed, field) {
            return line_of(text, offset);
        }
        offset += line.len();
    }
    line_of(text, start)
}

/// The first line anywhere that sets `field`, else line 1.
pub fn first_field_line(text: &str, field: &str) -> usize {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if sets_field(line.trim_start(), field) {
            return line_of(text, offset);
        }
        offset += line.len();
    }
    1
}

/// A TOML syntax or shape error as (line, message).
pub fn syntax_error(text: &str, e: &toml::de::Error) -> (Option<usize>, String) {
    (
        e.span().map(|s| line_of(text, s.start)),
        e.message().trim().to_owned(),
    )
}
