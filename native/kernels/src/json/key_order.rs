//! Predicted keys: the objects of one place in a document (every item of every order, every
//! order) usually have the same keys in the same order, so the key of a member is first
//! compared with the one the previous such object had at the same index, as Jackson's
//! `nextFieldName(SerializableString)` does.
//!
//! Why: the scanner's position is a chain through the whole body, each token's end found from
//! the bytes at the previous one's. A key found by a byte search (`find_string_stop`: a load,
//! compares, a mask, a bit scan) puts that search's latency on the chain for every member; a
//! key that matches the prediction moves the position by a constant, and the comparison only
//! feeds a branch, which the CPU predicts and runs beside the chain. With the chain shortened
//! the kernel runs at about 4 instructions a cycle, so the separator is predicted with the
//! key too, saving the instructions of the whitespace tests and the `,` match per member.
//!
//! A prediction is the bytes of a key token and its colon, with the comma before it for a
//! member after the first (`,"qty":`), of an unescaped key that the exact scanner validated
//! before. Bytes equal to those are that same separator and valid token (a string with no
//! escape, quote or control character inside) followed by its colon, with no whitespace, so
//! taking them is what the scanner would have done; anything else takes the exact path,
//! which then learns the token for the next object.
//!
//! The predictions also tell the order's visitor which keys cannot repeat an earlier one of
//! the same object ([`KeyOrder::unique`]), so that it can skip the duplicate-key bookkeeping
//! for them.

use super::scanner::Str;

/// Members of an object whose keys are predicted; later ones take the exact path.
const SLOTS: usize = 12;

/// The longest `,"key":` predicted: one 16-byte compare.
const MAX_TOKEN: usize = 16;

/// The keys of the previous object of a place, by member index.
#[derive(Default)]
pub(super) struct KeyOrder {
    slots: [Slot; SLOTS],
    /// by slot, bit `j` (for `j` below the slot's index): slot `j` is empty or has the same key
    clashes: [u16; SLOTS],
    /// bit `i`: slot `i` has a prediction and no clashes (see [`KeyOrder::unique`]); apart
    /// from the slots, so that they stay 48 bytes (an index times 3, shifted)
    unique: u16,
}

/// A predicted `,"key":`: its bytes as two little-endian words, zero past its `len`, and
/// the masks of its bytes in them (`len` 0: no prediction).
///
/// Two words and their masks, not one `u128` shifted by the length: the variable shift of a
/// `u128` (a `shld`, two shifts and a select on the shift's size) was most of the compare.
#[derive(Default, Clone, Copy)]
struct Slot {
    words: [u64; 2],
    masks: [u64; 2],
    len: usize,
    /// where the key's content starts in the token: 1, or 2 after a `,`
    key_at: usize,
}

impl Slot {
    /// Whether both slots predict the same key (after a `,` or not).
    fn same_key(&self, other: &Slot) -> bool {
        let bytes =
            |s: &Slot| (u128::from(s.words[0]) | u128::from(s.words[1]) << 64).to_le_bytes();
        let (a, b) = (bytes(self), bytes(other));
        // the content, between the quotes
        a[self.key_at..self.len - 2] == b[other.key_at..other.len - 2]
    }
}

impl KeyOrder {
    /// The key of member `index` if the bytes at `pos` are its prediction: then the token and
    /// its colon are `len` bytes long, and the key's content is between them.
    #[inline]
    pub(super) fn predicted(&self, b: &[u8], pos: usize, index: usize) -> Option<(Str, usize)> {
        let slot = self.slots.get(index)?;
        let window = b.get(pos..pos + MAX_TOKEN)?;
        let word = |i: usize| u64::from_le_bytes(window[8 * i..8 * i + 8].try_into().expect("8"));
        let differ = |i: usize| (word(i) ^ slot.words[i]) & slot.masks[i];
        if slot.len == 0 || differ(0) | differ(1) != 0 {
            return None;
        }
        // after the `,` (when the token has one) and the opening quote, before `":`
        let key = Str {
            start: pos + slot.key_at,
            end: pos + slot.len - 2,
            escaped: false,
        };
        Some((key, slot.len))
    }

    /// Whether member `index`'s key, once taken by [`predicted`](Self::predicted) or learnt by
    /// the exact path, differs from every earlier key of the same object.
    ///
    /// Why this holds: within an object, the slots below `index` hold that object's own keys
    /// (a predicted key equals its slot's; an exact one was just learnt, or emptied its slot
    /// when not predictable, say escaped). So a slot with a prediction whose key differs from
    /// the keys of all slots below it, none empty, is a key the object has not had yet. Both
    /// are unescaped, so their raw bytes compare as their texts do. `false` says nothing.
    #[inline]
    pub(super) fn unique(&self, index: usize) -> bool {
        index < SLOTS && self.unique >> index & 1 == 1
    }

