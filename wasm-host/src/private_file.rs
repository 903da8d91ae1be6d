//! Files only their owner may read, written whole or not at all: the Openprovider token
//! cache and the compiled-module cache.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

/// This process's effective user id.
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { geteuid() }
}

extern "C" {
    fn geteuid() -> u32;
}

/// Whether `path` is a file only this user can read: owned by us, no access for group or
/// others. A cache that is not is never trusted (someone else could have planted or read
/// it).
pub fn is_private(path: &Path) -> Result<(), String> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a plain file".into());
    }
    if meta.uid() != euid() {
        return Err(format!("owned by uid {}, not by this user", meta.uid()));
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "mode {mode:04o} lets others read it (opsync writes it 0600)"
        ));
    }
    Ok(())
}

/// Writes `bytes` to `path` with mode 0600, through a temporary file renamed into place,
/// so a reader never sees half a file. The temporary file is created new (never through
/// a link someone left there) and removed when anything fails.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}
