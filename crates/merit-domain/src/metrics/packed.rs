//! Packed days: the current contacts (or numeric survey answers) of one UTC
//! day as one compact record, the form the engine reads them in. The store
//! keeps one per tenant and day beside the revisioned rows and rewrites it
//! in the import that changes the day, so a report reads a few dozen
//! records instead of a row per contact.
//!
//! Layout of a day of contacts: a 4-byte tag, the offset of the trailer
//! (8 bytes, little-endian), the rows, then the trailer: the number of rows
//! and one dictionary per text column (each distinct value once). A row
//! starts with its match key (4 bytes, little-endian: `match_key`), its
//! arrival (the difference from the previous row's; rows are sorted by
//! arrival, then source system and id) and the length of the rest, so a
//! reader looking for a few customers steps over the others without
//! reading them. The rest: text as its dictionary code (0 for none, k + 1
//! for entry k), except source id and customer, nearly unique per row,
//! written inline (length + 1, 0 for none, then the bytes); then times
//! relative to the row's arrival and the other numbers. Every value but
//! the key is a LEB128 varint, signed values zigzag encoded, optional ones
//! shifted by one so that 0 is "none". The trailer comes last so a day is
//! written in one pass. A day of survey answers has the tag, the count and
//! the dictionaries first.

use crate::contact::Outcome;
use crate::metrics::fast_hash::{FastMap, bytes_hash};
use crate::metrics::table::{ContactFacts, ContactTable, Dict};
use crate::organisation::Channel;

const CONTACTS_TAG: &[u8; 4] = b"MPC2";
const ANSWERS_TAG: &[u8; 4] = b"MPA1";

/// Bytes that are not a packed day of the expected kind (a truncated or
/// foreign record).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("packed day: {0}")]
pub struct PackedError(&'static str);

/// One numeric answer of a survey response, as the engine reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerFacts {
    pub source_system: String,
    /// The response's source id.
    pub source_id: String,
    pub contact_source_id: Option<String>,
    pub agent_id: Option<String>,
    pub answered_ms: i64,
    pub question_id: String,
    pub value: i64,
}

/// The UTC day number (days since 1970-01-01) of an instant: the key of
/// the packed day a record belongs to.
pub fn utc_day(ms: i64) -> i64 {
    ms.div_euclid(86_400_000)
}

/// A contact's match key, written at the start of its packed row: the top
/// 32 bits of `bytes_hash` of its customer id, or of its source id when it
/// has no customer. A reader after some customers' contacts refuses a row
/// whose key is none of theirs without reading the rest of it.
pub fn match_key(customer: Option<&[u8]>, source_id: &[u8]) -> u32 {
    (bytes_hash(customer.unwrap_or(source_id)) >> 32) as u32
}

#[inline]
fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

#[inline]
fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_signed(out: &mut Vec<u8>, v: i64) {
    put(out, zigzag(v));
}

fn put_optional(out: &mut Vec<u8>, v: Option<i64>) {
    put(out, v.map_or(0, |v| zigzag(v).wrapping_add(1)));
}

/// Distinct text values of one column, in order of first use.
#[derive(Default)]
struct Names<'a> {
    names: Vec<&'a str>,
    codes: FastMap<&'a str, u64>,
}

impl<'a> Names<'a> {
    fn code(&mut self, name: Option<&'a str>) -> u64 {
        let Some(name) = name else { return 0 };
        let next = self.names.len() as u64 + 1;
        *self.codes.entry(name).or_insert_with(|| {
            self.names.push(name);
            next
        })
    }

    fn write(&self, out: &mut Vec<u8>) {
        put(out, self.names.len() as u64);
        for name in &self.names {
            put(out, name.len() as u64);
            out.extend_from_slice(name.as_bytes());
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn tag(&mut self, tag: &[u8; 4]) -> Result<(), PackedError> {
        match self.bytes.split_first_chunk::<4>() {
            Some((head, rest)) if head == tag => {
                self.bytes = rest;
                Ok(())
            }
            _ => Err(PackedError("not a packed day of this kind")),
        }
    }

    #[inline]
    fn u32_le(&mut self) -> Result<u32, PackedError> {
        let (word, rest) = self
            .bytes
            .split_first_chunk::<4>()
            .ok_or(PackedError("truncated row"))?;
        self.bytes = rest;
        Ok(u32::from_le_bytes(*word))
    }

    /// A LEB128 number; most are under 128, one byte, read without a loop.
    #[inline(always)]
    fn varint(&mut self) -> Result<u64, PackedError> {
        match self.bytes.split_first() {
            Some((&byte, rest)) if byte < 0x80 => {
                self.bytes = rest;
                Ok(u64::from(byte))
            }
            _ => self.long_varint(),
        }
    }

    /// A number of two bytes or more. One of up to eight bytes with eight
    /// bytes left to read (nearly every one) is found with one load and
    /// its seven-bit groups put together without a loop; others byte by
    /// byte.
    fn long_varint(&mut self) -> Result<u64, PackedError> {
        if let Some(word) = self
            .bytes
            .first_chunk::<8>()
            .map(|w| u64::from_le_bytes(*w))
        {
            let ends = !word & 0x8080_8080_8080_8080;
            if ends != 0 {
                let len = ends.trailing_zeros() as usize / 8 + 1;
                let word = word & (u64::MAX >> (64 - 8 * len));
                let v = (0..8).fold(0, |v, k| v | ((word >> k) & (0x7f << (7 * k))));
                self.bytes = &self.bytes[len..];
                return Ok(v);
            }
        }
        let mut v: u64 = 0;
        for (k, &byte) in self.bytes.iter().enumerate().take(10) {
            v |= u64::from(byte & 0x7f) << (7 * k);
            if byte < 0x80 {
                self.bytes = &self.bytes[k + 1..];
                return Ok(v);
            }
        }
        Err(PackedError("truncated number"))
    }

    #[inline]
    fn signed(&mut self) -> Result<i64, PackedError> {
        self.varint().map(unzigzag)
    }

    #[inline]
    fn optional(&mut self) -> Result<Option<i64>, PackedError> {
        Ok(match self.varint()? {
            0 => None,
            v => Some(unzigzag(v - 1)),
        })
    }

    /// Inline text: length + 1 (0 for none), then the bytes, not yet
    /// checked to be UTF-8 (`text_of`).
    #[inline]
    fn inline(&mut self) -> Result<Option<&'a [u8]>, PackedError> {
        let Some(len) = self.varint()?.checked_sub(1) else {
            return Ok(None);
        };
        let len = usize::try_from(len)
            .ok()
            .filter(|&len| len <= self.bytes.len())
            .ok_or(PackedError("text longer than the record"))?;
        let (text, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(Some(text))
    }

    fn count(&mut self) -> Result<usize, PackedError> {
        let n = self.varint()?;
        // Every counted item takes at least one byte.
        match usize::try_from(n) {
            Ok(n) if n <= self.bytes.len() => Ok(n),
            _ => Err(PackedError("count larger than the record")),
        }
    }

    fn names(&mut self) -> Result<Vec<&'a str>, PackedError> {
        let n = self.count()?;
        let mut names = Vec::with_capacity(n);
        for _ in 0..n {
            let len = self.count()?;
            let (text, rest) = self.bytes.split_at(len);
            names.push(std::str::from_utf8(text).map_err(|_| PackedError("text is not UTF-8"))?);
            self.bytes = rest;
        }
        Ok(names)
    }

    fn end(&self) -> Result<(), PackedError> {
        match self.bytes.is_empty() {
            true => Ok(()),
            false => Err(PackedError("bytes after the last row")),
        }
    }
}

/// Inline text's bytes as text.
#[inline]
fn text_of(bytes: &[u8]) -> Result<&str, PackedError> {
    std::str::from_utf8(bytes).map_err(|_| PackedError("text is not UTF-8"))
}

/// A dictionary code read back: `None` for 0, the name otherwise.
fn lookup<'a>(names: &[&'a str], code: u64) -> Result<Option<&'a str>, PackedError> {
    match code {
        0 => Ok(None),
        k => names
            .get(k as usize - 1)
            .copied()
            .map(Some)
            .ok_or(PackedError("unknown text code")),
    }
}

