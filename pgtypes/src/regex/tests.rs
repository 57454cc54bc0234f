//! Cases run on PostgreSQL 15, with the answers it gave.

use super::*;

fn re(pattern: &str, flags: &str) -> Regex {
    Regex::new(pattern, &Flags::parse(flags).unwrap()).unwrap()
}

fn arrays(matches: Vec<Vec<Option<String>>>) -> Vec<Vec<String>> {
    matches
        .into_iter()
        .map(|m| m.into_iter().map(|g| g.unwrap_or("NULL".into())).collect())
        .collect()
}

#[test]
fn regexp_matches() {
    let cases: &[(&str, &str, &str, &[&[&str]])] = &[
        ("foobarbequebaz", "(bar)(beque)", "", &[&["bar", "beque"]]),
        (
            "foobarbequebazilbarfbonk",
            "(b[^b]+)(b[^b]+)",
            "g",
            &[&["bar", "beque"], &["bazil", "barf"]],
        ),
        ("foobarbequebaz", "barbeque", "", &[&["barbeque"]]),
        ("abc", "(x)?b", "", &[&["NULL"]]),
        ("aaa", "a*", "g", &[&["aaa"], &[""]]),
        ("abc", "", "g", &[&[""], &[""], &[""], &[""]]),
        ("Abc", r"\mab", "i", &[&["Ab"]]),
        ("abc", "x", "g", &[]),
    ];
    for (text, pattern, flags, expected) in cases {
        let global = Flags::parse(flags).unwrap().global;
        let got = arrays(re(pattern, flags).matches(text, global));
        assert_eq!(&got, expected, "{text} ~ {pattern} ({flags})");
    }
}

#[test]
fn split() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("hello world", r"\s+", &["hello", "world"]),
        (
            "the quick brown fox",
            r"\s*",
            &[
                "t", "h", "e", "q", "u", "i", "c", "k", "b", "r", "o", "w", "n", "f", "o", "x",
            ],
        ),
        ("abc", "", &["a", "b", "c"]),
        ("", "x", &[""]),
        ("a1b22c", r"\d+", &["a", "b", "c"]),
    ];
    for (text, pattern, expected) in cases {
        assert_eq!(&re(pattern, "").split(text), expected, "{text} / {pattern}");
    }
}

#[test]
fn replace() {
    let cases: &[(&str, &str, &str, &str, i64, i64, &str)] = &[
        ("foobarbaz", "b..", "X", "", 1, 1, "fooXbaz"),
        ("foobarbaz", "b..", "X", "g", 1, 0, "fooXX"),
        ("foobarbaz", "b(..)", r"X\1Y", "g", 1, 0, "fooXarYXazY"),
        (
            "A PostgreSQL function",
            "a|e|i|o|u",
            "X",
            "i",
            1,
            0,
            "X PXstgrXSQL fXnctXXn",
        ),
        (
            "A PostgreSQL function",
            "a|e|i|o|u",
            "X",
            "i",
            1,
            3,
            "A PostgrXSQL function",
        ),
        ("abc", "b", r"[\&][\\][\q]", "", 1, 1, r"a[b][\][\q]c"),
    ];
    for (text, pattern, replacement, flags, start, n, expected) in cases {
        let got = re(pattern, flags)
            .replace(text, replacement, *start, *n)
            .unwrap();
        assert_eq!(&got, expected, "{text} ~ {pattern} → {replacement}");
    }
}

