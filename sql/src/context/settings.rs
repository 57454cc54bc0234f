//! Session parameters: what `SET`, `SHOW` and `RESET` act on, and what clients send at
//! startup. Unknown parameters are errors (42704), as in PostgreSQL; invalid values too
//! (22023). A name with a dot (`app.tenant`) is a custom parameter, as PostgreSQL's
//! placeholders are: any session may set it, and it exists from then on. Parameters that
//! are accepted but change nothing here are listed in `accepted_settings`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytedata_mvcc::IsolationLevel;

use super::accepted_settings::{self, ACCEPTED};
use crate::error::{Result, SqlError};
use bytedata_pgtypes::InputOptions;
use bytedata_pgtypes::Zone;
use bytedata_pgtypes::output::{DateStyleSetting, IntervalStyle};

/// Parameters PostgreSQL reports to clients when they change (ParameterStatus).
pub const REPORTED_SETTINGS: &[&str] = &[
    "application_name",
    "client_encoding",
    "DateStyle",
    "default_transaction_read_only",
    "in_hot_standby",
    "integer_datetimes",
    "IntervalStyle",
    "is_superuser",
    "server_encoding",
    "server_version",
    "session_authorization",
    "standard_conforming_strings",
    "TimeZone",
];

pub const SERVER_VERSION: &str = concat!("15.0 (ByteData ", env!("CARGO_PKG_VERSION"), ")");

/// (name as displayed, default value, settable by the session)
const PARAMETERS: &[(&str, &str, bool)] = &[
    ("application_name", "", true),
    ("client_encoding", "UTF8", true),
    ("client_min_messages", "notice", true),
    ("DateStyle", "ISO, MDY", true),
    ("default_transaction_isolation", "read committed", true),
    ("default_transaction_read_only", "off", true),
    ("extra_float_digits", "1", true),
    ("idle_in_transaction_session_timeout", "0", true),
    ("in_hot_standby", "off", false),
    ("integer_datetimes", "on", false),
    ("IntervalStyle", "postgres", true),
    ("is_superuser", "on", false),
    ("lc_messages", "C", true),
    ("lc_monetary", "C", true),
    ("lc_numeric", "C", true),
    ("lc_time", "C", true),
    ("lock_timeout", "0", true),
    // Statements running at least this long are logged (ms; -1: none, 0: all).
    ("log_min_duration_statement", "-1", true),
    ("max_identifier_length", "63", false),
    ("search_path", "\"$user\", public", true),
    ("server_encoding", "UTF8", false),
    ("server_version", SERVER_VERSION, false),
    ("server_version_num", "150000", false),
    ("session_authorization", "", false),
    ("standard_conforming_strings", "on", true),
    ("statement_timeout", "0", true),
    ("synchronous_commit", "on", true),
    ("TimeZone", "UTC", true),
    ("transaction_isolation", "read committed", false),
    ("transaction_read_only", "off", false),
    ("work_mem", "4MB", true),
    ("row_security", "on", true),
    ("jit", "off", true),
    ("bytea_output", "hex", true),
    ("xmloption", "content", true),
    // Whether point statements on a primary key take the fast path beside DataFusion
    // (`fast`); off, every statement is planned by DataFusion. For tests and diagnosis.
    ("bytedata.fast_path", "on", true),
];

/// Cheap to clone (a transaction keeps the settings it began with): the values are
/// shared until one side changes.
#[derive(Clone, Debug)]
pub struct Settings {
    values: Arc<BTreeMap<String, String>>,
    /// What RESET goes back to: the values once the connection's startup parameters
    /// were applied (PostgreSQL's `reset_val`), or the built-in defaults before that.
    reset_values: Arc<BTreeMap<String, String>>,
}

fn canonical(name: &str) -> Option<&'static str> {
    let name = if name.eq_ignore_ascii_case("time zone") {
        "timezone"
    } else if name.eq_ignore_ascii_case("names") {
        "client_encoding"
    } else {
        name
    };
    PARAMETERS
        .iter()
        .map(|(n, _, _)| *n)
        .chain(ACCEPTED.iter().map(|(n, _, _)| *n))
        .find(|n| n.eq_ignore_ascii_case(name))
}

