//! Every AWS call iamctl makes goes through [`call`], naming the [`Permission`] it needs (a
//! constant of `src/permissions.rs`): its failure is reported as that permission's action, and
//! debug builds check each request sent against it ([`check_declared`], run by the `ApiCalls`
//! interceptor). So the lists `iamctl permissions` prints are tied to the calls by the
//! constants, and to what the calls really send by every test that makes them.

use std::fmt;
use std::future::Future;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::error::{AwsError, aws_error};
use crate::permissions::Permission;

tokio::task_local! {
    /// The permission of the [`call`] being polled. A task-local, not an argument: the SDK's
    /// interceptors see the request, not the code that made it.
    static DECLARED: Permission;
}

/// Awaits `request` (a fluent builder's `send()`, or a paginator's `try_next()` or
/// `try_collect()`) as the call in `account` that needs `permission`; a failure is an
/// [`AwsError`] naming the permission's action.
pub async fn call<T, E, R>(
    account: &str,
    permission: Permission,
    request: impl Future<Output = Result<T, SdkError<E, R>>>,
) -> Result<T, AwsError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    DECLARED
        .scope(permission, request)
        .await
        .map_err(|e| aws_error(account, permission.action, e))
}

/// The operations whose action in a policy has another name: (service and operation as the
/// SDK names them, the action's name).
#[cfg(debug_assertions)]
const ACTION_OF_OPERATION: &[(&str, &str, &str)] = &[
    // S3's listing takes `s3:ListBucket` (S3 User Guide, "Actions, resources, and condition keys").
    ("S3", "ListObjectsV2", "ListBucket"),
];

/// Debug builds: the request for `service`'s `operation` (as the SDK names them: `IAM`,
/// `GetUser`) about to be sent was made through [`call`] with the permission of that very
/// operation, and that permission is in one of the lists of `src/permissions.rs`. A mismatch
/// is a bug in iamctl: `iamctl permissions` would print a policy that does not fit the calls.
#[cfg(debug_assertions)]
pub(super) fn check_declared(service: &str, operation: &str) {
    let Ok(permission) = DECLARED.try_with(|p| *p) else {
        panic!(
            "{service}.{operation} was sent without a permission: make AWS calls through \
             aws::call with a constant of src/permissions.rs"
        );
    };
    let action = ACTION_OF_OPERATION
        .iter()
        .find(|(s, o, _)| *s == service && *o == operation)
        .map_or(operation, |(_, _, action)| action);
    let same = permission.action.split_once(':').is_some_and(|(s, o)| {
        // The SDK names some services in words ("Secrets Manager"), policies in one, some
        // with a dash (`access-analyzer`, the SDK's `AccessAnalyzer`).
        s.replace('-', "")
            .eq_ignore_ascii_case(&service.replace(' ', ""))
            && o == action
    });
    assert!(
        same,
        "{service}.{operation} was sent as the call to {}: name its own permission",
        permission.action
    );
    assert!(
        crate::permissions::all().any(|p| *p == permission),
        "{} is not in a list of src/permissions.rs (READ, APPLY, BASE, NO_PERMISSION_NEEDED)",
        permission.action
    );
}
