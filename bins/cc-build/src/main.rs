fn main() -> std::process::ExitCode {
    cc_lib::cli::main(cc_build::run)
}
