//! `eegrun devices`: the devices this binary can train on and what this machine offers.

pub(super) fn command() {
    println!("cpu   {}", cpu_line());
    println!("cuda  {}", cuda_line());
}

/// The CPU's model, its logical cores and the vector instruction sets it has.
pub(super) fn cpu_line() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| Some(line.strip_prefix("model name")?.split_once(':')?.1.trim().to_string()))
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{model}, {cores} logical cores; {}", vector_paths())
}

#[cfg(target_arch = "x86_64")]
fn vector_paths() -> String {
    let has: Vec<&str> = [
        ("avx512f", std::is_x86_feature_detected!("avx512f")),
        ("avx2", std::is_x86_feature_detected!("avx2")),
        ("fma", std::is_x86_feature_detected!("fma")),
    ]
    .iter()
    .filter(|(_, present)| *present)
    .map(|(name, _)| *name)
    .collect();
    let used = if std::is_x86_feature_detected!("avx2") {
        "AVX2"
    } else {
        "SSE2"
    };
    format!(
        "has {}; eegrun's kernels use {used}",
        if has.is_empty() {
            "none of avx512f, avx2, fma".to_string()
        } else {
            has.join(", ")
        }
    )
}

#[cfg(not(target_arch = "x86_64"))]
fn vector_paths() -> String {
    "portable kernels".to_string()
}

#[cfg(feature = "cuda")]
fn cuda_line() -> String {
    match crate::nn::cuda::gpus() {
        Ok(gpus) => gpus
            .iter()
            .enumerate()
            .map(|(i, gpu)| {
                format!(
                    "GPU {i}: {}, compute capability {}.{}, {:.0} GiB",
                    gpu.name,
                    gpu.compute_capability.0,
                    gpu.compute_capability.1,
                    gpu.memory_bytes as f64 / (1u64 << 30) as f64
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        Err(why) => format!("in this build, not usable here: {why}"),
    }
}

#[cfg(not(feature = "cuda"))]
fn cuda_line() -> String {
    "not in this build (build one with scripts/cuda-build.sh; no GPU needed to build)".to_string()
}
