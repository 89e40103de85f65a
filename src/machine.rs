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

/// The vector instruction sets the CPU has and the paths eegrun's kernels use, e.g.
/// "has avx512f, avx2, fma; kernels: AVX-512 (element-wise, convolutions, gemm)".
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
    let has = if has.is_empty() {
        "none of avx512f, avx2, fma".to_string()
    } else {
        has.join(", ")
    };
    let kernels = crate::nn::Isa::chosen();
    if kernels == crate::nn::Isa::Avx512 {
        return format!("has {has}; kernels: AVX-512 (element-wise, convolutions, gemm)");
    }
    // Off the AVX-512 path gemm 0.15 runs the products, AVX2+FMA at best.
    let products = if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        "AVX2+FMA"
    } else {
        "SSE2"
    };
    // With AVX2 and FMA the direct convolution runs too (`nn::cpu::direct`).
    let uses = if kernels == crate::nn::Isa::Avx2 && products == "AVX2+FMA" {
        "convolutions, gemm"
    } else {
        "gemm: convolutions"
    };
    format!(
        "has {has}; kernels: {} (element-wise), {products} ({uses})",
        kernels.name()
    )
}

#[cfg(not(target_arch = "x86_64"))]
fn vector_paths() -> String {
    "eegrun's kernels use portable code".to_string()
}

/// "MODEL, N logical cores; has …; eegrun's kernels use …".
pub fn cpu() -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{}, {cores} logical cores; {}", cpu_model(), vector_paths())
}

/// This machine's host name.
pub fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}
