//! The version a kernel crate reports (`hb_version()`, `Describe.version`), built at compile
//! time by [`kernels!`](crate::kernels): `CARGO_PKG_VERSION`, then, if the crate's build script
//! set `HYBRIDBENCH_BUILD_INFO` (`cargo:rustc-env=HYBRIDBENCH_BUILD_INFO=...`), `+` and that
//! text, as semver build metadata: dot-separated identifiers of `[0-9A-Za-z-]` saying how the
//! artefact was built (the built-in kernels say `jpeg-simd` or `no-jpeg-simd`). Build metadata
//! changes neither the C ABI nor version precedence; hybridbench records it with every result
//! (`hybridbench.native.build_flags`).

/// The length of the NUL-terminated version string (see the module).
pub const fn c_len(version: &str, build: Option<&str>) -> usize {
    let metadata = match build {
        Some(b) if !b.is_empty() => 1 + b.len(),
        _ => 0,
    };
    version.len() + metadata + 1
}

/// The NUL-terminated version string, `N` bytes long (`N` from [`c_len`]).
pub const fn c_bytes<const N: usize>(version: &str, build: Option<&str>) -> [u8; N] {
    let mut out = [0u8; N];
    let mut at = copy(&mut out, 0, version.as_bytes());
    if let Some(b) = build {
        if !b.is_empty() {
            out[at] = b'+';
            at = copy(&mut out, at + 1, b.as_bytes());
        }
    }
    assert!(at + 1 == N, "c_bytes: N must be c_len(version, build)");
    out
}

const fn copy<const N: usize>(out: &mut [u8; N], mut at: usize, bytes: &[u8]) -> usize {
    let mut i = 0;
    while i < bytes.len() {
        out[at] = bytes[i];
        at += 1;
        i += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_with_and_without_build_metadata() {
        const PLAIN: [u8; c_len("0.1.0", None)] = c_bytes("0.1.0", None);
        assert_eq!(&PLAIN, b"0.1.0\0");
        const EMPTY: [u8; c_len("0.1.0", Some(""))] = c_bytes("0.1.0", Some(""));
        assert_eq!(&EMPTY, b"0.1.0\0");
        const BUILT: [u8; c_len("0.1.0", Some("jpeg-simd"))] = c_bytes("0.1.0", Some("jpeg-simd"));
        assert_eq!(&BUILT, b"0.1.0+jpeg-simd\0");
    }
}
