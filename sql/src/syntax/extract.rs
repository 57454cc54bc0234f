//! `EXTRACT(field FROM value)` for the fields DataFusion's own planning of EXTRACT does
//! not know (`century`, `decade`, `millennium`, `julian`): written as `date_part('field',
//! value)`, which reaches the session's `date_part` (`planner::date_part`) by name.
//! Output names are taken from the statement before this rewrite, so the column is still
//! called `extract`.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{self, DateTimeField, Expr};

fn field_name(field: &DateTimeField) -> Option<&'static str> {
    Some(match field {
        DateTimeField::Century => "century",
        DateTimeField::Decade => "decade",
        DateTimeField::Millennium | DateTimeField::Millenium => "millennium",
        DateTimeField::Julian => "julian",
        DateTimeField::Custom(ident) => match ident.value.to_lowercase().as_str() {
            "century" => "century",
            "decade" => "decade",
            "millennium" => "millennium",
            "julian" => "julian",
            _ => return None,
        },
        _ => return None,
    })
}

/// Rewrites the EXTRACTs of those fields in a statement.
pub fn extract_as_date_part(statement: &mut ast::Statement) {
    let _ = ast::visit_expressions_mut(statement, |expr: &mut Expr| {
        if let Expr::Extract {
            field, expr: value, ..
        } = expr
            && let Some(name) = field_name(field)
        {
            let value = std::mem::replace(value.as_mut(), Expr::value(ast::Value::Null));
            *expr = Expr::Function(ast::Function {
                name: ast::ObjectName::from(vec![ast::Ident::new("date_part")]),
                uses_odbc_syntax: false,
                parameters: ast::FunctionArguments::None,
                args: ast::FunctionArguments::List(ast::FunctionArgumentList {
                    duplicate_treatment: None,
                    args: vec![
                        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(Expr::value(
                            ast::Value::SingleQuotedString(name.to_owned()),
                        ))),
                        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(value)),
                    ],
                    clauses: vec![],
                }),
                filter: None,
                null_treatment: None,
                over: None,
                within_group: vec![],
            });
        }
        ControlFlow::<()>::Continue(())
    });
}
