//! `--target ADDRESS`: which plan items a targeted plan keeps, and which parts of an account
//! it must read to make them. Pure: the patterns are matched against addresses and user
//! names, with no I/O, so that "a targeted plan is the full plan restricted to its targets"
//! can be tested with plain values.
//!
//! A pattern is an address (`password_policy`, `cloudtrail`, `user.bob`,
//! `user.bob.login_profile`) or a glob over addresses (`user.bob*`, `user.*.login_profile`;
//! `*` also matches dots). As with Terraform's `-target`, a user's address selects everything
//! of that user: `user.bob` keeps `user.bob.access_key.AKIA...` too. Matching ignores case,
//! as IAM does for user names.

use std::collections::BTreeSet;
use std::fmt;

use globset::{GlobBuilder, GlobMatcher};

use super::address::Address;
use super::engine::policy_tightens;
use super::model::AccountPlan;
use crate::desired::Rules;
use crate::state::PasswordPolicy;

/// The characters that make a pattern a glob (globset's syntax).
const GLOB_CHARS: &[char] = &['*', '?', '[', ']', '{', '}', '\\'];

/// One `--target` pattern.
#[derive(Debug, Clone)]
pub struct AddressPattern {
    text: String,
    matcher: GlobMatcher,
    /// The text before the first glob character: every address the pattern matches starts
    /// with it. The whole text for a plain address.
    prefix: String,
    is_glob: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error(
        "--target {0:?} is no plan address (password_policy, cloudtrail, user.NAME, user.NAME.login_profile, ...)"
    )]
    NotAnAddress(String),
    #[error("--target {pattern:?}: {message}")]
    BadGlob { pattern: String, message: String },
    #[error(
        "--target {0:?} can match no plan address: addresses start with password_policy, cloudtrail or user."
    )]
    MatchesNothing(String),
}

impl AddressPattern {
    pub fn parse(text: &str) -> Result<Self, TargetError> {
        let is_glob = text.contains(GLOB_CHARS);
        if !is_glob && text.parse::<Address>().is_err() {
            return Err(TargetError::NotAnAddress(text.to_owned()));
        }
        let prefix: String = text
            .chars()
            .take_while(|c| !GLOB_CHARS.contains(c))
            .collect();
        let could_match = ["password_policy", "cloudtrail", "user."]
            .iter()
            .any(|root| root.starts_with(&prefix) || prefix.starts_with(root));
        if !could_match {
            return Err(TargetError::MatchesNothing(text.to_owned()));
        }
        let matcher = GlobBuilder::new(text)
            .case_insensitive(true)
            .literal_separator(false)
            .build()
            .map_err(|e| TargetError::BadGlob {
                pattern: text.to_owned(),
                message: e.kind().to_string(),
            })?
            .compile_matcher();
        Ok(Self {
            text: text.to_owned(),
            matcher,
            prefix: prefix.to_lowercase(),
            is_glob,
        })
    }

    /// The pattern for exactly `address` (and, for a user, everything of that user).
    pub fn exact(address: &Address) -> Self {
        let text = address.to_string();
        let escaped: String = text
            .chars()
            .flat_map(|c| {
                let escape = GLOB_CHARS.contains(&c).then_some('\\');
                escape.into_iter().chain(std::iter::once(c))
            })
            .collect();
        let matcher = GlobBuilder::new(&escaped)
            .case_insensitive(true)
            .literal_separator(false)
            .build()
            .expect("an escaped address is a valid glob")
            .compile_matcher();
        Self {
            prefix: text.to_lowercase(),
            text,
            matcher,
            is_glob: false,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn matches_text(&self, text: &str) -> bool {
        self.matcher.is_match(text)
    }

    /// Whether some item of user `name` could match: every such address is `user.NAME` or
    /// starts with `user.NAME.`, and every address the pattern matches starts with its
    /// prefix. A superset of the users whose items match, decided without knowing them.
    fn may_select_user(&self, name: &str) -> bool {
        let own = format!("user.{}.", name.to_lowercase());
        own.starts_with(&self.prefix) || self.prefix.starts_with(&own)
    }
}

impl fmt::Display for AddressPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Which users a targeted read must read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserSelection {
    /// Only these (names as the patterns spell them; IAM finds them whatever the case).
    Named(BTreeSet<String>),
    /// Users whose names some glob may match: the account's users must be listed first.
    Matching,
}

/// The `--target` patterns of one account's plan: never empty.
#[derive(Debug, Clone)]
pub struct Targets {
    patterns: Vec<AddressPattern>,
}

impl Targets {
    /// `None` for no pattern: no targeting, the whole account.
    pub fn parse(patterns: &[String]) -> Result<Option<Self>, TargetError> {
        let patterns = patterns
            .iter()
            .map(|p| AddressPattern::parse(p))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(patterns))
    }

    /// Exactly these addresses (those events name), each with everything under it.
    pub fn of_addresses<'a>(addresses: impl IntoIterator<Item = &'a Address>) -> Option<Self> {
        Self::new(addresses.into_iter().map(AddressPattern::exact).collect())
    }

