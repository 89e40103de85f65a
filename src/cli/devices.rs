//! `eegrun devices`: the devices this binary can train on and what this machine offers.

pub(super) fn command() {
    println!("cpu   {}", crate::nn::device::cpu_with_kernels());
    println!("cuda  {}", crate::nn::device::cuda_status());
}
