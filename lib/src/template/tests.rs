use serde_json::{json, Value};

use super::*;

fn run(t: &str, data: Value) -> Result<String, TemplateError> {
    Template::parse(t)?.execute(&data, &|_, _| None)
}

fn ok(t: &str, data: Value) -> String {
    run(t, data).unwrap_or_else(|e| panic!("{t}: {e}"))
}

#[test]
fn fields_variables_and_literals() {
    let d = json!({"State": {"Pid": 42, "Running": true}, "Name": "db"});
    assert_eq!(ok("{{.Name}} {{.State.Pid}}", d.clone()), "db 42");
    assert_eq!(ok("{{$p := .State.Pid}}{{$p}}", d.clone()), "42");
    assert_eq!(
        ok("{{with $s := .State}}{{$s.Pid}}{{end}}", d.clone()),
        "42"
    );
    assert_eq!(
        ok(r#"{{"a\tb"}} {{`raw\t`}} {{1}} {{true}}"#, d.clone()),
        "a\tb raw\\t 1 true"
    );
    assert_eq!(ok("{{(.State).Pid}} {{$.Name}}", d.clone()), "42 db");
    assert_eq!(ok("a  {{- .Name -}}  b", d), "adbb");
}

#[test]
fn control_actions() {
    let d = json!({"M": [{"S": "/a"}, {"S": "/b"}], "L": {"z": "1", "a": "2"}, "E": []});
    assert_eq!(ok("{{range .M}}{{.S}},{{end}}", d.clone()), "/a,/b,");
    assert_eq!(
        ok("{{range $i, $m := .M}}{{$i}}={{$m.S}} {{end}}", d.clone()),
        "0=/a 1=/b "
    );
    assert_eq!(
        ok("{{range $k, $v := .L}}{{$k}}:{{$v}} {{end}}", d.clone()),
        "a:2 z:1 "
    );
    assert_eq!(ok("{{range .E}}x{{else}}none{{end}}", d.clone()), "none");
    assert_eq!(
        ok(
            "{{range .M}}{{if eq .S \"/b\"}}{{break}}{{end}}{{.S}}{{end}}",
            d.clone()
        ),
        "/a"
    );
    assert_eq!(
        ok("{{if .E}}1{{else if .M}}2{{else}}3{{end}}", d.clone()),
        "2"
    );
    assert_eq!(ok("{{with .E}}1{{else}}0{{end}}", d.clone()), "0");
    assert_eq!(
        ok("{{.L}} {{.E}} {{index .M 1}}", d),
        "map[a:2 z:1] [] map[S:/b]"
    );
}

#[test]
fn docker_functions() {
    let d = json!({"Env": ["A=1", "B=2"], "L": {"k": "v"}, "N": "web"});
    assert_eq!(ok("{{json .Env}}", d.clone()), r#"["A=1","B=2"]"#);
    assert_eq!(ok("{{json .L}}", d.clone()), r#"{"k":"v"}"#);
    assert_eq!(ok(r#"{{join .Env ","}}"#, d.clone()), "A=1,B=2");
    assert_eq!(ok(r#"{{index (split "a:b" ":") 1}}"#, d.clone()), "b");
    assert_eq!(
        ok("{{upper .N}} {{title .N}} {{lower \"X\"}}", d.clone()),
        "WEB Web x"
    );
    assert_eq!(
        ok("{{truncate .N 2}}|{{pad .N 1 2}}|", d.clone()),
        "we| web  |"
    );
    assert_eq!(ok("{{println .N}}", d.clone()), "web\n");
    assert_eq!(ok(r#"{{index .L "k"}}{{index .L "none"}}"#, d.clone()), "v");
    assert_eq!(ok(r#"{{printf "%-5s|%3d" .N 7}}"#, d.clone()), "web  |  7");
    assert_eq!(ok("{{.N | upper | printf \"<%s>\"}}", d.clone()), "<WEB>");
    assert_eq!(
        ok("{{len .Env}} {{not .N}} {{and 1 .N}} {{or \"\" 0}}", d),
        "2 false web 0"
    );
}

#[test]
fn errors_name_the_field_and_the_place() {
    let e = run("{{.Foo}}", json!({"Name": "x"})).unwrap_err();
    assert_eq!(
        e.0,
        "template: :1:2: executing \"\" at <.Foo>: can't evaluate field Foo"
    );
    let e = run("id\n {{.State.Nope}}", json!({"State": {}})).unwrap_err();
    assert!(e.0.starts_with("template: :2:3: executing"), "{e}");
    assert!(e.0.ends_with("can't evaluate field Nope"), "{e}");
    for bad in [
        "{{.Name",
        "{{if .A}}x",
        "{{end}}",
        "{{nosuch .A}}",
        "{{.A | }}",
        "{{(.A}}",
    ] {
        let e = run(bad, json!({})).unwrap_err();
        assert!(e.0.starts_with("template: :1"), "{bad}: {e}");
    }
    let e = run("{{.N 1}}", json!({"N": "x"})).unwrap_err();
    assert!(e.0.contains("N is not a method but has arguments"), "{e}");
}

#[test]
fn methods_with_arguments() {
    let t = Template::parse(r#"{{.Label "a.b"}}"#).unwrap();
    let m = |n: &str, a: &[Value]| {
        (n == "Label").then(|| format!("<{}>", a[0].as_str().unwrap()).into())
    };
    assert_eq!(t.execute(&json!({}), &m).unwrap(), "<a.b>");
    assert!(t.uses("Label") && !t.uses("Lab"));
}

#[test]
fn tables_align_as_docker_tabwriter() {
    let headers = [("ID", "CONTAINER ID"), ("Names", "NAMES")];
    let t = Template::parse("{{.ID}}\t{{.Names}}").unwrap();
    let rows = Rows {
        template: &t,
        table: true,
        headers: &headers,
    };
    let data = [
        json!({"ID": "abc", "Names": "db"}),
        json!({"ID": "0123456789abcdef", "Names": "x"}),
    ];
    let out = rows.render(&data, &|_, _, _| None).unwrap();
    assert_eq!(
        out,
        "CONTAINER ID       NAMES\nabc                db\n0123456789abcdef   x\n"
    );
    assert_eq!(tabwrite("a\tb\n"), "a         b\n");
    let rows = Rows {
        template: &t,
        table: false,
        headers: &headers,
    };
    let e = Rows {
        template: &Template::parse("{{.Nope}}").unwrap(),
        ..rows
    };
    assert!(e.render(&[], &|_, _, _| None).is_err());
    let ranged = Template::parse("{{range .Names}}{{.}}{{end}}").unwrap();
    let r = Rows {
        template: &ranged,
        ..rows
    };
    assert_eq!(r.render(&[], &|_, _, _| None).unwrap(), "");
}

#[test]
fn format_words() {
    assert_eq!(Spec::of("table"), Spec::Table);
    assert_eq!(Spec::of("json"), Spec::Json);
    assert_eq!(
        Spec::of(r"table {{.ID}}\t{{.Names}}"),
        Spec::Template {
            text: "{{.ID}}\t{{.Names}}".into(),
            table: true
        }
    );
}
