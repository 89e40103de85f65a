//! A reader for numpy `.npz` archives (stored or deflated) holding `.npy` arrays.
//!
//! Rules: no size that a file claims is trusted before it is checked against the real
//! file size; every numeric dtype numpy writes (bool, signed and unsigned integers of 1–8
//! bytes, float16/32/64, either byte order) is read; nothing in a hostile file can make
//! the reader panic or allocate more than the file could hold.

use anyhow::{anyhow, bail, Context, Result};
use std::io::Read;
use std::path::Path;

/// An n-dimensional numeric array read from a `.npy` entry, widened to f64.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// The values, row-major, widened to f64.
    pub data: Vec<f64>,
}

/// The largest ratio of uncompressed to compressed size that deflate can reach (≈1032:1),
/// rounded up: an entry claiming more than this cannot be genuine.
const MAX_DEFLATE_RATIO: u64 = 1040;

/// The most elements one array may hold (512 MiB once widened to f64; the lab's files hold
/// under a million, the PhysioNet stand-in about four million).
pub const MAX_ELEMENTS: usize = 1 << 26;

/// What the reader accepts, for messages.
pub const ACCEPTED_DTYPES: &str = "bool, int8/16/32/64, uint8/16/32/64, float16/32/64 (little- or big-endian, C order)";

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
            let entry = archive.by_name(&entry_name).map_err(|e| match e {
                zip::result::ZipError::FileNotFound => anyhow!(
                    "{}: has no array '{name}' (expected entries: {})",
                    path.display(),
                    names.join(", ")
                ),
                zip::result::ZipError::UnsupportedArchive(why) => anyhow!(
                    "{}: array '{name}' is stored in a way eegrun cannot read ({why}); save it with numpy.savez or numpy.savez_compressed",
                    path.display()
                ),
                other => anyhow!("{}: array '{name}' cannot be read: {other}", path.display()),
            })?;
            let claimed = entry.size();
            let limit = match entry.compression() {
                zip::CompressionMethod::Stored => entry.compressed_size(),
                _ => entry.compressed_size().saturating_mul(MAX_DEFLATE_RATIO),
            }
            .min(size.saturating_mul(MAX_DEFLATE_RATIO))
            .min(128 + 8 * MAX_ELEMENTS as u64);
            if claimed > limit {
                bail!(
                    "{}: array '{name}' claims {claimed} bytes uncompressed, but its {} compressed bytes can hold at most {limit} (and eegrun reads at most {MAX_ELEMENTS} elements per array): the archive is damaged or too large",
                    path.display(),
                    entry.compressed_size()
                );
            }
            let mut bytes = Vec::with_capacity(claimed as usize);
            entry
                .take(claimed + 1)
                .read_to_end(&mut bytes)
                .with_context(|| format!("{}: array '{name}' is damaged or truncated", path.display()))?;
            if bytes.len() as u64 != claimed {
                bail!(
                    "{}: array '{name}' holds {} bytes, but the archive says {claimed}: the archive is damaged",
                    path.display(),
                    bytes.len()
                );
            }
            parse_npy(&bytes).with_context(|| format!("{}: array '{name}'", path.display()))
        })
        .collect()
}

