//! [`Kernel`]: one workload's functions; [`KernelTable`]: the kernels of one crate, in order.

use std::ffi::{CStr, CString};
use std::mem::MaybeUninit;
use std::sync::OnceLock;

use crate::error::{check_payload_size, KernelError, Result};

/// A kernel: one request body in, one response body out.
pub type KernelFn = fn(&[u8]) -> Result<Vec<u8>>;

/// The optional fast path of a kernel: write the output into `dst` (the caller's buffer of the
/// C ABI's `hb_run_into`) without allocating, and return its length; or return `Ok(None)` when
/// it does not fit, and the [`KernelFn`] runs instead. `dst` is write-only (its bytes may be
/// uninitialised); [`copy_into`] does the usual case.
pub type IntoFn = fn(&[u8], &mut [MaybeUninit<u8>]) -> Result<Option<usize>>;

/// One workload as a kernel crate registers it with [`kernels!`](crate::kernels):
///
/// ```
/// # use hybridbench_sdk::{Kernel, Result, copy_into};
/// # use std::mem::MaybeUninit;
/// fn upper(input: &[u8]) -> Result<Vec<u8>> { Ok(input.to_ascii_uppercase()) }
/// fn echo(input: &[u8]) -> Result<Vec<u8>> { Ok(input.to_vec()) }
/// fn echo_into(input: &[u8], dst: &mut [MaybeUninit<u8>]) -> Result<Option<usize>> {
///     Ok(copy_into(dst, input))
/// }
/// const UPPER: Kernel = Kernel::new("upper", upper);
/// // A copy is cheaper than a thread hop or an allocation: both fast paths.
/// const ECHO: Kernel = Kernel::new("echo", echo).inline().into_fn(echo_into);
/// ```
///
/// The fields are public for reading; build one with the `const fn` builders so that a kernel
/// gains new optional properties without breaking existing crates.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Kernel {
    /// The workload name (what the harness calls it): non-empty, no `'\n'` or NUL.
    pub name: &'static str,
    /// The kernel.
    pub run: KernelFn,
    /// Optional allocation-free path for small outputs (see [`IntoFn`]).
    pub run_into: Option<IntoFn>,
    /// Run on the server's reactor thread instead of the blocking pool: for kernels that take
    /// well under a microsecond, where the thread hop would cost more than the work.
    pub inline: bool,
}

impl Kernel {
    /// A kernel named `name` computed by `run`, with no fast paths.
    pub const fn new(name: &'static str, run: KernelFn) -> Self {
        Self {
            name,
            run,
            run_into: None,
            inline: false,
        }
    }

    /// Mark the kernel as cheap enough to run on the server's reactor thread.
    pub const fn inline(mut self) -> Self {
        self.inline = true;
        self
    }

    /// Add an allocation-free path for outputs that fit the caller's buffer (`hb_run_into`).
    pub const fn into_fn(mut self, run_into: IntoFn) -> Self {
        self.run_into = Some(run_into);
        self
    }

    /// Run the kernel after the payload-size check every workload shares.
    pub fn call(&self, input: &[u8]) -> Result<Vec<u8>> {
        check_payload_size(self.name, input.len())?;
        (self.run)(input)
    }
}

/// Copy `bytes` to the start of `dst` and return their length, or `None` if they do not fit:
/// the body of most [`IntoFn`]s.
pub fn copy_into(dst: &mut [MaybeUninit<u8>], bytes: &[u8]) -> Option<usize> {
    let target = dst.get_mut(..bytes.len())?;
    // SAFETY: `target` is exactly `bytes.len()` writable bytes; `MaybeUninit<u8>` has the layout
    // of `u8`, and a `&[u8]` cannot overlap a live `&mut` slice.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), target.as_mut_ptr().cast(), bytes.len());
    }
    Some(bytes.len())
}

/// The kernels of one kernel crate, in registration order (the order is the workload id of
/// `hb_run_into` and the order `Describe` and `--list-workloads` report). [`kernels!`](crate::kernels)
/// defines one as `KERNELS`; the C ABI and the server take it by reference.
#[derive(Debug)]
pub struct KernelTable {
    library: &'static CStr,
    version: &'static CStr,
    kernels: &'static [Kernel],
    /// `hb_workloads()`: built on first use, then lives as long as the (static) table.
    listing: OnceLock<CString>,
}

impl KernelTable {
    /// A table for the crate `library` at `version`. Panics (at compile time when it
    /// initialises a `static`) if a name is empty, contains `'\n'` or NUL, or is registered
    /// twice.
    pub const fn new(
        library: &'static CStr,
        version: &'static CStr,
        kernels: &'static [Kernel],
    ) -> Self {
        check_names(kernels);
        Self {
            library,
            version,
            kernels,
            listing: OnceLock::new(),
        }
    }

