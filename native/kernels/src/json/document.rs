//! The document model: what the order extraction keeps of a body (spans of the input and the
//! few decoded facts the transform needs), and the transform's plan for the output.

use std::ops::Range;

use super::scanner::Str;

/// What the transform does with a member of the top-level object or of an order.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Kind {
    Other,
    Orders,
    Summary,
    Tags,
    Replaced,
}

/// A member of an object whose keys are tracked: raw key (with quotes), raw value span, whether
/// the value has insignificant whitespace inside, and what the transform does with it.
///
/// Spans as `u32` offsets (a body is at most 64 MiB): 20 bytes a member instead of 48 with a
/// [`Str`] and a `Range<usize>`. Why: the output visits the members order by order in the
/// orders' sorted order, so each order's members are a cold read (the 1 MB input's ~13,000
/// members filled 626 KB, most of the L2 cache), and the checks of their spans were a quarter
/// of the serialization's samples.
#[derive(Clone, Copy, Debug)]
pub(super) struct Member {
    key_start: u32,
    key_end: u32,
    value_start: u32,
    value_end: u32,
    key_escaped: bool,
    pub(super) compact: bool,
    pub(super) kind: Kind,
}

impl Member {
    pub(super) fn new(key: Str, value: Range<usize>, compact: bool, kind: Kind) -> Member {
        // offsets in a body of at most `MAX_PAYLOAD_BYTES` (64 MiB)
        let offset = |at: usize| at as u32;
        Member {
            key_start: offset(key.start),
            key_end: offset(key.end),
            value_start: offset(value.start),
            value_end: offset(value.end),
            key_escaped: key.escaped,
            compact,
            kind,
        }
    }

    #[inline]
    pub(super) fn key(&self) -> Str {
        Str {
            start: self.key_start as usize,
            end: self.key_end as usize,
            escaped: self.key_escaped,
        }
    }

    #[inline]
    pub(super) fn value(&self) -> Range<usize> {
        self.value_start as usize..self.value_end as usize
    }
}

/// An order's `id`, decoded only as far as the schema check needs.
#[derive(Clone, Copy, Debug)]
pub(super) enum Id {
    NotInt,
    OutOfRange,
    Int(i64),
}

/// An element of an order's `items`: whether it is an object, and its numbers (`None`: absent
/// or not a number).
#[derive(Clone, Copy, Debug)]
pub(super) struct Item {
    pub(super) object: bool,
    pub(super) qty: Option<f64>,
    pub(super) price: Option<f64>,
}

/// An element of `orders`: its members (a range of the document's `members`) and the decoded
/// fields (`None` or `false`: absent or of the wrong type, for the schema check to report).
#[derive(Clone, Debug)]
pub(super) struct Order {
    pub(super) object: bool,
    pub(super) members: Range<usize>,
    pub(super) id: Id,
    /// `None`: not a string; `Some(cancelled)`
    pub(super) status: Option<bool>,
    pub(super) customer: bool,
    pub(super) tier: Option<Str>,
    pub(super) items: Option<Range<usize>>,
    pub(super) tags: Option<Range<usize>>,
}

impl Order {
    /// An order before its members are read (`object`: whether it is a JSON object at all).
    pub(super) fn new(object: bool) -> Order {
        Order {
            object,
            members: 0..0,
            id: Id::NotInt,
            status: None,
            customer: false,
            tier: None,
            items: None,
            tags: None,
        }
    }
}

/// A parsed body: the spans and decoded facts the transform needs.
#[derive(Debug)]
pub struct Document<'a> {
    pub(super) input: &'a [u8],
    pub(super) top: Range<usize>,
    /// `None`: the body is not an object or has no `orders` array
    pub(super) orders: Option<Range<usize>>,
    pub(super) order_list: Vec<Order>,
    pub(super) members: Vec<Member>,
    pub(super) items: Vec<Item>,
    /// tag strings (`None`: not a string)
    pub(super) tags: Vec<Option<Str>>,
}

impl<'a> Document<'a> {
    /// An empty document of `input` whose vectors are `buffers` (cleared), reserved from the
    /// body's size: an order takes some hundreds of bytes, a member tens. Growing them by
    /// doubling copied about their final size again (`memmove`), and untouched capacity costs
    /// no memory pages.
    pub(super) fn new(input: &'a [u8], buffers: Buffers) -> Self {
        let Buffers {
            mut order_list,
            mut members,
            mut items,
            mut tags,
        } = buffers;
        order_list.reserve(input.len() / 256);
        members.reserve(input.len() / 64 + 16);
        items.reserve(input.len() / 128);
        tags.reserve(input.len() / 256);
        Document {
            input,
            top: 0..0,
            orders: None,
            order_list,
            members,
            items,
            tags,
        }
    }

    /// The vectors, emptied, for the next document (they borrow nothing from the input).
    pub(super) fn into_buffers(self) -> Buffers {
        let Document {
            mut order_list,
            mut members,
            mut items,
            mut tags,
            ..
        } = self;
        order_list.clear();
        members.clear();
        items.clear();
        tags.clear();
        Buffers {
            order_list,
            members,
            items,
            tags,
        }
    }
}

/// A [`Document`]'s vectors between calls (`scratch.rs` keeps one per thread).
#[derive(Default)]
pub(super) struct Buffers {
    order_list: Vec<Order>,
    members: Vec<Member>,
    items: Vec<Item>,
    tags: Vec<Option<Str>>,
}

/// The transform's result: kept orders (indices into the document's orders) in output order
/// with their totals, and the summary.
#[derive(Debug)]
pub struct Plan {
    pub(super) kept: Vec<(usize, f64)>,
    pub(super) revenue: f64,
    pub(super) by_tier: Vec<(String, f64)>,
}