/// Reads the array `name` from an `.npz` file if the file holds one.
pub fn read_optional(path: &Path, name: &str) -> Result<Option<Array>> {
    let file = std::fs::File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let archive = zip::ZipArchive::new(file).with_context(|| format!("{}: not a readable .npz", path.display()))?;
    let entry = format!("{name}.npy");
    if !archive.file_names().any(|n| n == entry) {
        return Ok(None);
    }
    Ok(read_arrays(path, &[name])?.pop())
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

/// An element type: its width in bytes and how one element becomes an f64.
struct Dtype {
    width: usize,
    convert: fn(&[u8], bool) -> f64,
}

/// The dtype for a numpy `descr` such as `<f8`, `>i2`, `|b1`; the flag says big-endian.
fn dtype(descr: &str) -> Result<(Dtype, bool)> {
    // A first character of more than one byte is no byte-order mark: it falls to the error.
    let (order, code) = descr.split_at_checked(descr.len().min(1)).unwrap_or(("", descr));
    let big = match order {
        "<" | "|" | "=" => false,
        ">" => true,
        _ => bail!("unsupported dtype '{descr}' (accepted: {ACCEPTED_DTYPES})"),
    };
    fn word<const N: usize>(b: &[u8], big: bool) -> [u8; N] {
        let mut w = [0u8; N];
        w.copy_from_slice(&b[..N]);
        if big {
            w.reverse();
        }
        w
    }
    let d = |width, convert| Ok((Dtype { width, convert }, big));
    match code {
        "b1" => d(1, |b, _| (b[0] != 0) as u8 as f64),
        "u1" => d(1, |b, _| b[0] as f64),
        "i1" => d(1, |b, _| b[0] as i8 as f64),
        "u2" => d(2, |b, e| u16::from_le_bytes(word(b, e)) as f64),
        "i2" => d(2, |b, e| i16::from_le_bytes(word(b, e)) as f64),
        "u4" => d(4, |b, e| u32::from_le_bytes(word(b, e)) as f64),
        "i4" => d(4, |b, e| i32::from_le_bytes(word(b, e)) as f64),
        "u8" => d(8, |b, e| u64::from_le_bytes(word(b, e)) as f64),
        "i8" => d(8, |b, e| i64::from_le_bytes(word(b, e)) as f64),
        "f2" => d(2, |b, e| f16_to_f64(u16::from_le_bytes(word(b, e)))),
        "f4" => d(4, |b, e| f32::from_le_bytes(word(b, e)) as f64),
        "f8" => d(8, |b, e| f64::from_le_bytes(word(b, e))),
        _ => bail!("unsupported dtype '{descr}' (accepted: {ACCEPTED_DTYPES})"),
    }
}

/// IEEE half precision to f64 (exact).
fn f16_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exponent = ((h >> 10) & 0x1f) as i32;
    let fraction = (h & 0x3ff) as f64;
    sign * match exponent {
        0 => fraction * 2f64.powi(-24),
        31 if fraction == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        e => (1.0 + fraction / 1024.0) * 2f64.powi(e - 15),
    }
}

/// The text after `'key':` in a numpy header dict, trimmed.
fn header_field<'a>(header: &'a str, key: &str) -> Result<&'a str> {
    let pattern = format!("'{key}':");
    let at = header.find(&pattern).ok_or_else(|| anyhow!("header lacks '{key}'"))?;
    Ok(header[at + pattern.len()..].trim_start())
}

/// Parses a header's `shape` value, e.g. `(540, 750, 2)` or `(12,)`.
fn parse_shape(text: &str) -> Result<Vec<usize>> {
    let inner = text
        .strip_prefix('(')
        .and_then(|t| t.split_once(')'))
        .map(|(inside, _)| inside)
        .ok_or_else(|| anyhow!("bad shape: expected a tuple such as (540, 750, 2)"))?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| anyhow!("bad shape ({inner}): '{s}' is not a dimension"))
        })
        .collect()
}

/// Writes `split` of `shape` as the files eegrun and `torch_ref.py` read: `signal`
/// (N, T, C) as `<f4`, `label` 1..K as `<f8` and, where given, `sfreq` as a `<f8` scalar,
/// stored uncompressed as `numpy.savez` does.
pub fn write_split(
    path: &Path,
    split: &super::dataset::Split,
    shape: super::dataset::Shape,
    sfreq: Option<f64>,
) -> Result<()> {
    let npy = |descr: &str, dims: &[usize], body: Vec<u8>| {
        let dims: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
        let tuple = if dims.len() == 1 {
            format!("({},)", dims[0])
        } else {
            format!("({})", dims.join(", "))
        };
        let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {tuple}, }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend((header.len() as u16).to_le_bytes());
        bytes.extend(header.as_bytes());
        bytes.extend(body);
        bytes
    };
    let (c, t) = (shape.channels, shape.samples);
    let mut signal = Vec::with_capacity(split.x.len() * 4);
    for i in 0..split.len() {
        let trial = split.trial(i);
        for time in 0..t {
            for channel in 0..c {
                signal.extend(trial[channel * t + time].to_le_bytes());
            }
        }
    }
    let labels = split.y.iter().flat_map(|&y| (y as f64 + 1.0).to_le_bytes()).collect();
    let file = std::fs::File::create(path).with_context(|| format!("{}: cannot create", path.display()))?;
    let mut zip = zip::ZipWriter::new(file);
    let stored = zip::write::FileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut arrays = vec![
        ("signal.npy", npy("<f4", &[split.len(), t, c], signal)),
        ("label.npy", npy("<f8", &[split.len()], labels)),
    ];
    if let Some(hz) = sfreq {
        arrays.push(("sfreq.npy", npy("<f8", &[], hz.to_le_bytes().to_vec())));
    }
    for (name, bytes) in arrays {
        zip.start_file(name, stored)?;
        std::io::Write::write_all(&mut zip, &bytes)?;
    }
    zip.finish()?;
    Ok(())
}

