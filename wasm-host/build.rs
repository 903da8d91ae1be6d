//! Builds `engine.wasm` (the engine for wasm32-unknown-unknown, profile `wasm`) so that a
//! plain `cargo build` on a fresh checkout embeds it. `OPSYNC_ENGINE_WASM=<file>` embeds a
//! prebuilt module instead.
//!
//! The engine is built by a nested cargo in its own target directory: the outer build
//! holds the lock on the main one.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.parent().unwrap().to_path_buf();
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-env-changed=OPSYNC_ENGINE_WASM");

    let wasm = match env::var_os("OPSYNC_ENGINE_WASM") {
        Some(prebuilt) => {
            let prebuilt = PathBuf::from(prebuilt);
            println!("cargo:rerun-if-changed={}", prebuilt.display());
            std::fs::read(&prebuilt)
                .unwrap_or_else(|e| panic!("OPSYNC_ENGINE_WASM={}: {e}", prebuilt.display()))
        }
        None => build_engine(&root),
    };

    std::fs::write(out_dir.join("engine.wasm"), &wasm).unwrap();
    let digest = Sha256::digest(&wasm);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    println!("cargo:rustc-env=OPSYNC_ENGINE_SHA256={hex}");
}

fn build_engine(root: &Path) -> Vec<u8> {
    for watched in [
        "engine/src",
        "engine/Cargo.toml",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let target_dir = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("engine-wasm");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args([
            "build",
            "--quiet",
            "--locked",
            "-p",
            "opsync-engine",
            "--lib",
        ])
        .args(["--target", "wasm32-unknown-unknown", "--profile", "wasm"])
        .arg("--target-dir")
        .arg(&target_dir);
    // Flags meant for the host build must not leak into the wasm one.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_PRIMARY_PACKAGE",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        cmd.env_remove(var);
    }
    let output = cmd.output().expect("cannot run cargo to build engine.wasm");
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let hint = if stderr.contains("wasm32-unknown-unknown")
            && stderr.contains("target may not be installed")
            || stderr.contains("can't find crate for `core`")
        {
            "\nThe wasm32 target is missing: run `rustup target add wasm32-unknown-unknown` (make test does)."
        } else {
            ""
        };
        panic!("building engine.wasm failed:\n{stderr}{hint}");
    }
    let wasm = target_dir.join("wasm32-unknown-unknown/wasm/opsync_engine.wasm");
    std::fs::read(&wasm).unwrap_or_else(|e| panic!("{}: {e}", wasm.display()))
}
