//! `picket user` and `picket token`: dashboard accounts and API tokens.

use std::io::{self, BufRead, IsTerminal};

use anyhow::{bail, Context};

use super::DataDirArg;
use crate::auth::{self, Role, MIN_PASSWORD_LEN};
use crate::store::{accounts, audit};

/// Dashboard accounts: add (or reset the password of), list and delete.
///
/// Examples:
///   sudo picket user add alice                 # asks for the password twice
///   echo "$PW" | sudo picket user add ci --role viewer --password-stdin
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct UserArgs {
    #[command(subcommand)]
    pub command: UserCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Add a user, or set a new password and role for an existing one (which ends their
    /// sessions).
    Add {
        name: String,
        #[arg(long, value_enum, default_value = "admin")]
        role: RoleArg,
        /// Read the password from the first line of standard input instead of asking.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        data: DataDirArg,
    },
    /// List users and their roles.
    List {
        #[command(flatten)]
        data: DataDirArg,
    },
    /// Delete a user, with their sessions and API tokens.
    Delete {
        name: String,
        #[command(flatten)]
        data: DataDirArg,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RoleArg {
    Admin,
    Viewer,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Admin => Role::Admin,
            RoleArg::Viewer => Role::Viewer,
        }
    }
}

/// API tokens for scripts (`Authorization: Bearer TOKEN`): create, list, revoke.
///
/// Examples:
///   sudo picket token create backup-script --user alice
///   curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8470/api/alerts
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Create a token acting as USER (with USER's role); it is printed once.
    Create {
        name: String,
        #[arg(long, value_name = "USER")]
        user: String,
        #[command(flatten)]
        data: DataDirArg,
    },
    /// List tokens (never their secrets).
    List {
        #[command(flatten)]
        data: DataDirArg,
    },
    /// Revoke a token by its id (from `picket token list`).
    Revoke {
        id: i64,
        #[command(flatten)]
        data: DataDirArg,
    },
}

/// The store, created if needed (accounts can be made before the first `picket run`).
fn open_store(data: &DataDirArg) -> anyhow::Result<rusqlite::Connection> {
    Ok(crate::store::open(&data.dir()?)?)
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin || !io::stdin().is_terminal() {
        let mut line = String::new();
        io::stdin().lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    let first = rpassword::prompt_password("Password: ")?;
    let again = rpassword::prompt_password("Again: ")?;
    if first != again {
        bail!("the two passwords differ");
    }
    Ok(first)
}

fn cli_audit(
    conn: &rusqlite::Connection,
    action: &str,
    target: &str,
    detail: Option<&str>,
) -> anyhow::Result<()> {
    let who = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".into());
    audit::record(
        conn,
        &audit::NewEntry {
            user: Some(&format!("{who} (cli)")),
            address: Some("local"),
            action,
            target: Some(target),
            detail,
            ok: true,
        },
    )?;
    Ok(())
}

pub fn run_user(args: UserArgs) -> anyhow::Result<()> {
    match args.command {
        UserCommand::Add {
            name,
            role,
            password_stdin,
            data,
        } => {
            if name.is_empty()
                || name.len() > 64
                || name.chars().any(|c| c.is_control() || c.is_whitespace())
            {
                bail!("user name `{name}`: use 1 to 64 characters without spaces");
            }
            let password = read_password(password_stdin)?;
            if password.chars().count() < MIN_PASSWORD_LEN {
                bail!("the password must have at least {MIN_PASSWORD_LEN} characters");
            }
            let hash = auth::hash_password(&password)?;
            let conn = open_store(&data)?;
            let role: Role = role.into();
            let new =
                accounts::upsert_user(&conn, &name, role, &hash).context("saving the user")?;
            cli_audit(
                &conn,
                if new { "user.add" } else { "user.password" },
                &format!("user {name}"),
                Some(role.as_str()),
            )?;
            println!(
                "{} {name} ({}). Log in at the dashboard (http://127.0.0.1:8470 by default).",
                if new { "added" } else { "updated" },
                role.as_str()
            );
        }
        UserCommand::List { data } => {
            let conn = open_store(&data)?;
            for u in accounts::list_users(&conn)? {
                println!("{}\t{}", u.name, u.role.as_str());
            }
        }
        UserCommand::Delete { name, data } => {
            let conn = open_store(&data)?;
            if !accounts::delete_user(&conn, &name)? {
                bail!("no user named {name}");
            }
            cli_audit(&conn, "user.delete", &format!("user {name}"), None)?;
            println!("deleted {name}");
        }
    }
    Ok(())
}

pub fn run_token(args: TokenArgs) -> anyhow::Result<()> {
    match args.command {
        TokenCommand::Create { name, user, data } => {
            let conn = open_store(&data)?;
            let Some((u, _)) = accounts::find_user(&conn, &user)? else {
                bail!("no user named {user} (add one with `picket user add {user}`)");
            };
            let secret = auth::new_secret("pkt_")?;
            let id = accounts::create_token(&conn, &name, u.id, &auth::digest(&secret))?;
            cli_audit(
                &conn,
                "token.create",
                &format!("token {id}"),
                Some(&format!("{name} for {user}")),
            )?;
            eprintln!(
                "token {id} `{name}` acts as {user} ({}); it is shown only now:",
                u.role.as_str()
            );
            println!("{secret}");
        }
        TokenCommand::List { data } => {
            let conn = open_store(&data)?;
            println!("ID\tNAME\tUSER\tCREATED\tLAST USED\tREVOKED");
            for t in accounts::list_tokens(&conn)? {
                let opt = |t: Option<crate::base::timestamp::Timestamp>| {
                    t.map_or("-".to_string(), |t| t.to_string())
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    t.id,
                    super::output::terminal_safe(&t.name, 64),
                    t.user,
                    t.created,
                    opt(t.last_used),
                    opt(t.revoked)
                );
            }
        }
        TokenCommand::Revoke { id, data } => {
            let conn = open_store(&data)?;
            if !accounts::revoke_token(&conn, id)? {
                bail!("no live token with id {id}");
            }
            cli_audit(&conn, "token.revoke", &format!("token {id}"), None)?;
            println!("revoked token {id}");
        }
    }
    Ok(())
}
