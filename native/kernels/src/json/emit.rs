//! Emission: the output document as compact JSON, from the [`Document`] (spans copied from the
//! input) and the [`Plan`] (which orders, in which order, with what totals and summary).

use super::document::{Document, Kind, Member, Order, Plan};
use super::scanner::Str;

/// Copy a value, dropping insignificant whitespace outside strings.
fn push_compact(out: &mut Vec<u8>, raw: &[u8]) {
    let mut in_string = false;
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if in_string {
            out.push(c);
            match c {
                b'\\' => {
                    out.push(raw[i + 1]);
                    i += 1;
                }
                b'"' => in_string = false,
                _ => {}
            }
        } else if !matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
            in_string = c == b'"';
            out.push(c);
        }
        i += 1;
    }
}

fn push_value(out: &mut Vec<u8>, input: &[u8], m: &Member) {
    let raw = &input[m.value()];
    if m.compact {
        out.extend_from_slice(raw);
    } else {
        push_compact(out, raw);
    }
}

/// Whether `m` stands in the input exactly as it is written out: `"key":value`, no whitespace.
fn is_tight(m: &Member) -> bool {
    m.kind == Kind::Other && m.compact && m.value().start == m.key().end + 2
}

/// Copy the members of `members` from `i` on that are copied verbatim, as long as they are
/// tight and follow one another in the input (one `,` apart): one copy of the input for the
/// whole run instead of a key and a value per member. Returns the index after the run (`i`
/// itself when `members[i]` is not tight).
fn push_tight_run(out: &mut Vec<u8>, input: &[u8], members: &[Member], i: usize) -> usize {
    let Some(first) = members.get(i).filter(|m| is_tight(m)) else {
        return i;
    };
    let mut last = first;
    let mut next = i + 1;
    while let Some(m) = members.get(next) {
        if !is_tight(m) || m.key().start != last.value().end + 2 {
            break;
        }
        last = m;
        next += 1;
    }
    out.extend_from_slice(&input[first.key().start - 1..last.value().end]);
    out.push(b',');
    next
}

fn push_key(out: &mut Vec<u8>, input: &[u8], key: Str) {
    out.extend_from_slice(key.quoted(input));
    out.push(b':');
}

/// A string as JSON text.
fn push_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for &c in s.as_bytes() {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(c >> 4)]);
                out.push(HEX[usize::from(c & 15)]);
            }
            _ => out.push(c),
        }
    }
    out.push(b'"');
}

/// A float, shortest round-trip; a non-finite one (only reachable with absurd inputs) as `null`.
fn push_float(out: &mut Vec<u8>, x: f64) {
    if x.is_finite() {
        out.extend_from_slice(zmij::Buffer::new().format_finite(x).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// The output document: compact JSON.
pub fn serialize(doc: &Document, plan: &Plan) -> Vec<u8> {
    let input = doc.input;
    // the C ABI's caller frees the output after copying it; its allocation comes back to the
    // next call on this thread instead of being fresh mmap'd pages (see `output_buffer`)
    let mut out = hybridbench_sdk::output_buffer(input.len() + 256);
    out.push(b'{');
    for m in &doc.members[doc.top.clone()] {
        match m.kind {
            Kind::Summary => continue,
            Kind::Orders => {
                push_key(&mut out, input, m.key());
                out.push(b'[');
                let mut tags = TagCache::default();
                for (n, &(i, total)) in plan.kept.iter().enumerate() {
                    if n > 0 {
                        out.push(b',');
                    }
                    push_order(&mut out, doc, &doc.order_list[i], total, &mut tags);
                }
                out.push(b']');
            }
            _ => {
                push_key(&mut out, input, m.key());
                push_value(&mut out, input, m);
            }
        }
        out.push(b',');
    }
    out.extend_from_slice(b"\"summary\":{\"count\":");
    out.extend_from_slice(itoa::Buffer::new().format(plan.kept.len()).as_bytes());
    out.extend_from_slice(b",\"revenue\":");
    push_float(&mut out, plan.revenue);
    out.extend_from_slice(b",\"revenue_by_tier\":{");
    for (n, (tier, sum)) in plan.by_tier.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        push_string(&mut out, tier);
        out.push(b':');
        push_float(&mut out, *sum);
    }
    out.extend_from_slice(b"}}}");
    out
}

/// The output of the tags that are not plain ASCII, by their raw bytes: a document repeats a
/// few tags (`Überweisung`, `ÉCOLE`...), and `str::to_lowercase` with its allocation took 3%
/// of the kernel's time. The output is a function of the raw bytes, so a hit writes the same.
#[derive(Default)]
struct TagCache<'a> {
    entries: Vec<(&'a [u8], Vec<u8>)>,
}

/// Distinct tags the cache keeps (searched linearly; past it, tags are lowercased each time).
const CACHED_TAGS: usize = 16;

/// A tag, lowercased. An ASCII tag without escapes is lowercased as it is copied (no
/// allocation; its raw bytes need no escaping); any other goes through `str::to_lowercase`,
/// once per distinct tag ([`TagCache`]).
fn push_tag<'a>(out: &mut Vec<u8>, input: &'a [u8], tag: Str, cache: &mut TagCache<'a>) {
    let raw = &input[tag.start..tag.end];
    if !tag.escaped && raw.is_ascii() {
        out.push(b'"');
        out.extend(raw.iter().map(u8::to_ascii_lowercase));
        out.push(b'"');
        return;
    }
    if let Some((_, written)) = cache.entries.iter().find(|(r, _)| *r == raw) {
        out.extend_from_slice(written);
        return;
    }
    let mut written = Vec::new();
    push_string(&mut written, &tag.text(input).to_lowercase());
    out.extend_from_slice(&written);
    if cache.entries.len() < CACHED_TAGS {
        cache.entries.push((raw, written));
    }
}

fn push_order<'a>(
    out: &mut Vec<u8>,
    doc: &Document<'a>,
    o: &Order,
    total: f64,
    tags: &mut TagCache<'a>,
) {
    let input = doc.input;
    out.push(b'{');
    let members = &doc.members[o.members.clone()];
    let mut i = 0;
    while i < members.len() {
        let after = push_tight_run(out, input, members, i);
        if after > i {
            i = after;
            continue;
        }
        let m = &members[i];
        i += 1;
        match m.kind {
            Kind::Replaced => continue,
            Kind::Tags => {
                push_key(out, input, m.key());
                out.push(b'[');
                for (n, tag) in doc.tags[o.tags.clone().expect("checked")]
                    .iter()
                    .enumerate()
                {
                    if n > 0 {
                        out.push(b',');
                    }
                    push_tag(out, input, tag.expect("checked"), tags);
                }
                out.push(b']');
            }
            _ => {
                push_key(out, input, m.key());
                push_value(out, input, m);
            }
        }
        out.push(b',');
    }
    out.extend_from_slice(b"\"total\":");
    push_float(out, total);
    out.extend_from_slice(b",\"item_count\":");
    let count = o.items.as_ref().map_or(0, |r| r.len());
    out.extend_from_slice(itoa::Buffer::new().format(count).as_bytes());
    out.push(b'}');
}
