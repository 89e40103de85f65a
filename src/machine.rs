//! Facts about the machine that runs eegrun, recorded with each run and shown by
//! `eegrun devices`, `bench` and `report`, so numbers from different machines are told apart.

/// The CPU's model name (from /proc/cpuinfo), e.g. "AMD EPYC 9R14 96-Core Processor".
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| Some(line.strip_prefix("model name")?.split_once(':')?.1.trim().to_string()))
        })
        .unwrap_or_else(|| "unknown CPU".to_string())
}

/// The vector instruction sets the CPU has, e.g. "has avx512f, avx2, fma".
#[cfg(target_arch = "x86_64")]
fn vector_sets() -> String {
    let has: Vec<&str> = [
        ("avx512f", std::is_x86_feature_detected!("avx512f")),
        ("avx2", std::is_x86_feature_detected!("avx2")),
        ("fma", std::is_x86_feature_detected!("fma")),
    ]
    .iter()
    .filter(|(_, present)| *present)
    .map(|(name, _)| *name)
    .collect();
    if has.is_empty() {
        "has none of avx512f, avx2, fma".to_string()
    } else {
        format!("has {}", has.join(", "))
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn vector_sets() -> String {
    "not an x86-64 CPU".to_string()
}

/// "MODEL, N logical cores; has …" (which paths eegrun's kernels take here is
/// `nn::device::cpu_with_kernels`).
pub fn cpu() -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{}, {cores} logical cores; {}", cpu_model(), vector_sets())
}
/// This machine's host name.
pub fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}