    /// Remember `token`, the bytes of member `index`'s key and its colon (after the `,` before
    /// it, for a member after the first) as the exact scanner read them (`None`: not
    /// predictable: escaped, spaced, or too long).
    #[inline]
    pub(super) fn learn(&mut self, index: usize, token: Option<&[u8]>) {
        let Some(slot) = self.slots.get_mut(index) else {
            return;
        };
        *slot = match token {
            Some(token) if token.len() <= MAX_TOKEN => {
                let mut bytes = [0u8; MAX_TOKEN];
                bytes[..token.len()].copy_from_slice(token);
                let mask = u128::MAX >> (8 * (MAX_TOKEN - token.len()));
                let halves = |v: u128| [v as u64, (v >> 64) as u64];
                Slot {
                    words: halves(u128::from_le_bytes(bytes)),
                    masks: halves(mask),
                    len: token.len(),
                    key_at: 1 + usize::from(token[0] == b','),
                }
            }
            _ => Slot::default(),
        };
        self.update_clashes(index);
    }

    /// Slot `index` changed: its clashes with the slots below it, and its bit in the clashes
    /// of the slots above (learning is the rare, exact path: a few short compares).
    fn update_clashes(&mut self, index: usize) {
        let slot = self.slots[index];
        let clash = |other: &Slot, empty_too: bool| {
            if slot.len == 0 || other.len == 0 {
                empty_too && other.len == 0
            } else {
                other.same_key(&slot)
            }
        };
        let below = (0..index).filter(|&j| clash(&self.slots[j], true));
        self.clashes[index] = below.fold(0, |bits, j| bits | 1 << j);
        let bit = 1u16 << index;
        for above in index + 1..SLOTS {
            self.clashes[above] &= !bit;
            if slot.len == 0 || clash(&self.slots[above], false) {
                self.clashes[above] |= bit;
            }
        }
        for i in index..SLOTS {
            let unique = self.slots[i].len > 0 && self.clashes[i] == 0;
            self.unique = self.unique & !(1 << i) | u16::from(unique) << i;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `"qty":` learnt at index 1 of `keys`, from a body's bytes.
    fn learnt() -> KeyOrder {
        let mut keys = KeyOrder::default();
        keys.learn(1, Some(br#""qty":"#));
        keys
    }

    fn at(keys: &KeyOrder, text: &[u8], index: usize) -> Option<(usize, usize, usize)> {
        keys.predicted(text, 0, index)
            .map(|(key, len)| (key.start, key.end, len))
    }

    #[test]
    fn predicts_only_the_same_token_at_the_same_index() {
        let keys = learnt();
        let padded = |s: &str| format!("{s:<20}").into_bytes();
        assert_eq!(at(&keys, &padded(r#""qty":2,"#), 1), Some((1, 4, 6)));
        assert_eq!(at(&keys, &padded(r#""qty":2,"#), 0), None);
        assert_eq!(at(&keys, &padded(r#""qty":2,"#), SLOTS + 3), None);
        for other in [
            r#""qt":2,"#,
            r#""qtyx":2"#,
            r#""qty" :2"#,
            r#""qty"2"#,
            r#""Qty":2"#,
        ] {
            assert_eq!(at(&keys, &padded(other), 1), None, "{other}");
        }
        // fewer than 16 bytes left: the exact path
        assert_eq!(at(&keys, br#""qty":2}"#, 1), None);
    }

    #[test]
    fn forgets_what_it_cannot_predict() {
        let mut keys = learnt();
        keys.learn(1, None);
        assert_eq!(
            at(&keys, format!("{:<20}", r#""qty":2"#).as_bytes(), 1),
            None
        );
        keys.learn(1, Some(br#""a_key_of_fifteen":"#));
        assert_eq!(at(&keys, br#""a_key_of_fifteen":1, ""#, 1), None);
        keys.learn(1, Some(br#""key_of_twelve":"#));
        assert_eq!(at(&keys, br#""key_of_twelve":1, ""#, 1), Some((1, 14, 16)));
        keys.learn(SLOTS, Some(br#""qty":"#));
    }

    #[test]
    fn a_key_is_unique_when_every_slot_below_holds_another_key() {
        let mut keys = KeyOrder::default();
        keys.learn(0, Some(br#""a":"#));
        keys.learn(1, Some(br#","b":"#));
        keys.learn(2, Some(br#","a":"#));
        assert!(keys.unique(0) && keys.unique(1));
        assert!(!keys.unique(2), "repeats slot 0's key");
        assert!(!keys.unique(3) && !keys.unique(SLOTS), "no prediction");
        // slot 0 relearnt with another key: slot 2 no longer repeats it
        keys.learn(0, Some(br#""c":"#));
        assert!(keys.unique(2));
        // an empty slot below: nothing is known of that member's key
        keys.learn(1, None);
        assert!(keys.unique(0) && !keys.unique(1) && !keys.unique(2));
        keys.learn(1, Some(br#","d":"#));
        assert!(keys.unique(2));
        // the same key after a comma or not
        keys.learn(3, Some(br#","c":"#));
        assert!(!keys.unique(3));
    }

    #[test]
    fn a_token_after_a_comma_gives_the_key_after_it() {
        let mut keys = KeyOrder::default();
        keys.learn(2, Some(br#","price":"#));
        let text = br#","price":1.5,"sku":"A"}"#;
        assert_eq!(at(&keys, text, 2), Some((2, 7, 9)));
        assert_eq!(&text[2..7], b"price");
        assert_eq!(at(&keys, br#" ,"price":1.5,"sku":"A"}"#, 2), None);
    }
}
