//! A reader for numpy `.npz` archives (stored or deflated) holding `.npy` arrays.

use anyhow::{anyhow, bail, Context, Result};
use std::io::Read;
use std::path::Path;

/// An n-dimensional numeric array read from a `.npy` entry, widened to f64.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

/// Reads the named arrays from an `.npz` file. Errors name the file and what is wrong.
pub fn read_arrays(path: &Path, names: &[&str]) -> Result<Vec<Array>> {
    let file = std::fs::File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut archive = zip::ZipArchive::new(file).map_err(|e| {
        let starts_like_zip = std::fs::File::open(path)
            .and_then(|mut f| {
                let mut magic = [0u8; 4];
                f.read_exact(&mut magic).map(|_| magic == *b"PK\x03\x04")
            })
            .unwrap_or(false);
        if starts_like_zip {
            anyhow!(
                "{}: truncated .npz file ({size} bytes): it starts like a numpy archive but its zip directory is missing ({e})",
                path.display()
            )
        } else {
            anyhow!("{}: not a numpy .npz (zip) file ({size} bytes): {e}", path.display())
        }
    })?;
    names
        .iter()
        .map(|name| {
            let entry_name = format!("{name}.npy");
            let mut entry = archive.by_name(&entry_name).map_err(|_| {
                anyhow!(
                    "{}: has no array '{name}' (expected entries: {})",
                    path.display(),
                    names.join(", ")
                )
            })?;
            let mut bytes = Vec::with_capacity(entry.size() as usize);
            entry
                .read_to_end(&mut bytes)
                .with_context(|| format!("{}: array '{name}' is damaged or truncated", path.display()))?;
            parse_npy(&bytes).with_context(|| format!("{}: array '{name}'", path.display()))
        })
        .collect()
}

/// Reads every array of an `.npz` file, by entry name without the `.npy` suffix.
pub fn read_all(path: &Path) -> Result<std::collections::BTreeMap<String, Array>> {
    let file = std::fs::File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let archive = zip::ZipArchive::new(file).with_context(|| format!("{}: not a readable .npz", path.display()))?;
    let names: Vec<String> = archive
        .file_names()
        .filter_map(|n| n.strip_suffix(".npy"))
        .map(String::from)
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let arrays = read_arrays(path, &refs)?;
    Ok(names.into_iter().zip(arrays).collect())
}

/// Parses one `.npy` blob (format versions 1–3, C order, little-endian numeric dtypes).
pub fn parse_npy(bytes: &[u8]) -> Result<Array> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        bail!("not a .npy array (bad magic)");
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes(bytes[8..12].try_into()?) as usize, 12),
        v => bail!("unsupported .npy version {v}"),
    };
    let header = std::str::from_utf8(
        bytes
            .get(start..start + header_len)
            .ok_or_else(|| anyhow!("truncated header"))?,
    )?;
    let field = |key: &str| -> Result<&str> {
        let at = header
            .find(&format!("'{key}':"))
            .ok_or_else(|| anyhow!("header lacks '{key}'"))?;
        Ok(header[at + key.len() + 3..].trim_start())
    };
    let descr = field("descr")?;
    let descr = descr
        .get(1..)
        .and_then(|d| d.split('\'').next())
        .ok_or_else(|| anyhow!("bad descr"))?;
    if field("fortran_order")?.starts_with("True") {
        bail!("Fortran-ordered arrays are not supported");
    }
    let shape_text = field("shape")?;
    let shape_text = &shape_text[1..shape_text.find(')').ok_or_else(|| anyhow!("bad shape"))?];
    let shape = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|_| anyhow!("bad shape '{shape_text}'")))
        .collect::<Result<Vec<_>>>()?;
    let count: usize = shape.iter().product();
    let body = &bytes[start + header_len..];
    let (width, convert): (usize, fn(&[u8]) -> f64) = match descr {
        "<f8" => (8, |b| f64::from_le_bytes(b.try_into().unwrap())),
        "<f4" => (4, |b| f32::from_le_bytes(b.try_into().unwrap()) as f64),
        "<i8" => (8, |b| i64::from_le_bytes(b.try_into().unwrap()) as f64),
        "<i4" => (4, |b| i32::from_le_bytes(b.try_into().unwrap()) as f64),
        "<u8" => (8, |b| u64::from_le_bytes(b.try_into().unwrap()) as f64),
        "|u1" | "<u1" => (1, |b| b[0] as f64),
        "|i1" | "<i1" => (1, |b| b[0] as i8 as f64),
        other => bail!("unsupported dtype '{other}' (expected little-endian float or integer)"),
    };
    if body.len() < count * width {
        bail!(
            "truncated data: shape {shape:?} needs {} bytes, found {}",
            count * width,
            body.len()
        );
    }
    let data = body[..count * width].chunks_exact(width).map(convert).collect();
    Ok(Array { shape, data })
}
