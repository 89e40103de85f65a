use clap::Parser;

fn main() {
    // Die quietly when the reader of stdout goes away (`eegrun ... | head`), like other
    // Unix tools, instead of panicking on a broken pipe.
    // SAFETY: resetting a signal disposition to its default at start-up, before any threads.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = eegrun::cli::Cli::parse_from(eegrun::cli::normalize_args(std::env::args().collect()));
    if let Err(e) = eegrun::cli::run(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
