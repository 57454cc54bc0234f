//! CREATE, ALTER and DROP of roles, in the system catalog; passwords are stored as
//! SCRAM-SHA-256 verifiers, never in clear.

use bytedata_catalog::descriptor::RoleDescriptor;
use datafusion::sql::sqlparser::ast::{self, ObjectName};

use super::Ddl;
use crate::context::result::QueryResult;
use crate::error::{Result, SqlError};
use crate::syntax::object_name;

pub fn create_role(ddl: &Ddl, create: &ast::CreateRole) -> Result<QueryResult> {
    let password = create
        .password
        .as_ref()
        .map(password_verifier)
        .transpose()?
        .flatten();
    let system = ddl.context.cluster.system();
    let txn = system.engine().begin(Default::default());
    for name in &create.names {
        let (_, name) = object_name(name)?;
        if system.role(&txn, &name)?.is_some() {
            if create.if_not_exists {
                continue;
            }
            return Err(SqlError::new(
                "42710",
                format!("role \"{name}\" already exists"),
            ));
        }
        let mut role = RoleDescriptor::new(system.next_object_id()?, &name);
        role.login = create.login.unwrap_or(false);
        role.superuser = create.superuser.unwrap_or(false);
        role.create_db = create.create_db.unwrap_or(false);
        role.create_role = create.create_role.unwrap_or(false);
        role.password = password.clone();
        if let Some(limit) = &create.connection_limit {
            role.connection_limit = connection_limit(limit)?;
        }
        system.create_role(&txn, &role)?;
    }
    txn.commit()?;
    Ok(QueryResult::command("CREATE ROLE"))
}

/// The verifier to store for `PASSWORD …` (`None` for `PASSWORD NULL`).
fn password_verifier(password: &ast::Password) -> Result<Option<String>> {
    match password {
        ast::Password::NullPassword => Ok(None),
        ast::Password::Password(expr) => match expr {
            ast::Expr::Value(v) => match &v.value {
                ast::Value::SingleQuotedString(text) => {
                    if text.is_empty() {
                        // PostgreSQL: "empty string is not a valid password, clearing password".
                        return Ok(None);
                    }
                    Ok(Some(crate::password::verifier_for(text)))
                }
                ast::Value::Null => Ok(None),
                _ => Err(SqlError::syntax("a password is a string constant")),
            },
            _ => Err(SqlError::syntax("a password is a string constant")),
        },
    }
}

fn connection_limit(expr: &ast::Expr) -> Result<i32> {
    let text = expr.to_string();
    text.parse::<i32>()
        .ok()
        .filter(|limit| *limit >= -1)
        .ok_or_else(|| SqlError::new("22023", format!("invalid connection limit: {text}")))
}

/// `ALTER ROLE name [WITH] option …` and `ALTER ROLE name RENAME TO new`.
pub fn alter_role(
    ddl: &Ddl,
    name: &ast::Ident,
    operation: &ast::AlterRoleOperation,
) -> Result<QueryResult> {
    let system = ddl.context.cluster.system();
    let txn = system.engine().begin(Default::default());
    let role_name = crate::syntax::ident_name(name);
    let old = system
        .role(&txn, &role_name)?
        .ok_or_else(|| SqlError::new("42704", format!("role \"{role_name}\" does not exist")))?;
    let mut role = old.clone();
    match operation {
        ast::AlterRoleOperation::RenameRole { role_name: new } => {
            role.name = crate::syntax::ident_name(new);
            // PostgreSQL clears an MD5 password on rename; a SCRAM verifier stays valid.
        }
        ast::AlterRoleOperation::WithOptions { options } => {
            for option in options {
                match option {
                    ast::RoleOption::Login(on) => role.login = *on,
                    ast::RoleOption::SuperUser(on) => role.superuser = *on,
                    ast::RoleOption::CreateDB(on) => role.create_db = *on,
                    ast::RoleOption::CreateRole(on) => role.create_role = *on,
                    ast::RoleOption::Password(password) => {
                        role.password = password_verifier(password)?;
                    }
                    ast::RoleOption::ConnectionLimit(limit) => {
                        role.connection_limit = connection_limit(limit)?;
                    }
                    ast::RoleOption::Inherit(_)
                    | ast::RoleOption::Replication(_)
                    | ast::RoleOption::BypassRLS(_) => {}
                    other => {
                        return Err(SqlError::unsupported(format!("ALTER ROLE {other}")));
                    }
                }
            }
        }
        _ => return Err(SqlError::unsupported("this form of ALTER ROLE")),
    }
    system
        .update_role(&txn, &old, &role)
        .map_err(|error| match error {
            bytedata_catalog::CatalogError::DuplicateRole(name) => {
                SqlError::new("42710", format!("role \"{name}\" already exists"))
            }
            other => other.into(),
        })?;
    txn.commit()?;
    Ok(QueryResult::command("ALTER ROLE"))
}

pub fn drop_roles(ddl: &Ddl, names: &[ObjectName], if_exists: bool) -> Result<QueryResult> {
    let system = ddl.context.cluster.system();
    let txn = system.engine().begin(Default::default());
    for name in names {
        let (_, name) = object_name(name)?;
        if name == ddl.context.user {
            return Err(SqlError::new("55006", "current user cannot be dropped"));
        }
        match system.drop_role(&txn, &name) {
            Err(bytedata_catalog::CatalogError::UndefinedRole(_)) if if_exists => {}
            other => {
                other?;
            }
        }
    }
    txn.commit()?;
    Ok(QueryResult::command("DROP ROLE"))
}
