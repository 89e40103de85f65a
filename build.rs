//! Records the git revision (when built from a checkout) for run status files.
fn main() {
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs");
    let revision = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok());
    if let Some(rev) = revision {
        println!("cargo:rustc-env=EEGRUN_GIT_REVISION={}", rev.trim());
    }
}