/// The key of a custom parameter (`app.tenant`): a name with a dot between two
/// identifiers, case-folded.
fn custom(name: &str) -> Option<String> {
    let (prefix, rest) = name.split_once('.')?;
    let word = |w: &str| {
        !w.is_empty()
            && w.chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == '$')
    };
    (word(prefix) && word(rest)).then(|| name.to_lowercase())
}

fn unknown(name: &str) -> SqlError {
    SqlError::new(
        "42704",
        format!("unrecognized configuration parameter \"{name}\""),
    )
}

fn invalid(name: &str, value: &str) -> SqlError {
    SqlError::new(
        "22023",
        format!("invalid value for parameter \"{name}\": \"{value}\""),
    )
}

/// A duration in ms as SHOW prints it: the largest unit that divides it exactly.
fn show_duration_ms(value: &str) -> String {
    let Ok(ms) = value.parse::<u64>() else {
        return value.to_owned();
    };
    if ms == 0 {
        return "0".to_owned();
    }
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("min", 60_000),
        ("s", 1000),
    ] {
        if ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

/// Parses a duration setting (`statement_timeout`): plain milliseconds or with a unit.
pub fn parse_duration(value: &str) -> Option<Duration> {
    let value = value.trim().trim_matches('\'');
    let split = value
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().ok()?;
    let ms = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "ms" => number,
        "us" => number / 1000.0,
        "s" => number * 1000.0,
        "min" => number * 60_000.0,
        "h" => number * 3_600_000.0,
        "d" => number * 86_400_000.0,
        _ => return None,
    };
    Some(Duration::from_micros((ms * 1000.0) as u64))
}

pub fn parse_isolation(value: &str) -> Option<IsolationLevel> {
    match value
        .trim()
        .trim_matches('\'')
        .to_ascii_lowercase()
        .as_str()
    {
        "read committed" | "read uncommitted" => Some(IsolationLevel::ReadCommitted),
        "repeatable read" => Some(IsolationLevel::RepeatableRead),
        "serializable" => Some(IsolationLevel::Serializable),
        _ => None,
    }
}

pub fn isolation_name(level: IsolationLevel) -> &'static str {
    match level {
        IsolationLevel::ReadCommitted => "read committed",
        IsolationLevel::RepeatableRead => "repeatable read",
        IsolationLevel::Serializable => "serializable",
    }
}

pub(super) fn parse_bool(value: &str) -> Option<bool> {
    match value
        .trim()
        .trim_matches('\'')
        .to_ascii_lowercase()
        .as_str()
    {
        "on" | "true" | "yes" | "1" | "t" => Some(true),
        "off" | "false" | "no" | "0" | "f" => Some(false),
        _ => None,
    }
}

impl Settings {
    pub fn new(user: &str) -> Self {
        let mut values: BTreeMap<String, String> = PARAMETERS
            .iter()
            .map(|(n, v, _)| (*n, *v))
            .chain(ACCEPTED.iter().map(|(n, v, _)| (*n, *v)))
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect();
        values.insert("session_authorization".into(), user.to_owned());
        let values = Arc::new(values);
        Settings {
            reset_values: Arc::clone(&values),
            values,
        }
    }

    pub fn get(&self, name: &str) -> Result<String> {
        let Some(canonical) = canonical(name) else {
            return custom(name)
                .and_then(|key| self.values.get(&key).cloned())
                .ok_or_else(|| unknown(name));
        };
        let value = self.values.get(canonical).cloned().unwrap_or_default();
        Ok(match canonical {
            "statement_timeout" | "lock_timeout" | "idle_in_transaction_session_timeout" => {
                show_duration_ms(&value)
            }
            "log_min_duration_statement" if value != "-1" => show_duration_ms(&value),
            _ => value,
        })
    }

    /// The name SHOW heads its column with: the parameter's own spelling (`DateStyle`),
    /// whatever case it was asked in; a custom parameter's in lower case.
    pub fn display_name(name: &str) -> String {
        canonical(name).map_or_else(|| name.to_lowercase(), str::to_owned)
    }

    /// Puts back the value `name` has in `earlier` (the end of a `SET LOCAL`).
    pub fn restore(&mut self, earlier: &Settings, name: &str) {
        let key = canonical(name).map(str::to_owned).or_else(|| custom(name));
        if let Some(key) = key {
            match earlier.values.get(&key) {
                Some(value) => Arc::make_mut(&mut self.values).insert(key, value.clone()),
                None => Arc::make_mut(&mut self.values).remove(&key),
            };
        }
    }

