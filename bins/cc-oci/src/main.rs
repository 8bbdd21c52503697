fn main() -> std::process::ExitCode {
    cc_oci::main()
}
