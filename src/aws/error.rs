//! A failed AWS call said so that a person can act on it ([`AwsError`]), and the error codes
//! iamctl tells apart ([`ErrorCode`]), so that code reacting to one matches a variant instead
//! of comparing text.

use std::fmt;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Declares [`ErrorCode`]: each variant is named exactly as AWS spells the code, so the text
/// is written once.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $code:ident,)*) => {
        /// An AWS error code. The codes iamctl reacts to are variants, named as AWS spells
        /// them; any other code is kept as its text, for display.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum ErrorCode {
            $($(#[$doc])* $code,)*
            /// A code iamctl does not react to (`Throttling`, `ServiceFailure`, ...).
            Other(String),
        }

        impl ErrorCode {
            pub fn parse(code: &str) -> Self {
                match code {
                    $(stringify!($code) => Self::$code,)*
                    other => Self::Other(other.to_owned()),
                }
            }

            /// The code as AWS sent it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$code => stringify!($code),)*
                    Self::Other(code) => code,
                }
            }
        }
    };
}

error_codes! {
    /// IAM: the user, login profile, key or policy does not exist (or no longer does).
    NoSuchEntity,
    /// IAM: the login profile or policy to create exists already.
    EntityAlreadyExists,
    /// IAM `ListOrganizationsFeatures`: the account belongs to no organization.
    OrganizationNotFoundException,
    /// IAM `ListOrganizationsFeatures`: only the management account or a delegated
    /// administrator may ask.
    AccountNotManagementOrDelegatedAdministratorException,
    /// IAM `ListOrganizationsFeatures`: the organization has not enabled trusted access for
    /// IAM.
    ServiceAccessNotEnabledException,
    /// IAM: too many credential reports requested at once.
    LimitExceeded,
    /// IAM: the credential report is still being generated.
    ReportInProgress,
    /// IAM: no credential report was generated.
    ReportNotPresent,
    /// IAM: the credential report is over four hours old.
    ReportExpired,
    /// IAM, STS, Organizations: the caller lacks the permission.
    AccessDenied,
    /// CloudTrail: the caller lacks the permission.
    AccessDeniedException,
    /// The caller lacks the permission (EC2-style services).
    UnauthorizedOperation,
    /// CloudTrail: the trail is not found (an organization trail seen from a member account).
    TrailNotFoundException,
    /// CloudTrail: the trail ARN is refused (an organization trail seen from a member account).
    CloudTrailARNInvalidException,
    /// CloudTrail: the trail's S3 bucket does not exist.
    S3BucketDoesNotExistException,
    /// CloudTrail: the bucket policy does not let CloudTrail write.
    InsufficientS3BucketPolicyException,
    /// CloudTrail: the bucket name is not valid.
    InvalidS3BucketNameException,
    /// CloudTrail: a trail of that name exists.
    TrailAlreadyExistsException,
    /// CloudTrail: the region holds the most trails allowed.
    MaximumNumberOfTrailsExceededException,
    /// Secrets Manager: the secret does not exist. Account Management: no alternate contact
    /// of that type is registered.
    ResourceNotFoundException,
    /// Secrets Manager: the secret to create exists already.
    ResourceExistsException,
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An AWS call that failed, said so that a person can act on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct AwsError {
    pub account: String,
    /// `iam:GetCredentialReport`, `sts:AssumeRole`, ...: a permission's action.
    pub operation: String,
    /// The AWS error code, when there is one.
    pub code: Option<ErrorCode>,
    pub message: String,
    /// AWS answered the request with this error, so the request was not carried out. False
    /// when no answer came (a timeout, a dropped connection, credentials that could not be
    /// obtained) and for failures of iamctl's own: a request sent may have been carried out.
    pub answered: bool,
}

impl AwsError {
    /// A failure with no AWS error code and no answer from AWS: iamctl's own (a malformed
    /// answer, a deadline).
    pub fn new(account: &str, operation: &str, message: String) -> Self {
        Self {
            account: account.to_owned(),
            operation: operation.to_owned(),
            code: None,
            message,
            answered: false,
        }
    }

    /// Whether AWS answered with `code`.
    pub fn is(&self, code: ErrorCode) -> bool {
        self.code.as_ref() == Some(&code)
    }

    pub fn is_access_denied(&self) -> bool {
        matches!(
            self.code,
            Some(
                ErrorCode::AccessDenied
                    | ErrorCode::AccessDeniedException
                    | ErrorCode::UnauthorizedOperation
            )
        )
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "account {}: {}: ", self.account, self.operation)?;
        if let Some(code) = &self.code {
            write!(f, "{code}: ")?;
        }
        f.write_str(&self.message)?;
        if self.is_access_denied() {
            write!(f, " (missing permission {})", self.operation)?;
        }
        Ok(())
    }
}

