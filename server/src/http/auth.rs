//! Who an HTTP request runs as. The listener's rule is the pgwire listeners' rule:
//! `trust` (the default on a loopback address) lets a request name its role with HTTP
//! Basic credentials, whose password is then not checked, or runs it as the superuser;
//! `scram-sha-256` requires HTTP Basic credentials whose password matches the role's
//! stored SCRAM verifier. Failures are 28P01 (401) with a `WWW-Authenticate` challenge,
//! worded alike for an unknown role and a wrong password.
//!
//! Checking a password costs a PBKDF2 run (4,096 iterations, about a millisecond): the
//! last `MAX_REMEMBERED` good (role, password digest, verifier) triples are remembered,
//! so a client that sends the same credentials with each request pays it once. A
//! changed password changes the verifier, which invalidates what was remembered.

use std::collections::HashMap;

use axum::http::HeaderMap;
use base64::Engine as _;
use bytedata_sql::Cluster;
use parking_lot::Mutex;
use ring::digest;

use super::error::ApiError;
use crate::config::AuthMethod;

const MAX_REMEMBERED: usize = 1024;

#[derive(Default)]
pub struct Verified {
    /// (role, SHA-256 of the password) → the verifier it was checked against.
    remembered: Mutex<HashMap<(String, Vec<u8>), String>>,
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new("28P01", message)
}

/// The role and password of an `Authorization: Basic …` header, if there is one.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, ApiError> {
    let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| unauthorized("malformed Authorization header"))?;
    let Some(encoded) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    else {
        return Err(unauthorized(
            "only Basic credentials are accepted in the Authorization header",
        ));
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| unauthorized("malformed Basic credentials"))?;
    let text =
        String::from_utf8(decoded).map_err(|_| unauthorized("malformed Basic credentials"))?;
    let (user, password) = text
        .split_once(':')
        .ok_or_else(|| unauthorized("malformed Basic credentials"))?;
    Ok(Some((user.to_owned(), password.to_owned())))
}

impl Verified {
    /// The role a request runs as.
    pub fn authenticate(
        &self,
        cluster: &Cluster,
        method: AuthMethod,
        superuser: &str,
        headers: &HeaderMap,
    ) -> Result<String, ApiError> {
        let credentials = basic_credentials(headers)?;
        match (method, credentials) {
            (AuthMethod::Trust, Some((user, _))) => {
                // As pgwire's trust: the role must exist and may log in.
                match cluster.login_role(&user)? {
                    Some(_) => Ok(user),
                    None => Err(unauthorized(&format!("role \"{user}\" does not exist"))),
                }
            }
            (AuthMethod::Trust, None) => Ok(superuser.to_owned()),
            (AuthMethod::ScramSha256, None) => {
                Err(unauthorized("this listener requires a role and password"))
            }
            (AuthMethod::ScramSha256, Some((user, password))) => {
                self.check_password(cluster, &user, &password)?;
                Ok(user)
            }
        }
    }

    fn check_password(
        &self,
        cluster: &Cluster,
        user: &str,
        password: &str,
    ) -> Result<(), ApiError> {
        let failed = || {
            unauthorized(&format!(
                "password authentication failed for user \"{user}\""
            ))
        };
        let stored = cluster
            .login_role(user)?
            .and_then(|role| role.password)
            .ok_or_else(failed)?;
        let digest = digest::digest(&digest::SHA256, password.as_bytes())
            .as_ref()
            .to_vec();
        let key = (user.to_owned(), digest);
        if self.remembered.lock().get(&key) == Some(&stored) {
            return Ok(());
        }
        let verifier = bytedata_sql::password::parse_verifier(&stored).ok_or_else(failed)?;
        let candidate =
            bytedata_sql::password::make_verifier(password, &verifier.salt, verifier.iterations);
        let matches = bytedata_sql::password::parse_verifier(&candidate)
            .is_some_and(|c| same_bytes(&c.stored_key, &verifier.stored_key));
        if !matches {
            return Err(failed());
        }
        let mut remembered = self.remembered.lock();
        if remembered.len() >= MAX_REMEMBERED {
            remembered.clear();
        }
        remembered.insert(key, stored);
        Ok(())
    }
}

/// Equality whose time does not depend on where the inputs differ.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