    /// Sets a parameter (validating it); returns its canonical name.
    pub fn set(&mut self, name: &str, value: &str) -> Result<()> {
        let Some(canonical) = canonical(name) else {
            let key = custom(name).ok_or_else(|| unknown(name))?;
            let value = value.trim().trim_matches('\'').to_owned();
            Arc::make_mut(&mut self.values).insert(key, value);
            return Ok(());
        };
        if let Some(kind) = accepted_settings::kind_of(canonical) {
            let value = accepted_settings::normalize(canonical, kind, value.trim_matches('\''))
                .map_err(|message| SqlError::new("22023", message))?;
            Arc::make_mut(&mut self.values).insert(canonical.to_owned(), value);
            return Ok(());
        }
        let settable = PARAMETERS
            .iter()
            .find(|(n, _, _)| *n == canonical)
            .is_some_and(|(_, _, s)| *s);
        if !settable {
            return Err(SqlError::new(
                "55P02",
                format!("parameter \"{canonical}\" cannot be changed now"),
            ));
        }
        let value = value.trim().trim_matches('\'').to_owned();
        let normalized = match canonical {
            "statement_timeout" | "lock_timeout" | "idle_in_transaction_session_timeout" => {
                let duration = parse_duration(&value).ok_or_else(|| invalid(canonical, &value))?;
                duration.as_millis().to_string()
            }
            "log_min_duration_statement" => {
                if value.trim() == "-1" {
                    "-1".to_owned()
                } else {
                    let duration =
                        parse_duration(&value).ok_or_else(|| invalid(canonical, &value))?;
                    duration.as_millis().to_string()
                }
            }
            "default_transaction_isolation" => {
                isolation_name(parse_isolation(&value).ok_or_else(|| invalid(canonical, &value))?)
                    .to_owned()
            }
            "default_transaction_read_only"
            | "standard_conforming_strings"
            | "jit"
            | "row_security"
            | "bytedata.fast_path" => {
                let on = parse_bool(&value).ok_or_else(|| invalid(canonical, &value))?;
                if canonical == "standard_conforming_strings" && !on {
                    return Err(SqlError::unsupported("standard_conforming_strings = off"));
                }
                if on { "on" } else { "off" }.to_owned()
            }
            "extra_float_digits" => {
                let digits: i32 = value
                    .parse()
                    .ok()
                    .filter(|d| (-15..=3).contains(d))
                    .ok_or_else(|| invalid(canonical, &value))?;
                digits.to_string()
            }
            "client_encoding" => {
                let upper = value.to_ascii_uppercase().replace('-', "");
                if upper != "UTF8" && upper != "UNICODE" {
                    return Err(SqlError::new(
                        "0A000",
                        format!("conversion between {value} and UTF8 is not supported"),
                    ));
                }
                "UTF8".to_owned()
            }
            "TimeZone" => {
                Zone::parse(&value).ok_or_else(|| invalid("TimeZone", &value))?;
                if value.eq_ignore_ascii_case("utc") {
                    "UTC".to_owned()
                } else {
                    value
                }
            }
            "DateStyle" => self.date_style().parse_over(&value)?.to_string(),
            // An enum parameter's error names it as the client spelled it, as PostgreSQL's.
            "IntervalStyle" => match IntervalStyle::parse(&value) {
                Ok(style) => style.name().to_owned(),
                Err(error) => {
                    let error = SqlError::from(error);
                    return Err(SqlError {
                        message: format!(
                            "invalid value for parameter \"{}\": \"{value}\"",
                            name.to_lowercase()
                        ),
                        ..error
                    });
                }
            },
            _ => value,
        };
        Arc::make_mut(&mut self.values).insert(canonical.to_owned(), normalized);
        Ok(())
    }

    pub fn reset(&mut self, name: &str) -> Result<()> {
        let Some(canonical) = canonical(name) else {
            // A custom parameter, once set, stays defined (empty), as in PostgreSQL.
            let key = custom(name).ok_or_else(|| unknown(name))?;
            Arc::make_mut(&mut self.values).insert(key, String::new());
            return Ok(());
        };
        let default = self
            .reset_values
            .get(canonical)
            .cloned()
            .unwrap_or_default();
        Arc::make_mut(&mut self.values).insert(canonical.to_owned(), default);
        Ok(())
    }