    /// The kernel crate's package name, e.g. `hybridbench-kernels`.
    pub fn library(&self) -> &'static str {
        self.library.to_str().unwrap_or("?")
    }

    /// The kernel crate's version.
    pub fn version(&self) -> &'static str {
        self.version.to_str().unwrap_or("?")
    }

    pub(crate) fn library_c(&self) -> &'static CStr {
        self.library
    }

    pub(crate) fn version_c(&self) -> &'static CStr {
        self.version
    }

    /// The kernels, in registration order.
    pub fn kernels(&self) -> &'static [Kernel] {
        self.kernels
    }

    /// The workload names, in registration order.
    pub fn names(&self) -> impl ExactSizeIterator<Item = &'static str> {
        self.kernels.iter().map(|k| k.name)
    }

    /// The kernel called `name` (compared as bytes: the C ABI passes unchecked bytes).
    pub fn get(&self, name: &[u8]) -> Option<&'static Kernel> {
        self.kernels.iter().find(|k| k.name.as_bytes() == name)
    }

    /// The kernel with workload id `id` (its position).
    pub fn by_id(&self, id: u32) -> Option<&'static Kernel> {
        self.kernels.get(usize::try_from(id).ok()?)
    }

    /// Run the workload `name` on `input`; an unknown name is [`ErrorKind::Unsupported`].
    ///
    /// [`ErrorKind::Unsupported`]: crate::ErrorKind::Unsupported
    pub fn run(&self, name: &str, input: &[u8]) -> Result<Vec<u8>> {
        self.get(name.as_bytes())
            .ok_or_else(|| self.unknown_name(name.as_bytes()))?
            .call(input)
    }

    /// The names joined by `'\n'`, NUL-terminated (`hb_workloads`).
    pub fn listing(&self) -> &CStr {
        self.listing.get_or_init(|| {
            let joined = self.names().collect::<Vec<_>>().join("\n");
            // `check_names` rejected NULs inside names.
            CString::new(joined).unwrap_or_default()
        })
    }

    /// The error for a workload name this table does not have.
    pub fn unknown_name(&self, name: &[u8]) -> KernelError {
        let known = self.names().collect::<Vec<_>>().join(", ");
        match std::str::from_utf8(name) {
            Ok(name) => {
                KernelError::unsupported(format!("unknown workload {name:?}; known: {known}"))
            }
            Err(_) => KernelError::unsupported(format!(
                "workload name is not valid UTF-8; known: {known}"
            )),
        }
    }

    /// The error for a workload id out of range.
    pub fn unknown_id(&self, id: u32) -> KernelError {
        let known = self
            .names()
            .enumerate()
            .map(|(i, n)| format!("{i} ({n})"))
            .collect::<Vec<_>>()
            .join(", ");
        KernelError::unsupported(format!("unknown workload id {id}; known: {known}"))
    }
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The names must be usable as one `'\n'`-separated C string and as unique keys.
const fn check_names(kernels: &[Kernel]) {
    let mut i = 0;
    while i < kernels.len() {
        let name = kernels[i].name.as_bytes();
        assert!(!name.is_empty(), "kernels!: a workload name is empty");
        let mut j = 0;
        while j < name.len() {
            assert!(
                name[j] != b'\n' && name[j] != 0,
                "kernels!: a workload name contains a newline or NUL"
            );
            j += 1;
        }
        let mut k = 0;
        while k < i {
            assert!(
                !same(kernels[k].name, kernels[i].name),
                "kernels!: a workload name is registered twice"
            );
            k += 1;
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn twice(input: &[u8]) -> Result<Vec<u8>> {
        Ok([input, input].concat())
    }

    static TABLE: KernelTable = KernelTable::new(
        c"demo",
        c"1.2.3",
        &[Kernel::new("a", twice), Kernel::new("b", twice).inline()],
    );

    #[test]
    fn lookups_and_listing() {
        assert_eq!((TABLE.library(), TABLE.version()), ("demo", "1.2.3"));
        assert_eq!(TABLE.names().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(TABLE.listing(), c"a\nb");
        assert_eq!(TABLE.get(b"b").map(|k| k.inline), Some(true));
        assert_eq!(TABLE.by_id(0).map(|k| k.name), Some("a"));
        assert!(TABLE.by_id(2).is_none() && TABLE.get(b"c").is_none());
        assert_eq!(TABLE.run("a", b"xy").unwrap(), b"xyxy");
    }

    #[test]
    fn unknown_workloads_name_the_known_ones() {
        let err = TABLE.run("nope", b"").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unsupported);
        assert_eq!(err.message, "unknown workload \"nope\"; known: a, b");
        assert!(TABLE
            .unknown_name(b"\xff")
            .message
            .contains("not valid UTF-8"));
        assert_eq!(
            TABLE.unknown_id(7).message,
            "unknown workload id 7; known: 0 (a), 1 (b)"
        );
    }

    #[test]
    fn oversized_payloads_are_rejected_before_the_kernel() {
        let big = vec![0u8; crate::MAX_PAYLOAD_BYTES + 1];
        let err = TABLE.run("a", &big).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        assert!(err.message.starts_with("a: payload of"), "{err}");
    }

    #[test]
    fn copy_into_fits_or_declines() {
        let mut dst = [MaybeUninit::<u8>::uninit(); 4];
        assert_eq!(copy_into(&mut dst, b"abcd"), Some(4));
        // SAFETY: the four bytes were just written.
        assert_eq!(dst.map(|b| unsafe { b.assume_init() }), *b"abcd");
        assert_eq!(copy_into(&mut dst, b"abcde"), None);
        assert_eq!(copy_into(&mut [], b""), Some(0));
    }

    #[test]
    #[should_panic(expected = "registered twice")]
    fn duplicate_names_are_rejected() {
        let kernels = vec![Kernel::new("a", twice), Kernel::new("a", twice)].leak();
        let _ = KernelTable::new(c"x", c"0", kernels);
    }

    #[test]
    #[should_panic(expected = "newline")]
    fn names_with_newlines_are_rejected() {
        let kernels = vec![Kernel::new("a\nb", twice)].leak();
        let _ = KernelTable::new(c"x", c"0", kernels);
    }
}
