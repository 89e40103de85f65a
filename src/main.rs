use clap::error::ErrorKind;
use clap::Parser;

fn main() {
    // Die quietly when the reader of stdout goes away (`eegrun ... | head`), like other
    // Unix tools, instead of panicking on a broken pipe.
    // SAFETY: resetting a signal disposition to its default at start-up, before any threads.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args = eegrun::cli::normalize_args(std::env::args().collect());
    let cli = match eegrun::cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        // A bad value is bad input like any other: one line, exit 1.
        Err(e) if matches!(e.kind(), ErrorKind::InvalidValue | ErrorKind::ValueValidation) => {
            let text = e.to_string();
            let message = text.split("\n\nFor more information").next().unwrap_or_default();
            let line = message.trim_end().replace('\n', "\\n");
            eprintln!("{}", eegrun::escape::visible(&line));
            std::process::exit(1);
        }
        Err(e) => e.exit(),
    };
    if let Err(e) = eegrun::cli::run(cli) {
        // One line, whatever a path or a record in the message holds.
        eprintln!("error: {}", eegrun::escape::visible(&format!("{e:#}")));
        std::process::exit(1);
    }
}