    pub fn reset_all(&mut self) {
        let mut values = (*self.reset_values).clone();
        // Who the session is and what it may do are not settings RESET ALL touches.
        for kept in ["session_authorization", "is_superuser"] {
            if let Some(value) = self.values.get(kept) {
                values.insert(kept.to_owned(), value.clone());
            }
        }
        self.values = Arc::new(values);
    }

    /// Makes the current values what RESET returns to: called once the connection's
    /// startup parameters (and the server's session defaults) are applied.
    pub fn mark_reset_values(&mut self) {
        self.reset_values = Arc::clone(&self.values);
    }

    /// Records whether the session's role is a superuser (reported as `is_superuser`).
    pub fn set_superuser(&mut self, superuser: bool) {
        let value = if superuser { "on" } else { "off" };
        Arc::make_mut(&mut self.values).insert("is_superuser".into(), value.into());
    }

    /// Whether `other` is a clone of these settings with no change on either side since.
    pub fn unchanged_since(&self, other: &Settings) -> bool {
        Arc::ptr_eq(&self.values, &other.values)
    }

    /// Every parameter, for `SHOW ALL`.
    pub fn all(&self) -> impl Iterator<Item = (&String, &String)> {
        self.values.iter()
    }

    pub fn application_name(&self) -> &str {
        self.values
            .get("application_name")
            .map_or("", String::as_str)
    }

    pub fn statement_timeout(&self) -> Option<Duration> {
        let ms: u64 = self.values.get("statement_timeout")?.parse().ok()?;
        (ms > 0).then(|| Duration::from_millis(ms))
    }

    /// The shortest statement to log (`log_min_duration_statement`); `None` when off.
    pub fn log_min_duration(&self) -> Option<Duration> {
        let ms: u64 = self
            .values
            .get("log_min_duration_statement")?
            .parse()
            .ok()?;
        Some(Duration::from_millis(ms))
    }

    pub fn lock_timeout(&self) -> Option<Duration> {
        let ms: u64 = self.values.get("lock_timeout")?.parse().ok()?;
        (ms > 0).then(|| Duration::from_millis(ms))
    }

    pub fn default_isolation(&self) -> IsolationLevel {
        self.values
            .get("default_transaction_isolation")
            .and_then(|v| parse_isolation(v))
            .unwrap_or_default()
    }

    pub fn default_read_only(&self) -> bool {
        self.values
            .get("default_transaction_read_only")
            .is_some_and(|v| v == "on")
    }

