//! The keys that the desired state accepts and the engine does not enforce yet:
//! `[organization] require_root_credentials_management` (the other tables of issues 21 and 22
//! are enforced by `plan/engine/`). A table that parses and then does nothing would be the false assurance those
//! issues are about, so `validate`, `plan`, `apply` and `watch` refuse them, each located at its
//! key; `snapshot` accepts them and reads what they ask for. The engine work removes each
//! entry of [`NOT_YET_ENFORCED`] as it enforces the table.

use super::load::{ConfigProblem, Desired, LoadError};
use super::model::DesiredDoc;

/// The keys not enforced yet, as written in a desired state (paths within a target's tables;
/// `organization.…` at the top level only).
pub const NOT_YET_ENFORCED: &[&str] = &["organization.require_root_credentials_management"];

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
        // Issue 21's credential tables and issue 22's population are enforced.
        assert_eq!(
            refused(
                "[users.ssh_keys]\nmax_age_days = 365\n[users.mfa]\nall_users = true\n\
                 [server_certificates]\ndelete_expired_after_days = 30\n\
                 [users.inventory]\nallowed = [\"svc-*\"]\n[users.break_glass]\nmax_used_days = 1\n\
                 [audit]\nrequire_security_contact = true\n"
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn each_key_not_enforced_yet_is_refused_at_its_key() {
        let text = "\
[organization]
role_name = \"OrganizationAccountAccessRole\"
require_root_credentials_management = true
";
        let problems = refused(text);
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert!(
            problems[0].starts_with(
                "d.toml:3:1: organization.require_root_credentials_management: `organization.require_root_credentials_management` is not enforced yet"
            ),
            "{problems:#?}"
        );
    }
}
