//! Pieces of the dynamic `WHERE` clauses the listings build.

use rusqlite::types::Value;

/// `LIKE` pattern matching `text` literally anywhere (with `ESCAPE '\\'`).
pub fn like_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Appends ` AND column IN (?,…)` with one argument per value; nothing when `values` is
/// empty.
pub fn push_in<'a>(
    sql: &mut String,
    args: &mut Vec<Value>,
    column: &str,
    values: impl IntoIterator<Item = &'a str>,
) {
    let values: Vec<&str> = values.into_iter().collect();
    if values.is_empty() {
        return;
    }
    sql.push_str(&format!(" AND {column} IN ("));
    for (i, v) in values.iter().enumerate() {
        sql.push_str(if i == 0 { "?" } else { ",?" });
        args.push(Value::Text(v.to_string()));
    }
    sql.push(')');
}

/// Appends the filters the alert and incident listings share: a status, severities, and
/// `last_seen` at or after `since`.
pub fn push_state(
    sql: &mut String,
    args: &mut Vec<Value>,
    status: Option<&str>,
    severities: &[crate::model::Severity],
    since: Option<crate::base::timestamp::Timestamp>,
) {
    if let Some(s) = status {
        sql.push_str(" AND status = ?");
        args.push(Value::Text(s.into()));
    }
    push_in(sql, args, "severity", severities.iter().map(|s| s.as_str()));
    if let Some(t) = since {
        sql.push_str(" AND last_seen >= ?");
        args.push(Value::Integer(t.as_micros()));
    }
}

/// Appends the newest-first order of the listings (by `last_seen`, then `id`), starting
/// after the cursor `after` when there is one, and the page size.
pub fn push_page(
    sql: &mut String,
    args: &mut Vec<Value>,
    after: Option<(crate::base::timestamp::Timestamp, i64)>,
    limit: usize,
) {
    if let Some((ts, id)) = after {
        sql.push_str(" AND (last_seen, id) < (?, ?)");
        args.push(Value::Integer(ts.as_micros()));
        args.push(Value::Integer(id));
    }
    sql.push_str(" ORDER BY last_seen DESC, id DESC LIMIT ?");
    args.push(Value::Integer(limit.max(1) as i64));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_lists_and_like_patterns() {
        let (mut sql, mut args) = (String::from("WHERE 1=1"), Vec::new());
        push_in(&mut sql, &mut args, "type", []);
        assert_eq!(sql, "WHERE 1=1");
        push_in(&mut sql, &mut args, "type", ["A", "B"]);
        assert_eq!(sql, "WHERE 1=1 AND type IN (?,?)");
        assert_eq!(args.len(), 2);
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
