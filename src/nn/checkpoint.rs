//! Checkpoints: named f32 tensors plus a JSON header, written atomically, and a SHA-256
//! of everything before it at the end, verified on load: a damaged checkpoint is an error
//! naming the file, never a silent resume.

use crate::atomic_write::write_atomic;
use anyhow::{Context, Result};
use serde::{de::DeserializeOwned, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Format 2: magic, header length (u64 LE), JSON header, f32 LE payload, SHA-256.
const MAGIC: &[u8; 8] = b"EEGRUNC2";
/// Format 1 (eegrun 0.1): the same without the checksum; refused, since it cannot be verified.
const MAGIC_V1: &[u8; 8] = b"EEGRUNCK";
const DIGEST: usize = 32;

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
    let digest = Sha256::digest(&bytes);
    bytes.extend_from_slice(&digest);
    write_atomic(path, &bytes)
}

/// Reads a checkpoint written by [`save`], after verifying its checksum.
pub fn load<M: DeserializeOwned>(path: &Path) -> Result<(M, NamedTensors)> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read checkpoint", path.display()))?;
    let bad = |what: &str| anyhow::anyhow!("{}: not a valid eegrun checkpoint ({what})", path.display());
    if bytes.starts_with(MAGIC_V1) {
        return Err(bad(
            "written by eegrun 0.1 without a checksum, so it cannot be verified",
        ));
    }
    if bytes.len() < 16 + DIGEST || &bytes[..8] != MAGIC {
        return Err(bad("missing header"));
    }
    let (body, digest) = bytes.split_at(bytes.len() - DIGEST);
    if Sha256::digest(body).as_slice() != digest {
        return Err(bad("checksum mismatch: the file is damaged"));
    }
    let header_len = u64::from_le_bytes(body[8..16].try_into().expect("8 bytes"));
    let header_end = usize::try_from(header_len)
        .ok()
        .and_then(|n| n.checked_add(16))
        .filter(|&end| end <= body.len())
        .ok_or_else(|| bad("truncated header"))?;
    let header: serde_json::Value =
        serde_json::from_slice(&body[16..header_end]).map_err(|e| bad(&format!("header: {e}")))?;
    let meta = serde_json::from_value(header["meta"].clone()).map_err(|e| bad(&e.to_string()))?;
    let names: Vec<(String, usize)> =
        serde_json::from_value(header["tensors"].clone()).map_err(|e| bad(&format!("tensor list: {e}")))?;
    let mut offset = header_end;
    let mut tensors = Vec::with_capacity(names.len().min(body.len()));
    for (name, len) in names {
        let end = len
            .checked_mul(4)
            .and_then(|n| n.checked_add(offset))
            .filter(|&end| end <= body.len())
            .ok_or_else(|| bad("truncated data"))?;
        let values = body[offset..end]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        tensors.push((name, values));
        offset = end;
    }
    if offset != body.len() {
        return Err(bad("trailing bytes"));
    }
    Ok((meta, tensors))
}
