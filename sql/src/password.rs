//! Role passwords, kept as PostgreSQL keeps them: a SCRAM-SHA-256 verifier
//! (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, RFC 5803), never the
//! password itself. A verifier lets the server check a SCRAM proof and prove itself to
//! the client, but not log in as the role.
//!
//! Passwords are used as given; PostgreSQL applies SASLprep normalisation first, which
//! changes only passwords with unusual Unicode (the same as PostgreSQL for ASCII).

use std::num::NonZeroU32;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::{digest, hmac, pbkdf2};

/// PostgreSQL's default `scram_iterations`.
pub const SCRAM_ITERATIONS: u32 = 4096;
const SALT_BYTES: usize = 16;
const PREFIX: &str = "SCRAM-SHA-256$";

/// What a stored verifier holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScramVerifier {
    pub iterations: u32,
    pub salt: Vec<u8>,
    pub stored_key: Vec<u8>,
    pub server_key: Vec<u8>,
}

/// The verifier to store for `password`, with a fresh random salt. A password given
/// already as a verifier (what `pg_dumpall` writes) is kept as it is.
pub fn verifier_for(password: &str) -> String {
    if parse_verifier(password).is_some() {
        return password.to_owned();
    }
    let salt: [u8; SALT_BYTES] = rand::random();
    make_verifier(password, &salt, SCRAM_ITERATIONS)
}

pub fn make_verifier(password: &str, salt: &[u8], iterations: u32) -> String {
    let iterations_nonzero = NonZeroU32::new(iterations.max(1)).unwrap_or(NonZeroU32::MIN);
    let mut salted = [0u8; 32];
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        iterations_nonzero,
        salt,
        password.as_bytes(),
        &mut salted,
    );
    let key = hmac::Key::new(hmac::HMAC_SHA256, &salted);
    let client_key = hmac::sign(&key, b"Client Key");
    let stored_key = digest::digest(&digest::SHA256, client_key.as_ref());
    let server_key = hmac::sign(&key, b"Server Key");
    format!(
        "{PREFIX}{iterations}:{}${}:{}",
        STANDARD.encode(salt),
        STANDARD.encode(stored_key.as_ref()),
        STANDARD.encode(server_key.as_ref())
    )
}

/// Reads a stored verifier; `None` if it is not one.
pub fn parse_verifier(text: &str) -> Option<ScramVerifier> {
    let rest = text.strip_prefix(PREFIX)?;
    let (params, keys) = rest.split_once('$')?;
    let (iterations, salt) = params.split_once(':')?;
    let (stored, server) = keys.split_once(':')?;
    let verifier = ScramVerifier {
        iterations: iterations.parse().ok().filter(|i| *i > 0)?,
        salt: STANDARD.decode(salt).ok()?,
        stored_key: STANDARD.decode(stored).ok()?,
        server_key: STANDARD.decode(server).ok()?,
    };
    (verifier.stored_key.len() == 32 && verifier.server_key.len() == 32).then_some(verifier)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_holds_the_rfc_5802_keys() {
        let verifier = make_verifier("pencil", b"0123456789abcdef", 4096);
        let parsed = parse_verifier(&verifier).expect("a verifier");
        assert_eq!(parsed.iterations, 4096);
        assert_eq!(parsed.salt, b"0123456789abcdef");
        // StoredKey = H(HMAC(SaltedPassword, "Client Key")), computed independently.
        let mut salted = [0u8; 32];
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA256,
            NonZeroU32::new(4096).expect("non-zero"),
            b"0123456789abcdef",
            b"pencil",
            &mut salted,
        );
        let client_key = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &salted), b"Client Key");
        let stored = digest::digest(&digest::SHA256, client_key.as_ref());
        assert_eq!(parsed.stored_key, stored.as_ref());
    }

    #[test]
    fn a_verifier_given_as_password_is_kept() {
        let verifier = make_verifier("secret", b"salt-salt-salt!!", 4096);
        assert_eq!(verifier_for(&verifier), verifier);
        assert_ne!(verifier_for("secret"), verifier, "a fresh salt each time");
    }

    #[test]
    fn malformed_verifiers_are_not_verifiers() {
        for text in [
            "secret",
            "SCRAM-SHA-256$",
            "SCRAM-SHA-256$0:c2FsdA==$AAAA:AAAA",
            "SCRAM-SHA-256$4096:c2FsdA==$AAAA:AAAA",
        ] {
            assert_eq!(parse_verifier(text), None, "{text}");
        }
    }
}
