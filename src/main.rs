//! The `stampede` binary: everything lives in the library's `cli` module.

fn main() -> std::process::ExitCode {
    stampede::cli::main()
}