fn required<'a>(names: &[&'a str], code: u64) -> Result<&'a str, PackedError> {
    lookup(names, code)?.ok_or(PackedError("missing required text"))
}

/// Sorts contacts into a packed day's order: arrival, then identity.
pub fn sort_contacts(rows: &mut [ContactFacts]) {
    rows.sort_unstable_by(|a, b| {
        (a.arrival_ms, &a.source_system, &a.source_id).cmp(&(
            b.arrival_ms,
            &b.source_system,
            &b.source_id,
        ))
    });
}

/// The text columns of a contact, in the order their dictionaries are written.
const CONTACT_TEXT: usize = 9;
/// Columns nearly unique per row (source id, customer): written inline as
/// length + 1 (0 for none) and the bytes, never in a dictionary.
const INLINE: [usize; 2] = [1, 5];

fn contact_text(c: &ContactFacts) -> [Option<&str>; CONTACT_TEXT] {
    [
        Some(c.source_system.as_str()),
        Some(c.source_id.as_str()),
        Some(c.channel.as_str()),
        c.queue_id.as_deref(),
        c.contact_type.as_deref(),
        c.customer_id.as_deref(),
        c.agent_id.as_deref(),
        c.wrap_up_code.as_deref(),
        Some(c.outcome.as_str()),
    ]
}

/// A contact as the encoder takes it: text looked up, times absolute.
#[derive(Clone, Copy)]
struct ContactView<'a> {
    text: [Option<&'a str>; CONTACT_TEXT],
    arrival_ms: i64,
    end_ms: i64,
    wait_ms: Option<i64>,
    flags: u64,
    talk_ms: i64,
    hold_ms: i64,
    after_work_ms: i64,
    first_response_ms: Option<i64>,
    resolution_ms: Option<i64>,
    sale_minor: Option<i64>,
}

impl<'a> ContactView<'a> {
    fn of(c: &'a ContactFacts) -> Self {
        ContactView {
            text: contact_text(c),
            arrival_ms: c.arrival_ms,
            end_ms: c.end_ms,
            wait_ms: c.wait_ms,
            flags: u64::from(c.answered)
                | u64::from(c.transferred) << 1
                | u64::from(c.sale_cancelled) << 2,
            talk_ms: c.talk_ms,
            hold_ms: c.hold_ms,
            after_work_ms: c.after_work_ms,
            first_response_ms: c.first_response_ms,
            resolution_ms: c.resolution_ms,
            sale_minor: c.sale_minor,
        }
    }

    fn facts(&self) -> Result<ContactFacts, PackedError> {
        let [
            system,
            id,
            chan,
            queue,
            kind,
            customer,
            agent,
            wrap_up,
            result,
        ] = self.text;
        fn need(text: Option<&str>) -> Result<&str, PackedError> {
            text.ok_or(PackedError("missing required text"))
        }
        let owned = |text: Option<&str>| text.map(str::to_owned);
        Ok(ContactFacts {
            source_system: need(system)?.to_owned(),
            source_id: need(id)?.to_owned(),
            channel: channel(need(chan)?)?,
            queue_id: owned(queue),
            contact_type: owned(kind),
            customer_id: owned(customer),
            agent_id: owned(agent),
            wrap_up_code: owned(wrap_up),
            arrival_ms: self.arrival_ms,
            end_ms: self.end_ms,
            outcome: outcome(need(result)?)?,
            wait_ms: self.wait_ms,
            answered: self.flags & 1 != 0,
            talk_ms: self.talk_ms,
            hold_ms: self.hold_ms,
            after_work_ms: self.after_work_ms,
            transferred: self.flags & 2 != 0,
            first_response_ms: self.first_response_ms,
            resolution_ms: self.resolution_ms,
            sale_minor: self.sale_minor,
            sale_cancelled: self.flags & 4 != 0,
        })
    }

    /// The packed day's order: arrival, source system, source id.
    fn order(&self) -> (i64, Option<&'a str>, Option<&'a str>) {
        (self.arrival_ms, self.text[0], self.text[1])
    }
}

/// Builds a packed day row by row (rows in packed order).
#[derive(Default)]
struct ContactEncoder<'a> {
    names: [Names<'a>; CONTACT_TEXT],
    body: Vec<u8>,
    /// The row being written after its length (reused row to row).
    rest: Vec<u8>,
    rows: usize,
    previous_arrival: i64,
}

