use clap::Parser;

fn main() {
    let cli = eegrun::cli::Cli::parse_from(eegrun::cli::normalize_args(std::env::args().collect()));
    if let Err(e) = eegrun::cli::run(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
