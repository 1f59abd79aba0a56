//! Records how libjpeg-turbo (the `image` kernel's encoder, built by `turbojpeg-sys`) was
//! built: with its SIMD code (assembled by nasm on x86-64) or without. The encoder is ~3x
//! slower without it, and the fallback is silent: `turbojpeg-sys` only warns when nasm is
//! missing, and a target directory built before nasm was installed keeps the slow build.
//!
//! The answer becomes build metadata of the crate's version (`HYBRIDBENCH_BUILD_INFO`, see
//! `hybridbench_sdk::version`): `hb_version()` and the server's `Describe` say `0.1.0+jpeg-simd`
//! or `0.1.0+no-jpeg-simd`, and hybridbench records it with every result (`jpeg_simd`).

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=DEP_TURBOJPEG_INCLUDE");
    let Some(jconfig) = find_jconfig() else {
        println!(
            "cargo:warning=jconfig.h of libjpeg-turbo not found: whether its SIMD code is in \
             the build is not recorded"
        );
        return;
    };
    println!("cargo:rerun-if-changed={}", jconfig.display());
    let text = std::fs::read_to_string(&jconfig).unwrap_or_default();
    let simd = text
        .lines()
        .any(|line| line.split_whitespace().collect::<Vec<_>>() == ["#define", "WITH_SIMD", "1"]);
    if !simd && nasm_installed() {
        println!(
            "cargo:warning=libjpeg-turbo was built without SIMD although nasm is installed now \
             (a build from before nasm was installed): `cargo clean -p turbojpeg-sys --release` \
             rebuilds it with SIMD"
        );
    }
    let info = if simd { "jpeg-simd" } else { "no-jpeg-simd" };
    println!("cargo:rustc-env=HYBRIDBENCH_BUILD_INFO={info}");
}

/// `jconfig.h` in the include directories `turbojpeg-sys` exports (its `links` metadata).
fn find_jconfig() -> Option<PathBuf> {
    let dirs = std::env::var("DEP_TURBOJPEG_INCLUDE").ok()?;
    dirs.split(',')
        .map(|dir| Path::new(dir).join("jconfig.h"))
        .find(|path| path.is_file())
}

fn nasm_installed() -> bool {
    Command::new("nasm")
        .arg("-v")
        .output()
        .is_ok_and(|out| out.status.success())
}
