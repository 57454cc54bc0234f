//! VALUES lists whose rows are typed differently: `(VALUES (0::float8), (0.1))`.
//!
//! PostgreSQL resolves a VALUES column's type over all its rows, as UNION does.
//! DataFusion does too, but refuses rows whose fields carry different PostgreSQL type
//! tags (a cast tags its field; a bare literal does not). Where PostgreSQL's resolution
//! is plain — the casts name one type, and the other rows are quoted literals, NULLs,
//! or numbers that type holds — the other rows get the same cast. Otherwise the column
//! is wrapped in `bytedata_untag(…)`, which passes each value through without its tag,
//! and DataFusion's coercion picks the type.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{self, Expr, SetExpr, VisitMut, VisitorMut};

/// The name of the pass-through function.
pub const UNTAG: &str = "bytedata_untag";

struct MixedCasts;

fn untag(expr: &mut Expr) {
    let inner = std::mem::replace(expr, Expr::value(ast::Value::Null));
    *expr = Expr::Function(ast::Function {
        name: ast::ObjectName::from(vec![ast::Ident::new(UNTAG)]),
        uses_odbc_syntax: false,
        parameters: ast::FunctionArguments::None,
        args: ast::FunctionArguments::List(ast::FunctionArgumentList {
            duplicate_treatment: None,
            args: vec![ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(inner))],
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    });
}

fn cast_type(expr: &Expr) -> Option<&ast::DataType> {
    match expr {
        Expr::Cast { data_type, .. } | Expr::TypedString(ast::TypedString { data_type, .. }) => {
            Some(data_type)
        }
        Expr::Nested(inner) => cast_type(inner),
        _ => None,
    }
}

/// Whether a bare row takes the casts' type as PostgreSQL would resolve it: quoted
/// text and NULL always; a number when the type is a number type that holds it.
fn takes_type(expr: &Expr, target: &ast::DataType) -> bool {
    use ast::DataType as T;
    let ast::Expr::Value(value) = expr else {
        return false;
    };
    match &value.value {
        ast::Value::SingleQuotedString(_) | ast::Value::Null => true,
        ast::Value::Number(text, _) => {
            let integral = text.bytes().all(|b| b.is_ascii_digit());
            match target {
                T::Float4
                | T::Float8
                | T::Real
                | T::Double(_)
                | T::DoublePrecision
                | T::Numeric(_)
                | T::Decimal(_) => true,
                T::Int(_) | T::Integer(_) | T::Int4(_) | T::BigInt(_) | T::Int8(_) => {
                    integral && text.len() <= 9
                }
                _ => false,
            }
        }
        _ => false,
    }
}

fn cast_to(expr: &mut Expr, data_type: &ast::DataType) {
    let inner = std::mem::replace(expr, Expr::value(ast::Value::Null));
    *expr = Expr::Cast {
        kind: ast::CastKind::DoubleColon,
        expr: Box::new(inner),
        data_type: data_type.clone(),
        array: false,
        format: None,
    };
}

fn untag_columns(values: &mut ast::Values) {
    let rows = &mut values.rows;
    if rows.len() < 2 {
        return;
    }
    let columns = rows.iter().map(|row| row.content.len()).min().unwrap_or(0);
    for column in 0..columns {
        let types: Vec<&ast::DataType> = rows
            .iter()
            .filter_map(|row| cast_type(&row.content[column]))
            .collect();
        if types.is_empty() || types.len() == rows.len() {
            continue;
        }
        let target = types[0].clone();
        let one_type = types.iter().all(|t| **t == target);
        let plain = one_type
            && rows.iter().all(|row| {
                let expr = &row.content[column];
                cast_type(expr).is_some() || takes_type(expr, &target)
            });
        for row in rows.iter_mut() {
            let expr = &mut row.content[column];
            if !plain {
                untag(expr);
            } else if cast_type(expr).is_none() {
                cast_to(expr, &target);
            }
        }
    }
}

fn visit_body(body: &mut SetExpr) {
    match body {
        SetExpr::Values(values) => untag_columns(values),
        SetExpr::SetOperation { left, right, .. } => {
            visit_body(left);
            visit_body(right);
        }
        _ => {}
    }
}

impl VisitorMut for MixedCasts {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut ast::Query) -> ControlFlow<()> {
        visit_body(&mut query.body);
        ControlFlow::Continue(())
    }
}

/// Wraps the mixed columns of every VALUES list of a query (not INSERT's rows, which
/// take their columns' types).
pub fn untag_mixed_casts(statement: &mut ast::Statement) {
    if let ast::Statement::Query(_) = statement {
        let _ = statement.visit(&mut MixedCasts);
    }
}
