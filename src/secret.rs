//! The one type for every secret value iamctl holds (a generated console password, the
//! secret access key a rotation delivers): printed by nothing, serialized by nothing, zeroed
//! when dropped. A leaf: it imports nothing of iamctl.

use std::fmt;

use zeroize::Zeroizing;

/// A secret value.
///
/// - `Debug` and `Display` write `<redacted>`, so a secret inside a logged or printed value
///   shows as that.
/// - It does not implement `Serialize`: a plan, report or log line that tried to hold one
///   would not compile (checked below), rather than hold a redaction nobody notices.
/// - Its bytes, spare capacity included, are overwritten when it is dropped (`zeroize`, whose
///   writes the optimiser may not remove), so it lives in memory only as long as the call that
///   needs it.
/// - The value is reached only through [`Secret::expose`], a call that says what it does.
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Takes `value` over, without copying it.
    pub fn new(value: String) -> Self {
        Secret(Zeroizing::new(value))
    }

    /// The secret itself, for the one call that must send or write it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Fails to compile if `Secret` implements `Serialize`: with the impl, the call below would
/// match two `NotSerialize` impls and be ambiguous (the `static_assertions` crate's trick).
const _: fn() = || {
    trait NotSerialize<A> {
        fn check() {}
    }
    impl<T: ?Sized> NotSerialize<()> for T {}
    impl<T: ?Sized + serde::Serialize> NotSerialize<u8> for T {}
    <Secret as NotSerialize<_>>::check();
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_redact_and_only_expose_shows_the_value() {
        let secret = Secret::new("hunter2-s3cr3t".to_owned());
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        assert_eq!(format!("{secret}"), "<redacted>");
        // Inside other values too: `Debug` of a containing struct goes through ours.
        let nested = format!("{:?}", Some((1, &secret)));
        assert!(!nested.contains("hunter2"), "{nested}");
        assert_eq!(secret.expose(), "hunter2-s3cr3t");
    }
}
