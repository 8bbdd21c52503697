//! What a program printed and how it exited: the assertions every test
//! makes on an [`Output`], and parsers for the programs' output formats.

use std::process::Output;

pub fn is_id(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Panic with the command's stdout and stderr unless it succeeded.
pub fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed: {:?}\nstdout: {}\nstderr: {}",
        out.status,
        stdout(out),
        stderr(out)
    );
}

/// Assert the exit code, showing both streams when it differs.
pub fn assert_code(out: &Output, code: i32, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: exit status {:?}, wanted {code}\nstdout: {}\nstderr: {}",
        out.status,
        stdout(out),
        stderr(out)
    );
}

/// The error contract: exactly one line on stderr, starting `prog: `.
pub fn assert_one_line_error(out: &Output, prog: &str) {
    let err = stderr(out);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "{prog}: wanted one line on stderr, got:\n{err}"
    );
    assert!(
        lines[0].starts_with(&format!("{prog}: ")),
        "{prog}: error line should start with '{prog}: ', got: {}",
        lines[0]
    );
}

/// cc-ps's default table header, docker's.
pub const PS_HEADER: [&str; 7] = [
    "CONTAINER ID",
    "IMAGE",
    "COMMAND",
    "CREATED",
    "STATUS",
    "PORTS",
    "NAMES",
];

/// Parse `--format json` output: one object per non-empty line.
pub fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The STATUS cell of the `cc-ps -a` table row whose first column is the
/// short id of `id`. The table's columns are separated by 2+ spaces.
pub fn ps_row_status(table: &str, id: &str) -> Option<String> {
    let mut lines = table.lines();
    let header = lines.next()?;
    let cols = split_cells(header);
    let idx = cols.iter().position(|c| c == "STATUS")?;
    for l in lines {
        let cells = split_cells(l);
        if cells
            .first()
            .is_some_and(|c| !c.is_empty() && id.starts_with(c.as_str()))
        {
            return cells.get(idx).cloned();
        }
    }
    None
}

fn split_cells(line: &str) -> Vec<String> {
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect()
}

/// The column names of a table's first line (columns are two or more
/// spaces apart).
pub fn table_header(table: &str) -> Vec<&str> {
    table
        .lines()
        .next()
        .unwrap_or_default()
        .split("  ")
        .filter(|s| !s.trim().is_empty())
        .map(str::trim)
        .collect()
}
