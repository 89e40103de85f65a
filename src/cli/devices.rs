//! `eegrun devices`: the devices this binary can train on, what this machine offers, and
//! the kernel plan of each model's convolutions on this CPU.

/// Trials per batch the plan is shown for (the lab's).
const BATCH: usize = 64;

pub(super) fn command() {
    println!("cpu   {}", crate::nn::device::cpu_with_kernels());
    println!("cuda  {}", crate::nn::device::cuda_status());
    let lab = super::models::shown(crate::data::Shape::LAB, &Default::default());
    for (kind, model) in lab.into_iter().filter_map(|(kind, m)| Some((kind, m.ok()?))) {
        println!("\n{kind} on the cpu, batches of {BATCH}: the kernel plan");
        for line in crate::nn::describe_plan(&model.convolutions(BATCH)) {
            println!("  {line}");
        }
    }
}
