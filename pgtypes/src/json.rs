//! json and jsonb: validation, jsonb's canonical text, and the semantics of the json
//! operators (`->`, `#>`, `@>`, `?`) over parsed values.
//!
//! Both types are held as text. `json` keeps the text as written; `jsonb` is normalized
//! to what PostgreSQL prints for it: object keys sorted (by length, then bytes, as
//! PostgreSQL stores them), `": "` and `", "` separators.

use serde_json::Value as Json;

use crate::error::{Error, Result};

/// JSON text parsed, or 22P02 as PostgreSQL words it.
pub fn parse_json(text: &str) -> Result<Json> {
    serde_json::from_str(text).map_err(|_| {
        Error::new("22P02", "invalid input syntax for type json")
            .with_detail(format!("Token \"{text}\" is invalid."))
    })
}

/// Validates JSON text; `jsonb` (`binary`) comes back normalized.
pub fn normalize_json(text: &str, binary: bool) -> Result<String> {
    let parsed = parse_json(text)?;
    if !binary {
        return Ok(text.to_owned());
    }
    Ok(jsonb_text(&parsed))
}

/// jsonb's text form.
pub fn jsonb_text(value: &Json) -> String {
    match value {
        Json::Object(map) => {
            let mut entries: Vec<(&String, &Json)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| a.0.cmp(b.0)));
            let inner: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}: {}", Json::String((*k).clone()), jsonb_text(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        Json::Array(items) => format!(
            "[{}]",
            items.iter().map(jsonb_text).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

/// The element a key (object) or index (array, negative from the end) selects: `->`.
pub fn step<'a>(value: &'a Json, key: &str) -> Option<&'a Json> {
    match value {
        Json::Object(map) => map.get(key),
        Json::Array(items) => {
            let index: i64 = key.parse().ok()?;
            let index = if index < 0 {
                items.len() as i64 + index
            } else {
                index
            };
            items.get(usize::try_from(index).ok()?)
        }
        _ => None,
    }
}

/// A text path `{a,0,b}` as its keys (`#>`).
pub fn path_keys(text: &str) -> Result<Vec<String>> {
    let body = text
        .trim()
        .strip_prefix('{')
        .and_then(|b| b.strip_suffix('}'))
        .ok_or_else(|| Error::new("22P02", format!("malformed array literal: \"{text}\"")))?;
    Ok(if body.is_empty() {
        Vec::new()
    } else {
        body.split(',')
            .map(|k| k.trim().trim_matches('"').to_owned())
            .collect()
    })
}

/// A json value as `->>` returns it: strings unquoted, JSON null as SQL NULL.
pub fn as_text(value: &Json) -> Option<String> {
    match value {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        other => Some(jsonb_text(other)),
    }
}

/// jsonb containment (`@>`): every part of `b` is found in `a`.
pub fn contains(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Object(a), Json::Object(b)) => b
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| contains(av, v))),
        (Json::Array(a), Json::Array(b)) => b.iter().all(|bv| a.iter().any(|av| contains(av, bv))),
        // A scalar array contains a scalar it holds.
        (Json::Array(a), b) if !b.is_object() && !b.is_array() => a.iter().any(|av| av == b),
        (a, b) => a == b,
    }
}

/// Whether a key (or a string element of an array) exists (`?`).
pub fn has_key(value: &Json, key: &str) -> bool {
    match value {
        Json::Object(map) => map.contains_key(key),
        Json::Array(items) => items.iter().any(|i| i.as_str() == Some(key)),
        Json::String(s) => s == key,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_and_contain() {
        let value = parse_json(r#"{"b":1,"a":{"c":null},"d":[1,"x"]}"#).unwrap();
        assert_eq!(
            jsonb_text(&value),
            r#"{"a": {"c": null}, "b": 1, "d": [1, "x"]}"#
        );
        let long_keys = parse_json(r#"{"bb":1,"a":2}"#).unwrap();
        assert_eq!(jsonb_text(&long_keys), r#"{"a": 2, "bb": 1}"#);
        assert!(contains(&value, &parse_json(r#"{"d":["x"]}"#).unwrap()));
        assert!(!contains(&value, &parse_json(r#"{"b":2}"#).unwrap()));
        assert_eq!(step(&value["d"], "-1"), Some(&Json::String("x".into())));
        assert_eq!(path_keys("{a,c}").unwrap(), vec!["a", "c"]);
        assert!(has_key(&value, "d") && !has_key(&value, "z"));
        assert_eq!(parse_json("{x").unwrap_err().code, "22P02");
        assert_eq!(
            normalize_json(r#"{"b":1, "a":2}"#, false).unwrap(),
            r#"{"b":1, "a":2}"#
        );
    }
}