    fn new(mut patterns: Vec<AddressPattern>) -> Option<Self> {
        patterns.sort_by(|a, b| a.text.cmp(&b.text));
        patterns.dedup_by(|a, b| a.text == b.text);
        (!patterns.is_empty()).then_some(Self { patterns })
    }

    /// The patterns' text, sorted (what a saved plan records).
    pub fn patterns(&self) -> Vec<String> {
        self.patterns.iter().map(|p| p.text.clone()).collect()
    }

    /// Whether a plan item at `address` is kept: some pattern matches the address, or the
    /// address of its user.
    pub fn matches(&self, address: &Address) -> bool {
        let text = address.to_string();
        let user = address
            .user()
            .filter(|_| !matches!(address, Address::User(_)))
            .map(|name| format!("user.{name}"));
        self.patterns
            .iter()
            .any(|p| p.matches_text(&text) || user.as_deref().is_some_and(|u| p.matches_text(u)))
    }

    /// Keeps only the items of `plan` that the targets select, and the password resets a
    /// selected policy change asks for (`reset_on_policy_tightening`): a policy applied without
    /// them is in force, so no later plan would see the tightening and ask for them again.
    pub fn restrict(&self, plan: &mut AccountPlan) {
        let policy_kept = plan
            .changes
            .iter()
            .any(|c| c.kind.password_policy().is_some() && self.matches(&c.address()));
        plan.changes.retain(|c| {
            self.matches(&c.address()) || (policy_kept && c.kind.is_tightening_reset())
        });
        plan.findings.retain(|f| self.matches(&f.address));
    }

    /// Whether the targets' plan must see every console user: the password policy is selected
    /// and tightens, and its resets go with it (see [`Targets::restrict`]).
    pub fn reads_console_users(&self, rules: &Rules, live: Option<&PasswordPolicy>) -> bool {
        self.wants_password_policy()
            && rules.console.reset_on_policy_tightening
            && policy_tightens(rules, live)
    }

    pub fn wants_password_policy(&self) -> bool {
        self.matches(&Address::PasswordPolicy)
    }

    pub fn wants_cloudtrail(&self) -> bool {
        self.matches(&Address::CloudTrail)
    }

    /// Whether some item of user `name` may be selected (a superset: see
    /// [`AddressPattern::may_select_user`]).
    pub fn may_select_user(&self, name: &str) -> bool {
        self.patterns.iter().any(|p| p.may_select_user(name))
    }

    /// The users to read: the named ones when no glob can reach a user, else those a listing
    /// of the account's users will show [`Targets::may_select_user`] to match.
    pub fn users(&self) -> UserSelection {
        let mut named = BTreeSet::new();
        for pattern in &self.patterns {
            if pattern.is_glob {
                if "user.".starts_with(&pattern.prefix) || pattern.prefix.starts_with("user.") {
                    return UserSelection::Matching;
                }
                // `password_policy*`, `cloud*`: no user.
                continue;
            }
            if let Ok(address) = pattern.text.parse::<Address>() {
                if let Some(user) = address.user() {
                    named.insert(user.to_owned());
                }
            }
        }
        UserSelection::Named(named)
    }
}

