fn main() -> std::process::ExitCode {
    // The same binary serves as each container's monitor (see cc_lib::monitor).
    cc_lib::monitor::main_if_monitor().unwrap_or_else(|| cc_lib::cli::main_with(125, cc_run::run))
}
