//! Turns the `cc-* = { path = "../bins/cc-*" }` lines of this package's
//! Cargo.toml into the PROGRAMS table, so that adding a program is one line
//! in one place: the dependency that cargo needs anyway.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let manifest = Path::new(&dir).join("Cargo.toml");
    println!("cargo:rerun-if-changed={}", manifest.display());
    let text = std::fs::read_to_string(&manifest).expect("read xtask/Cargo.toml");
    let mut table = String::from("pub const PROGRAMS: &[Program] = &[\n");
    for name in programs(&text) {
        let krate = name.replace('-', "_");
        writeln!(
            table,
            "    Program {{ name: {name:?}, command: {krate}::command }},"
        )
        .unwrap();
    }
    table.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("programs.rs");
    std::fs::write(out, table).expect("write programs.rs");
}

/// The names of the `[dependencies]` that are programs (`cc-<verb>` with a
/// path under bins/), in file order.
fn programs(manifest: &str) -> Vec<String> {
    let mut in_deps = false;
    let mut names = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        let Some((name, spec)) = line.split_once('=') else {
            continue;
        };
        let name = name.trim();
        if in_deps && name.starts_with("cc-") && spec.contains("\"../bins/") {
            assert!(
                spec.contains(&format!("\"../bins/{name}\"")),
                "xtask/Cargo.toml: {name} must have path \"../bins/{name}\""
            );
            names.push(name.to_string());
        }
    }
    names
}
