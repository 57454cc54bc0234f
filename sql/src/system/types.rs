//! The built-in types `pg_type` lists, `format_type` names and `::regtype` finds: those
//! ByteData stores, their array types, and the catalog's own (`oid`, `name`, `"char"`,
//! `regclass`, …) — with PostgreSQL's OIDs, so drivers never need to look a type up.

pub struct BuiltinType {
    pub oid: u32,
    pub name: &'static str,
    /// `typlen`: bytes, or -1 for variable length.
    pub len: i16,
    /// `typtype`: `b` base, `p` pseudo.
    pub kind: char,
    pub category: char,
    pub preferred: bool,
    /// For an array type, its element's OID; else 0.
    pub element: u32,
    /// The OID of the array of this type, 0 if none.
    pub array: u32,
    /// The prefix of its I/O functions (`int4` → `int4in`, `int4out`, …).
    pub io: &'static str,
    /// What `format_type` prints (without a type modifier).
    pub display: &'static str,
}

const fn base(
    oid: u32,
    name: &'static str,
    len: i16,
    category: char,
    array: u32,
    display: &'static str,
) -> BuiltinType {
    BuiltinType {
        oid,
        name,
        len,
        kind: 'b',
        category,
        preferred: false,
        element: 0,
        array,
        io: name,
        display,
    }
}

const fn array(oid: u32, name: &'static str, element: u32, display: &'static str) -> BuiltinType {
    BuiltinType {
        oid,
        name,
        len: -1,
        kind: 'b',
        category: 'A',
        preferred: false,
        element,
        array: 0,
        io: "array_",
        display,
    }
}

const fn pseudo(oid: u32, name: &'static str) -> BuiltinType {
    BuiltinType {
        oid,
        name,
        len: 4,
        kind: 'p',
        category: 'P',
        preferred: false,
        element: 0,
        array: 0,
        io: name,
        display: name,
    }
}

pub const BUILTIN_TYPES: &[BuiltinType] = &[
    base(16, "bool", 1, 'B', 1000, "boolean"),
    base(17, "bytea", -1, 'U', 1001, "bytea"),
    base(18, "char", 1, 'Z', 1002, "\"char\""),
    base(19, "name", 64, 'S', 1003, "name"),
    base(20, "int8", 8, 'N', 1016, "bigint"),
    base(21, "int2", 2, 'N', 1005, "smallint"),
    base(22, "int2vector", -1, 'A', 1006, "int2vector"),
    base(23, "int4", 4, 'N', 1007, "integer"),
    base(24, "regproc", 4, 'N', 1008, "regproc"),
    BuiltinType {
        preferred: true,
        ..base(25, "text", -1, 'S', 1009, "text")
    },
    BuiltinType {
        preferred: true,
        ..base(26, "oid", 4, 'N', 1028, "oid")
    },
    base(30, "oidvector", -1, 'A', 1013, "oidvector"),
    base(114, "json", -1, 'U', 199, "json"),
    base(700, "float4", 4, 'N', 1021, "real"),
    BuiltinType {
        preferred: true,
        ..base(701, "float8", 8, 'N', 1022, "double precision")
    },
    pseudo(705, "unknown"),
    base(1042, "bpchar", -1, 'S', 1014, "character"),
    base(1043, "varchar", -1, 'S', 1015, "character varying"),
    base(1082, "date", 4, 'D', 1182, "date"),
    base(1083, "time", 8, 'D', 1183, "time without time zone"),
    base(
        1114,
        "timestamp",
        8,
        'D',
        1115,
        "timestamp without time zone",
    ),
    BuiltinType {
        preferred: true,
        ..base(
            1184,
            "timestamptz",
            8,
            'D',
            1185,
            "timestamp with time zone",
        )
    },
    BuiltinType {
        preferred: true,
        ..base(1186, "interval", 16, 'T', 1187, "interval")
    },
    base(1700, "numeric", -1, 'N', 1231, "numeric"),
    base(2205, "regclass", 4, 'N', 2210, "regclass"),
    base(2206, "regtype", 4, 'N', 2211, "regtype"),
    base(4089, "regnamespace", 4, 'N', 4090, "regnamespace"),
    base(2950, "uuid", 16, 'U', 2951, "uuid"),
    base(3802, "jsonb", -1, 'U', 3807, "jsonb"),
    pseudo(2249, "record"),
    pseudo(2276, "any"),
    pseudo(2277, "anyarray"),
    pseudo(2278, "void"),
    array(1000, "_bool", 16, "boolean[]"),
    array(1001, "_bytea", 17, "bytea[]"),
    array(1002, "_char", 18, "\"char\"[]"),
    array(1003, "_name", 19, "name[]"),
    array(1005, "_int2", 21, "smallint[]"),
    array(1006, "_int2vector", 22, "int2vector[]"),
    array(1007, "_int4", 23, "integer[]"),
    array(1008, "_regproc", 24, "regproc[]"),
    array(1009, "_text", 25, "text[]"),
    array(1013, "_oidvector", 30, "oidvector[]"),
    array(1014, "_bpchar", 1042, "character[]"),
    array(1015, "_varchar", 1043, "character varying[]"),
    array(1016, "_int8", 20, "bigint[]"),
    array(1021, "_float4", 700, "real[]"),
    array(1022, "_float8", 701, "double precision[]"),
    array(1028, "_oid", 26, "oid[]"),
    array(1115, "_timestamp", 1114, "timestamp without time zone[]"),
    array(1182, "_date", 1082, "date[]"),
    array(1183, "_time", 1083, "time without time zone[]"),
    array(1185, "_timestamptz", 1184, "timestamp with time zone[]"),
    array(1187, "_interval", 1186, "interval[]"),
    array(1231, "_numeric", 1700, "numeric[]"),
    array(199, "_json", 114, "json[]"),
    array(2210, "_regclass", 2205, "regclass[]"),
    array(2211, "_regtype", 2206, "regtype[]"),
    array(2951, "_uuid", 2950, "uuid[]"),
    array(3807, "_jsonb", 3802, "jsonb[]"),
    array(4090, "_regnamespace", 4089, "regnamespace[]"),
];

