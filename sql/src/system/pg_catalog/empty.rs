//! Catalogs of features ByteData does not have (functions, triggers, policies,
//! publications, inheritance, partitioning, …): their columns, for queries that look and
//! find no rows.

use crate::system::columns::{Columns, Kind::*};

pub(super) const PG_PROC: Columns = &[
    ("oid", Oid),
    ("proname", Name),
    ("pronamespace", Oid),
    ("proowner", Oid),
    ("prolang", Oid),
    ("prokind", Char),
    ("proretset", Bool),
    ("pronargs", Int2),
    ("prorettype", Oid),
    ("proargtypes", OidVector),
    ("proargnames", TextArray),
    ("prosrc", Text),
];
pub(super) const PG_INHERITS: Columns = &[
    ("inhrelid", Oid),
    ("inhparent", Oid),
    ("inhseqno", Int4),
    ("inhdetachpending", Bool),
];
pub(super) const PG_PARTITIONED_TABLE: Columns = &[
    ("partrelid", Oid),
    ("partstrat", Char),
    ("partnatts", Int2),
    ("partdefid", Oid),
    ("partattrs", Int2Array),
];
pub(super) const PG_DESCRIPTION: Columns = &[
    ("objoid", Oid),
    ("classoid", Oid),
    ("objsubid", Int4),
    ("description", Text),
];
pub(super) const PG_ENUM: Columns = &[
    ("oid", Oid),
    ("enumtypid", Oid),
    ("enumsortorder", Float4),
    ("enumlabel", Name),
];
pub(super) const PG_EXTENSION: Columns = &[
    ("oid", Oid),
    ("extname", Name),
    ("extowner", Oid),
    ("extnamespace", Oid),
    ("extrelocatable", Bool),
    ("extversion", Text),
];
pub(super) const PG_TRIGGER: Columns = &[
    ("oid", Oid),
    ("tgrelid", Oid),
    ("tgparentid", Oid),
    ("tgname", Name),
    ("tgfoid", Oid),
    ("tgtype", Int2),
    ("tgenabled", Char),
    ("tgisinternal", Bool),
    ("tgconstrrelid", Oid),
    ("tgconstrindid", Oid),
    ("tgconstraint", Oid),
    ("tgdeferrable", Bool),
    ("tginitdeferred", Bool),
    ("tgnargs", Int2),
];
pub(super) const PG_POLICY: Columns = &[
    ("oid", Oid),
    ("polname", Name),
    ("polrelid", Oid),
    ("polcmd", Char),
    ("polpermissive", Bool),
    ("polroles", OidArray),
    ("polqual", Text),
    ("polwithcheck", Text),
];
pub(super) const PG_REWRITE: Columns = &[
    ("oid", Oid),
    ("rulename", Name),
    ("ev_class", Oid),
    ("ev_type", Char),
    ("ev_enabled", Char),
    ("is_instead", Bool),
];
pub(super) const PG_DEPEND: Columns = &[
    ("classid", Oid),
    ("objid", Oid),
    ("objsubid", Int4),
    ("refclassid", Oid),
    ("refobjid", Oid),
    ("refobjsubid", Int4),
    ("deptype", Char),
];
pub(super) const PG_AUTH_MEMBERS: Columns = &[
    ("oid", Oid),
    ("roleid", Oid),
    ("member", Oid),
    ("grantor", Oid),
    ("admin_option", Bool),
];
pub(super) const PG_STATISTIC_EXT: Columns = &[
    ("oid", Oid),
    ("stxrelid", Oid),
    ("stxname", Name),
    ("stxnamespace", Oid),
    ("stxowner", Oid),
    ("stxstattarget", Int4),
    ("stxkeys", Int2Array),
    ("stxkind", TextArray),
];
pub(super) const PG_PUBLICATION: Columns = &[
    ("oid", Oid),
    ("pubname", Name),
    ("pubowner", Oid),
    ("puballtables", Bool),
    ("pubinsert", Bool),
    ("pubupdate", Bool),
    ("pubdelete", Bool),
    ("pubtruncate", Bool),
    ("pubviaroot", Bool),
];
pub(super) const PG_PUBLICATION_REL: Columns = &[
    ("oid", Oid),
    ("prpubid", Oid),
    ("prrelid", Oid),
    ("prqual", Text),
    ("prattrs", Int2Array),
];
pub(super) const PG_PUBLICATION_NAMESPACE: Columns =
    &[("oid", Oid), ("pnpubid", Oid), ("pnnspid", Oid)];
pub(super) const PG_FOREIGN_TABLE: Columns = &[
    ("ftrelid", Oid),
    ("ftserver", Oid),
    ("ftoptions", TextArray),
];
pub(super) const PG_OPCLASS: Columns = &[
    ("oid", Oid),
    ("opcmethod", Oid),
    ("opcname", Name),
    ("opcnamespace", Oid),
    ("opcowner", Oid),
    ("opcfamily", Oid),
    ("opcintype", Oid),
    ("opcdefault", Bool),
    ("opckeytype", Oid),
];
pub(super) const PG_RANGE: Columns = &[
    ("rngtypid", Oid),
    ("rngsubtype", Oid),
    ("rngmultitypid", Oid),
];