impl<'a> ContactEncoder<'a> {
    fn push(&mut self, c: &ContactView<'a>) {
        if self.body.is_empty() {
            self.body.extend_from_slice(CONTACTS_TAG);
            self.body.extend_from_slice(&[0; 8]);
        }
        let rest = &mut self.rest;
        rest.clear();
        for (k, (column, text)) in self.names.iter_mut().zip(c.text).enumerate() {
            match (INLINE.contains(&k), text) {
                (true, None) => put(rest, 0),
                (true, Some(text)) => {
                    put(rest, text.len() as u64 + 1);
                    rest.extend_from_slice(text.as_bytes());
                }
                (false, _) => put(rest, column.code(text)),
            }
        }
        put_signed(rest, c.end_ms - c.arrival_ms);
        put_optional(rest, c.wait_ms);
        put(rest, c.flags);
        put_signed(rest, c.talk_ms);
        put_signed(rest, c.hold_ms);
        put_signed(rest, c.after_work_ms);
        put_optional(rest, c.first_response_ms.map(|t| t - c.arrival_ms));
        put_optional(rest, c.resolution_ms.map(|t| t - c.arrival_ms));
        put_optional(rest, c.sale_minor);
        let [id, customer] = INLINE.map(|k| c.text[k].map(str::as_bytes));
        let key = match_key(customer, id.unwrap_or_default());
        let body = &mut self.body;
        body.extend_from_slice(&key.to_le_bytes());
        put_signed(body, c.arrival_ms - self.previous_arrival);
        self.previous_arrival = c.arrival_ms;
        put(body, rest.len() as u64);
        body.extend_from_slice(rest);
        self.rows += 1;
    }

    /// The rows, then the trailer (row count and dictionaries), whose
    /// offset follows the tag: the rows are never copied.
    fn finish(mut self) -> Vec<u8> {
        if self.body.is_empty() {
            self.body.extend_from_slice(CONTACTS_TAG);
            self.body.extend_from_slice(&[0; 8]);
        }
        let trailer = self.body.len() as u64;
        self.body[4..12].copy_from_slice(&trailer.to_le_bytes());
        put(&mut self.body, self.rows as u64);
        for column in &self.names {
            column.write(&mut self.body);
        }
        self.body
    }
}

/// Packs contacts (sorted with `sort_contacts`).
pub fn pack_contacts(rows: &[ContactFacts]) -> Vec<u8> {
    let mut encoder = ContactEncoder::default();
    encoder.body.reserve(rows.len() * 40 + 64);
    for c in rows {
        encoder.push(&ContactView::of(c));
    }
    encoder.finish()
}

/// A packed day rewritten: its stored rows that `keep` accepts (by source
/// system and id) merged with `added` (sorted with `sort_contacts`), read
/// and written row by row, so memory holds the two packed forms and
/// `added`, never the day's rows decoded. Returns the bytes and the number
/// of rows.
pub fn merge_contacts(
    stored: Option<&[u8]>,
    keep: impl Fn(&str, &str) -> bool,
    added: &[ContactFacts],
) -> Result<(Vec<u8>, usize), PackedError> {
    let mut encoder = ContactEncoder::default();
    encoder
        .body
        .reserve(stored.map_or(0, <[u8]>::len) + added.len() * 40 + 64);
    let mut added = added.iter().map(ContactView::of).peekable();
    if let Some(bytes) = stored {
        let mut rows = StoredContacts::new(bytes)?;
        while let Some(c) = rows.next_row()? {
            let c = rows.view(&c)?;
            let (Some(system), Some(id)) = (c.text[0], c.text[1]) else {
                return Err(PackedError("missing required text"));
            };
            if !keep(system, id) {
                continue;
            }
            while let Some(new) = added.next_if(|new| new.order() < c.order()) {
                encoder.push(&new);
            }
            encoder.push(&c);
        }
        rows.end()?;
    }
    for new in added {
        encoder.push(&new);
    }
    let rows = encoder.rows;
    Ok((encoder.finish(), rows))
}

/// One contact of a packed day as read: the dictionary codes of its text,
/// and the rest, with only the inline text (source id, customer) in `view`.
struct PackedContact<'a> {
    codes: [u64; CONTACT_TEXT],
    view: ContactView<'a>,
}

/// A packed row unread: its match key, its arrival and its values.
type RowBytes<'a> = (u32, i64, &'a [u8]);

/// The rows of a packed day of contacts, read one at a time.
struct StoredContacts<'a> {
    reader: Reader<'a>,
    names: [Vec<&'a str>; CONTACT_TEXT],
    remaining: usize,
    arrival_ms: i64,
}

impl<'a> StoredContacts<'a> {
    fn new(bytes: &'a [u8]) -> Result<Self, PackedError> {
        let (rows, trailer) = split_contact_day(bytes)?;
        let reader = Reader { bytes: rows };
        let (remaining, names) = contact_trailer(trailer, rows.len())?;
        Ok(StoredContacts {
            reader,
            names,
            remaining,
            arrival_ms: 0,
        })
    }

    fn next_row(&mut self) -> Result<Option<PackedContact<'a>>, PackedError> {
        // Every row wanted: none is stepped over.
        Ok(self.next_row_if(|_, _| true)?.flatten())
    }

    /// The next row (`None` after the last); a row that `wanted(match key,
    /// arrival)` refuses is stepped over unread (`Some(None)`).
    fn next_row_if(
        &mut self,
        wanted: impl Fn(u32, i64) -> bool,
    ) -> Result<Option<Option<PackedContact<'a>>>, PackedError> {
        let Some((key, arrival_ms, row)) = self.next_row_bytes()? else {
            return Ok(None);
        };
        match wanted(key, arrival_ms) {
            true => contact_values(row, arrival_ms).map(|c| Some(Some(c))),
            false => Ok(Some(None)),
        }
    }

    /// The next row's match key, arrival and values, unread (`None` after
    /// the last).
    #[inline]
    fn next_row_bytes(&mut self) -> Result<Option<RowBytes<'a>>, PackedError> {
        if self.remaining == 0 {
            return Ok(None);
        }
        self.remaining -= 1;
        let r = &mut self.reader;
        let key = r.u32_le()?;
        let arrival_ms = self.arrival_ms.wrapping_add(r.signed()?);
        self.arrival_ms = arrival_ms;
        let len = usize::try_from(r.varint()?)
            .ok()
            .filter(|&len| len <= r.bytes.len())
            .ok_or(PackedError("row longer than the record"))?;
        let (row, rest) = r.bytes.split_at(len);
        r.bytes = rest;
        Ok(Some((key, arrival_ms, row)))
    }

    /// The contact with its dictionary text looked up.
    fn view(&self, c: &PackedContact<'a>) -> Result<ContactView<'a>, PackedError> {
        let mut view = c.view;
        for (k, (column, &code)) in self.names.iter().zip(&c.codes).enumerate() {
            if !INLINE.contains(&k) {
                view.text[k] = lookup(column, code)?;
            }
        }
        Ok(view)
    }

    fn end(&self) -> Result<(), PackedError> {
        self.reader.end()
    }
}

