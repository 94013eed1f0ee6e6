//! The account root user, for `[root]`: `GetAccountSummary` says whether it has access keys
//! and MFA, and `ListVirtualMFADevices` whether that MFA is a virtual device (a root MFA that
//! is not listed there is a hardware one). When it was last used comes from the credential
//! report's `<root_account>` row, read with the users.

use aws_sdk_iam::types::{AssignmentStatusType, SummaryKeyType};

use crate::aws::{AccountClients, AwsError, call};
use crate::permissions::{GET_ACCOUNT_SUMMARY, LIST_VIRTUAL_MFA_DEVICES};
use crate::state::RootUser;

/// The name IAM gives the root user's first virtual MFA device.
const ROOT_VIRTUAL_MFA: &str = "/root-account-mfa-device";

/// Reads the root user's keys and MFA; with `hardware`, also whether its MFA is virtual (one
/// call more, made only when the root user has MFA).
pub(crate) async fn read(clients: &AccountClients, hardware: bool) -> Result<RootUser, AwsError> {
    let summary = call(
        &clients.target,
        GET_ACCOUNT_SUMMARY,
        clients.iam.get_account_summary().send(),
    )
    .await?;
    let map = summary.summary_map();
    let flag = |key: SummaryKeyType| map.and_then(|m| m.get(&key)).is_some_and(|v| *v > 0);
    let mut root = RootUser {
        access_keys_present: flag(SummaryKeyType::AccountAccessKeysPresent),
        mfa_enabled: flag(SummaryKeyType::AccountMfaEnabled),
        virtual_mfa: None,
        usage: None,
    };
    if hardware && root.mfa_enabled {
        let mut pages = clients
            .iam
            .list_virtual_mfa_devices()
            .assignment_status(AssignmentStatusType::Assigned)
            .into_paginator()
            .send();
        let mut found = false;
        while let Some(page) =
            call(&clients.target, LIST_VIRTUAL_MFA_DEVICES, pages.try_next()).await?
        {
            found |= page.virtual_mfa_devices().iter().any(|device| {
                device.user().is_some_and(|u| u.arn().ends_with(":root"))
                    || device.serial_number().ends_with(ROOT_VIRTUAL_MFA)
            });
        }
        root.virtual_mfa = Some(found);
    }
    Ok(root)
}
