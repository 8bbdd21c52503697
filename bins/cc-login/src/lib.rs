use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use cc_lib::error::Error;
use cc_lib::registry::{self, auth, ConnectOpts, Creds};
use cc_lib::Result;
use clap::{CommandFactory, Parser};

/// Log in to a registry: the credentials are checked against it, then
/// kept in the auth file podman also uses, with mode 0600:
/// $REGISTRY_AUTH_FILE when set, else $XDG_RUNTIME_DIR/containers/auth.json,
/// else /run/containers/UID/auth.json. cc-pull and cc-push read it.
#[derive(Debug, Parser)]
#[command(name = "cc-login", version)]
pub struct Args {
    #[command(flatten)]
    pub connect: ConnectOpts,
    /// The user name (asked on the terminal when not given)
    #[arg(short, long, value_name = "USER")]
    pub username: Option<String>,
    /// The password (other users see it in ps(1): --password-stdin is safer)
    #[arg(short, long, value_name = "PASS", conflicts_with = "password_stdin")]
    pub password: Option<String>,
    /// Read the password from stdin (one line) instead of the terminal
    #[arg(long)]
    pub password_stdin: bool,
    /// The registry: HOST[:PORT]
    pub registry: String,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let host = auth::registry_key(&a.registry);
    // Where the credentials will go, before any password is asked.
    auth::writable_auth_file()?;
    let tty = std::io::stdin().is_terminal();
    let user = match a.username {
        Some(u) => u,
        None if tty && !a.password_stdin && a.password.is_none() => {
            eprint!("Username: ");
            read_line()?
        }
        None => return Err(Error::Usage("a user name is needed: -u USER".into())),
    };
    let pass = if let Some(p) = a.password {
        eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
        p
    } else if a.password_stdin {
        read_line()?
    } else if tty {
        auth::prompt_password("Password: ")?
    } else {
        return Err(Error::Usage(
            "no terminal to ask the password on: use --password-stdin".into(),
        ));
    };
    let creds = Creds { user, pass };
    let mut opts = a.connect.options()?;
    opts.creds = Some(creds.clone());
    let client = registry::Client::connect(&host, "", &opts, false)?;
    client.check_login()?;
    auth::save(&host, Some(&creds))?;
    eprintln!("Login Succeeded");
    Ok(ExitCode::SUCCESS)
}

fn read_line() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::sys("read stdin", e))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}