/// A packed day of contacts as its rows' bytes and its trailer.
fn split_contact_day(bytes: &[u8]) -> Result<(&[u8], &[u8]), PackedError> {
    let mut header = Reader { bytes };
    header.tag(CONTACTS_TAG)?;
    let offset = header
        .bytes
        .split_first_chunk::<8>()
        .map(|(offset, _)| u64::from_le_bytes(*offset))
        .and_then(|offset| usize::try_from(offset).ok())
        .filter(|&offset| (12..=bytes.len()).contains(&offset))
        .ok_or(PackedError("bad trailer offset"))?;
    Ok((&bytes[12..offset], &bytes[offset..]))
}

/// A packed day's trailer read: its row count (at most `rows_len`, the
/// bytes of its rows) and its dictionaries.
fn contact_trailer(
    trailer: &[u8],
    rows_len: usize,
) -> Result<(usize, [Vec<&str>; CONTACT_TEXT]), PackedError> {
    let mut trailer = Reader { bytes: trailer };
    let count = match usize::try_from(trailer.varint()?) {
        Ok(n) if n <= rows_len => n,
        _ => return Err(PackedError("count larger than the record")),
    };
    let mut names: [Vec<&str>; CONTACT_TEXT] = Default::default();
    for column in &mut names {
        *column = trailer.names()?;
    }
    trailer.end()?;
    Ok((count, names))
}

/// A row's values (what follows its length), its arrival known.
#[inline]
fn contact_values(row: &[u8], arrival_ms: i64) -> Result<PackedContact<'_>, PackedError> {
    let r = &mut Reader { bytes: row };
    let mut codes = [0u64; CONTACT_TEXT];
    let mut text = [None; CONTACT_TEXT];
    for (k, code) in codes.iter_mut().enumerate() {
        match INLINE.contains(&k) {
            true => text[k] = r.inline()?.map(text_of).transpose()?,
            false => *code = r.varint()?,
        }
    }
    if text[INLINE[0]].is_none() {
        return Err(PackedError("missing required text"));
    }
    let relative = |v: Option<i64>| v.map(|t| arrival_ms.wrapping_add(t));
    let view = ContactView {
        text,
        arrival_ms,
        end_ms: arrival_ms.wrapping_add(r.signed()?),
        wait_ms: r.optional()?,
        flags: r.varint()?,
        talk_ms: r.signed()?,
        hold_ms: r.signed()?,
        after_work_ms: r.signed()?,
        first_response_ms: relative(r.optional()?),
        resolution_ms: relative(r.optional()?),
        sale_minor: r.optional()?,
    };
    if !r.bytes.is_empty() {
        return Err(PackedError("row longer than its values"));
    }
    Ok(PackedContact { codes, view })
}

fn channel(name: &str) -> Result<Channel, PackedError> {
    Channel::parse(name).ok_or(PackedError("unknown channel"))
}

fn outcome(name: &str) -> Result<Outcome, PackedError> {
    Outcome::parse(name).ok_or(PackedError("unknown outcome"))
}

/// Every contact of a packed day, in its order.
pub fn unpack_contacts(bytes: &[u8]) -> Result<Vec<ContactFacts>, PackedError> {
    let mut rows = StoredContacts::new(bytes)?;
    let mut out = Vec::new();
    while let Some(c) = rows.next_row()? {
        out.push(rows.view(&c)?.facts()?);
    }
    rows.end()?;
    Ok(out)
}

/// Each distinct value of one packed column, interned once into the
/// table's dictionary: code → table code.
fn interned(names: &[&str], dict: &mut Dict) -> Vec<u32> {
    std::iter::once(Dict::NONE)
        .chain(names.iter().map(|n| dict.intern(Some(n))))
        .collect()
}

/// The value of a dictionary code (1 for the first entry) that must be present.
fn pick<T: Copy>(values: &[T], code: u64) -> Result<T, PackedError> {
    code.checked_sub(1)
        .and_then(|k| values.get(k as usize).copied())
        .ok_or(PackedError("unknown text code"))
}

fn code_in(codes: &[u32], code: u64) -> Result<u32, PackedError> {
    codes
        .get(code as usize)
        .copied()
        .ok_or(PackedError("unknown text code"))
}

/// A packed day's dictionaries as the table's codes.
struct TableCodes {
    systems: Vec<u32>,
    queues: Vec<u32>,
    kinds: Vec<u32>,
    agents: Vec<u32>,
    wrap_ups: Vec<u32>,
    channels: Vec<Channel>,
    outcomes: Vec<Outcome>,
}

/// Appends the contacts of a packed day that arrived in `[from_ms, to_ms)`
/// to `table`, each distinct dictionary value interned once per day. Customer
/// and wrap-up code are read only `with_customers` (repeat-contact FCR
/// matches on them); otherwise they are left empty.
pub fn append_contacts(
    bytes: &[u8],
    window: (i64, i64),
    with_customers: bool,
    table: &mut ContactTable,
) -> Result<(), PackedError> {
    let every = RowFilter::new(|_| true, |_, _| true);
    append_contacts_where(bytes, window, with_customers, &every, table)
}

/// Which rows of a packed day to read: `key(match key)` must accept a row
/// for it to be read at all (a row refused here costs a few loads), then
/// `row(customer id with its bytes_hash, source id)`; the customer is
/// `None` too when customers are not read.
pub struct RowFilter<K, R> {
    key: K,
    row: R,
}

