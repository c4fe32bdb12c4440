//! The `model-signing` command-line tool.

fn main() -> std::process::ExitCode {
    model_signing_cli::main()
}
