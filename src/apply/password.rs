//! Console passwords for new login profiles: drawn from a CSPRNG so that they satisfy any
//! password policy, and written to one mode-0600 file per user, never anywhere else. In this
//! process a password is a [`Secret`].

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use rand::seq::{IndexedRandom, SliceRandom};

use crate::secret::Secret;
use crate::state::PasswordPolicy;

/// Shorter passwords would satisfy a lax policy but not a sensible floor.
pub(crate) const MIN_GENERATED_LENGTH: u32 = 20;
/// IAM refuses longer passwords (and longer `MinimumPasswordLength`).
const MAX_PASSWORD_LENGTH: u32 = 128;

const UPPERCASE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWERCASE: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const NUMBERS: &[u8] = b"0123456789";
/// The non-alphanumeric characters IAM counts as symbols for `RequireSymbols`.
const SYMBOLS: &[u8] = b"!@#$%^&*()_+-=[]{}|'";

/// The length a password needs to pass every one of `policies` (the policy in force now and
/// the one in force after the apply) and the floor.
pub(crate) fn required_length<'a>(policies: impl IntoIterator<Item = &'a PasswordPolicy>) -> u32 {
    policies
        .into_iter()
        .map(|p| p.minimum_length)
        .fold(MIN_GENERATED_LENGTH, u32::max)
        .min(MAX_PASSWORD_LENGTH)
}

/// A password of `length` characters with at least one character of every class, so that
/// it satisfies whatever classes a policy requires. `rand::rng()` is a ChaCha CSPRNG seeded
/// (and periodically reseeded) from the operating system.
pub(crate) fn generate(length: u32) -> Secret {
    let classes = [UPPERCASE, LOWERCASE, NUMBERS, SYMBOLS];
    let length =
        usize::try_from(length.clamp(classes.len() as u32, MAX_PASSWORD_LENGTH)).expect("small");
    let all: Vec<u8> = classes.concat();
    let mut rng = rand::rng();
    let mut bytes = Vec::with_capacity(length);
    for class in classes {
        bytes.push(*class.choose(&mut rng).expect("non-empty class"));
    }
    while bytes.len() < length {
        bytes.push(*all.choose(&mut rng).expect("non-empty alphabet"));
    }
    // The class representatives must not sit at predictable positions.
    bytes.shuffle(&mut rng);
    // From the bytes without a copy: the secret takes over the one buffer and zeroes it.
    Secret::new(String::from_utf8(bytes).expect("ASCII alphabet"))
}

/// The file holding one user's generated password, created before the login profile so
/// that a password never exists in IAM without a copy for its user.
#[derive(Debug)]
pub(crate) struct SecretFile {
    path: PathBuf,
}

impl SecretFile {
    /// Writes `password` to `<dir>/<user>.password`, mode 0600, refusing to overwrite an
    /// existing file (it may hold the only copy of a password that is live). The data is
    /// synced before returning: the login profile is created right after.
    pub(crate) fn write_new(dir: &Path, user: &str, password: &Secret) -> io::Result<Self> {
        // IAM user names cannot contain '/', but this guard costs nothing.
        if user.contains('/') || user.contains('\0') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("user name {user:?} is not a file name"),
            ));
        }
        if !dir.exists() {
            DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        }
        let path = dir.join(format!("{user}.password"));
        let mut file: File = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        let written = file
            .write_all(password.expose().as_bytes())
            .and_then(|()| file.write_all(b"\n"))
            .and_then(|()| file.sync_all());
        if let Err(err) = written {
            drop(file);
            let _ = fs::remove_file(&path);
            return Err(err);
        }
        Ok(Self { path })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Removes the file: the login profile it was meant for was not created.
    pub(crate) fn remove(self) -> io::Result<()> {
        fs::remove_file(&self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complies(password: &str, policy: &PasswordPolicy) -> bool {
        let has = |set: &[u8]| password.bytes().any(|b| set.contains(&b));
        password.len() >= policy.minimum_length as usize
            && (!policy.require_uppercase || has(UPPERCASE))
            && (!policy.require_lowercase || has(LOWERCASE))
            && (!policy.require_numbers || has(NUMBERS))
            && (!policy.require_symbols || has(SYMBOLS))
    }

    fn strict(minimum_length: u32) -> PasswordPolicy {
        PasswordPolicy {
            minimum_length,
            require_uppercase: true,
            require_lowercase: true,
            require_numbers: true,
            require_symbols: true,
            ..PasswordPolicy::iam_default()
        }
    }

    #[test]
    fn passwords_satisfy_every_class_and_the_length() {
        for min in [6, 14, 20, 21, 64, 128] {
            let policy = strict(min);
            let length = required_length([&policy]);
            assert_eq!(length, min.max(MIN_GENERATED_LENGTH));
            for _ in 0..200 {
                let password = generate(length);
                assert_eq!(password.expose().len(), length as usize);
                assert!(complies(password.expose(), &policy), "{min}");
            }
        }
    }

    #[test]
    fn the_longest_requirement_wins() {
        let (now, after) = (strict(40), strict(14));
        assert_eq!(required_length([&now, &after]), 40);
        assert_eq!(required_length([]), MIN_GENERATED_LENGTH);
    }

    #[test]
    fn passwords_differ_and_do_not_debug_print() {
        let (a, b) = (generate(20), generate(20));
        assert_ne!(a.expose(), b.expose());
        assert!(!format!("{a:?}").contains(a.expose()));
    }

    #[test]
    fn secret_files_are_private_and_never_overwritten() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("secrets");
        let password = generate(20);
        let file = SecretFile::write_new(&nested, "alice", &password).unwrap();
        let mode = fs::metadata(file.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            fs::metadata(&nested).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert_eq!(
            fs::read_to_string(file.path()).unwrap(),
            format!("{}\n", password.expose())
        );
        let again = SecretFile::write_new(&nested, "alice", &generate(20)).unwrap_err();
        assert_eq!(again.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(
            fs::read_to_string(file.path()).unwrap(),
            format!("{}\n", password.expose())
        );
        let path = file.path().to_owned();
        file.remove().unwrap();
        assert!(!path.exists());
    }
}
