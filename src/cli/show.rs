//! `config show`: the config as the daemon takes it, the file with the environment's
//! overrides applied (each marked with the variable it came from), every secret redacted.
//! Keys the file leaves out take their defaults (config/default.toml documents them).

use std::path::Path;
use std::process::ExitCode;

use toml::{Table, Value};

use crate::config::{self, ENV_PREFIX};

/// Keys whose values are secrets wherever they appear.
const SECRET_KEYS: [&str; 3] = ["password", "token", "secret"];

pub fn config_show(path: &Path) -> anyhow::Result<ExitCode> {
    // Only a valid config is shown: the errors otherwise, as check-config gives them.
    if let Err(e) = config::load(path) {
        println!("{e}");
        return Ok(ExitCode::from(2));
    }
    let text = std::fs::read_to_string(path)?;
    let mut table: Table = text.parse()?;
    let mut overridden: Vec<(String, String)> = Vec::new();
    let mut vars: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with(&format!("{ENV_PREFIX}__")))
        .collect();
    vars.sort();
    for (name, value) in vars {
        if let Some(key) = config::env_key(&name)
            && set_path(&mut table, &key, Value::String(value))
        {
            overridden.push((key, name));
        }
    }
    redact(&mut table, "");
    println!("# {} as the daemon takes it", path.display());
    println!(
        "# (the environment's overrides marked; secrets redacted; keys left out take their defaults)"
    );
    let mut out = String::new();
    render(&table, "", &overridden, &mut out);
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// Sets `key` ("smtp.password", "feeds[0].url") in `table`, making tables on the way.
fn set_path(table: &mut Table, key: &str, value: Value) -> bool {
    let parts: Vec<&str> = key.split('.').collect();
    let mut here = table;
    for (i, part) in parts.iter().enumerate() {
        let (name, index) = match part.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (*part, None),
        };
        let last = i + 1 == parts.len();
        match index {
            Some(n) => {
                let Some(Value::Array(items)) = here.get_mut(name) else {
                    return false;
                };
                let Some(Value::Table(t)) = items.get_mut(n) else {
                    return false;
                };
                if last {
                    return false;
                }
                here = t;
            }
            None if last => {
                here.insert(name.to_owned(), value);
                return true;
            }
            None => {
                let entry = here
                    .entry(name.to_owned())
                    .or_insert_with(|| Value::Table(Table::new()));
                let Value::Table(t) = entry else {
                    return false;
                };
                here = t;
            }
        }
    }
    false
}

/// Hides secrets: password, token and secret values anywhere; webhook URLs (their path is
/// the credential) and credentials in feed URLs.
fn redact(table: &mut Table, section: &str) {
    for (k, v) in table.iter_mut() {
        match v {
            Value::String(s) if SECRET_KEYS.contains(&k.as_str()) => {
                *s = "<redacted>".into();
            }
            Value::String(s) if k == "url" => {
                if let Ok(u) = url::Url::parse(s) {
                    *s = if section == "webhooks" {
                        crate::domain::redact::webhook(&u)
                    } else {
                        crate::domain::redact::url(&u)
                    };
                }
            }
            Value::Table(t) => redact(t, k),
            Value::Array(items) => {
                for item in items {
                    if let Value::Table(t) = item {
                        redact(t, k);
                    }
                }
            }
            _ => {}
        }
    }
}

/// TOML for `table` at `path`: its values, then its tables and arrays of tables; a value
/// from the environment marked with its variable.
fn render(table: &Table, path: &str, overridden: &[(String, String)], out: &mut String) {
    let key_of = |k: &str| {
        if path.is_empty() {
            k.to_owned()
        } else {
            format!("{path}.{k}")
        }
    };
    for (k, v) in table {
        if is_table_like(v) {
            continue;
        }
        let full = key_of(k);
        let mark = overridden
            .iter()
            .find(|(key, _)| *key == full)
            .map(|(_, env)| format!("  # from {env}"))
            .unwrap_or_default();
        out.push_str(&format!("{} = {v}{mark}\n", bare(k)));
    }
    for (k, v) in table {
        let full = key_of(k);
        match v {
            Value::Table(t) => {
                out.push_str(&format!("\n[{}]\n", dotted(&full)));
                render(t, &full, overridden, out);
            }
            Value::Array(items) if is_table_like(v) => {
                for (i, item) in items.iter().enumerate() {
                    if let Value::Table(t) = item {
                        out.push_str(&format!("\n[[{}]]\n", dotted(&full)));
                        render(t, &format!("{full}[{i}]"), overridden, out);
                    }
                }
            }
            _ => {}
        }
    }
}

fn is_table_like(v: &Value) -> bool {
    match v {
        Value::Table(_) => true,
        Value::Array(items) => !items.is_empty() && items.iter().all(|i| i.is_table()),
        _ => false,
    }
}

/// A key as TOML writes it: bare when it can be, quoted otherwise.
fn bare(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_owned()
    } else {
        Value::String(k.to_owned()).to_string()
    }
}

/// A table's header path: "feeds[0].x" is written "feeds.x" inside its [[feeds]].
fn dotted(path: &str) -> String {
    path.split('.')
        .map(|p| bare(p.split('[').next().unwrap_or(p)))
        .collect::<Vec<_>>()
        .join(".")
}
