//! Checkpoints: named f32 tensors plus a JSON header, written atomically.

use anyhow::{bail, Context, Result};
use serde::{de::DeserializeOwned, Serialize};
use std::io::Write;
use std::path::Path;

const MAGIC: &[u8; 8] = b"EEGRUNCK";

/// Named flat tensors, in order.
pub type NamedTensors = Vec<(String, Vec<f32>)>;

/// Writes `meta` and the named tensors to `path` via a temporary file, fsync and rename,
/// so a crash leaves either the old or the new checkpoint, never a torn one.
pub fn save<M: Serialize>(path: &Path, meta: &M, tensors: &[(String, Vec<f32>)]) -> Result<()> {
    let header = serde_json::json!({
        "meta": meta,
        "tensors": tensors.iter().map(|(n, v)| (n.clone(), v.len())).collect::<Vec<_>>(),
    });
    let header = serde_json::to_vec(&header)?;
    let mut bytes = Vec::with_capacity(16 + header.len() + tensors.iter().map(|t| 4 * t.1.len()).sum::<usize>());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&(header.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&header);
    for (_, values) in tensors {
        values.iter().for_each(|v| bytes.extend_from_slice(&v.to_le_bytes()));
    }
    write_atomic(path, &bytes)
}

/// Reads a checkpoint written by [`save`].
pub fn load<M: DeserializeOwned>(path: &Path) -> Result<(M, NamedTensors)> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read checkpoint", path.display()))?;
    let bad = |what: &str| anyhow::anyhow!("{}: not a valid eegrun checkpoint ({what})", path.display());
    if bytes.len() < 16 || &bytes[..8] != MAGIC {
        return Err(bad("missing header"));
    }
    let header_len = u64::from_le_bytes(bytes[8..16].try_into()?) as usize;
    let header: serde_json::Value =
        serde_json::from_slice(bytes.get(16..16 + header_len).ok_or_else(|| bad("truncated header"))?)?;
    let meta = serde_json::from_value(header["meta"].clone()).map_err(|e| bad(&e.to_string()))?;
    let names: Vec<(String, usize)> = serde_json::from_value(header["tensors"].clone())?;
    let mut offset = 16 + header_len;
    let mut tensors = Vec::with_capacity(names.len());
    for (name, len) in names {
        let raw = bytes
            .get(offset..offset + 4 * len)
            .ok_or_else(|| bad("truncated data"))?;
        tensors.push((
            name,
            raw.chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        ));
        offset += 4 * len;
    }
    if offset != bytes.len() {
        bail!("{}: not a valid eegrun checkpoint (trailing bytes)", path.display());
    }
    Ok((meta, tensors))
}

/// Writes `bytes` to `path` atomically (temporary file in the same folder, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create folder", dir.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    let mut file = std::fs::File::create(&tmp).with_context(|| format!("{}: cannot create", tmp.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path).with_context(|| format!("{}: cannot replace", path.display()))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