    pub fn extra_float_digits(&self) -> i32 {
        self.values
            .get("extra_float_digits")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1)
    }

    /// `DateStyle`: the output style and the field order.
    pub fn date_style(&self) -> DateStyleSetting {
        self.values
            .get("DateStyle")
            .and_then(|v| DateStyleSetting::default().parse_over(v).ok())
            .unwrap_or_default()
    }

    pub fn fast_path(&self) -> bool {
        self.values
            .get("bytedata.fast_path")
            .is_none_or(|v| v == "on")
    }

    pub fn interval_style(&self) -> IntervalStyle {
        self.values
            .get("IntervalStyle")
            .and_then(|v| IntervalStyle::parse(v).ok())
            .unwrap_or_default()
    }

    /// How values are written as text: float digits, zone, DateStyle, IntervalStyle.
    pub fn text_options(&self) -> bytedata_pgtypes::TextOptions {
        bytedata_pgtypes::TextOptions {
            extra_float_digits: self.extra_float_digits(),
            time_zone: self.time_zone(),
            date_style: self.date_style(),
            interval_style: self.interval_style(),
        }
    }

    /// How text is read: the time zone and `DateStyle`'s field order.
    pub fn input_options(&self) -> InputOptions {
        InputOptions {
            zone: self.time_zone(),
            date_order: self.date_style().order,
            now_unix_micros: None,
        }
    }

    /// The session time zone.
    pub fn time_zone(&self) -> Zone {
        self.values
            .get("TimeZone")
            .and_then(|v| Zone::parse(v))
            .unwrap_or_default()
    }

    /// The schemas of `search_path`, with `$user` resolved.
    pub fn search_path(&self) -> Vec<String> {
        let user = self
            .values
            .get("session_authorization")
            .cloned()
            .unwrap_or_default();
        self.values
            .get("search_path")
            .map(String::as_str)
            .unwrap_or("public")
            .split(',')
            .map(|s| s.trim().trim_matches('"').to_owned())
            .filter(|s| !s.is_empty())
            .map(|s| if s == "$user" { user.clone() } else { s })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_show_reset_and_errors() {
        let mut settings = Settings::new("ada");
        assert_eq!(settings.get("timezone").unwrap(), "UTC");
        settings.set("TimeZone", "'Asia/Kolkata'").unwrap();
        assert_eq!(settings.time_zone(), Zone::parse("Asia/Kolkata").unwrap());
        // POSIX reads a signed offset as west of UTC, as PostgreSQL does.
        settings.set("TimeZone", "'+05:30'").unwrap();
        assert_eq!(settings.time_zone(), Zone::Fixed(-19_800));
        settings.set("statement_timeout", "1s").unwrap();
        assert_eq!(settings.statement_timeout(), Some(Duration::from_secs(1)));
        assert_eq!(settings.log_min_duration(), None, "off by default");
        settings.set("log_min_duration_statement", "250ms").unwrap();
        assert_eq!(
            settings.log_min_duration(),
            Some(Duration::from_millis(250))
        );
        assert_eq!(settings.get("log_min_duration_statement").unwrap(), "250ms");
        settings.set("log_min_duration_statement", "0").unwrap();
        assert_eq!(settings.log_min_duration(), Some(Duration::ZERO));
        settings.set("log_min_duration_statement", "-1").unwrap();
        assert_eq!(settings.log_min_duration(), None);
        assert!(settings.set("log_min_duration_statement", "soon").is_err());
        assert_eq!(
            settings.set("no_such_thing", "1").unwrap_err().code,
            "42704"
        );
        assert_eq!(
            settings
                .set("default_transaction_isolation", "bogus")
                .unwrap_err()
                .code,
            "22023"
        );
        assert_eq!(
            settings.set("server_version", "1").unwrap_err().code,
            "55P02"
        );
        settings
            .set("search_path", "app, \"$user\", public")
            .unwrap();
        assert_eq!(settings.search_path(), ["app", "ada", "public"]);
        settings.reset("search_path").unwrap();
        assert_eq!(settings.search_path(), ["ada", "public"]);
    }

    #[test]
    fn reset_returns_to_the_values_the_connection_started_with() {
        let mut settings = Settings::new("ada");
        settings.set("DateStyle", "Postgres, MDY").unwrap();
        settings.mark_reset_values();
        settings.set("DateStyle", "ymd").unwrap();
        settings.set("TimeZone", "Asia/Kolkata").unwrap();
        settings.reset("datestyle").unwrap();
        assert_eq!(settings.get("DateStyle").unwrap(), "Postgres, MDY");
        settings.set("DateStyle", "German").unwrap();
        settings.reset_all();
        assert_eq!(settings.get("DateStyle").unwrap(), "Postgres, MDY");
        assert_eq!(settings.get("TimeZone").unwrap(), "UTC");
        assert_eq!(settings.get("session_authorization").unwrap(), "ada");
    }

    #[test]
    fn planner_switches_are_accepted_and_custom_parameters_exist_once_set() {
        let mut settings = Settings::new("ada");
        assert_eq!(settings.get("enable_seqscan").unwrap(), "on");
        settings.set("ENABLE_SEQSCAN", "0").unwrap();
        assert_eq!(settings.get("enable_seqscan").unwrap(), "off");
        assert_eq!(
            settings.set("enable_seqscan", "x").unwrap_err().code,
            "22023"
        );
        settings.reset("enable_seqscan").unwrap();
        assert_eq!(settings.get("enable_seqscan").unwrap(), "on");

        assert_eq!(settings.get("app.tenant").unwrap_err().code, "42704");
        settings.set("App.Tenant", "'acme'").unwrap();
        assert_eq!(settings.get("app.tenant").unwrap(), "acme");
        let before = settings.clone();
        settings.set("app.tenant", "other").unwrap();
        settings.restore(&before, "app.tenant");
        assert_eq!(settings.get("app.tenant").unwrap(), "acme");
        settings.reset("app.tenant").unwrap();
        assert_eq!(settings.get("app.tenant").unwrap(), "");
        assert_eq!(settings.set("nodot", "1").unwrap_err().code, "42704");
        assert_eq!(settings.set(".x", "1").unwrap_err().code, "42704");
    }
}
