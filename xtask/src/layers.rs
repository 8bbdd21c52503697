//! The map stays true: `lib/src/lib.rs`'s module table lists every module
//! lowest first and no module imports one listed after it, and each
//! `module::function` that `docs/architecture.md` names still exists.
//!
//! Imports are read from the source text (`crate::x`, `crate::{x, y}`), not
//! from the compiler: the rule is about what a reader sees, and a text scan
//! needs no build.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Every problem of the layering and of the map, one line each.
pub fn check(root: &Path) -> Vec<String> {
    let src = root.join("lib/src");
    let lib = fs::read_to_string(src.join("lib.rs")).unwrap_or_default();
    let mut problems = table_problems(&lib);
    let order = table(&lib);
    for (i, module) in order.iter().enumerate() {
        let above: BTreeSet<&str> = order[..i].iter().map(String::as_str).collect();
        for (file, used) in imports(&src, module, &order) {
            if !above.contains(used.as_str()) {
                problems.push(format!(
                    "{}: module `{module}` imports `{used}`, which lib.rs lists after it",
                    file.strip_prefix(root).unwrap_or(&file).display()
                ));
            }
        }
    }
    let map = fs::read_to_string(root.join("docs/architecture.md")).unwrap_or_default();
    for path in map_paths(&map, &order) {
        if !item_exists(&src, &path) {
            problems.push(format!(
                "docs/architecture.md: `{path}` is not in lib/src (renamed or moved?)"
            ));
        }
    }
    problems
}

/// The modules of lib.rs's table, in its order: rows "//! | `name` | ...".
fn table(lib: &str) -> Vec<String> {
    lib.lines()
        .filter_map(|l| l.strip_prefix("//! | `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect()
}

/// Modules declared (`pub mod x;`) but not in the table, and the reverse.
fn table_problems(lib: &str) -> Vec<String> {
    let listed: BTreeSet<String> = table(lib).into_iter().collect();
    let declared: BTreeSet<String> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';').to_string())
        .collect();
    let mut out = Vec::new();
    for m in declared.difference(&listed) {
        out.push(format!(
            "lib/src/lib.rs: module `{m}` is not in the module table"
        ));
    }
    for m in listed.difference(&declared) {
        out.push(format!(
            "lib/src/lib.rs: the table lists `{m}`, which is no module"
        ));
    }
    out
}

/// The other top-level modules each file of `module` names, with the file.
fn imports(src: &Path, module: &str, known: &[String]) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for file in rust_files(src, module) {
        let text = fs::read_to_string(&file).unwrap_or_default();
        let mut used = BTreeSet::new();
        for (i, _) in text.match_indices("crate::") {
            let rest = &text[i + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let inner = group.split('}').next().unwrap_or("");
                used.extend(inner.split(',').map(|s| first_segment(s.trim())));
            } else {
                used.insert(first_segment(rest));
            }
        }
        for u in used {
            if u != module && known.contains(&u) {
                out.push((file.clone(), u));
            }
        }
    }
    out
}

fn first_segment(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// `lib/src/<module>.rs`, or every .rs file under `lib/src/<module>/`.
fn rust_files(src: &Path, module: &str) -> Vec<PathBuf> {
    let single = src.join(format!("{module}.rs"));
    if single.is_file() {
        return vec![single];
    }
    let mut out = Vec::new();
    let mut todo = vec![src.join(module)];
    while let Some(dir) = todo.pop() {
        for e in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Backquoted `a::b::c` paths of the map whose first segment is a module.
fn map_paths(map: &str, modules: &[String]) -> Vec<String> {
    map.split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| s.contains("::") && !s.contains(' '))
        .filter(|s| modules.iter().any(|m| s.split("::").next() == Some(m)))
        .map(str::to_string)
        .collect()
}

/// Whether `a::b::item` (or `a::b::Type::method`) is defined where its
/// path says: the item's name after `fn`, `struct`, `enum`, ... in the file
/// of the longest module path that exists.
fn item_exists(src: &Path, path: &str) -> bool {
    let parts: Vec<&str> = path.split("::").collect();
    for split in (1..parts.len()).rev() {
        let Some(file) = module_file(src, &parts[..split]) else {
            continue;
        };
        let text = fs::read_to_string(file).unwrap_or_default();
        return parts[split..].iter().all(|name| defines(&text, name));
    }
    false
}

fn module_file(src: &Path, parts: &[&str]) -> Option<PathBuf> {
    let rel: PathBuf = parts.iter().collect();
    [
        src.join(&rel).with_extension("rs"),
        src.join(&rel).join("mod.rs"),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

fn defines(text: &str, name: &str) -> bool {
    [
        "fn", "struct", "enum", "trait", "type", "const", "static", "mod",
        // A type's methods may live in a submodule's `impl Type` block.
        "impl",
    ]
    .iter()
    .any(|kw| {
        text.match_indices(&format!("{kw} {name}")).any(|(i, m)| {
            let after = text[i + m.len()..].chars().next();
            !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_real_tree_passes() {
        let root = crate::workspace_root();
        assert_eq!(check(&root), Vec::<String>::new());
    }

    #[test]
    fn an_upward_import_and_a_stale_name_are_reported() {
        let d = std::env::temp_dir().join(format!("xtask-layers-{}", std::process::id()));
        let src = d.join("lib/src");
        fs::create_dir_all(src.join("b")).unwrap();
        fs::create_dir_all(d.join("docs")).unwrap();
        fs::write(
            src.join("lib.rs"),
            "//! | `a` | x |\n//! | `b` | y |\npub mod a;\npub mod b;\npub mod c;\n",
        )
        .unwrap();
        fs::write(src.join("a.rs"), "use crate::{b::f, a};\npub fn g() {}\n").unwrap();
        fs::write(src.join("b/mod.rs"), "pub fn f() {}\n").unwrap();
        fs::write(
            d.join("docs/architecture.md"),
            "| x | `a::g` | `b::f` | `b::gone` | `a::g_more` |\n",
        )
        .unwrap();
        let problems = check(&d);
        fs::remove_dir_all(&d).unwrap();
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(problems[0].contains("`c` is not in the module table"));
        assert!(problems[1].contains("module `a` imports `b`"));
        assert!(problems[2].contains("`b::gone`"));
        assert!(problems[3].contains("`a::g_more`"));
    }
}
