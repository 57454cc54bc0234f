//! PostgreSQL parameters ByteData accepts, shows and resets but that change nothing here:
//! the planner's method switches and costs (DataFusion plans every statement its own
//! way), parallelism, vacuum and storage tuning. Scripts and test suites set them freely
//! (`SET enable_seqscan = off` before an EXPLAIN), so refusing them would break the
//! script for no gain; their values are still checked as PostgreSQL checks them, so a
//! typo is the same error it would be there.

/// How a value is checked and normalised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// on/off and PostgreSQL's other spellings, shown as `on` or `off`.
    Bool,
    /// A whole number, optionally with a memory or time unit (`8MB`, `10ms`).
    Integer,
    /// A floating-point number.
    Real,
    /// One of these words (case-insensitive), shown in lower case.
    Enum(&'static [&'static str]),
    /// Any text.
    Text,
}

/// (name, PostgreSQL 15's default as SHOW prints it, kind)
pub(super) const ACCEPTED: &[(&str, &str, Kind)] = &[
    ("array_nulls", "on", Kind::Bool),
    ("check_function_bodies", "on", Kind::Bool),
    (
        "constraint_exclusion",
        "partition",
        Kind::Enum(&["partition", "on", "off"]),
    ),
    ("cpu_index_tuple_cost", "0.005", Kind::Real),
    ("cpu_operator_cost", "0.0025", Kind::Real),
    ("cpu_tuple_cost", "0.01", Kind::Real),
    ("cursor_tuple_fraction", "0.1", Kind::Real),
    ("default_statistics_target", "100", Kind::Integer),
    ("default_table_access_method", "heap", Kind::Text),
    ("default_tablespace", "", Kind::Text),
    (
        "default_toast_compression",
        "pglz",
        Kind::Enum(&["pglz", "lz4"]),
    ),
    ("effective_cache_size", "4GB", Kind::Integer),
    ("effective_io_concurrency", "1", Kind::Integer),
    ("enable_async_append", "on", Kind::Bool),
    ("enable_bitmapscan", "on", Kind::Bool),
    ("enable_gathermerge", "on", Kind::Bool),
    ("enable_hashagg", "on", Kind::Bool),
    ("enable_hashjoin", "on", Kind::Bool),
    ("enable_incremental_sort", "on", Kind::Bool),
    ("enable_indexonlyscan", "on", Kind::Bool),
    ("enable_indexscan", "on", Kind::Bool),
    ("enable_material", "on", Kind::Bool),
    ("enable_memoize", "on", Kind::Bool),
    ("enable_mergejoin", "on", Kind::Bool),
    ("enable_nestloop", "on", Kind::Bool),
    ("enable_parallel_append", "on", Kind::Bool),
    ("enable_parallel_hash", "on", Kind::Bool),
    ("enable_partition_pruning", "on", Kind::Bool),
    ("enable_partitionwise_aggregate", "off", Kind::Bool),
    ("enable_partitionwise_join", "off", Kind::Bool),
    ("enable_seqscan", "on", Kind::Bool),
    ("enable_sort", "on", Kind::Bool),
    ("enable_tidscan", "on", Kind::Bool),
    ("escape_string_warning", "on", Kind::Bool),
    (
        "force_parallel_mode",
        "off",
        Kind::Enum(&["off", "on", "regress"]),
    ),
    ("from_collapse_limit", "8", Kind::Integer),
    ("geqo", "on", Kind::Bool),
    ("geqo_threshold", "12", Kind::Integer),
    ("hash_mem_multiplier", "2", Kind::Real),
    ("jit_above_cost", "100000", Kind::Real),
    ("jit_inline_above_cost", "500000", Kind::Real),
    ("jit_optimize_above_cost", "500000", Kind::Real),
    ("join_collapse_limit", "8", Kind::Integer),
    ("maintenance_work_mem", "64MB", Kind::Integer),
    ("max_parallel_maintenance_workers", "2", Kind::Integer),
    ("max_parallel_workers", "8", Kind::Integer),
    ("max_parallel_workers_per_gather", "2", Kind::Integer),
    ("min_parallel_index_scan_size", "512kB", Kind::Integer),
    ("min_parallel_table_scan_size", "8MB", Kind::Integer),
    ("parallel_leader_participation", "on", Kind::Bool),
    ("parallel_setup_cost", "1000", Kind::Real),
    ("parallel_tuple_cost", "0.1", Kind::Real),
    (
        "password_encryption",
        "scram-sha-256",
        Kind::Enum(&["scram-sha-256", "md5"]),
    ),
    (
        "plan_cache_mode",
        "auto",
        Kind::Enum(&["auto", "force_generic_plan", "force_custom_plan"]),
    ),
    ("quote_all_identifiers", "off", Kind::Bool),
    ("random_page_cost", "4", Kind::Real),
    ("seq_page_cost", "1", Kind::Real),
    (
        "session_replication_role",
        "origin",
        Kind::Enum(&["origin", "replica", "local"]),
    ),
    ("temp_buffers", "8MB", Kind::Integer),
    ("trace_sort", "off", Kind::Bool),
    (
        "track_functions",
        "none",
        Kind::Enum(&["none", "pl", "all"]),
    ),
    ("transaction_deferrable", "off", Kind::Bool),
    ("vacuum_cost_delay", "0", Kind::Real),
    ("vacuum_cost_limit", "200", Kind::Integer),
    ("vacuum_freeze_min_age", "50000000", Kind::Integer),
];

