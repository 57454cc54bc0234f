//! Bearer tokens for the HTTP listener: `Authorization: Bearer <token>` runs a request as
//! the role the token was issued for, without a password.
//!
//! The server keeps no tokens, only their SHA-256 digests, in a file an operator manages
//! (`http_tokens_file`): one `role digest` pair per line, `#` comments and blank lines
//! allowed. `bytedata token --role R` makes a new random token and prints it with the
//! line to add; removing the line (and restarting) revokes it. A leaked tokens file thus
//! gives nobody a token, and comparing digests leaks nothing about a token through timing.
//!
//! Tokens are 32 random bytes, base64url without padding, behind a `bd_` prefix that
//! makes them easy to find in logs and secret scanners.

use std::collections::HashMap;
use std::path::Path;

use base64::Engine as _;
use ring::digest;

/// Most tokens one file may hold (a bound on what a wrong file makes the server load).
pub const MAX_TOKENS: usize = 100_000;
const PREFIX: &str = "bd_";
const TOKEN_BYTES: usize = 32;

#[derive(Default)]
pub struct Tokens {
    /// SHA-256 of the token → the role it runs as.
    roles: HashMap<[u8; 32], String>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens({} issued)", self.roles.len())
    }
}

fn sha256(text: &str) -> [u8; 32] {
    let digest = digest::digest(&digest::SHA256, text.as_bytes());
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(digest.as_ref());
    bytes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(bytes)
}

impl Tokens {
    /// Reads a tokens file; an error names the line that is wrong.
    pub fn load(path: &Path) -> Result<Tokens, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        Tokens::parse(&text).map_err(|error| format!("{}: {error}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Tokens, String> {
        let mut roles = HashMap::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut fields = line.split_whitespace();
            let (Some(role), Some(digest), None) = (fields.next(), fields.next(), fields.next())
            else {
                return Err(format!("line {}: expected \"role sha256-hex\"", number + 1));
            };
            let digest = unhex(digest).ok_or_else(|| {
                format!(
                    "line {}: \"{digest}\" is not a SHA-256 digest (64 hexadecimal digits)",
                    number + 1
                )
            })?;
            if roles.len() >= MAX_TOKENS {
                return Err(format!("more than {MAX_TOKENS} tokens"));
            }
            roles.insert(digest, role.to_owned());
        }
        Ok(Tokens { roles })
    }

    /// The role `token` was issued for, if it was.
    pub fn role_of(&self, token: &str) -> Option<&str> {
        self.roles.get(&sha256(token.trim())).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.roles.is_empty()
    }
}

/// A new token for `role` and the tokens-file line that admits it.
pub fn issue(role: &str) -> Result<(String, String), String> {
    if role.is_empty() || role.chars().any(char::is_whitespace) {
        return Err(format!("\"{role}\" cannot be named in a tokens file"));
    }
    let mut random = [0u8; TOKEN_BYTES];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random)
        .map_err(|_| "the system's random source failed".to_owned())?;
    let token = format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)
    );
    let line = format!("{role} {}", hex(&sha256(&token)));
    Ok((token, line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_token_maps_to_its_role_through_the_file_line() {
        let (token, line) = issue("app").expect("a token");
        assert!(token.starts_with("bd_") && token.len() > 40);
        let tokens = Tokens::parse(&format!("# tokens\n\n{line}\n")).expect("parses");
        assert_eq!(tokens.role_of(&token), Some("app"));
        assert_eq!(tokens.role_of("bd_not-a-token"), None);
        let (other, _) = issue("app").expect("a token");
        assert_ne!(token, other, "tokens are random");
        assert!(
            !line.contains(&token[3..]),
            "the file never holds the token"
        );
    }

    #[test]
    fn malformed_lines_are_named() {
        for (text, expected) in [
            ("app", "line 1: expected"),
            ("# c\napp abc", "line 2: \"abc\" is not a SHA-256 digest"),
            ("app 00 extra", "line 1: expected"),
        ] {
            let error = Tokens::parse(text).expect_err(text);
            assert!(error.contains(expected), "{error}");
        }
        assert!(issue("two words").is_err());
    }
}
