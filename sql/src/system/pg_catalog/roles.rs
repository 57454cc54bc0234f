//! `pg_database`, `pg_roles` (and `pg_authid`), `pg_user`: the cluster's databases and
//! roles.

use crate::system::columns::{Cell, Columns, Kind::*, row};
use crate::system::snapshot::{DEFAULT_TABLESPACE_OID, Snapshot};

pub(super) const PG_DATABASE: Columns = &[
    ("oid", Oid),
    ("datname", Name),
    ("datdba", Oid),
    ("encoding", Int4),
    ("datlocprovider", Char),
    ("datistemplate", Bool),
    ("datallowconn", Bool),
    ("datconnlimit", Int4),
    ("dattablespace", Oid),
    ("datcollate", Text),
    ("datctype", Text),
    ("daticulocale", Text),
    ("datcollversion", Text),
    ("datacl", TextArray),
];

/// PostgreSQL's number for UTF8 (`pg_encoding_to_char(6)`).
pub const UTF8_ENCODING: i32 = 6;

pub(super) fn pg_database(s: &Snapshot) -> Vec<Vec<Cell>> {
    s.databases
        .iter()
        .map(|d| {
            row![
                d.id,
                &d.name,
                s.role_oid(&d.owner),
                UTF8_ENCODING,
                'c',
                false,
                true,
                -1i32,
                DEFAULT_TABLESPACE_OID,
                "C",
                "C",
                Cell::Null,
                Cell::Null,
                Cell::Null,
            ]
        })
        .collect()
}

pub(super) const PG_ROLES: Columns = &[
    ("rolname", Name),
    ("rolsuper", Bool),
    ("rolinherit", Bool),
    ("rolcreaterole", Bool),
    ("rolcreatedb", Bool),
    ("rolcanlogin", Bool),
    ("rolreplication", Bool),
    ("rolconnlimit", Int4),
    ("rolpassword", Text),
    ("rolvaliduntil", TimestampTz),
    ("rolbypassrls", Bool),
    ("rolconfig", TextArray),
    ("oid", Oid),
];

pub(super) fn pg_roles(s: &Snapshot) -> Vec<Vec<Cell>> {
    s.roles
        .iter()
        .map(|r| {
            row![
                &r.name,
                r.superuser,
                true,
                r.create_role || r.superuser,
                r.create_db || r.superuser,
                r.login,
                false,
                r.connection_limit,
                "********",
                Cell::Null,
                r.superuser,
                Cell::Null,
                r.id,
            ]
        })
        .collect()
}

pub(super) const PG_USER: Columns = &[
    ("usename", Name),
    ("usesysid", Oid),
    ("usecreatedb", Bool),
    ("usesuper", Bool),
    ("userepl", Bool),
    ("usebypassrls", Bool),
    ("passwd", Text),
    ("valuntil", TimestampTz),
    ("useconfig", TextArray),
];

pub(super) fn pg_user(s: &Snapshot) -> Vec<Vec<Cell>> {
    s.roles
        .iter()
        .filter(|r| r.login)
        .map(|r| {
            row![
                &r.name,
                r.id,
                r.create_db || r.superuser,
                r.superuser,
                false,
                r.superuser,
                "********",
                Cell::Null,
                Cell::Null,
            ]
        })
        .collect()
}
