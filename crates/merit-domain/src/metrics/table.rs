//! The engine's input: contacts and survey answers as columns in memory
//! (struct of arrays), text values interned in dictionaries.

use crate::UtcMs;
use crate::contact::{Contact, Outcome};
use crate::metrics::cores;
use crate::metrics::fast_hash::{FastMap, bytes_hash};
use crate::organisation::Channel;

/// Interned text: each distinct value gets a small index; `NONE` stands for
/// "empty". Values are found by their hash (one allocation per distinct
/// value: a map keyed by text would keep a second copy of each);
/// `collided` holds the rare value whose hash another value already took.
#[derive(Debug, Clone, Default)]
pub struct Dict {
    pub names: Vec<String>,
    by_hash: FastMap<u64, u32>,
    collided: FastMap<String, u32>,
}

fn text_hash(text: &str) -> u64 {
    bytes_hash(text.as_bytes())
}

impl Dict {
    pub const NONE: u32 = u32::MAX;

    pub fn intern(&mut self, name: Option<&str>) -> u32 {
        let Some(name) = name else { return Self::NONE };
        let next = self.names.len() as u32;
        let slot = *self.by_hash.entry(text_hash(name)).or_insert(next);
        if slot == next {
            self.names.push(name.to_owned());
            return next;
        }
        if self.names[slot as usize] == name {
            return slot;
        }
        if let Some(&i) = self.collided.get(name) {
            return i;
        }
        self.names.push(name.to_owned());
        self.collided.insert(name.to_owned(), next);
        next
    }

    /// Room for `n` more distinct values.
    pub fn reserve(&mut self, n: usize) {
        self.names.reserve(n);
        self.by_hash.reserve(n);
    }

    pub fn get(&self, name: &str) -> Option<u32> {
        let &slot = self.by_hash.get(&text_hash(name))?;
        match self.names[slot as usize] == name {
            true => Some(slot),
            false => self.collided.get(name).copied(),
        }
    }

    pub fn name(&self, i: u32) -> Option<&str> {
        self.names.get(i as usize).map(String::as_str)
    }
}

/// The bytes per text reserved for a column of ids (source and customer
/// ids run to 10-20 bytes).
const TEXT_BYTES: usize = 16;

/// Text values, one per row, in one buffer (a `String` per row would cost
/// an allocation each).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Texts {
    buffer: String,
    ends: Vec<usize>,
}

impl Texts {
    pub fn push(&mut self, text: &str) {
        self.buffer.push_str(text);
        self.ends.push(self.buffer.len());
    }

