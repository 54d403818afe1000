//! `suspense users add NAME --role ROLE`: records a user in the configuration file and prints
//! a new bearer token once; only its SHA-256 is stored.

use std::io::Write;

use suspense_domain::{BranchCode, UserId};

use super::{Cli, CliError};
use crate::auth::{new_token, token_hash, Role};
use crate::config::ConfigFile;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Add a user with one or more roles (operator, supervisor, reporter, auditor).
    Add {
        name: String,
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// The branch they work at: they see and act on it and the branches under it only.
        #[arg(long)]
        home_branch: Option<String>,
        /// With a home branch, still see every branch (head-office staff).
        #[arg(long)]
        head_office: bool,
    },
}

pub fn run(cli: &Cli, command: &Command) -> Result<(), CliError> {
    let Command::Add {
        name,
        roles,
        home_branch,
        head_office,
    } = command;
    let name = UserId::parse(name)?;
    let home_branch = home_branch
        .as_deref()
        .map(BranchCode::parse)
        .transpose()
        .map_err(|e| e.for_field("home_branch"))?;
    let roles: Vec<Role> = roles
        .iter()
        .map(|r| Role::parse(r))
        .collect::<Result<_, _>>()?;
    let existing = ConfigFile::load(&cli.config, false)?;
    if existing.users.iter().any(|u| u.name == name.as_str()) {
        return Err(suspense_domain::InvalidInput::new(
            "name",
            format!("user {name} already exists in {}", cli.config.display()),
        )
        .into());
    }
    let token =
        new_token().map_err(|e| CliError::Other(format!("no randomness for a token: {e}")))?;
    let roles_toml: Vec<String> = roles
        .iter()
        .map(|r| format!("\"{}\"", r.as_str()))
        .collect();
    // Appended, so the rest of the file (and its comments) stays as the operator wrote it.
    let mut block = format!(
        "\n[[users]]\nname = \"{name}\"\nroles = [{}]\ntoken_sha256 = \"{}\"\n",
        roles_toml.join(", "),
        token_hash(&token)
    );
    if let Some(home) = home_branch {
        let quoted = toml::Value::String(home.to_string());
        block.push_str(&format!("home_branch = {quoted}\n"));
    }
    if *head_office {
        block.push_str("head_office = true\n");
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&cli.config)?;
    file.write_all(block.as_bytes())?;
    // Check the result parses before telling the operator it worked.
    ConfigFile::load(&cli.config, true)?;
    // The token exists only here: output nobody reads is a failure, not an early end.
    outln!("{token}").map_err(|err| {
        CliError::Other(format!(
            "user {name} was added to {}, but its token could not be written ({err}); \
             remove the user's [[users]] block from the file and add the user again",
            cli.config.display()
        ))
    })?;
    eprintln!(
        "user {name} added to {}; the token above is shown only once",
        cli.config.display()
    );
    Ok(())
}