impl<K, R> RowFilter<K, R>
where
    K: Fn(u32) -> bool,
    R: Fn(Option<(&str, u64)>, &str) -> bool,
{
    pub fn new(key: K, row: R) -> Self {
        RowFilter { key, row }
    }
}

/// `append_contacts`, only the contacts `filter` accepts.
pub fn append_contacts_where<K, R>(
    bytes: &[u8],
    (from_ms, to_ms): (i64, i64),
    with_customers: bool,
    filter: &RowFilter<K, R>,
    table: &mut ContactTable,
) -> Result<(), PackedError>
where
    K: Fn(u32) -> bool,
    R: Fn(Option<(&str, u64)>, &str) -> bool,
{
    let mut rows = StoredContacts::new(bytes)?;
    let mut writer = TableWriter::new(with_customers);
    let wanted =
        |key: u32, arrival_ms: i64| (from_ms..to_ms).contains(&arrival_ms) && (filter.key)(key);
    while let Some(row) = rows.next_row_if(wanted)? {
        if let Some(c) = row {
            writer.push(&rows.names, &c, &filter.row, table)?;
        }
    }
    rows.end()
}

/// The rows of a packed day of contacts that arrived in a window and
/// whose match key a filter accepts, copied out of the day's bytes with
/// its dictionaries and not yet decoded: runs of them can be decoded on
/// several threads (`append_run`), each thread into a table of its own.
#[derive(Debug, Clone)]
pub struct WantedRows {
    /// The day's trailer (row count and dictionaries), then each wanted
    /// row's values (what follows its length).
    bytes: Vec<u8>,
    /// Each wanted row's arrival and where its values end in `bytes`.
    rows: Vec<(i64, usize)>,
    trailer_len: usize,
}

impl WantedRows {
    /// The rows of packed day `bytes` that arrived in `[from_ms, to_ms)`
    /// and whose match key `filter` accepts. The day's layout is checked
    /// here; each row's values when it is decoded.
    pub fn of<K, R>(
        bytes: &[u8],
        (from_ms, to_ms): (i64, i64),
        filter: &RowFilter<K, R>,
    ) -> Result<Self, PackedError>
    where
        K: Fn(u32) -> bool,
    {
        let mut rows = StoredContacts::new(bytes)?;
        let (_, trailer) = split_contact_day(bytes)?;
        // Room for the whole day: reserved, not written, so room left
        // unused costs nothing, and the bytes are never copied to grow.
        let mut wanted = WantedRows {
            bytes: Vec::with_capacity(bytes.len()),
            rows: Vec::with_capacity(rows.remaining),
            trailer_len: trailer.len(),
        };
        wanted.bytes.extend_from_slice(trailer);
        while let Some((key, arrival_ms, row)) = rows.next_row_bytes()? {
            if (from_ms..to_ms).contains(&arrival_ms) && (filter.key)(key) {
                wanted.bytes.extend_from_slice(row);
                wanted.rows.push((arrival_ms, wanted.bytes.len()));
            }
        }
        rows.end()?;
        Ok(wanted)
    }

    /// How many rows were wanted.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Appends the wanted rows `run` (by position among them) that
    /// `filter` accepts by customer and id to `table`, as
    /// `append_contacts_where` would.
    pub fn append_run<K, R>(
        &self,
        run: std::ops::Range<usize>,
        with_customers: bool,
        filter: &RowFilter<K, R>,
        table: &mut ContactTable,
    ) -> Result<(), PackedError>
    where
        R: Fn(Option<(&str, u64)>, &str) -> bool,
    {
        let (_, names) = contact_trailer(&self.bytes[..self.trailer_len], usize::MAX)?;
        let mut writer = TableWriter::new(with_customers);
        let mut start = match run.start {
            0 => self.trailer_len,
            k => self.rows.get(k - 1).map_or(usize::MAX, |row| row.1),
        };
        for &(arrival_ms, end) in self.rows.get(run).unwrap_or_default() {
            let values = self
                .bytes
                .get(start..end)
                .ok_or(PackedError("row outside the record"))?;
            writer.push(
                &names,
                &contact_values(values, arrival_ms)?,
                &filter.row,
                table,
            )?;
            start = end;
        }
        Ok(())
    }
}

/// Pushes a packed day's contacts into a table, its dictionaries
/// interned into the table's on the first row pushed.
struct TableWriter {
    with_customers: bool,
    codes: Option<TableCodes>,
}

impl TableWriter {
    fn new(with_customers: bool) -> Self {
        TableWriter {
            with_customers,
            codes: None,
        }
    }

