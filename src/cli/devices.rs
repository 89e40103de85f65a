//! `eegrun devices`: the devices this binary can train on and what this machine offers.

pub(super) fn command() {
    println!("cpu   {}", crate::machine::cpu());
    println!("cuda  {}", cuda_line());
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