pub(super) fn kind_of(canonical: &str) -> Option<Kind> {
    ACCEPTED
        .iter()
        .find(|(name, _, _)| *name == canonical)
        .map(|(_, _, kind)| *kind)
}

/// The value as SHOW prints it, or PostgreSQL's complaint about it.
pub(super) fn normalize(name: &str, kind: Kind, value: &str) -> Result<String, String> {
    let value = value.trim();
    match kind {
        Kind::Bool => super::settings::parse_bool(value)
            .map(|on| if on { "on" } else { "off" }.to_owned())
            .ok_or_else(|| format!("parameter \"{name}\" requires a Boolean value")),
        Kind::Integer => {
            let body = value.strip_prefix(['-', '+']).unwrap_or(value);
            let sign = value.len() - body.len();
            let digits = body
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(body.len());
            let (number, unit) = value.split_at(sign + digits);
            let unit_ok = matches!(
                unit.trim(),
                "" | "B" | "kB" | "MB" | "GB" | "TB" | "us" | "ms" | "s" | "min" | "h" | "d"
            );
            if number.parse::<i64>().is_ok() && unit_ok {
                Ok(value.to_owned())
            } else {
                Err(format!(
                    "invalid value for parameter \"{name}\": \"{value}\""
                ))
            }
        }
        Kind::Real => value
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(|v| v.to_string())
            .ok_or_else(|| format!("parameter \"{name}\" requires a numeric value")),
        Kind::Enum(words) => words
            .iter()
            .find(|w| w.eq_ignore_ascii_case(value))
            .map(|w| (*w).to_owned())
            .ok_or_else(|| format!("invalid value for parameter \"{name}\": \"{value}\"")),
        Kind::Text => Ok(value.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_and_shown_as_postgresql_shows_them() {
        let cases = [
            ("enable_seqscan", "0", Ok("off")),
            ("enable_seqscan", "TRUE", Ok("on")),
            (
                "enable_seqscan",
                "sometimes",
                Err("parameter \"enable_seqscan\" requires a Boolean value"),
            ),
            ("work", "8MB", Ok("8MB")),
            ("random_page_cost", "1.50", Ok("1.5")),
            (
                "random_page_cost",
                "cheap",
                Err("parameter \"random_page_cost\" requires a numeric value"),
            ),
            (
                "plan_cache_mode",
                "FORCE_GENERIC_PLAN",
                Ok("force_generic_plan"),
            ),
            (
                "plan_cache_mode",
                "always",
                Err("invalid value for parameter \"plan_cache_mode\": \"always\""),
            ),
        ];
        for (name, value, expected) in cases {
            let kind = match name {
                "work" => Kind::Integer,
                other => kind_of(other).unwrap(),
            };
            let got = normalize(name, kind, value);
            assert_eq!(
                got.as_deref().map_err(String::as_str),
                expected,
                "{name} = {value}"
            );
        }
        assert!(normalize("x", Kind::Integer, "-5").is_ok());
        assert!(normalize("x", Kind::Integer, "5 parsecs").is_err());
    }

    #[test]
    fn the_table_is_sorted_and_has_no_duplicates() {
        assert!(ACCEPTED.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