    /// Pushes `c` (of the day whose dictionaries are `names`) when
    /// `accepts(customer id with its hash, source id)`.
    #[inline]
    fn push(
        &mut self,
        names: &[Vec<&str>; CONTACT_TEXT],
        c: &PackedContact,
        accepts: impl Fn(Option<(&str, u64)>, &str) -> bool,
        table: &mut ContactTable,
    ) -> Result<(), PackedError> {
        let with_customers = self.with_customers;
        let [id, customer] = INLINE.map(|k| c.view.text[k]);
        // Hashed once, for the filter and the table.
        let customer = customer
            .filter(|_| with_customers)
            .map(|c| (c, bytes_hash(c.as_bytes())));
        if !accepts(customer, id.unwrap_or_default()) {
            return Ok(());
        }
        let codes = match &mut self.codes {
            Some(codes) => codes,
            None => self.codes.insert(TableCodes {
                systems: interned(&names[0], &mut table.source_systems),
                queues: interned(&names[3], &mut table.queues),
                kinds: interned(&names[4], &mut table.contact_types),
                agents: interned(&names[6], &mut table.agents),
                wrap_ups: match with_customers {
                    true => interned(&names[7], &mut table.wrap_ups),
                    false => vec![Dict::NONE],
                },
                channels: names[2]
                    .iter()
                    .map(|n| channel(n))
                    .collect::<Result<_, _>>()?,
                outcomes: names[8]
                    .iter()
                    .map(|n| outcome(n))
                    .collect::<Result<_, _>>()?,
            }),
        };
        let [system, _, chan, queue, kind, _, agent, wrap_up, result] = c.codes;
        let v = &c.view;
        let wrap_up = if with_customers { wrap_up } else { 0 };
        // Every code checked before the first push: a bad row leaves no half row.
        let row = (
            code_in(&codes.systems, system)?,
            id.unwrap_or_default(),
            pick(&codes.channels, chan)?,
            code_in(&codes.queues, queue)?,
            code_in(&codes.kinds, kind)?,
            customer,
            code_in(&codes.agents, agent)?,
            code_in(&codes.wrap_ups, wrap_up)?,
            pick(&codes.outcomes, result)?,
        );
        table.source_system.push(row.0);
        table.source_id.push(row.1);
        table.channel.push(row.2);
        table.queue.push(row.3);
        table.contact_type.push(row.4);
        table.customer.push_hashed(row.5);
        table.agent.push(row.6);
        table.wrap_up.push(row.7);
        table.arrival_ms.push(v.arrival_ms);
        table.end_ms.push(v.end_ms);
        table.outcome.push(row.8);
        table.wait_ms.push(v.wait_ms.unwrap_or(-1));
        table.answered.push(v.flags & 1 != 0);
        table.talk_ms.push(v.talk_ms);
        table.hold_ms.push(v.hold_ms);
        table.after_work_ms.push(v.after_work_ms);
        table.transferred.push(v.flags & 2 != 0);
        table
            .first_response_ms
            .push(v.first_response_ms.unwrap_or(-1));
        table.resolution_ms.push(v.resolution_ms.unwrap_or(-1));
        table.sale_minor.push(v.sale_minor.unwrap_or(-1));
        table.sale_cancelled.push(v.flags & 4 != 0);
        Ok(())
    }
}

/// Sorts answers into a packed day's order: answer time, then identity, then question.
pub fn sort_answers(rows: &mut [AnswerFacts]) {
    rows.sort_unstable_by(|a, b| {
        (
            a.answered_ms,
            &a.source_system,
            &a.source_id,
            &a.question_id,
        )
            .cmp(&(
                b.answered_ms,
                &b.source_system,
                &b.source_id,
                &b.question_id,
            ))
    });
}

const ANSWER_TEXT: usize = 5;

fn answer_text(a: &AnswerFacts) -> [Option<&str>; ANSWER_TEXT] {
    [
        Some(a.source_system.as_str()),
        Some(a.source_id.as_str()),
        a.contact_source_id.as_deref(),
        a.agent_id.as_deref(),
        Some(a.question_id.as_str()),
    ]
}

/// Packs numeric survey answers (sorted with `sort_answers`).
pub fn pack_answers(rows: &[AnswerFacts]) -> Vec<u8> {
    let mut names: [Names; ANSWER_TEXT] = Default::default();
    let mut body = Vec::with_capacity(rows.len() * 12);
    let mut previous = 0;
    for a in rows {
        for (column, text) in names.iter_mut().zip(answer_text(a)) {
            put(&mut body, column.code(text));
        }
        put_signed(&mut body, a.answered_ms - previous);
        previous = a.answered_ms;
        put_signed(&mut body, a.value);
    }
    let mut out = Vec::with_capacity(body.len() + 4096);
    out.extend_from_slice(ANSWERS_TAG);
    put(&mut out, rows.len() as u64);
    for column in &names {
        column.write(&mut out);
    }
    out.extend_from_slice(&body);
    out
}

/// Every answer of a packed day of survey answers, in its order.
pub fn unpack_answers(bytes: &[u8]) -> Result<Vec<AnswerFacts>, PackedError> {
    unpack_answers_to(bytes, |_| true)
}

/// The answers of a packed day to the questions `asked` accepts.
pub fn unpack_answers_to(
    bytes: &[u8],
    asked: impl Fn(&str) -> bool,
) -> Result<Vec<AnswerFacts>, PackedError> {
    let views = unpack_answer_views(bytes, asked)?;
    Ok(views.into_iter().map(AnswerView::facts).collect())
}

/// One answer as a packed day holds it: its texts borrowed from the day's
/// bytes (reports link answers to contacts without copying them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerView<'a> {
    pub source_system: &'a str,
    pub source_id: &'a str,
    pub contact_source_id: Option<&'a str>,
    pub agent_id: Option<&'a str>,
    pub answered_ms: i64,
    pub question_id: &'a str,
    pub value: i64,
}

impl AnswerView<'_> {
    pub fn facts(self) -> AnswerFacts {
        AnswerFacts {
            source_system: self.source_system.to_owned(),
            source_id: self.source_id.to_owned(),
            contact_source_id: self.contact_source_id.map(str::to_owned),
            agent_id: self.agent_id.map(str::to_owned),
            answered_ms: self.answered_ms,
            question_id: self.question_id.to_owned(),
            value: self.value,
        }
    }
}

