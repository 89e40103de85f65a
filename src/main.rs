use clap::Parser;

fn main() {
    let cli = eegrun::cli::Cli::parse();
    if let Err(e) = eegrun::cli::run(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
