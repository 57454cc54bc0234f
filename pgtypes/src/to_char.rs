//! `to_char` templates: PostgreSQL's date/time patterns (`YYYY-MM-DD HH24:MI:SS`, `FM`
//! to drop padding, quoted text) translated to chrono's format strings (`%Y-%m-%d`),
//! which the date/time formatting underneath takes.

/// PostgreSQL's template patterns, longest first, with chrono's equivalents.
const PATTERNS: &[(&str, &str)] = &[
    ("HH24", "%H"),
    ("HH12", "%I"),
    ("YYYY", "%Y"),
    ("Month", "%B"),
    ("MONTH", "%B"),
    ("Day", "%A"),
    ("DAY", "%A"),
    ("DDD", "%j"),
    ("Mon", "%b"),
    ("MON", "%b"),
    ("Dy", "%a"),
    ("DY", "%a"),
    ("YY", "%y"),
    ("MM", "%m"),
    ("DD", "%d"),
    ("HH", "%I"),
    ("MI", "%M"),
    ("SS", "%S"),
    ("MS", "%3f"),
    ("US", "%6f"),
    ("AM", "%p"),
    ("PM", "%p"),
    ("am", "%P"),
    ("pm", "%P"),
    ("TZ", "%Z"),
    ("IW", "%V"),
];

/// A PostgreSQL `to_char` template as a chrono format string.
pub fn chrono_format(template: &str) -> String {
    let mut out = String::with_capacity(template.len() * 2);
    let mut rest = template;
    let mut fill_mode = false;
    'outer: while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("FM") {
            fill_mode = true;
            rest = after;
            continue;
        }
        if c == '"' {
            // Quoted text is copied as it is.
            let end = rest[1..].find('"').map_or(rest.len(), |i| i + 1);
            out.push_str(&rest[1..end].replace('%', "%%"));
            rest = rest.get(end + 1..).unwrap_or("");
            continue;
        }
        for (pattern, chrono) in PATTERNS {
            if let Some(after) = rest.strip_prefix(pattern) {
                // FM drops the zero padding of numbers ("%-d").
                if fill_mode && chrono.len() == 2 && "dmHIMSjyV".contains(&chrono[1..]) {
                    out.push_str("%-");
                    out.push_str(&chrono[1..]);
                } else {
                    out.push_str(chrono);
                }
                fill_mode = false;
                rest = after;
                continue 'outer;
            }
        }
        if c == '%' {
            out.push_str("%%");
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::chrono_format;

    #[test]
    fn postgres_templates_become_chrono_formats() {
        assert_eq!(chrono_format("YYYY-MM-DD"), "%Y-%m-%d");
        assert_eq!(chrono_format("HH24:MI:SS.MS"), "%H:%M:%S.%3f");
        assert_eq!(chrono_format("FMDD Mon YYYY"), "%-d %b %Y");
        assert_eq!(chrono_format("\"day\" DD, 100%"), "day %d, 100%%");
        assert_eq!(chrono_format("HH12 AM"), "%I %p");
    }
}