/// The answers of a packed day to the questions `asked` accepts, borrowed
/// from `bytes` (each answer is read; only those are kept).
pub fn unpack_answer_views(
    bytes: &[u8],
    asked: impl Fn(&str) -> bool,
) -> Result<Vec<AnswerView<'_>>, PackedError> {
    let mut r = Reader { bytes };
    r.tag(ANSWERS_TAG)?;
    let n = r.count()?;
    let mut names: [Vec<&str>; ANSWER_TEXT] = Default::default();
    for column in &mut names {
        *column = r.names()?;
    }
    let mut out = Vec::new();
    let mut answered_ms = 0i64;
    for _ in 0..n {
        let mut text = [0u64; ANSWER_TEXT];
        for code in &mut text {
            *code = r.varint()?;
        }
        answered_ms = answered_ms.wrapping_add(r.signed()?);
        let [system, id, contact, agent, question] = text;
        let question = required(&names[4], question)?;
        let value = r.signed()?;
        if !asked(question) {
            continue;
        }
        out.push(AnswerView {
            source_system: required(&names[0], system)?,
            source_id: required(&names[1], id)?,
            contact_source_id: lookup(&names[2], contact)?,
            agent_id: lookup(&names[3], agent)?,
            answered_ms,
            question_id: question,
            value,
        });
    }
    r.end()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(id: &str, arrival_ms: i64) -> ContactFacts {
        ContactFacts {
            source_system: "acd".into(),
            source_id: id.into(),
            channel: Channel::VoiceInbound,
            queue_id: Some("billing".into()),
            contact_type: Some("bill_query".into()),
            customer_id: Some(format!("cust-{id}")),
            agent_id: Some("ag001".into()),
            wrap_up_code: Some("resolved".into()),
            arrival_ms,
            end_ms: arrival_ms + 300_000,
            outcome: Outcome::Handled,
            wait_ms: Some(12_000),
            answered: true,
            talk_ms: 250_000,
            hold_ms: 20_000,
            after_work_ms: 30_000,
            transferred: false,
            first_response_ms: None,
            resolution_ms: None,
            sale_minor: None,
            sale_cancelled: false,
        }
    }

    /// A day with every optional value both present and absent, negative
    /// numbers and text outside ASCII.
    fn day() -> Vec<ContactFacts> {
        let mut abandoned = contact("c2", 1_785_744_000_000);
        abandoned.outcome = Outcome::QueueAbandon;
        abandoned.answered = false;
        abandoned.agent_id = None;
        abandoned.queue_id = None;
        abandoned.customer_id = None;
        abandoned.wrap_up_code = None;
        abandoned.talk_ms = 0;
        abandoned.hold_ms = 0;
        abandoned.after_work_ms = 0;
        let mut email = contact("c3 é", 1_785_744_000_000 + 7_200_000);
        email.channel = Channel::Email;
        email.wait_ms = None;
        email.first_response_ms = Some(email.arrival_ms + 3_600_000);
        email.resolution_ms = Some(email.arrival_ms - 5);
        email.transferred = true;
        email.sale_minor = Some(-1_250);
        email.sale_cancelled = true;
        let mut rows = vec![email, contact("c1", 1_785_744_000_000), abandoned];
        sort_contacts(&mut rows);
        rows
    }

    proptest::proptest! {
        /// Numbers of every length, with and without bytes after them, read
        /// back as written, and a cut-short one is refused.
        #[test]
        fn numbers_read_back_as_written(
            bits in 0u32..64,
            low in proptest::num::u64::ANY,
            tail in proptest::collection::vec(proptest::num::u8::ANY, 0..9),
        ) {
            let v = low >> (63 - bits.min(63));
            let mut bytes = Vec::new();
            put(&mut bytes, v);
            let len = bytes.len();
            bytes.extend(&tail);
            let mut r = Reader { bytes: &bytes };
            proptest::prop_assert_eq!(r.varint(), Ok(v));
            proptest::prop_assert_eq!(r.bytes, &tail[..]);
            let mut cut = Reader { bytes: &bytes[..len - 1] };
            proptest::prop_assert!(len == 1 || cut.varint().is_err());
        }
    }

    #[test]
    fn contacts_round_trip_in_arrival_order() {
        let rows = day();
        assert_eq!(
            rows.iter()
                .map(|c| c.source_id.as_str())
                .collect::<Vec<_>>(),
            ["c1", "c2", "c3 é"],
            "same arrival: by source id"
        );
        assert_eq!(unpack_contacts(&pack_contacts(&rows)), Ok(rows));
        assert_eq!(unpack_contacts(&pack_contacts(&[])), Ok(vec![]));
    }

    #[test]
    fn truncated_or_foreign_bytes_are_refused_without_panic() {
        let bytes = pack_contacts(&day());
        for len in 0..bytes.len() {
            assert!(
                unpack_contacts(&bytes[..len]).is_err(),
                "prefix of {len} bytes"
            );
            let mut table = ContactTable::default();
            assert!(
                append_contacts(&bytes[..len], (i64::MIN, i64::MAX), true, &mut table).is_err()
            );
            let every = RowFilter::new(|_| true, |_, _| true);
            let wanted = WantedRows::of(&bytes[..len], (i64::MIN, i64::MAX), &every);
            assert!(wanted.is_err(), "prefix of {len} bytes, its wanted rows");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(unpack_contacts(&longer).is_err());
        assert!(
            unpack_answers(&bytes).is_err(),
            "a contacts day is not an answers day"
        );
        // One row whose source system code points past its (empty)
        // dictionary: key 0, arrival 0, 19 bytes: codes 5, source id "x"
        // inline, no customer, nine zeros.
        let mut row = vec![0, 0, 0, 0, 0, 19, 5, 2, b'x', 5, 5, 5, 0, 5, 5, 5];
        row.extend([0; 9]);
        let mut unknown_code = CONTACTS_TAG.to_vec();
        unknown_code.extend((12 + row.len() as u64).to_le_bytes());
        unknown_code.extend(row);
        unknown_code.push(1);
        unknown_code.extend([0; CONTACT_TEXT]);
        assert_eq!(
            unpack_contacts(&unknown_code),
            Err(PackedError("unknown text code"))
        );
        // Its layout is sound, so its row is wanted; decoding it fails.
        let every = RowFilter::new(|_| true, |_, _| true);
        let wanted = WantedRows::of(&unknown_code, (i64::MIN, i64::MAX), &every).unwrap();
        assert_eq!(
            wanted.append_run(0..1, true, &every, &mut ContactTable::default()),
            Err(PackedError("unknown text code"))
        );
    }

    fn rows_of(t: &ContactTable) -> Vec<ContactFacts> {
        (0..t.len()).filter_map(|i| t.row(i)).collect()
    }

    /// The rows of a packed day `filter` keeps, every arrival wanted; the
    /// same rows when its wanted rows are decoded a run of one at a time,
    /// each into a table of its own, the tables then appended in order.
    fn kept_by(
        bytes: &[u8],
        filter: &RowFilter<impl Fn(u32) -> bool, impl Fn(Option<(&str, u64)>, &str) -> bool>,
    ) -> Vec<ContactFacts> {
        let window = (i64::MIN, i64::MAX);
        let mut table = ContactTable::default();
        append_contacts_where(bytes, window, true, filter, &mut table).unwrap();
        let wanted = WantedRows::of(bytes, window, filter).unwrap();
        let mut in_runs = ContactTable::default();
        for k in 0..wanted.len() {
            let mut run = ContactTable::default();
            wanted.append_run(k..k + 1, true, filter, &mut run).unwrap();
            in_runs.append(run);
        }
        assert_eq!(rows_of(&in_runs), rows_of(&table));
        rows_of(&table)
    }

    #[test]
    fn appended_rows_equal_the_rows_pushed_one_by_one() {
        let rows = day();
        let bytes = pack_contacts(&rows);
        // Into a table that already holds other values, so codes differ
        // from the packed day's own.
        let mut by_push = ContactTable::default();
        let mut other = contact("c0", 1);
        other.agent_id = Some("ag999".into());
        other.queue_id = Some("sales".into());
        by_push.push(other.clone());
        let mut by_append = by_push.clone();
        // The window leaves out the email (arrival two hours later).
        let window = (1_785_744_000_000, 1_785_744_000_000 + 3_600_000);
        for c in rows.iter().filter(|c| c.arrival_ms < window.1) {
            by_push.push(c.clone());
        }
        append_contacts(&bytes, window, true, &mut by_append).unwrap();
        assert_eq!(rows_of(&by_push), rows_of(&by_append));
        assert_eq!(rows_of(&by_append).len(), 3);
        // A row refused by identity, or unread for its match key, is
        // stepped over: the rows after it keep their own arrival (stored
        // relative to the row before).
        let mut four = rows.clone();
        four.push(contact("c4", 1_785_744_000_000 + 10_800_000));
        let packed = pack_contacts(&four);
        let refused = four.remove(2);
        assert_eq!(refused.source_id, "c3 é");
        let by_identity = RowFilter::new(|_| true, |_, id| id != "c3 é");
        let refused_key = match_key(
            refused.customer_id.as_deref().map(str::as_bytes),
            refused.source_id.as_bytes(),
        );
        let by_key = RowFilter::new(|key| key != refused_key, |_, _| true);
        assert_eq!(kept_by(&packed, &by_identity), four);
        assert_eq!(kept_by(&packed, &by_key), four);
        // Keys are of the customer, or of the source id for a contact
        // without one (c2).
        assert_eq!(four[1].customer_id, None);
        let keys: Vec<u32> = [&four[1], &four[2]]
            .map(|c| {
                let customer = c.customer_id.as_deref().map(str::as_bytes);
                match_key(customer, c.source_id.as_bytes())
            })
            .into();
        // The customer reaches the filter with its hash.
        let hashed = |c: Option<(&str, u64)>| c.is_none_or(|(c, h)| h == bytes_hash(c.as_bytes()));
        let two = RowFilter::new(|key| keys.contains(&key), |c, _| hashed(c));
        assert_eq!(kept_by(&packed, &two), [four[1].clone(), four[2].clone()]);
        let nothing = RowFilter::new(|_| false, |_, _| false);
        for len in 0..bytes.len() {
            let mut table = ContactTable::default();
            let refused = append_contacts_where(&bytes[..len], (0, 1), true, &nothing, &mut table);
            assert!(refused.is_err(), "prefix of {len} bytes, every row refused");
        }
        // Without customers, customer and wrap-up code stay empty.
        let mut lean = ContactTable::default();
        append_contacts(&bytes, (i64::MIN, i64::MAX), false, &mut lean).unwrap();
        assert_eq!(lean.len(), 3);
        assert!(lean.customer.hash.iter().all(|&c| c == 0));
        assert!(lean.wrap_up.iter().all(|&c| c == Dict::NONE));
        assert_eq!(lean.agents.name(lean.agent[0]), Some("ag001"));
    }

    #[test]
    fn a_table_appended_to_another_equals_its_rows_pushed() {
        let rows = day();
        let mut other = contact("c0", 1);
        other.agent_id = Some("ag999".into());
        other.customer_id = None;
        let mut by_push = ContactTable::default();
        by_push.push(other.clone());
        let mut second = ContactTable::default();
        for c in &rows {
            by_push.push(c.clone());
            second.push(c.clone());
        }
        let mut by_append = ContactTable::default();
        by_append.push(other);
        by_append.append(second);
        assert_eq!(rows_of(&by_append), rows_of(&by_push));
        assert_eq!(by_append.len(), rows.len() + 1);
    }

    #[test]
    fn a_merged_day_equals_the_day_packed_whole() {
        let stored = day();
        let bytes = pack_contacts(&stored);
        // c2 is dropped; c0 (before every row), c1b (same arrival as c1,
        // after it by id) and c9 (last) are added.
        let mut added = vec![
            contact("c9", 1_785_744_000_000 + 9_000_000),
            contact("c0", 1_785_743_000_000),
            contact("c1b", 1_785_744_000_000),
        ];
        sort_contacts(&mut added);
        let (merged, n) = merge_contacts(Some(&bytes), |_, id| id != "c2", &added).unwrap();
        let mut whole: Vec<ContactFacts> = stored
            .into_iter()
            .filter(|c| c.source_id != "c2")
            .chain(added.clone())
            .collect();
        sort_contacts(&mut whole);
        assert_eq!(n, 5);
        assert_eq!(unpack_contacts(&merged), Ok(whole.clone()));
        assert_eq!(merged, pack_contacts(&whole), "byte for byte");
        assert_eq!(
            merge_contacts(None, |_, _| true, &added).unwrap().0,
            pack_contacts(&added)
        );
        assert!(merge_contacts(Some(&bytes[..bytes.len() - 1]), |_, _| true, &[]).is_err());
    }

    #[test]
    fn answers_round_trip() {
        let answer = |id: &str, question: &str, value: i64, at: i64| AnswerFacts {
            source_system: "survey".into(),
            source_id: id.into(),
            contact_source_id: Some(format!("c-{id}")),
            agent_id: Some("ag001".into()),
            answered_ms: at,
            question_id: question.into(),
            value,
        };
        let mut no_contact = answer("s2", "nps", -3, 20);
        no_contact.contact_source_id = None;
        no_contact.agent_id = None;
        let mut rows = vec![
            answer("s1", "csat", 5, 10),
            no_contact,
            answer("s1", "ces", 2, 10),
        ];
        sort_answers(&mut rows);
        assert_eq!(rows[0].question_id, "ces");
        let bytes = pack_answers(&rows);
        assert_eq!(unpack_answers(&bytes), Ok(rows));
        for len in 0..bytes.len() {
            assert!(unpack_answers(&bytes[..len]).is_err());
        }
    }
}
