//! The devices this build trains on, in one place: the CPU always, CUDA in a `cuda` build.
//! Everything outside nn/ asks here instead of testing the `cuda` feature itself.

use super::backend::Backend;
use super::cpu::Isa;

/// Work to run on a device of any type (a generic method, so each device's type is known).
pub trait DeviceJob {
    /// What the work returns.
    type Output;
    /// Runs the work on `dev`.
    fn run<D: Backend>(self, dev: D) -> anyhow::Result<Self::Output>;
}

/// Runs `job` on the CPU.
pub fn on_cpu<J: DeviceJob>(job: J) -> anyhow::Result<J::Output> {
    job.run(dfdx::prelude::Cpu::default())
}

/// Runs `job` on CUDA GPU 0, its generator seeded with `seed`; an error in a build
/// without CUDA, or where no GPU is usable.
#[cfg(feature = "cuda")]
pub fn on_cuda<J: DeviceJob>(seed: u64, job: J) -> anyhow::Result<J::Output> {
    let dev = super::cuda::open(0, seed).map_err(|e| anyhow::anyhow!("device cuda: {e}"))?;
    job.run(dev)
}

/// See the CUDA build's `on_cuda`.
#[cfg(not(feature = "cuda"))]
pub fn on_cuda<J: DeviceJob>(_seed: u64, _job: J) -> anyhow::Result<J::Output> {
    anyhow::bail!("device cuda: this eegrun was built without CUDA; build one with scripts/cuda-build.sh (no GPU needed to build)")
}

/// `--version`: the version and the devices this binary was built for.
pub fn version() -> &'static str {
    if cfg!(feature = "cuda") {
        concat!(
            env!("CARGO_PKG_VERSION"),
            " (devices: cpu, cuda; `eegrun devices` shows which this machine offers)"
        )
    } else {
        concat!(
            env!("CARGO_PKG_VERSION"),
            " (devices: cpu; `eegrun devices` shows this machine's)"
        )
    }
}

/// One line on CUDA here: the GPUs, why none is usable, or that this build has no CUDA.
#[cfg(feature = "cuda")]
pub fn cuda_status() -> String {
    match super::cuda::gpus() {
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

/// See the CUDA build's `cuda_status`.
#[cfg(not(feature = "cuda"))]
pub fn cuda_status() -> String {
    "not in this build (build one with scripts/cuda-build.sh; no GPU needed to build)".to_string()
}

/// This CPU as runs record it: the machine's facts and the instruction-set paths eegrun's
/// kernels take here ("…; has avx512f, avx2, fma; kernels: AVX-512 (…)").
pub fn cpu_with_kernels() -> String {
    format!("{}; {}", crate::machine::cpu(), Isa::describe_paths())
}