/// Turns an SDK error into an [`AwsError`]. `operation` is the IAM action form
/// (`iam:ListAccessKeys`), which is also the permission an AccessDenied lacks. A call that
/// failed because its credentials could not be obtained (a role that cannot be assumed) is
/// reported as the call that failed underneath (`sts:AssumeRole`).
pub(super) fn aws_error<E, R>(account: &str, operation: &str, err: SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    // Whether this request was answered, even when the error reported is the one underneath.
    let answered = matches!(err, SdkError::ServiceError(_));
    if let Some(cause) = nested_aws_error(std::error::Error::source(&err)) {
        return AwsError {
            account: account.to_owned(),
            answered,
            ..cause.clone()
        };
    }
    let (code, message) = match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            (
                e.code().map(ErrorCode::parse),
                e.message().map_or_else(|| e.to_string(), str::to_owned),
            )
        }
        SdkError::DispatchFailure(failure) => {
            let kind = if failure.is_timeout() {
                "timed out"
            } else if failure.is_io() {
                "connection failed"
            } else {
                "request failed"
            };
            (None, format!("{kind}: {}", error_chain(&err)))
        }
        SdkError::TimeoutError(_) => (None, "timed out".to_owned()),
        _ => (None, error_chain(&err)),
    };
    AwsError {
        account: account.to_owned(),
        operation: operation.to_owned(),
        code,
        message,
        answered,
    }
}

/// An [`AwsError`] in a chain of sources (from `source` on): a credentials provider of ours
/// failed with it.
fn nested_aws_error<'a>(
    mut source: Option<&'a (dyn std::error::Error + 'static)>,
) -> Option<&'a AwsError> {
    while let Some(cause) = source {
        if let Some(found) = cause.downcast_ref::<AwsError>() {
            return Some(found);
        }
        source = cause.source();
    }
    None
}

/// The error and its sources on one line: SDK errors keep the useful part (credentials
/// missing, role not assumable) several sources deep.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permissions::GENERATE_CREDENTIAL_REPORT;

    #[test]
    fn access_denied_names_the_missing_permission() {
        let err = AwsError {
            account: "prod".into(),
            operation: GENERATE_CREDENTIAL_REPORT.action.into(),
            code: Some(ErrorCode::AccessDenied),
            message: "not authorized".into(),
            answered: true,
        };
        assert_eq!(
            err.to_string(),
            "account prod: iam:GenerateCredentialReport: AccessDenied: not authorized (missing permission iam:GenerateCredentialReport)"
        );
    }

    #[test]
    fn codes_read_back_as_sent() {
        for text in [
            "NoSuchEntity",
            "CloudTrailARNInvalidException",
            "Throttling",
            "",
        ] {
            assert_eq!(ErrorCode::parse(text).as_str(), text);
        }
        assert_eq!(
            ErrorCode::parse("EntityAlreadyExists"),
            ErrorCode::EntityAlreadyExists
        );
        assert_eq!(
            ErrorCode::parse("Throttling"),
            ErrorCode::Other("Throttling".into())
        );
    }
}
