//! Authentication at startup: `trust`, or SCRAM-SHA-256 against the verifier stored with
//! the role (`CREATE ROLE … PASSWORD`). The SCRAM exchange itself is pgwire's; we supply
//! the verifier and decide what a failure says.
//!
//! As in PostgreSQL, a failed password check and an unknown role look the same to the
//! client under SCRAM (28P01), so the error does not tell which role names exist.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use bytedata_sql::Cluster;
use pgwire::api::ClientInfo;
use pgwire::api::auth::driver::AuthDriver;
use pgwire::api::auth::mechanism::AuthMechanismFactory;
use pgwire::api::auth::sasl::SaslMechanisms;
use pgwire::api::auth::sasl::scram::{ScramAuth, ScramSecret};
use pgwire::api::auth::{AuthSource, LoginInfo, Password, ServerParameterProvider};
use pgwire::error::{PgWireError, PgWireResult};

/// Reads role verifiers from the cluster's catalog.
struct RoleVerifiers {
    cluster: Arc<Cluster>,
}

impl std::fmt::Debug for RoleVerifiers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RoleVerifiers")
    }
}

#[async_trait]
impl AuthSource for RoleVerifiers {
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        // Only SCRAM is offered, which asks `get_scram_secret`.
        Err(PgWireError::InvalidPassword(
            login.user().unwrap_or_default().to_owned(),
        ))
    }

    async fn get_scram_secret(&self, login: &LoginInfo) -> PgWireResult<(ScramSecret, Option<()>)> {
        let user = login.user().unwrap_or_default().to_owned();
        let failed = || PgWireError::InvalidPassword(user.clone());
        let role = self.cluster.login_role(&user).map_err(|_| failed())?;
        let verifier = role
            .and_then(|role| role.password)
            .and_then(|text| bytedata_sql::password::parse_verifier(&text))
            .ok_or_else(failed)?;
        Ok((
            ScramSecret::Verifier {
                salt: verifier.salt,
                iterations: verifier.iterations as usize,
                stored_key: verifier.stored_key,
                server_key: verifier.server_key,
            },
            None,
        ))
    }
}

/// The startup parameters are sent by the connection itself, after authentication: the
/// driver's own completion is never used.
pub struct NoParameters;

impl ServerParameterProvider for NoParameters {
    fn server_parameters<C>(&self, _client: &C) -> Option<HashMap<String, String>>
    where
        C: ClientInfo,
    {
        None
    }
}

/// What a connection needs to run a SCRAM exchange.
pub struct Scram {
    pub driver: AuthDriver<NoParameters>,
    mechanisms: SaslMechanisms,
}

impl Scram {
    /// `tls_cert_pem` enables channel binding (SCRAM-SHA-256-PLUS) on TLS connections.
    pub fn new(cluster: Arc<Cluster>, tls_cert_pem: Option<&[u8]>) -> Result<Self, String> {
        let mut scram = ScramAuth::new(Arc::new(RoleVerifiers { cluster }));
        scram.set_iterations(bytedata_sql::password::SCRAM_ITERATIONS as usize);
        if let Some(pem) = tls_cert_pem {
            scram
                .configure_certificate(pem)
                .map_err(|e| format!("cannot use the TLS certificate for SCRAM: {e}"))?;
        }
        Ok(Scram {
            driver: AuthDriver::new(NoParameters),
            mechanisms: SaslMechanisms::new(vec![Arc::new(scram)]),
        })
    }

    pub fn mechanism(&self) -> Box<dyn pgwire::api::auth::mechanism::AuthMechanism> {
        self.mechanisms.create()
    }
}