#[test]
fn substr_instr_count() {
    let street = "number of your street, town zip, FR";
    assert_eq!(
        re("[^,]+", "").substr(street, 1, 2, 0).unwrap().as_deref(),
        Some(" town zip")
    );
    assert_eq!(
        re("(c..)(...)", "i")
            .substr("ABCDEFGHI", 1, 1, 2)
            .unwrap()
            .as_deref(),
        Some("FGH")
    );
    assert_eq!(re("[^,]+", "").instr(street, 1, 2, 0, 0).unwrap(), 23);
    assert_eq!(
        re("(c..)(...)", "i")
            .instr("ABCDEFGHI", 1, 1, 0, 2)
            .unwrap(),
        6
    );
    assert_eq!(re("c(.)", "i").instr("ABCDEF", 1, 1, 1, 0).unwrap(), 5);
    assert_eq!(re("A.", "i").count("ABCABCAXYaxy", 1).unwrap(), 4);
    assert_eq!(re("123", "").count("123123123123", 3).unwrap(), 3);
    assert_eq!(re("x", "").instr("abc", 1, 1, 0, 0).unwrap(), 0);
    assert_eq!(re("x", "").substr("abc", 1, 1, 0).unwrap(), None);
}

#[test]
fn flags_and_newlines() {
    assert!(re("world$", "i").is_match("Hello World"));
    assert!(re("^b$", "n").is_match("a\nb"));
    assert!(!re("^b$", "").is_match("a\nb"));
    assert!(
        re("a.b", "").is_match("a\nb"),
        "`.` matches a newline by default"
    );
    assert!(!re("a.b", "n").is_match("a\nb"));
    assert!(re("a.c", "q").is_match("xa.cx"));
    assert!(!re("a.c", "q").is_match("abc"));
}

#[test]
fn errors() {
    let error = Flags::parse("z").unwrap_err();
    assert_eq!(
        (error.code, error.message.as_str()),
        ("22023", "invalid regular expression option: \"z\"")
    );
    let error = re("b", "").substr("abc", 0, 1, 0).unwrap_err();
    assert_eq!(error.message, "invalid value for parameter \"start\": 0");
    let error = re("b", "").instr("abc", 1, 0, 0, 0).unwrap_err();
    assert_eq!(error.message, "invalid value for parameter \"n\": 0");
    let error = Flags::parse_single("g", "regexp_match").unwrap_err();
    assert_eq!(
        error.message,
        "regexp_match() does not support the \"global\" option"
    );
    assert_eq!(
        error.hint.as_deref(),
        Some("Use the regexp_matches function instead.")
    );
    let error = Regex::new("(a", &Flags::default()).unwrap_err();
    assert_eq!(error.code, "2201B");
    assert_eq!(
        Regex::new(r"(a)\1", &Flags::default()).unwrap_err().code,
        "0A000"
    );
    assert_eq!(
        Regex::new("a(?=b)", &Flags::default()).unwrap_err().code,
        "0A000"
    );
    let error = similar_to_regex("x", Some("ab")).unwrap_err();
    assert_eq!(
        (error.code, error.message.as_str()),
        ("22025", "invalid escape string")
    );
}

#[test]
fn similar_to() {
    let cases: &[(&str, &str, Option<&str>, bool)] = &[
        ("abc", "a%", None, true),
        ("abc", "a_", None, false),
        ("abc", "(a|x)%c", None, true),
        ("a.c", "a.c", None, true),
        ("abc", "a.c", None, false),
        ("a%c", "a#%c", Some("#"), true),
        ("abc", "a#%c", Some("#"), false),
        ("a]", "[]]%", None, false),
        ("]", "[]]", None, true),
        ("ab", "[^b]b", None, true),
    ];
    for (text, pattern, escape, expected) in cases {
        let regex = Regex::similar(pattern, *escape).unwrap();
        assert_eq!(
            regex.is_match(text),
            *expected,
            "{text} SIMILAR TO {pattern}"
        );
    }
    assert_eq!(
        Regex::similar("%#\"o_b#\"%", Some("#"))
            .unwrap()
            .substring("foobar")
            .as_deref(),
        Some("oob")
    );
}

#[test]
fn substring_from() {
    assert_eq!(re("o.b", "").substring("foobar").as_deref(), Some("oob"));
    assert_eq!(re("o(.)b", "").substring("foobar").as_deref(), Some("o"));
    assert_eq!(re("x", "").substring("foobar"), None);
}