    /// Appends `other`'s texts after these.
    pub fn append(&mut self, other: &Texts) {
        let base = self.buffer.len();
        self.buffer.push_str(&other.buffer);
        self.ends.extend(other.ends.iter().map(|e| e + base));
    }

    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        let start = match i {
            0 => 0,
            _ => self.ends[i - 1],
        };
        self.buffer.get(start..end)
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Room for `n` more texts of about `bytes_each` bytes (memory
    /// reserved and never written costs nothing).
    pub fn reserve(&mut self, n: usize, bytes_each: usize) {
        self.ends.reserve(n);
        self.buffer.reserve(n * bytes_each);
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

/// An optional text per row kept with its hash, for values nearly unique
/// per row (customer ids): grouping rows by it needs no dictionary (which
/// would cost an allocation and a look-up in a large map per row), only
/// the hashes, and the texts where two hashes are equal.
#[derive(Debug, Clone, Default)]
pub struct HashedTexts {
    /// Per row: the text's hash, never 0; 0 when the row has none.
    pub hash: Vec<u64>,
    texts: Texts,
}

impl HashedTexts {
    pub fn push(&mut self, text: Option<&str>) {
        self.push_hashed(text.map(|t| (t, text_hash(t))));
    }

    /// `push` of a text whose `bytes_hash` is known.
    pub fn push_hashed(&mut self, text: Option<(&str, u64)>) {
        self.hash.push(text.map_or(0, |(_, hash)| hash.max(1)));
        self.texts.push(text.map_or("", |(t, _)| t));
    }

    pub fn get(&self, i: usize) -> Option<&str> {
        match self.hash.get(i)? {
            0 => None,
            _ => self.texts.get(i),
        }
    }

    pub fn len(&self) -> usize {
        self.hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hash.is_empty()
    }

    pub fn reserve(&mut self, n: usize) {
        self.hash.reserve(n);
        self.texts.reserve(n, TEXT_BYTES);
    }

    /// Appends `other`'s rows after these.
    pub fn append(&mut self, other: &HashedTexts) {
        self.hash.extend(&other.hash);
        self.texts.append(&other.texts);
    }

    /// The rows that hold a text, those with the same text next to each
    /// other and in order of `order_key` (then row), each with whether it
    /// holds the same text as the row before it. Rows are put in order of
    /// their hash's high 32 bits; texts are compared only between rows
    /// whose high bits are equal, and two texts that share them are kept
    /// apart. When `order_key` already rises with the row (a table read
    /// in arrival order, the usual case) a stable radix sort on those bits
    /// keeps each text's rows in order without comparing keys.
    pub fn grouped(&self, order_key: &[i64]) -> Vec<(usize, bool)> {
        let high = |hash: u64| (hash >> 32) as u32;
        let holding = (0..self.len()).filter(|&i| self.hash[i] != 0);
        let mut order: Vec<(u32, usize)> = holding.map(|i| (high(self.hash[i]), i)).collect();
        if order_key.windows(2).all(|w| w[0] <= w[1]) {
            radix_sort_by_high_bits(&mut order);
        } else {
            order.sort_unstable_by_key(|&(h, i)| (h, order_key[i], i));
        }
        let mut out = Vec::with_capacity(order.len());
        let mut start = 0;
        while start < order.len() {
            let bits = order[start].0;
            let end = start + order[start..].iter().take_while(|k| k.0 == bits).count();
            let run = &mut order[start..end];
            // A single row (no text read), or rows all holding the first's
            // text (the usual case), need no more comparing.
            let mixed = run.len() > 1 && {
                let first = &self.texts[run[0].1];
                run[1..].iter().any(|k| &self.texts[k.1] != first)
            };
            if !mixed {
                out.extend(run.iter().enumerate().map(|(k, &(_, row))| (row, k > 0)));
            } else {
                run.sort_by(|a, b| {
                    let text = self.texts[a.1].cmp(&self.texts[b.1]);
                    text.then((order_key[a.1], a.1).cmp(&(order_key[b.1], b.1)))
                });
                for (k, &(_, row)) in run.iter().enumerate() {
                    let same = k > 0 && self.texts[run[k - 1].1] == self.texts[row];
                    out.push((row, same));
                }
            }
            start = end;
        }
        out
    }
}

/// Sorts by the 32-bit key, stably (equal keys keep their order), in two
/// passes of 16 bits.
fn radix_sort_by_high_bits(items: &mut Vec<(u32, usize)>) {
    let mut scratch = vec![(0, 0); items.len()];
    for shift in [0, 16] {
        let digit = |key: u32| ((key >> shift) & 0xffff) as usize;
        let mut starts = vec![0usize; 1 << 16];
        for &(key, _) in items.iter() {
            starts[digit(key)] += 1;
        }
        let mut next = 0;
        for slot in starts.iter_mut() {
            (*slot, next) = (next, next + *slot);
        }
        for &item in items.iter() {
            let slot = &mut starts[digit(item.0)];
            scratch[*slot] = item;
            *slot += 1;
        }
        std::mem::swap(items, &mut scratch);
    }
}

impl std::ops::Index<usize> for Texts {
    type Output = str;

    /// Row `i`'s text; like a `Vec`, panics past the end.
    fn index(&self, i: usize) -> &str {
        match self.get(i) {
            Some(text) => text,
            None => panic!("row {i} of {} texts", self.len()),
        }
    }
}

/// One contact as the engine needs it, before it goes into columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactFacts {
    pub source_system: String,
    pub source_id: String,
    pub channel: Channel,
    pub queue_id: Option<String>,
    pub contact_type: Option<String>,
    pub customer_id: Option<String>,
    pub agent_id: Option<String>,
    pub wrap_up_code: Option<String>,
    pub arrival_ms: UtcMs,
    pub end_ms: UtcMs,
    pub outcome: Outcome,
    /// Queue wait; `None` when the contact never queued.
    pub wait_ms: Option<i64>,
    pub answered: bool,
    /// Talk without hold, hold and after-call work of an answered contact.
    pub talk_ms: i64,
    pub hold_ms: i64,
    pub after_work_ms: i64,
    pub transferred: bool,
    pub first_response_ms: Option<UtcMs>,
    pub resolution_ms: Option<UtcMs>,
    pub sale_minor: Option<i64>,
    pub sale_cancelled: bool,
}

impl ContactFacts {
    pub fn from_contact(c: &Contact) -> Self {
        let talk_with_hold = c.talk_ms().unwrap_or(0);
        let hold_ms = if c.answer_ms.is_some() {
            c.hold_ms()
        } else {
            0
        };
        ContactFacts {
            source_system: c.source_system.clone(),
            source_id: c.source_id.clone(),
            channel: c.channel,
            queue_id: c.queue_id.clone(),
            contact_type: c.contact_type.clone(),
            customer_id: c.customer_id.clone(),
            agent_id: c.agent_id.clone(),
            wrap_up_code: c.wrap_up_code.clone(),
            arrival_ms: c.arrival_ms,
            end_ms: c.end_ms,
            outcome: c.outcome,
            wait_ms: c.wait_ms(),
            answered: c.answer_ms.is_some(),
            talk_ms: (talk_with_hold - hold_ms).max(0),
            hold_ms,
            after_work_ms: c.after_work_ms(),
            transferred: !c.transfers.is_empty(),
            first_response_ms: c.first_response_ms,
            resolution_ms: c.resolution_ms,
            sale_minor: c.sale.as_ref().map(|s| s.value.amount_minor),
            sale_cancelled: c.sale.as_ref().is_some_and(|s| s.cancelled_at_ms.is_some()),
        }
    }
}

/// Contacts as columns. Row `i` of every column is the same contact.
#[derive(Debug, Clone, Default)]
pub struct ContactTable {
    pub source_system: Vec<u32>,
    pub source_id: Texts,
    pub channel: Vec<Channel>,
    pub queue: Vec<u32>,
    pub contact_type: Vec<u32>,
    /// Customer ids, read only when a definition matches on them (FCR).
    pub customer: HashedTexts,
    pub agent: Vec<u32>,
    pub wrap_up: Vec<u32>,
    pub arrival_ms: Vec<UtcMs>,
    pub end_ms: Vec<UtcMs>,
    pub outcome: Vec<Outcome>,
    /// Queue wait in ms; −1 when the contact never queued.
    pub wait_ms: Vec<i64>,
    pub answered: Vec<bool>,
    pub talk_ms: Vec<i64>,
    pub hold_ms: Vec<i64>,
    pub after_work_ms: Vec<i64>,
    pub transferred: Vec<bool>,
    /// −1 when absent.
    pub first_response_ms: Vec<UtcMs>,
    pub resolution_ms: Vec<UtcMs>,
    /// −1 when the contact has no sale.
    pub sale_minor: Vec<i64>,
    pub sale_cancelled: Vec<bool>,
    pub source_systems: Dict,
    pub queues: Dict,
    pub contact_types: Dict,
    pub agents: Dict,
    pub wrap_ups: Dict,
}

impl ContactTable {
    /// The row of each contact `wanted` names by (source system, source
    /// id), `None` when it is not loaded: one pass over the rows against
    /// the hashes of the wanted ids (usually fewer than the rows), texts
    /// compared only where the hashes are equal.
    pub fn rows_of(&self, wanted: &[(&str, &str)]) -> Vec<Option<usize>> {
        const END: u32 = u32::MAX;
        // The last wanted index per hash, and each index's predecessor with the same hash.
        let mut last: FastMap<u64, u32> = FastMap::default();
        last.reserve(wanted.len());
        let mut previous = vec![END; wanted.len()];
        for (k, (_, id)) in wanted.iter().enumerate() {
            if let Some(before) = last.insert(text_hash(id), k as u32) {
                previous[k] = before;
            }
        }
        // The rows in one share per core; each share's matches in row order.
        let matches = cores::over_shares(self.len(), |rows| {
            let mut found = Vec::new();
            for i in rows {
                let id = &self.source_id[i];
                let Some(&last_k) = last.get(&text_hash(id)) else {
                    continue;
                };
                let system = self.source_systems.name(self.source_system[i]);
                let mut k = last_k;
                while k != END {
                    let (wanted_system, wanted_id) = wanted[k as usize];
                    if wanted_id == id && system == Some(wanted_system) {
                        found.push((k, i));
                    }
                    k = previous[k as usize];
                }
            }
            found
        });
        let mut rows = vec![None; wanted.len()];
        for (k, i) in matches.into_iter().flatten() {
            rows[k as usize] = Some(i);
        }
        rows
    }

    pub fn len(&self) -> usize {
        self.arrival_ms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.arrival_ms.is_empty()
    }

    /// Room for `n` more rows.
    pub fn reserve(&mut self, n: usize) {
        self.source_system.reserve(n);
        self.source_id.reserve(n, TEXT_BYTES);
        self.channel.reserve(n);
        self.queue.reserve(n);
        self.contact_type.reserve(n);
        self.customer.reserve(n);
        self.agent.reserve(n);
        self.wrap_up.reserve(n);
        self.arrival_ms.reserve(n);
        self.end_ms.reserve(n);
        self.outcome.reserve(n);
        self.wait_ms.reserve(n);
        self.answered.reserve(n);
        self.talk_ms.reserve(n);
        self.hold_ms.reserve(n);
        self.after_work_ms.reserve(n);
        self.transferred.reserve(n);
        self.first_response_ms.reserve(n);
        self.resolution_ms.reserve(n);
        self.sale_minor.reserve(n);
        self.sale_cancelled.reserve(n);
    }

    /// Row `i` as it was pushed (`None` past the end); a stored −1 reads
    /// back as "none", as the columns keep it.
    pub fn row(&self, i: usize) -> Option<ContactFacts> {
        let text = |dict: &Dict, code: &[u32]| dict.name(*code.get(i)?).map(str::to_owned);
        let optional = |v: i64| (v != -1).then_some(v);
        Some(ContactFacts {
            source_system: text(&self.source_systems, &self.source_system)?,
            source_id: self.source_id.get(i)?.to_owned(),
            channel: self.channel[i],
            queue_id: text(&self.queues, &self.queue),
            contact_type: text(&self.contact_types, &self.contact_type),
            customer_id: self.customer.get(i).map(str::to_owned),
            agent_id: text(&self.agents, &self.agent),
            wrap_up_code: text(&self.wrap_ups, &self.wrap_up),
            arrival_ms: self.arrival_ms[i],
            end_ms: self.end_ms[i],
            outcome: self.outcome[i],
            wait_ms: optional(self.wait_ms[i]),
            answered: self.answered[i],
            talk_ms: self.talk_ms[i],
            hold_ms: self.hold_ms[i],
            after_work_ms: self.after_work_ms[i],
            transferred: self.transferred[i],
            first_response_ms: optional(self.first_response_ms[i]),
            resolution_ms: optional(self.resolution_ms[i]),
            sale_minor: optional(self.sale_minor[i]),
            sale_cancelled: self.sale_cancelled[i],
        })
    }

    /// Appends every row of `other` (its text codes mapped into this
    /// table's dictionaries), as if each had been pushed.
    pub fn append(&mut self, other: ContactTable) {
        fn mapped(into: &mut Dict, from: &Dict, codes: &[u32]) -> Vec<u32> {
            let map: Vec<u32> = from.names.iter().map(|n| into.intern(Some(n))).collect();
            codes
                .iter()
                .map(|&c| map.get(c as usize).copied().unwrap_or(Dict::NONE))
                .collect()
        }
        self.source_system.extend(mapped(
            &mut self.source_systems,
            &other.source_systems,
            &other.source_system,
        ));
        self.queue
            .extend(mapped(&mut self.queues, &other.queues, &other.queue));
        self.contact_type.extend(mapped(
            &mut self.contact_types,
            &other.contact_types,
            &other.contact_type,
        ));
        self.agent
            .extend(mapped(&mut self.agents, &other.agents, &other.agent));
        self.wrap_up
            .extend(mapped(&mut self.wrap_ups, &other.wrap_ups, &other.wrap_up));
        self.source_id.append(&other.source_id);
        self.customer.append(&other.customer);
        self.channel.extend(other.channel);
        self.arrival_ms.extend(other.arrival_ms);
        self.end_ms.extend(other.end_ms);
        self.outcome.extend(other.outcome);
        self.wait_ms.extend(other.wait_ms);
        self.answered.extend(other.answered);
        self.talk_ms.extend(other.talk_ms);
        self.hold_ms.extend(other.hold_ms);
        self.after_work_ms.extend(other.after_work_ms);
        self.transferred.extend(other.transferred);
        self.first_response_ms.extend(other.first_response_ms);
        self.resolution_ms.extend(other.resolution_ms);
        self.sale_minor.extend(other.sale_minor);
        self.sale_cancelled.extend(other.sale_cancelled);
    }

    pub fn push(&mut self, c: ContactFacts) {
        self.source_system
            .push(self.source_systems.intern(Some(&c.source_system)));
        self.source_id.push(&c.source_id);
        self.channel.push(c.channel);
        self.queue.push(self.queues.intern(c.queue_id.as_deref()));
        self.contact_type
            .push(self.contact_types.intern(c.contact_type.as_deref()));
        self.customer.push(c.customer_id.as_deref());
        self.agent.push(self.agents.intern(c.agent_id.as_deref()));
        self.wrap_up
            .push(self.wrap_ups.intern(c.wrap_up_code.as_deref()));
        self.arrival_ms.push(c.arrival_ms);
        self.end_ms.push(c.end_ms);
        self.outcome.push(c.outcome);
        self.wait_ms.push(c.wait_ms.unwrap_or(-1));
        self.answered.push(c.answered);
        self.talk_ms.push(c.talk_ms);
        self.hold_ms.push(c.hold_ms);
        self.after_work_ms.push(c.after_work_ms);
        self.transferred.push(c.transferred);
        self.first_response_ms
            .push(c.first_response_ms.unwrap_or(-1));
        self.resolution_ms.push(c.resolution_ms.unwrap_or(-1));
        self.sale_minor.push(c.sale_minor.unwrap_or(-1));
        self.sale_cancelled.push(c.sale_cancelled);
    }
}

/// One numeric survey answer, linked to its contact when the contact is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyFact {
    pub source_id: String,
    pub question_id: String,
    pub value: i32,
    pub answered_ms: UtcMs,
    /// Row of the contact it is about in the `ContactTable`, if loaded.
    pub contact_row: Option<usize>,
    pub agent_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two 16-byte ASCII texts with the same `text_hash`: the hasher mixes
    /// word by word, so a second word can be chosen to cancel the first's
    /// difference (searched for among ASCII words).
    fn colliding_pair() -> (String, String) {
        const SEED: u64 = 0x517c_c1b7_2722_0a95;
        let first = |w: u64| w.wrapping_mul(SEED).rotate_left(5);
        let a = (*b"customer", *b"-0000001");
        let target = first(u64::from_le_bytes(a.0)) ^ u64::from_le_bytes(a.1);
        for n in 0u64.. {
            let b1 = format!("c{n:07}");
            let b1_word = u64::from_le_bytes(b1.as_bytes().try_into().unwrap());
            let b2 = (target ^ first(b1_word)).to_le_bytes();
            if b2.iter().all(|&byte| byte < 0x80) {
                let a = String::from_utf8([a.0, a.1].concat()).unwrap();
                let b = format!("{b1}{}", String::from_utf8(b2.to_vec()).unwrap());
                return (a, b);
            }
        }
        unreachable!()
    }

    #[test]
    fn dict_keeps_values_apart_when_their_hashes_collide() {
        let (a, b) = colliding_pair();
        assert_ne!(a, b);
        assert_eq!(text_hash(&a), text_hash(&b), "the pair collides");
        let mut dict = Dict::default();
        let (ia, ib) = (dict.intern(Some(&a)), dict.intern(Some(&b)));
        assert_ne!(ia, ib);
        assert_eq!((dict.intern(Some(&a)), dict.intern(Some(&b))), (ia, ib));
        assert_eq!((dict.get(&a), dict.get(&b)), (Some(ia), Some(ib)));
        assert_eq!(
            (dict.name(ia), dict.name(ib)),
            (Some(a.as_str()), Some(b.as_str()))
        );
        assert_eq!(dict.get("neither"), None);
        assert_eq!(dict.intern(None), Dict::NONE);
    }

    #[test]
    fn hashed_texts_group_equal_texts_and_keep_colliding_ones_apart() {
        let (a, b) = colliding_pair();
        let mut column = HashedTexts::default();
        let rows = [Some(&a), None, Some(&b), Some(&a), Some(&b)];
        for t in rows {
            column.push(t.map(String::as_str));
        }
        assert_eq!(column.hash[0], column.hash[2], "the pair collides");
        assert_eq!(column.hash[1], 0);
        assert_eq!(
            (0..5).map(|i| column.get(i)).collect::<Vec<_>>(),
            rows.map(|t| t.map(String::as_str))
        );
        // Ordered by the key within each text: a's rows 3 then 0, b's 2 then 4.
        let grouped = column.grouped(&[9, 0, 1, 5, 2]);
        let (first, second) = if a < b { (3, 2) } else { (2, 3) };
        let (first_next, second_next) = if a < b { (0, 4) } else { (4, 0) };
        assert_eq!(
            grouped,
            [
                (first, false),
                (first_next, true),
                (second, false),
                (second_next, true)
            ]
        );
    }

    /// Groups by a second method: each text's rows, texts in order, rows
    /// by (key, row).
    fn grouped_by_map(column: &HashedTexts, key: &[i64]) -> Vec<(usize, bool)> {
        let mut by_text: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
        for i in 0..column.len() {
            if let Some(text) = column.get(i) {
                by_text.entry(text).or_default().push(i);
            }
        }
        let mut groups: Vec<Vec<usize>> = by_text.into_values().collect();
        for rows in &mut groups {
            rows.sort_by_key(|&i| (key[i], i));
        }
        // `grouped` orders groups by hash: compare group by group.
        groups.sort_by_key(|rows| rows[0]);
        groups
            .into_iter()
            .flat_map(|rows| rows.into_iter().enumerate().map(|(k, i)| (i, k > 0)))
            .collect()
    }

    fn by_first_row(mut grouped: Vec<(usize, bool)>) -> Vec<(usize, bool)> {
        let mut groups: Vec<Vec<(usize, bool)>> = Vec::new();
        for item in grouped.drain(..) {
            match (item.1, groups.last_mut()) {
                (true, Some(group)) => group.push(item),
                _ => groups.push(vec![item]),
            }
        }
        groups.sort_by_key(|g| g[0].0);
        groups.concat()
    }

    #[test]
    fn grouping_in_key_order_agrees_with_a_map_and_keeps_collisions_apart() {
        let (a, b) = colliding_pair();
        let mut column = HashedTexts::default();
        let mut key = Vec::new();
        // 5,000 rows of 700 customers, a few without one, keys rising
        // with ties; then the colliding pair interleaved.
        let mut state = 12345u64;
        for i in 0..5_000 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            let customer = format!("cust{:05}", (state >> 33) % 700);
            column.push((i % 97 != 0).then_some(customer.as_str()));
            key.push(i / 3);
        }
        for (i, text) in [&a, &b, &b, &a].into_iter().enumerate() {
            column.push(Some(text));
            key.push(2_000 + i as i64);
        }
        let grouped = column.grouped(&key);
        assert_eq!(grouped.len(), 5_000 - 5_000usize.div_ceil(97) + 4);
        assert_eq!(by_first_row(grouped.clone()), grouped_by_map(&column, &key));
        // The same rows with a key that does not rise take the other path.
        let mut shuffled = key.clone();
        shuffled.swap(0, 4_999);
        assert_eq!(
            by_first_row(column.grouped(&shuffled)),
            grouped_by_map(&column, &shuffled)
        );
    }

    #[test]
    fn texts_keep_each_row() {
        let mut texts = Texts::default();
        for t in ["c1", "", "contact é"] {
            texts.push(t);
        }
        assert_eq!(texts.iter().collect::<Vec<_>>(), ["c1", "", "contact é"]);
        assert_eq!(
            (&texts[2], texts.get(3), texts.len()),
            ("contact é", None, 3)
        );
    }
}
