//! The one way eegrun writes a file: a temporary file with an unpredictable name, created
//! exclusively (never through a planted symlink) in the target's folder, synced, then renamed
//! over the target — so a crash leaves the old or the new file, never a torn one, and nobody
//! who can write into the folder can redirect the write. A target that is a folder is an
//! error. eegrun's own file names ([`write_atomic`]) are always replaced, whatever sits
//! there (a FIFO planted at `findings.json` is replaced, not written into and waited on); a
//! FIFO or character device the user named ([`write_output`], `-o /dev/stdout`) is written
//! straight into, never replaced. eegrun's own folders inside the runs folder are never
//! links ([`own_folder`]): a link there could send its files elsewhere.

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
        let tmp = dir.join(format!(".{name}.tmp-{}-{}", std::process::id(), random_suffix()?));
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

/// Removes from `dir` the temporary files of writers that are no longer running (their
/// process id is in the name: `.NAME.tmp-PID-RANDOM`), as a `kill -9` during a write leaves
/// them; a live writer's file, and every other file, is left alone. Returns how many went.
pub fn remove_stale_temporaries(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix('.')
            .and_then(|n| n.rsplit_once(".tmp-"))
            .and_then(|(_, rest)| rest.split_once('-'))
            .and_then(|(pid, random)| (random.len() == 16).then_some(pid))
            .and_then(|pid| pid.parse::<libc::pid_t>().ok())
        else {
            continue;
        };
        // kill(pid, 0) fails with ESRCH only when no such process exists.
        let gone =
            unsafe { libc::kill(pid, 0) } != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        let regular = entry.file_type().is_ok_and(|t| t.is_file());
        if gone && regular && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Writes `bytes` to a path the user named (`-o`, `--metrics`): into a FIFO or character
/// device that is there (`/dev/stdout`), else as [`write_atomic`].
pub fn write_output(path: &Path, bytes: &[u8]) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.file_type().is_fifo() || meta.file_type().is_char_device() => {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("{}: cannot open", path.display()))?;
            file.write_all(bytes)
                .with_context(|| format!("{}: cannot write", path.display()))
        }
        _ => write_atomic(path, bytes),
    }
}

/// Refuses an output folder of eegrun's own (`plots/`, a study's `slurm/`) that is a link:
/// its files would land wherever the link points.
pub fn own_folder(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => bail!(
            "{}: is a link; eegrun writes its own files only into a real folder here — remove the link (it is left as it is)",
            path.display()
        ),
        _ => Ok(()),
    }
}

/// Writes `bytes` to `path` atomically (see the module doc): a regular file, a link or a
/// FIFO at `path` is replaced, never written through; a folder or a device is refused.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if meta.is_dir() {
            bail!("{}: is a folder; name a file to write", path.display());
        }
        if meta.file_type().is_char_device() || meta.file_type().is_block_device() {
            bail!("{}: is a device; eegrun replaces only files here", path.display());
        }
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
        let error = format!("{:#}", write_atomic(Path::new("/dev/null"), b"x").unwrap_err());
        assert!(error.contains("is a device"), "{error}");
        // A device the user names as output is written into.
        write_output(Path::new("/dev/null"), b"into the device").unwrap();
        let meta = std::fs::metadata("/dev/null").unwrap();
        assert!(meta.file_type().is_char_device(), "/dev/null is still a device");
        assert!(std::fs::read_dir(&dir).unwrap().next().is_none(), "nothing left behind");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn temporaries_of_writers_no_longer_running_are_removed_and_live_ones_kept() {
        let dir = folder("stale");
        // pid_max is at most 2^22 on Linux: this process cannot exist.
        let dead = dir.join(".status.json.tmp-99999999-0123456789abcdef");
        let live = dir.join(format!(".status.json.tmp-{}-0123456789abcdef", std::process::id()));
        let other = dir.join(".status.json.tmp-notapid");
        for f in [&dead, &live, &other] {
            std::fs::write(f, "x").unwrap();
        }
        assert_eq!(remove_stale_temporaries(&dir), 1);
        assert!(!dead.exists() && live.exists() && other.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_fifo_at_one_of_eegruns_own_names_is_replaced_not_waited_on() {
        let dir = folder("fifo");
        let target = dir.join("findings.json");
        let c = std::ffi::CString::new(target.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        write_atomic(&target, b"{}").unwrap();
        assert!(std::fs::symlink_metadata(&target).unwrap().is_file());
        assert_eq!(std::fs::read(&target).unwrap(), b"{}");
        let link = dir.join("plots");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        assert!(format!("{:#}", own_folder(&link).unwrap_err()).contains("is a link"));
        own_folder(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
