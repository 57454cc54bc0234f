//! PostgreSQL's text output of numbers: floats in its shortest-exact form (`1e+100`,
//! `1e-05`, `Infinity`, `NaN`) or, with `extra_float_digits` ≤ 0, in `%g` form with 15
//! (float8) or 6 (float4) significant digits plus that many; decimals at their scale.

use std::fmt::Write;

/// Formats a float the way PostgreSQL does. `digits` is `DBL_DIG` (15) or `FLT_DIG` (6).
fn format_float(value: f64, shortest: String, digits: i32, extra: i32) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if value == 0.0 {
        return if value.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Shortest exact digits (extra_float_digits > 0), else %g with fewer digits.
    let scientific = if extra > 0 {
        shortest
    } else {
        let precision = (digits + extra).max(1) as usize;
        format!("{:.*e}", precision - 1, value)
    };
    let (mantissa, exponent) = scientific.split_once('e').expect("scientific notation");
    let exponent: i32 = exponent.parse().expect("integer exponent");
    let negative = mantissa.starts_with('-');
    let mut digits_only: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    while digits_only.len() > 1 && digits_only.ends_with('0') {
        digits_only.pop();
    }
    let sign = if negative { "-" } else { "" };
    if exponent < -4 || exponent >= digits {
        let mut out = format!("{sign}{}", &digits_only[..1]);
        if digits_only.len() > 1 {
            out.push('.');
            out.push_str(&digits_only[1..]);
        }
        let _ = write!(
            out,
            "e{}{:02}",
            if exponent < 0 { '-' } else { '+' },
            exponent.abs()
        );
        return out;
    }
    let mut out = sign.to_owned();
    if exponent < 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat((-exponent - 1) as usize));
        out.push_str(&digits_only);
    } else {
        let point = exponent as usize + 1;
        if digits_only.len() <= point {
            out.push_str(&digits_only);
            out.push_str(&"0".repeat(point - digits_only.len()));
        } else {
            out.push_str(&digits_only[..point]);
            out.push('.');
            out.push_str(&digits_only[point..]);
        }
    }
    out
}

pub fn format_f64(value: f64, extra: i32) -> String {
    format_float(value, format!("{value:e}"), 15, extra)
}

pub fn format_f32(value: f32, extra: i32) -> String {
    format_float(f64::from(value), format!("{value:e}"), 6, extra)
}

/// Inserts the decimal point into the digits of an unscaled decimal.
pub fn format_decimal(unscaled: String, scale: i8, trim: bool) -> String {
    let (negative, digits) = match unscaled.strip_prefix('-') {
        Some(rest) => (true, rest.to_owned()),
        None => (false, unscaled),
    };
    let mut out = String::new();
    if scale <= 0 {
        out.push_str(&digits);
        out.push_str(&"0".repeat((-scale) as usize));
    } else {
        let scale = scale as usize;
        let padded = if digits.len() <= scale {
            format!("{}{digits}", "0".repeat(scale - digits.len() + 1))
        } else {
            digits
        };
        let (int, frac) = padded.split_at(padded.len() - scale);
        out.push_str(int);
        let frac = if trim {
            frac.trim_end_matches('0')
        } else {
            frac
        };
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
    }
    if negative && out.chars().any(|c| c != '0' && c != '.') {
        out.insert(0, '-');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_postgres_prints_them() {
        for (value, text) in [
            (0.1, "0.1"),
            (1.0, "1"),
            (-2.5, "-2.5"),
            (1e100, "1e+100"),
            (1e15, "1e+15"),
            (123456789012345.0, "123456789012345"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.0 / 3.0, "0.3333333333333333"),
            (f64::INFINITY, "Infinity"),
            (f64::NAN, "NaN"),
            (-0.0, "-0"),
        ] {
            assert_eq!(format_f64(value, 1), text, "{value}");
        }
        assert_eq!(format_f64(1.0 / 3.0, 0), "0.333333333333333");
        assert_eq!(format_f32(0.1, 1), "0.1");
        assert_eq!(format_f32(1e7, 1), "1e+07");
    }

    #[test]
    fn decimals_print_at_their_scale() {
        assert_eq!(format_decimal("12345".into(), 2, false), "123.45");
        assert_eq!(format_decimal("-5".into(), 3, false), "-0.005");
        assert_eq!(format_decimal("1500".into(), 3, true), "1.5");
        assert_eq!(format_decimal("2000".into(), 3, true), "2");
        assert_eq!(format_decimal("-0".into(), 2, false), "0.00");
    }
}
