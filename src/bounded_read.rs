//! Reading the files eegrun did not necessarily write itself — records, tables, data
//! indexes, baselines, experiment files — as regular files of bounded size: a FIFO, a
//! device, a socket or a folder (or a link to one) is refused in one line instead of hanging
//! or growing without end, and the size is checked before the content is read.

use anyhow::{bail, Context, Result};
use std::io::Read;
use std::path::Path;

/// The most bytes of a record: config.json, status.json, study.json, search.json, a trials
/// CSV, an experiment file, predictions.csv.
pub const RECORD_LIMIT: u64 = 64 << 20;
/// The most bytes of a table that grows with a run's epochs or a study's runs: metrics.csv
/// (a million epochs), a baseline.
pub const TABLE_LIMIT: u64 = 512 << 20;

/// The bytes of the regular file at `path` (a link to one is followed), at most `limit`
/// of them; `None` when nothing is there. Anything else — a FIFO, a device, a socket, a
/// folder, a file larger than `limit` — is an error naming the path and what it is.
pub fn read_regular(path: &Path, limit: u64) -> Result<Option<Vec<u8>>> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("{}: cannot read", path.display())),
    };
    check_kind(path, &meta, limit)?;
    // Opened without blocking, so a FIFO put there after the check cannot hang the open;
    // the opened file is checked again.
    let mut file = open_nonblocking(path).with_context(|| format!("{}: cannot read", path.display()))?;
    check_kind(path, &file.metadata()?, limit)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    (&mut file)
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    if bytes.len() as u64 > limit {
        bail!("{}: grew beyond {} while being read", path.display(), size(limit));
    }
    Ok(Some(bytes))
}

/// [`read_regular`] as UTF-8 text.
pub fn read_text(path: &Path, limit: u64) -> Result<Option<String>> {
    read_regular(path, limit)?
        .map(|bytes| String::from_utf8(bytes).with_context(|| format!("{}: not UTF-8 text", path.display())))
        .transpose()
}

fn check_kind(path: &Path, meta: &std::fs::Metadata, limit: u64) -> Result<()> {
    let kind = meta.file_type();
    if !kind.is_file() {
        let what = if kind.is_dir() { "a folder" } else { special_kind(&kind) };
        bail!(
            "{}: is {what}, not a regular file; eegrun reads only regular files here",
            path.display()
        );
    }
    if meta.len() > limit {
        bail!(
            "{}: {} bytes, more than eegrun reads for this file ({})",
            path.display(),
            meta.len(),
            size(limit)
        );
    }
    Ok(())
}

#[cfg(unix)]
fn special_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "not a regular file"
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

/// `64 MiB`.
fn size(bytes: u64) -> String {
    format!("{} MiB", bytes >> 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifos_devices_folders_and_large_files_are_refused_in_one_line() {
        let dir = std::env::temp_dir().join(format!("eegrun-bounded-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("study.json");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = format!("{:#}", read_regular(&fifo, RECORD_LIMIT).unwrap_err());
        assert!(e.contains("is a FIFO (named pipe), not a regular file"), "{e}");
        let e = format!("{:#}", read_regular(Path::new("/dev/zero"), RECORD_LIMIT).unwrap_err());
        assert!(e.contains("/dev/zero: is a device"), "{e}");
        let link = dir.join("zero-link");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert!(format!("{:#}", read_regular(&link, RECORD_LIMIT).unwrap_err()).contains("is a device"));
        assert!(format!("{:#}", read_regular(&dir, RECORD_LIMIT).unwrap_err()).contains("is a folder"));
        let big = dir.join("big");
        std::fs::write(&big, vec![b'x'; 100]).unwrap();
        assert!(format!("{:#}", read_regular(&big, 99).unwrap_err()).contains("100 bytes, more than"));
        assert_eq!(read_regular(&big, 100).unwrap().unwrap().len(), 100);
        assert_eq!(read_regular(&dir.join("absent"), 100).unwrap(), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
