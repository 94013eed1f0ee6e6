//! A user as IAM has it now, read through the SDK: login profile, access keys, attached
//! managed policies. Each read panics on any error but "no such entity" where that means
//! "none".

use aws_sdk_iam::error::DisplayErrorContext;
use aws_sdk_iam::types::LoginProfile;

/// The user's login profile, `None` when there is none.
pub async fn login_profile_of(iam: &aws_sdk_iam::Client, user: &str) -> Option<LoginProfile> {
    match iam.get_login_profile().user_name(user).send().await {
        Ok(out) => Some(
            out.login_profile
                .expect("GetLoginProfile returns the profile"),
        ),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_entity_exception()) =>
        {
            None
        }
        Err(e) => panic!("GetLoginProfile {user}: {}", DisplayErrorContext(&e)),
    }
}

/// `Some(password_reset_required)` when the user has a login profile.
pub async fn login_profile(iam: &aws_sdk_iam::Client, user: &str) -> Option<bool> {
    login_profile_of(iam, user)
        .await
        .map(|p| p.password_reset_required)
}

/// The user's access keys as `(key id, "Active" | "Inactive")`, in IAM's order.
pub async fn key_statuses(iam: &aws_sdk_iam::Client, user: &str) -> Vec<(String, String)> {
    iam.list_access_keys()
        .user_name(user)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ListAccessKeys {user}: {}", DisplayErrorContext(&e)))
        .access_key_metadata
        .into_iter()
        .map(|k| {
            (
                k.access_key_id.unwrap(),
                k.status.unwrap().as_str().to_owned(),
            )
        })
        .collect()
}

/// The names of the managed policies attached to the user.
pub async fn attached(iam: &aws_sdk_iam::Client, user: &str) -> Vec<String> {
    iam.list_attached_user_policies()
        .user_name(user)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "ListAttachedUserPolicies {user}: {}",
                DisplayErrorContext(&e)
            )
        })
        .attached_policies
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| p.policy_name)
        .collect()
}