pub fn by_oid(oid: i64) -> Option<&'static BuiltinType> {
    BUILTIN_TYPES.iter().find(|t| i64::from(t.oid) == oid)
}

/// Types whose values sort by a collation (`attcollation`, `typcollation` non-zero).
pub fn is_collatable(oid: u32) -> bool {
    matches!(oid, 25 | 1042 | 1043 | 19 | 1009 | 1014 | 1015)
}

/// `format_type(oid, typmod)`: the type's SQL name, with its modifier applied.
pub fn format_type(oid: i64, typmod: Option<i64>) -> Option<String> {
    let ty = by_oid(oid)?;
    let typmod = typmod.filter(|&m| m >= 0);
    let element = (ty.element != 0)
        .then(|| by_oid(i64::from(ty.element)))
        .flatten();
    let (base, suffix) = match element {
        Some(element) => (element, "[]"),
        None => (ty, ""),
    };
    let modifier = typmod.and_then(|m| match base.oid {
        1042 | 1043 if m >= 4 => Some(format!("({})", m - 4)),
        1700 if m >= 4 => Some(format!("({},{})", (m - 4) >> 16, (m - 4) & 0xffff)),
        _ => None,
    });
    Some(match (base.oid, modifier) {
        // `character` without a modifier is bpchar's own name, as PostgreSQL prints it.
        (1042, None) => format!("bpchar{suffix}"),
        (_, Some(modifier)) => format!("{}{modifier}{suffix}", base.display),
        (_, None) => format!("{}{suffix}", base.display),
    })
}

/// A type's OID from a name as `::regtype` reads it (`integer`, `int4`, `varchar(10)`,
/// `text[]`, `pg_catalog.int8`).
pub fn oid_by_name(name: &str) -> Option<u32> {
    let name = name.trim().to_ascii_lowercase();
    let name = name.strip_prefix("pg_catalog.").unwrap_or(&name);
    let (name, is_array) = match name.strip_suffix("[]") {
        Some(element) => (element.trim(), true),
        None => (name, false),
    };
    // A modifier does not change the type.
    let name = name.split('(').next().unwrap_or(name).trim();
    let aliases: &[(&str, &str)] = &[
        ("boolean", "bool"),
        ("smallint", "int2"),
        ("integer", "int4"),
        ("int", "int4"),
        ("bigint", "int8"),
        ("real", "float4"),
        ("double precision", "float8"),
        ("float", "float8"),
        ("character varying", "varchar"),
        ("character", "bpchar"),
        ("char", "bpchar"),
        ("decimal", "numeric"),
        ("timestamp without time zone", "timestamp"),
        ("timestamp with time zone", "timestamptz"),
        ("time without time zone", "time"),
        ("\"char\"", "char"),
    ];
    let name = aliases
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, canonical)| canonical);
    let ty = BUILTIN_TYPES
        .iter()
        .find(|t| t.name == name && t.element == 0)?;
    if is_array {
        (ty.array != 0).then_some(ty.array)
    } else {
        Some(ty.oid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_type_prints_what_psql_shows() {
        assert_eq!(format_type(23, Some(-1)).unwrap(), "integer");
        assert_eq!(format_type(1700, Some(786_438)).unwrap(), "numeric(12,2)");
        assert_eq!(
            format_type(1043, Some(44)).unwrap(),
            "character varying(40)"
        );
        assert_eq!(format_type(1042, Some(5)).unwrap(), "character(1)");
        assert_eq!(format_type(1007, None).unwrap(), "integer[]");
        assert_eq!(
            format_type(1015, Some(14)).unwrap(),
            "character varying(10)[]"
        );
        assert_eq!(format_type(123_456, None), None);
    }

    #[test]
    fn every_type_has_its_array_and_back() {
        for t in BUILTIN_TYPES.iter().filter(|t| t.array != 0) {
            let array = by_oid(i64::from(t.array)).expect(t.name);
            assert_eq!(array.element, t.oid, "{}", t.name);
        }
        assert_eq!(oid_by_name("integer"), Some(23));
        assert_eq!(oid_by_name("pg_catalog.int8"), Some(20));
        assert_eq!(oid_by_name("varchar(10)"), Some(1043));
        assert_eq!(oid_by_name("text[]"), Some(1009));
        assert_eq!(oid_by_name("nonsense"), None);
    }
}
