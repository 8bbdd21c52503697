//! Fails when a committed man page or completion no longer matches the
//! programs' clap definitions, so `cargo test --workspace` catches drift.

#[test]
fn man_pages_and_completions_are_up_to_date() {
    let problems = xtask::check(&xtask::workspace_root());
    assert!(
        problems.is_empty(),
        "generated files are out of date:\n  {}\nrun `cargo run -p xtask -- man completions` and commit the result",
        problems.join("\n  ")
    );
}
