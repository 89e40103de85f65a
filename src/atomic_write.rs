//! The one way eegrun writes a file: a temporary file with an unpredictable name, created
//! exclusively (never through a planted symlink) in the target's folder, synced, then renamed
//! over the target — so a crash leaves the old or the new file, never a torn one, and nobody
//! who can write into the folder can redirect the write. A target that is a folder is an
//! error; a FIFO or character device the user named (`-o /dev/stdout`) is written straight
//! into, never replaced.

use anyhow::{bail, Context, Result};
use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Tries at finding an unused temporary name before giving up.
const TRIES: usize = 16;

/// 16 hex digits from the system's random source.
fn random_suffix() -> Result<String> {
    let mut bytes = [0u8; 8];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("/dev/urandom: cannot read a temporary name")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Creates a new temporary file beside `path`, refusing anything already there (a symlink
/// included).
fn create_temporary(dir: &Path, name: &str) -> Result<(PathBuf, std::fs::File)> {
    for _ in 0..TRIES {
        let tmp = dir.join(format!(".{name}.tmp-{}", random_suffix()?));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
        {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("{}: cannot create a file in this folder", dir.display())),
        }
    }
    bail!("{}: no unused temporary name after {TRIES} tries", dir.display())
}

/// Writes `bytes` to `path` atomically (see the module doc).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => bail!("{}: is a folder; name a file to write", path.display()),
        Ok(meta) if meta.file_type().is_fifo() || meta.file_type().is_char_device() => {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("{}: cannot open", path.display()))?;
            return file
                .write_all(bytes)
                .with_context(|| format!("{}: cannot write", path.display()));
        }
        Ok(meta) if !(meta.is_file() || meta.file_type().is_symlink()) => {
            bail!(
                "{}: not a regular file; eegrun replaces only regular files",
                path.display()
            )
        }
        _ => {}
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .with_context(|| format!("{}: not a file name", path.display()))?
        .to_string_lossy()
        .into_owned();
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create folder", dir.display()))?;
    let (tmp, mut file) = create_temporary(dir, &name)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("{}: cannot write", tmp.display()))
        .and_then(|()| {
            drop(file);
            std::fs::rename(&tmp, path).with_context(|| format!("{}: cannot replace", path.display()))
        });
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("eegrun-atomic-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn planted_symlinks_are_never_written_through() {
        let dir = folder("symlink");
        let victim = dir.join("victim");
        std::fs::write(&victim, "precious").unwrap();
        // Every name the old scheme would have used, and a link at the target itself.
        for n in [std::process::id(), 1, 2] {
            std::os::unix::fs::symlink(&victim, dir.join(format!(".r.html.tmp{n}"))).unwrap();
        }
        let target = dir.join("r.html");
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        write_atomic(&target, b"report").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "report");
        assert!(!std::fs::symlink_metadata(&target).unwrap().file_type().is_symlink());
        // Nothing left behind but the planted links, the victim and the target.
        let left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("tmp-"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn folders_and_devices_are_not_replaced() {
        let dir = folder("special");
        let error = format!("{:#}", write_atomic(&dir, b"x").unwrap_err());
        assert!(error.contains("is a folder"), "{error}");
        assert!(dir.is_dir());
        write_atomic(Path::new("/dev/null"), b"into the device").unwrap();
        let meta = std::fs::metadata("/dev/null").unwrap();
        assert!(meta.file_type().is_char_device(), "/dev/null is still a device");
        assert!(std::fs::read_dir(&dir).unwrap().next().is_none(), "nothing left behind");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
