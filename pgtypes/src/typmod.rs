//! Type modifiers applied to values: `numeric(p, s)` rounds and bounds, `varchar(n)` and
//! `char(n)` bound (and `char` pads), as PostgreSQL applies them when a value is stored in
//! a column or cast to the type.

use crate::error::{Error, Result};
use crate::numeric::Numeric;
use crate::types::DataType;

/// Applies `numeric(p, s)`: rounds to `s` and checks the digits before the point.
pub fn apply_numeric_typmod(
    value: Numeric,
    precision: Option<u32>,
    scale: Option<u32>,
) -> Result<Numeric> {
    let Some(precision) = precision else {
        return Ok(value);
    };
    let scale = scale.unwrap_or(0);
    if !value.is_finite() {
        if value.is_nan() {
            return Ok(value);
        }
        return Err(
            Error::new("22003", "numeric field overflow").with_detail(format!(
                "A field with precision {precision}, scale {scale} cannot hold an infinite value."
            )),
        );
    }
    let rounded = value.round(scale as u16);
    if rounded.integer_digits() > i64::from(precision) - i64::from(scale) {
        return Err(Error::new("22003", "numeric field overflow").with_detail(format!(
            "A field with precision {precision}, scale {scale} must round to an absolute value less than 10^{}.",
            precision - scale
        )));
    }
    Ok(rounded)
}

/// Checks and pads a string for `varchar(n)` / `char(n)`, as PostgreSQL does: excess
/// trailing spaces are cut, anything else too long is an error (22001).
pub fn apply_char_typmod(text: &str, ty: &DataType) -> Result<String> {
    let (limit, pad, name) = match ty {
        DataType::Varchar(Some(n)) => (*n as usize, false, "character varying"),
        DataType::Char(n) => (*n as usize, true, "character"),
        _ => return Ok(text.to_owned()),
    };
    let chars = text.chars().count();
    if chars > limit {
        let (head, tail): (String, String) = (
            text.chars().take(limit).collect(),
            text.chars().skip(limit).collect(),
        );
        if tail.chars().all(|c| c == ' ') {
            return Ok(head);
        }
        return Err(Error::new(
            "22001",
            format!("value too long for type {name}({limit})"),
        ));
    }
    let mut out = text.to_owned();
    if pad {
        out.extend(std::iter::repeat_n(' ', limit - chars));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_precision_and_scale() {
        let value = Numeric::parse("123.456").unwrap();
        let rounded = apply_numeric_typmod(value.clone(), Some(5), Some(2)).unwrap();
        assert_eq!(rounded.to_string(), "123.46");
        let error = apply_numeric_typmod(value, Some(4), Some(2)).unwrap_err();
        assert_eq!(error.code, "22003");
        assert!(error.detail.unwrap().contains("10^2"));
        let nan = apply_numeric_typmod(Numeric::nan(), Some(4), Some(2)).unwrap();
        assert!(nan.is_nan());
    }

    #[test]
    fn character_lengths() {
        assert_eq!(apply_char_typmod("ab", &DataType::Char(4)).unwrap(), "ab  ");
        assert_eq!(
            apply_char_typmod("abc   ", &DataType::Varchar(Some(3))).unwrap(),
            "abc"
        );
        assert_eq!(
            apply_char_typmod("abcd", &DataType::Varchar(Some(3)))
                .unwrap_err()
                .message,
            "value too long for type character varying(3)"
        );
        assert_eq!(apply_char_typmod("abcd", &DataType::Text).unwrap(), "abcd");
    }
}
