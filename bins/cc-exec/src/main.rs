fn main() -> std::process::ExitCode {
    cc_lib::cli::main_with(125, cc_exec::run)
}