/// Parses one `.npy` blob (format versions 1–3, C order, the dtypes in [`ACCEPTED_DTYPES`]).
pub fn parse_npy(bytes: &[u8]) -> Result<Array> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        bail!("not a .npy array (bad magic)");
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10usize),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => bail!("unsupported .npy version {v}"),
    };
    let header = bytes
        .get(start..start.saturating_add(header_len))
        .ok_or_else(|| anyhow!("truncated header"))?;
    let header = std::str::from_utf8(header).map_err(|_| anyhow!("header is not text"))?;
    let descr = header_field(header, "descr")?;
    let descr = descr
        .strip_prefix('\'')
        .and_then(|d| d.split_once('\''))
        .map(|(d, _)| d)
        .ok_or_else(|| anyhow!("bad descr: expected a quoted dtype such as '<f8'"))?;
    if header_field(header, "fortran_order")?.starts_with("True") {
        bail!("Fortran-ordered arrays are not supported (save with C order, numpy's default)");
    }
    let shape = parse_shape(header_field(header, "shape")?)?;
    let (Dtype { width, convert }, big) = dtype(descr)?;
    let count = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| anyhow!("shape {shape:?} is too large: its element count overflows"))?;
    if count > MAX_ELEMENTS {
        bail!("shape {shape:?} holds {count} elements, more than eegrun reads ({MAX_ELEMENTS})");
    }
    let needed = count * width;
    let body = &bytes[start + header_len..];
    if body.len() < needed {
        bail!(
            "truncated data: shape {shape:?} of '{descr}' needs {needed} bytes, found {}",
            body.len()
        );
    }
    let data = body[..needed].chunks_exact(width).map(|b| convert(b, big)).collect();
    Ok(Array { shape, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, shape: &str, body: &[u8]) -> Vec<u8> {
        let header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}\n");
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn every_numeric_dtype_in_both_byte_orders() {
        let cases: [(&str, &[u8], f64); 8] = [
            ("|b1", &[1], 1.0),
            ("<i2", &[0xfe, 0xff], -2.0),
            (">i2", &[0xff, 0xfe], -2.0),
            ("<u2", &[0x01, 0x01], 257.0),
            (">u4", &[0, 0, 1, 0], 256.0),
            ("<f2", &[0x00, 0x3c], 1.0),
            (">f2", &[0xc0, 0x00], -2.0),
            (">f8", &2.5f64.to_be_bytes(), 2.5),
        ];
        for (descr, body, want) in cases {
            let a = parse_npy(&npy(descr, "(1,)", body)).unwrap();
            assert_eq!(a.data, vec![want], "{descr}");
        }
        assert_eq!(f16_to_f64(0x0001), 2f64.powi(-24));
        assert!(f16_to_f64(0x7c00).is_infinite());
    }

    #[test]
    fn hostile_headers_are_errors() {
        for (descr, shape, want) in [
            ("<f8", ")", "bad shape"),
            ("<f8", "(", "bad shape"),
            ("<f8", "(x,)", "not a dimension"),
            ("<c16", "(1,)", "unsupported dtype '<c16'"),
            ("\u{9c}8", "(1,)", "unsupported dtype"),
            ("<f8", "(4611686018427387904, 4)", "overflows"),
            ("<f8", "(3,)", "truncated data"),
        ] {
            let e = format!("{:#}", parse_npy(&npy(descr, shape, &[0; 8])).unwrap_err());
            assert!(e.contains(want), "{shape}: {e}");
        }
        assert!(parse_npy(b"\x93NUMPY\x02\x00\xff").is_err());
        assert!(parse_npy(b"\x93NUMPY\x01\x00\xff\xff{")
            .unwrap_err()
            .to_string()
            .contains("truncated header"));
    }
}