impl fmt::Display for Targets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.patterns().join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::AccessKeyId;

    fn targets(patterns: &[&str]) -> Targets {
        let patterns: Vec<String> = patterns.iter().map(|p| (*p).to_owned()).collect();
        Targets::parse(&patterns).unwrap().unwrap()
    }

    fn addr(text: &str) -> Address {
        text.parse().unwrap()
    }

    /// A plan with a tightening policy change and the resets it asks for, a `[[user]]`
    /// entry's reset, and another change of a console user.
    fn tightening_plan() -> AccountPlan {
        use crate::plan::{Change, ChangeKind, Rule};
        let reset = |user: &str, with_tightening: bool| {
            Change::new(
                if with_tightening {
                    Rule::ConsoleResetOnTightening
                } else {
                    Rule::UserPasswordReset
                },
                ChangeKind::ResetPassword {
                    user: user.into(),
                    with_tightening,
                },
            )
        };
        let mut plan = AccountPlan::failed("default", "111111111111", String::new());
        plan.error = None;
        plan.changes = vec![
            Change::new(
                Rule::PasswordPolicy,
                ChangeKind::CreatePasswordPolicy {
                    after: PasswordPolicy::iam_default(),
                },
            ),
            reset("alice", true),
            reset("bob", true),
            reset("carol", false),
            Change::new(
                Rule::ConsoleRequireMfa,
                ChangeKind::AttachDenyPolicy { user: "bob".into() },
            ),
        ];
        plan
    }

    fn kept(plan: &AccountPlan) -> Vec<String> {
        plan.changes
            .iter()
            .map(|c| c.address().to_string())
            .collect()
    }

    #[test]
    fn a_selected_tightening_policy_keeps_the_resets_it_asks_for() {
        let mut plan = tightening_plan();
        targets(&["password_policy"]).restrict(&mut plan);
        assert_eq!(
            kept(&plan),
            [
                "password_policy",
                "user.alice.login_profile",
                "user.bob.login_profile"
            ]
        );
        // A user's own items are selected as before, the policy's resets with them.
        let mut plan = tightening_plan();
        targets(&["user.carol", "password_policy"]).restrict(&mut plan);
        assert_eq!(kept(&plan).len(), 4, "{:?}", kept(&plan));
        // Without the policy, a user's reset is that user's item like any other.
        let mut plan = tightening_plan();
        targets(&["user.bob"]).restrict(&mut plan);
        assert_eq!(
            kept(&plan),
            [
                "user.bob.login_profile",
                "user.bob.policy.iamctl-deny-without-mfa"
            ]
        );
    }

    #[test]
    fn a_user_selects_everything_of_that_user_and_nothing_else() {
        let t = targets(&["user.bob"]);
        assert!(t.matches(&addr("user.bob")));
        assert!(t.matches(&addr("user.bob.login_profile")));
        assert!(t.matches(&Address::AccessKey {
            user: "bob".into(),
            key_id: AccessKeyId::new("AKIAEXAMPLE").unwrap()
        }));
        assert!(t.matches(&addr("user.bob.policy.iamctl-deny-without-mfa")));
        assert!(!t.matches(&addr("user.bobby")));
        assert!(!t.matches(&addr("user.bobby.login_profile")));
        assert!(!t.matches(&addr("password_policy")));
        assert!(!t.wants_password_policy());
        assert_eq!(
            t.users(),
            UserSelection::Named(BTreeSet::from(["bob".to_owned()]))
        );
    }

    #[test]
    fn globs_match_across_dots_and_case() {
        let t = targets(&["user.bob*"]);
        assert!(t.matches(&addr("user.bobby.login_profile")));
        assert!(t.matches(&addr("user.Bob")));
        assert!(!t.matches(&addr("user.alice")));
        assert_eq!(t.users(), UserSelection::Matching);
        assert!(t.may_select_user("bobby") && t.may_select_user("BOB"));
        assert!(!t.may_select_user("alice"));

        let profiles = targets(&["user.*.login_profile"]);
        assert!(profiles.matches(&addr("user.first.last.login_profile")));
        assert!(!profiles.matches(&addr("user.alice")));
        assert!(profiles.may_select_user("anyone"));
    }

    #[test]
    fn a_sub_address_selects_only_itself() {
        let t = targets(&["user.bob.login_profile"]);
        assert!(t.matches(&addr("user.bob.login_profile")));
        assert!(!t.matches(&addr("user.bob")));
        assert!(!t.matches(&addr("user.bob.policy.iamctl-deny-without-mfa")));
        assert!(t.may_select_user("bob") && !t.may_select_user("bo"));
    }

    #[test]
    fn account_wide_targets_read_no_user() {
        let t = targets(&["password_policy", "cloud*"]);
        assert!(t.wants_password_policy() && t.wants_cloudtrail());
        assert_eq!(t.users(), UserSelection::Named(BTreeSet::new()));
        assert!(!t.matches(&addr("user.bob")));
        assert!(!t.may_select_user("bob"));
    }

    #[test]
    fn exact_addresses_escape_nothing_into_globs() {
        let t = Targets::of_addresses(&[addr("user.a.b"), addr("cloudtrail")]).unwrap();
        assert_eq!(t.patterns(), ["cloudtrail", "user.a.b"]);
        assert!(t.matches(&addr("user.a.b.login_profile")));
        assert!(!t.matches(&addr("user.a")));
        assert!(Targets::of_addresses(&[]).is_none());
    }

    #[test]
    fn patterns_that_name_no_address_are_refused_with_the_reason() {
        let err = |p: &str| Targets::parse(&[p.to_owned()]).unwrap_err().to_string();
        assert_eq!(
            err("users.bob"),
            "--target \"users.bob\" is no plan address (password_policy, cloudtrail, user.NAME, user.NAME.login_profile, ...)"
        );
        assert_eq!(
            err("role.*"),
            "--target \"role.*\" can match no plan address: addresses start with password_policy, cloudtrail or user."
        );
        assert_eq!(
            err("user.[bob"),
            "--target \"user.[bob\": unclosed character class; missing ']'"
        );
        assert!(Targets::parse(&[]).unwrap().is_none());
    }
}
