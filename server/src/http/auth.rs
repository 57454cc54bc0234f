//! Who an HTTP request runs as. A bearer token (`crate::tokens`) runs the request as the
//! role it was issued for, on any listener. Otherwise the listener's rule is the pgwire
//! listeners' rule:
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
use crate::tokens::Tokens;

const MAX_REMEMBERED: usize = 1024;

#[derive(Default)]
pub struct Verified {
    /// (role, SHA-256 of the password) → the verifier it was checked against.
    remembered: Mutex<HashMap<(String, Vec<u8>), String>>,
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new("28P01", message)
}

/// What an `Authorization` header presents.
enum Credentials {
    None,
    Basic(String, String),
    Bearer(String),
}

/// The credentials of the `Authorization` header.
fn credentials(headers: &HeaderMap) -> Result<Credentials, ApiError> {
    let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
        return Ok(Credentials::None);
    };
    let value = value
        .to_str()
        .map_err(|_| unauthorized("malformed Authorization header"))?;
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if scheme.eq_ignore_ascii_case("bearer") {
        return Ok(Credentials::Bearer(rest.trim().to_owned()));
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(unauthorized(
            "only Basic and Bearer credentials are accepted in the Authorization header",
        ));
    }
    let encoded = rest;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| unauthorized("malformed Basic credentials"))?;
    let text =
        String::from_utf8(decoded).map_err(|_| unauthorized("malformed Basic credentials"))?;
    let (user, password) = text
        .split_once(':')
        .ok_or_else(|| unauthorized("malformed Basic credentials"))?;
    Ok(Credentials::Basic(user.to_owned(), password.to_owned()))
}

impl Verified {
    /// The role a request runs as.
    pub fn authenticate(
        &self,
        cluster: &Cluster,
        method: AuthMethod,
        superuser: &str,
        tokens: &Tokens,
        headers: &HeaderMap,
    ) -> Result<String, ApiError> {
        let credentials = match credentials(headers)? {
            Credentials::Bearer(token) => {
                let role = tokens
                    .role_of(&token)
                    .ok_or_else(|| unauthorized("invalid bearer token"))?;
                // The role must still exist and may log in, as for a password.
                return match cluster.login_role(role)? {
                    Some(_) => Ok(role.to_owned()),
                    None => Err(unauthorized(&format!(
                        "role \"{role}\" of the bearer token cannot log in"
                    ))),
                };
            }
            Credentials::Basic(user, password) => Some((user, password)),
            Credentials::None => None,
        };
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
