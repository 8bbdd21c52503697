use std::process::ExitCode;

use cc_lib::error::Error;
use cc_lib::registry::auth;
use cc_lib::Result;
use clap::{CommandFactory, Parser};

/// Log out of a registry: its credentials leave the auth file cc-login
/// writes ($REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json,
/// else /run/containers/UID/auth.json). ~/.docker/config.json is not
/// touched. Exits 3 when there were none.
#[derive(Debug, Parser)]
#[command(name = "cc-logout", version)]
pub struct Args {
    /// The registry: HOST[:PORT]
    pub registry: String,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn run(a: Args) -> Result<ExitCode> {
    let host = auth::registry_key(&a.registry);
    if !auth::save(&host, None)? {
        return Err(Error::not_found("login for", host));
    }
    eprintln!("Removed login credentials for {host}");
    Ok(ExitCode::SUCCESS)
}
