//! `merit user`: add, list and change the people who sign in, and the demo
//! centre's users, one per role.

use crate::{SystemClock, open_store};
use anyhow::{Context, Result, bail};
use merit_domain::DEFAULT_TENANT;
use merit_domain::access::{Role, Scope};
use merit_service::access::{Caller, NewUser, UserChange, add_user, change_user, list_users};
use merit_store::Store;
use std::io::BufRead;

/// The password every demo user signs in with (the demo serves on loopback only).
pub const DEMO_PASSWORD: &str = "riverside-demo";

#[derive(clap::Subcommand)]
pub enum UserCommand {
    /// Add a user with a role and a scope (self, team:<id>, site:<id>,
    /// centre, contract:<id>). The password is read from stdin with
    /// --password-stdin, or made up and printed once.
    Add {
        #[arg(long)]
        db: String,
        username: String,
        /// The name shown in the application (default: the username).
        #[arg(long)]
        name: Option<String>,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[arg(long, default_value = "centre", value_parser = parse_scope)]
        scope: Scope,
        /// The agent a user with scope `self` is.
        #[arg(long)]
        agent: Option<String>,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Every user with role, scope and state.
    List {
        #[arg(long)]
        db: String,
    },
    /// Give a user another role and scope.
    SetRole {
        #[arg(long)]
        db: String,
        username: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[arg(long, value_parser = parse_scope)]
        scope: Scope,
        #[arg(long)]
        agent: Option<String>,
    },
    /// Stop a user from signing in (their records stay).
    Disable {
        #[arg(long)]
        db: String,
        username: String,
    },
    /// Let a disabled user sign in again.
    Enable {
        #[arg(long)]
        db: String,
        username: String,
    },
    /// Set a new password (from stdin with --password-stdin, or made up and printed once).
    ResetPassword {
        #[arg(long)]
        db: String,
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| {
        format!(
            "expected one of {}",
            Role::ALL
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

fn parse_scope(text: &str) -> Result<Scope, String> {
    Scope::parse(text).map_err(|e| e.to_string())
}

/// The password from stdin's first line, or a new random one to print.
fn password(from_stdin: bool) -> Result<(String, bool)> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        return Ok((line.trim_end_matches(['\r', '\n']).to_owned(), false));
    }
    Ok((merit_service::access::generate_password()?, true))
}

pub async fn run(command: UserCommand) -> Result<()> {
    let caller = Caller::command_line(DEFAULT_TENANT);
    let clock = SystemClock;
    match command {
        UserCommand::Add {
            db,
            username,
            name,
            role,
            scope,
            agent,
            password_stdin,
        } => {
            let store = open_store(&db).await?;
            let (password, made_up) = password(password_stdin)?;
            let new = NewUser {
                display_name: name.unwrap_or_else(|| username.clone()),
                username,
                password: password.clone(),
                role,
                scope,
                agent_id: agent,
            };
            let user = add_user(&store, &clock, &caller, new).await?;
            println!("added {} ({}, {})", user.username, user.role, user.scope);
            if made_up {
                println!("password: {password}  (shown once)");
            }
        }
        UserCommand::List { db } => {
            let store = open_store(&db).await?;
            for user in list_users(&store, &caller).await? {
                println!(
                    "{}\t{}\t{}\t{}{}",
                    user.username,
                    user.display_name,
                    user.role,
                    user.scope,
                    if user.disabled { "\tdisabled" } else { "" }
                );
            }
        }
        UserCommand::SetRole {
            db,
            username,
            role,
            scope,
            agent,
        } => {
            let store = open_store(&db).await?;
            let change = UserChange::Role {
                role,
                scope,
                agent_id: agent,
            };
            let user = change_user(&store, &clock, &caller, &username, change).await?;
            println!("{} is now {} ({})", user.username, user.role, user.scope);
        }
        UserCommand::Disable { db, username } => {
            let store = open_store(&db).await?;
            change_user(
                &store,
                &clock,
                &caller,
                &username,
                UserChange::Disabled(true),
            )
            .await?;
            println!("{username} can no longer sign in");
        }
        UserCommand::Enable { db, username } => {
            let store = open_store(&db).await?;
            change_user(
                &store,
                &clock,
                &caller,
                &username,
                UserChange::Disabled(false),
            )
            .await?;
            println!("{username} can sign in again");
        }
        UserCommand::ResetPassword {
            db,
            username,
            password_stdin,
        } => {
            let store = open_store(&db).await?;
            let (password, made_up) = password(password_stdin)?;
            let change = UserChange::Password(password.clone());
            change_user(&store, &clock, &caller, &username, change).await?;
            println!("password of {username} changed");
            if made_up {
                println!("password: {password}  (shown once)");
            }
        }
    }
    Ok(())
}

/// Creates the demo centre's users, one per role, if they are not there yet,
/// and returns (username, role, scope) of each.
pub async fn demo_users(store: &Store) -> Result<Vec<(String, Role, Scope)>> {
    let organisation = store.load_organisation(DEFAULT_TENANT).await?;
    let Some(agent) = organisation.agents.first() else {
        bail!("the demo centre has no agents");
    };
    let team = organisation
        .memberships
        .iter()
        .find(|m| m.agent_id == agent.id)
        .map(|m| m.team_id.clone())
        .unwrap_or_default();
    let users = [
        (
            "agent",
            Role::Agent,
            Scope::OwnRecords,
            Some(agent.id.clone()),
        ),
        ("lead", Role::TeamLead, Scope::Team(team), None),
        ("qa", Role::QaSpecialist, Scope::Centre, None),
        ("qa2", Role::QaSpecialist, Scope::Centre, None),
        ("trainer", Role::Trainer, Scope::Centre, None),
        ("workforce", Role::WorkforceManager, Scope::Centre, None),
        ("operations", Role::OperationsManager, Scope::Centre, None),
        ("payroll", Role::CompensationAdmin, Scope::Centre, None),
        (
            "client",
            Role::Client,
            Scope::Contract("riverside-energy".into()),
            None,
        ),
        ("admin", Role::Administrator, Scope::Centre, None),
    ];
    let caller = Caller::command_line(DEFAULT_TENANT);
    let mut made = Vec::new();
    for (username, role, scope, agent_id) in users {
        if store.user_named(DEFAULT_TENANT, username).await?.is_none() {
            let display_name = match &agent_id {
                Some(id) => organisation
                    .agents
                    .iter()
                    .find(|a| &a.id == id)
                    .map_or_else(|| username.to_owned(), |a| a.name.clone()),
                None => format!("Demo {}", role.as_str().replace('_', " ")),
            };
            let new = NewUser {
                username: username.into(),
                display_name,
                password: DEMO_PASSWORD.into(),
                role,
                scope: scope.clone(),
                agent_id,
            };
            add_user(store, &SystemClock, &caller, new).await?;
        }
        made.push((username.to_owned(), role, scope));
    }
    Ok(made)
}
