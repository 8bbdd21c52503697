//! Fails when a committed man page or completion no longer matches the
//! programs' clap definitions, or README.md's cc-run options and cc(7)'s
//! synopses name options the programs lack (or lack ones they have), so
//! `cargo test --workspace` catches drift.

#[test]
fn man_pages_completions_and_docs_are_up_to_date() {
    let problems = xtask::check(&xtask::workspace_root());
    assert!(
        problems.is_empty(),
        "out of date:\n  {}\ngenerated files: run `cargo run -p xtask -- man completions` and commit the result; README.md and man/cc.7: edit them",
        problems.join("\n  ")
    );
}
