//! The tables of issue 22 that the desired state accepts and the engine does not enforce yet
//! (issue 21's credential tables are enforced: `plan/engine/user_credentials.rs`,
//! `server_certificates.rs`). A table that parses and then does nothing would be the false assurance those
//! issues are about, so `validate`, `plan`, `apply` and `watch` refuse them, each located at its
//! key; `snapshot` accepts them and reads what they ask for. The engine work removes each
//! entry of [`NOT_YET_ENFORCED`] as it enforces the table.

use super::load::{ConfigProblem, Desired, LoadError};
use super::model::{AccessKeysSpec, AuditSpec, DesiredDoc, UsersSpec};

/// The keys not enforced yet, as written in a desired state (paths within a target's tables;
/// `organization.…` at the top level only).
pub const NOT_YET_ENFORCED: &[&str] = &[
    "users.inventory",
    "users.exception",
    "users.break_glass",
    "users.require_tags",
    "users.access_keys.forbid_setup_keys",
    "user[].break_glass",
    "audit.require_security_contact",
    "audit.access_analyzer_regions",
    "audit.forbid_cloudshell_full_access",
    "audit.forbid_service_wildcards",
    "organization.require_root_credentials_management",
];

/// Refuses `desired` when it writes any key of [`NOT_YET_ENFORCED`], one located problem per
/// key written.
pub fn not_yet_enforced(desired: &Desired) -> Result<(), LoadError> {
    let paths = written(&desired.doc);
    if paths.is_empty() {
        return Ok(());
    }
    let problems = paths
        .into_iter()
        .map(|path| {
            let location = nearest_location(desired, &path);
            ConfigProblem::at_location(
                location,
                &path,
                format!(
                    "{} is not enforced yet: no plan would act on it, so it is refused rather \
                     than ignored (`iamctl snapshot` reads what it asks for); remove it until \
                     a release enforces it",
                    shown_key(&path)
                ),
            )
        })
        .collect();
    Err(LoadError::Invalid { problems })
}

/// `[users.ssh_keys]` for a table, `users.require_tags` for a value.
fn shown_key(path: &str) -> String {
    let table = !matches!(
        path.rsplit('.').next(),
        Some(
            "break_glass"
                | "require_tags"
                | "forbid_setup_keys"
                | "require_security_contact"
                | "access_analyzer_regions"
                | "forbid_cloudshell_full_access"
                | "forbid_service_wildcards"
                | "require_root_credentials_management"
        )
    ) || path.ends_with("users.break_glass");
    if path.ends_with(".exception") {
        format!("[[{path}]]")
    } else if table {
        format!("[{path}]")
    } else {
        format!("`{path}`")
    }
}

fn nearest_location<'a>(desired: &'a Desired, path: &str) -> Option<&'a super::KeyLocation> {
    let mut probe = path;
    loop {
        if let Some(location) = desired.locations.get(probe) {
            return Some(location);
        }
        probe = &probe[..probe.rfind(['.', '['])?];
    }
}

/// The key paths of the merged document that write a key not enforced yet, in document order.
fn written(doc: &DesiredDoc) -> Vec<String> {
    let mut paths = Vec::new();
    let mut target = |prefix: &str,
                      users: Option<&UsersSpec>,
                      user: &[super::model::UserSpec],
                      audit: Option<&AuditSpec>| {
        if let Some(users) = users {
            let UsersSpec {
                inventory,
                exception,
                break_glass,
                require_tags,
                access_keys,
                ..
            } = users;
            for (key, set) in [
                ("inventory", inventory.is_some()),
                ("exception", exception.is_some()),
                ("break_glass", break_glass.is_some()),
                ("require_tags", require_tags.is_some()),
            ] {
                if set {
                    paths.push(format!("{prefix}users.{key}"));
                }
            }
            if access_keys
                .as_ref()
                .is_some_and(|k: &AccessKeysSpec| k.forbid_setup_keys.is_some())
            {
                paths.push(format!("{prefix}users.access_keys.forbid_setup_keys"));
            }
        }
        for (i, spec) in user.iter().enumerate() {
            if spec.break_glass.is_some() {
                paths.push(format!("{prefix}user[{i}].break_glass"));
            }
        }
        if let Some(audit) = audit {
            for (key, set) in [
                (
                    "require_security_contact",
                    audit.require_security_contact.is_some(),
                ),
                (
                    "access_analyzer_regions",
                    audit.access_analyzer_regions.is_some(),
                ),
                (
                    "forbid_cloudshell_full_access",
                    audit.forbid_cloudshell_full_access.is_some(),
                ),
                (
                    "forbid_service_wildcards",
                    audit.forbid_service_wildcards.is_some(),
                ),
            ] {
                if set {
                    paths.push(format!("{prefix}audit.{key}"));
                }
            }
        }
    };
    target("", doc.users.as_ref(), &doc.user, doc.audit.as_ref());
    for (i, account) in doc.account.iter().enumerate() {
        target(
            &format!("account[{i}]."),
            account.users.as_ref(),
            &account.user,
            account.audit.as_ref(),
        );
    }
    if doc
        .organization
        .as_ref()
        .is_some_and(|o| o.require_root_credentials_management.is_some())
    {
        paths.push("organization.require_root_credentials_management".into());
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> Vec<String> {
        let (doc, locations) =
            super::super::load_sources_located(vec![("d.toml".into(), text.into())]).unwrap();
        let desired = Desired {
            doc,
            files: vec![],
            locations,
        };
        match not_yet_enforced(&desired) {
            Ok(()) => vec![],
            Err(LoadError::Invalid { problems }) => {
                problems.iter().map(ToString::to_string).collect()
            }
            Err(other) => panic!("{other}"),
        }
    }

    #[test]
    fn a_desired_state_without_the_new_tables_passes() {
        assert_eq!(
            refused("[users.access_keys]\nmax_age_days = 90\n[[user]]\nname = \"a\"\n"),
            Vec::<String>::new()
        );
        // Issue 21's credential tables are enforced.
        assert_eq!(
            refused(
                "[users.ssh_keys]\nmax_age_days = 365\n[users.mfa]\nall_users = true\n\
                 [server_certificates]\ndelete_expired_after_days = 30\n"
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn each_new_table_is_refused_at_its_key() {
        let text = "\
[users.inventory]
allowed = [\"svc-*\"]

[users.access_keys]
forbid_setup_keys = true

[[user]]
name = \"break-glass-1\"
break_glass = true

[users.break_glass]
max_used_days = 1

[[account]]
name = \"prod\"
[account.audit]
access_analyzer_regions = [\"us-east-1\"]
";
        let problems = refused(text);
        assert_eq!(problems.len(), 5, "{problems:#?}");
        assert!(
            problems[0].starts_with(
                "d.toml:1:8: users.inventory: [users.inventory] is not enforced yet: "
            ),
            "{problems:#?}"
        );
        for expected in [
            "d.toml:5:1: users.access_keys.forbid_setup_keys: `users.access_keys.forbid_setup_keys` is not enforced yet",
            "d.toml:9:1: user[0].break_glass: `user[0].break_glass` is not enforced yet",
            "d.toml:11:8: users.break_glass: [users.break_glass] is not enforced yet",
            "d.toml:17:1: account[0].audit.access_analyzer_regions: `account[0].audit.access_analyzer_regions` is not enforced yet",
        ] {
            assert!(
                problems.iter().any(|p| p.starts_with(expected)),
                "{expected}\n{problems:#?}"
            );
        }
    }
}
