use super::*;

/// Every case of `postgres_cases.txt`, printed by PostgreSQL 15, printed alike here.
#[test]
fn templates_print_as_postgres_prints_them() {
    let cases = include_str!("postgres_cases.txt");
    let mut failures = Vec::new();
    let mut checked = 0;
    for line in cases.lines().filter(|l| !l.starts_with('#')) {
        let mut fields = line.splitn(4, '|');
        let (ty, value, template, expected) = (
            fields.next().unwrap(),
            fields.next().unwrap(),
            fields.next().unwrap(),
            fields.next().unwrap(),
        );
        let numeric;
        let value = match ty {
            "numeric" => {
                numeric = Numeric::parse(value).unwrap();
                NumberValue::Numeric(&numeric)
            }
            "float8" => NumberValue::Float8(value.parse().unwrap()),
            "int8" => NumberValue::Int(value.parse().unwrap()),
            other => panic!("type {other}"),
        };
        let got = to_char_number(value, template).unwrap();
        if got != expected {
            failures.push(format!(
                "{ty} {value:?} {template:?}: {got:?}, PostgreSQL {expected:?}"
            ));
        }
        checked += 1;
    }
    assert!(checked > 200);
    assert!(
        failures.is_empty(),
        "{} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn template_errors_are_postgres_errors() {
    let one = Numeric::parse("1").unwrap();
    let error = |t: &str| to_char_number(NumberValue::Numeric(&one), t).unwrap_err();
    assert_eq!(error("9.9.9").message, "multiple decimal points");
    assert_eq!(error("PR9").message, "\"9\" must be ahead of \"PR\"");
    assert_eq!(error("S9S").message, "cannot use \"S\" twice");
    assert_eq!(
        error("9.9EEEE9").message,
        "\"EEEE\" must be the last pattern used"
    );
    assert_eq!(error("FM9.9EEEE").code, "42601");
    assert_eq!(to_char_number(NumberValue::Int(5), "").unwrap(), "");
}
