//! SQL quoting and the import ids. `run_sql` has no bind parameters, so every
//! identifier and every value that reaches SQL goes through `quote_ident` or
//! `quote_literal` here; `default` expressions are the one documented
//! exception and are checked by `check_default_expr`.

use std::collections::HashSet;

use crate::framework::{AttrPath, Diagnostics, Invalid, Known, Value};

/// PostgreSQL refuses a NUL byte anywhere in SQL text, quoted or not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} cannot contain NUL bytes")]
pub struct NulByte(&'static str);

/// PostgreSQL truncates identifiers longer than this (NAMEDATALEN - 1) bytes.
pub const MAX_IDENT_BYTES: usize = 63;

/// A double-quoted identifier; embedded double quotes are doubled.
pub fn quote_ident(s: &str) -> Result<String, NulByte> {
    if s.contains('\0') {
        return Err(NulByte("identifiers"));
    }
    Ok(format!("\"{}\"", s.replace('"', "\"\"")))
}

/// A string literal that means the same whatever the server's
/// `standard_conforming_strings`: PostgreSQL's own `quote_literal` (quote.c)
/// doubles quotes and, when there is a backslash, writes an escape string
/// (`E'...'`) with every backslash doubled, since a plain `'...'` would read
/// `\'` as an escaped quote on a server with the setting off.
pub fn quote_literal(s: &str) -> Result<String, NulByte> {
    if s.contains('\0') {
        return Err(NulByte("text values"));
    }
    let quoted = s.replace('\'', "''");
    Ok(if s.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    })
}

/// `"schema"."table"`.
pub fn qualified(schema: &str, table: &str) -> Result<String, NulByte> {
    Ok(format!("{}.{}", quote_ident(schema)?, quote_ident(table)?))
}

/// What `check_name` refuses, said in the descriptions of the attributes it checks.
pub const NAME_RULE: &str = "Names may not contain quotes, backslashes, `;` or control characters and are at most 63 bytes.";

/// The names this provider accepts for sources, schemas, tables, columns and
/// roles. Quoting would make any name safe, but a quote or `;` in a name is
/// almost always an injection attempt or a copy-paste slip, so it is refused
/// at validate time instead of creating an object nobody can type.
pub fn check_name(s: &str) -> Result<(), Invalid> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > MAX_IDENT_BYTES {
        return Err(format!(
            "is {} bytes long; PostgreSQL names are at most {MAX_IDENT_BYTES} bytes",
            s.len()
        )
        .into());
    }
    if let Some(c) = s
        .chars()
        .find(|c| matches!(c, '"' | '\'' | ';' | '\\') || c.is_control())
    {
        return Err(format!(
            "contains {c:?}; names may not contain quotes, backslashes, `;` or control characters"
        )
        .into());
    }
    if s != s.trim() {
        return Err("has leading or trailing whitespace".into());
    }
    Ok(())
}

/// A column `default` is pasted into DDL as an SQL expression (that is what
/// makes `now()` or `gen_random_uuid()` possible), so it must be a single
/// expression: no `;`, no comments and balanced parentheses outside quotes.
/// Where a string literal ends must be certain, so a backslash inside one is
/// refused: PostgreSQL reads `\'` as an escaped quote in an `E'...'` string,
/// and in any string on a server with `standard_conforming_strings = off`.
pub fn check_default_expr(s: &str) -> Result<(), Invalid> {
    if s.trim().is_empty() {
        return Err("must not be empty; leave `default` unset for no default".into());
    }
    if s.contains('\0') {
        return Err("contains a NUL byte".into());
    }
    let b = s.as_bytes();
    let (mut i, mut depth) = (0usize, 0i32);
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"') => {
                i += 1;
                loop {
                    match b.get(i) {
                        None => return Err("has an unterminated quote".into()),
                        Some(&c) if c == q => {
                            if b.get(i + 1) == Some(&q) {
                                i += 2;
                                continue;
                            }
                            break;
                        }
                        Some(b'\\') if q == b'\'' => {
                            return Err("has a backslash inside a string literal, where PostgreSQL may read it as an escape (`E'...'` strings, `standard_conforming_strings = off`); write the character itself or use `chr()`".into())
                        }
                        Some(_) => i += 1,
                    }
                }
            }
            b';' => return Err("contains `;`: a default must be one SQL expression, not statements".into()),
            b'-' if b.get(i + 1) == Some(&b'-') => return Err("contains an SQL comment (`--`)".into()),
            b'/' if b.get(i + 1) == Some(&b'*') => return Err("contains an SQL comment (`/*`)".into()),
            // `$` starts a dollar quote (`$$`, `$tag$`, a tag may begin with
            // `_` or any letter, ASCII or not) or a parameter; neither has a
            // place in a default, and a missed tag would hide a `;`.
            b'$' => {
                return Err("contains `$` (dollar quoting or a parameter), which is not supported here; write a standard '...' literal".into())
            }
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth < 0 {
                    return Err("has an unbalanced `)`".into());
                }
            }
            _ => {}
        }
        i += 1;
    }
    if depth != 0 {
        return Err("has an unbalanced `(`".into());
    }
    Ok(())
}

/// Import ids: parts joined by `.`; a part that contains a `.` or `"` (or is
/// empty) is written in double quotes with inner `"` doubled, like an SQL
/// identifier: `default."my.schema".users`.
pub fn format_id(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| {
            if p.is_empty() || p.contains('.') || p.contains('"') {
                format!("\"{}\"", p.replace('"', "\"\""))
            } else {
                p.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// What a list attribute of names or SQL texts must hold (a foreign key's
/// columns, an index's columns or expressions); errors point at the element.
pub struct ListRule {
    /// Summary when the list is empty, and what it must hold instead
    /// ("name at least one column").
    pub empty: (&'static str, &'static str),
    pub check: fn(&str) -> Result<(), Invalid>,
    /// Summary when an element fails `check`.
    pub invalid: &'static str,
    /// Whether an element may not repeat (column lists).
    pub unique: bool,
}

impl ListRule {
    pub fn apply(&self, attr: &str, v: &Value<Vec<Value<String>>>, diags: &mut Diagnostics) {
        let Some(items) = v.known() else { return };
        if items.is_empty() {
            let (summary, needs) = self.empty;
            diags.add_attr_error(
                AttrPath::attr(attr),
                summary,
                format!("`{attr}` must {needs}."),
            );
        }
        let mut seen = HashSet::new();
        for (i, item) in items.iter().enumerate() {
            let Some(s) = item.as_deref() else { continue };
            let p = AttrPath::attr(attr).index(i);
            if let Err(e) = (self.check)(s) {
                diags.add_attr_error(p, self.invalid, format!("`{attr}[{i}]` {e}."));
            } else if self.unique && !seen.insert(s) {
                diags.add_attr_error(
                    p,
                    "Duplicate column",
                    format!("Column {s:?} is listed twice in `{attr}`."),
                );
            }
        }
    }
}

/// Exactly one of two attributes, `(name, set)` each (an unknown value
/// counts as set): `neither` (summary, detail) is reported at the first,
/// `both` at the second.
pub fn exactly_one(
    diags: &mut Diagnostics,
    [(first, first_set), (second, second_set)]: [(&str, bool); 2],
    neither: (&str, &str),
    both: (&str, &str),
) {
    let (attr, (summary, detail)) = match (first_set, second_set) {
        (false, false) => (first, neither),
        (true, true) => (second, both),
        _ => return,
    };
    diags.add_attr_error(AttrPath::attr(attr), summary, detail);
}

/// Each known attribute must be an SQL name; an error names the attribute.
pub fn check_name_attrs<'a>(
    diags: &mut Diagnostics,
    attrs: impl IntoIterator<Item = (&'a str, &'a Value<String>)>,
) {
    for (attr, v) in attrs {
        if let Some(Err(e)) = v.as_deref().map(check_name) {
            diags.add_attr_error(
                AttrPath::attr(attr),
                "Invalid name",
                format!("`{attr}` {e}."),
            );
        }
    }
}

pub fn parse_id(id: &str) -> Result<Vec<String>, Invalid> {
    let mut parts = Vec::new();
    let mut chars = id.chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    None => return Err(format!("{id:?} has an unterminated quoted part").into()),
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    Some('"') => break,
                    Some(c) => part.push(c),
                }
            }
            match chars.peek() {
                None | Some('.') => {}
                Some(_) => {
                    return Err(
                        format!("{id:?}: a quoted part must be followed by `.` or the end").into(),
                    )
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                if c == '"' {
                    return Err(format!("{id:?}: `\"` may only open a quoted part").into());
                }
                part.push(c);
                chars.next();
            }
        }
        parts.push(part);
        match chars.next() {
            None => return Ok(parts),
            Some('.') => continue,
            Some(_) => unreachable!("parts end at `.` or the end"),
        }
    }
}

/// The diagnostic for a bad import id of the form `form` (e.g.
/// `<source>.<schema>.<table>.<name>`), with an example and how to quote a
/// part that contains a dot.
pub fn bad_import_id(why: impl std::fmt::Display, form: &str, example: &str) -> Diagnostics {
    let quoted = match example.split('.').collect::<Vec<_>>().as_slice() {
        [first, _schema, rest @ ..] if !rest.is_empty() => {
            format!("{first}.\"my.schema\".{}", rest.join("."))
        }
        _ => example.to_string(),
    };
    Diagnostics::error(
        "Invalid import id",
        format!("{why}. Expected `{form}`, e.g. `{example}`; quote a part that contains a dot: `{quoted}`."),
    )
}

/// An import id with `N` parts (`form`, `example` as in [`bad_import_id`]):
/// with `default_source`, `N - 1` parts mean source `default`; the first
/// `checked` parts must be SQL names (the rest are the caller's to check).
pub fn parse_import_id<const N: usize>(
    id: &str,
    form: &str,
    example: &str,
    default_source: bool,
    checked: usize,
) -> Result<[String; N], Diagnostics> {
    let bad = |why: String| bad_import_id(why, form, example);
    let mut parts = parse_id(id).map_err(|e| bad(e.to_string()))?;
    if default_source && parts.len() + 1 == N {
        parts.insert(0, "default".into());
    }
    let count = parts.len();
    let parts = <[String; N]>::try_from(parts)
        .map_err(|_| bad(format!("{id:?} has {count} parts, not {N}")))?;
    for p in &parts[..checked] {
        check_name(p).map_err(|e| bad(format!("{p:?} {e}")))?;
    }
    Ok(parts)
}

/// Hasura's `NonEmptyText` names (cron triggers, query collections): any
/// text but empty; control characters are refused too, as they cannot be
/// shown or typed back in an import id.
pub fn check_non_empty_text(s: &str) -> Result<(), Invalid> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

/// An import id that is the object's name (a top-level metadata object's),
/// refused by `check` as the configuration would be; `expected` says what
/// the id must be, e.g. "the cron trigger's name".
pub fn import_name(
    id: &str,
    check: impl Fn(&str) -> Result<(), Invalid>,
    expected: &str,
) -> Result<Value<String>, Diagnostics> {
    check(id).map_err(|e| {
        Diagnostics::error(
            "Invalid import id",
            format!("The id {e}. Expected {expected}."),
        )
    })?;
    Ok(Known(id.to_string()))
}

/// A `StrCheck` function, as a value.
pub type NameCheck = fn(&str) -> Result<(), Invalid>;

/// An import id `<a>/<b>` of the form `form` (e.g. `<action>/<role>`, with
/// an `example`), split at the first `/` or (`at_last`) the last one,
/// whichever part may itself hold one; each part is refused by its check as
/// the configuration would refuse it.
pub fn import_pair(
    id: &str,
    form: &str,
    example: &str,
    at_last: bool,
    checks: [(&str, NameCheck); 2],
) -> Result<[String; 2], Diagnostics> {
    let bad = |why: String| {
        Diagnostics::error(
            "Invalid import id",
            format!("{why}. Expected `{form}`, e.g. `{example}`."),
        )
    };
    let split = if at_last {
        id.rsplit_once('/')
    } else {
        id.split_once('/')
    };
    let (a, b) = split.ok_or_else(|| bad(format!("The id {id:?} has no `/`")))?;
    for ((what, check), v) in checks.into_iter().zip([a, b]) {
        check(v).map_err(|e| bad(format!("The {what} in {id:?} {e}")))?;
    }
    Ok([a.to_string(), b.to_string()])
}

/// A create refused because the object exists: say how to adopt it.
pub fn already_exists(
    path: crate::framework::AttrPath,
    summary: &str,
    e: impl std::fmt::Display,
    id: &str,
) -> Diagnostics {
    Diagnostics::attr_error(
        path,
        summary,
        format!("{e} To manage it, import it: terraform import <address> {id}"),
    )
}

/// graphql-parser-hs `mkName`: `[_A-Za-z][_0-9A-Za-z]*`.
pub fn is_graphql_name(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && cs.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// `mkName` as a validator's check, for names that become GraphQL fields.
pub fn check_graphql_name(s: &str) -> Result<(), Invalid> {
    if is_graphql_name(s) {
        return Ok(());
    }
    Err(format!("is {s:?}, which is not a GraphQL name: it must match `[_A-Za-z][_0-9A-Za-z]*` (e.g. `author`), because it becomes a field of the table's GraphQL type").into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::assert_checks;

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("users").unwrap(), r#""users""#);
        assert_eq!(quote_ident(r#"a"b"#).unwrap(), r#""a""b""#);
        assert_eq!(quote_literal("it's").unwrap(), "'it''s'");
        assert_eq!(quote_literal(r"a\'b").unwrap(), r"E'a\\''b'");
        assert_eq!(quote_literal("").unwrap(), "''");
        assert_checks(quote_literal, &[], &["a\0b"]);
        assert_checks(quote_ident, &[], &["a\0b"]);
        assert_eq!(
            qualified("public", "my table").unwrap(),
            r#""public"."my table""#
        );
    }

    #[test]
    fn names() {
        assert_checks(
            check_name,
            &["users", "Users With Spaces", "my.schema"],
            &[r#"a"b"#, "a;b", "a'b", "", &"x".repeat(64), " x"],
        );
    }

    #[test]
    fn defaults() {
        assert_checks(
            check_default_expr,
            &[
                "now()",
                "gen_random_uuid()",
                "'a;b'::text",
                "0",
                "'{}'::jsonb",
                "'it''s'",
                "E'it''s'",
                r#"("x" + 1)"#,
                r#""a\b" || 'x'"#,
            ],
            &[
                "now(); drop table x",
                "1 -- c",
                "1 /* c */",
                "'open",
                "now())",
                "(1",
                "$$x$$",
                "$a$x$a$",
                "$_$x$_$",
                "$é$x$é$",
                "$_$'$_$) ; DROP TABLE victim; CREATE TEMP TABLE y (a text DEFAULT $_$'$_$",
                "$1",
                "",
                // PostgreSQL ends the first literal at the last quote but one:
                // the `;` would run a statement.
                r"E'\'' ) ; DROP TABLE important ; CREATE TEMP TABLE z (a text DEFAULT E'\''",
                r"E'it\'s'",
                r"'C:\'",
            ],
        );
    }

    #[test]
    fn ids_round_trip() {
        for parts in [
            vec!["default", "public", "users"],
            vec!["default", "my.schema", "users"],
            vec!["default", "public", "a\"b.c", "user", "select"],
            vec!["", "x"],
        ] {
            let id = format_id(&parts);
            assert_eq!(parse_id(&id).unwrap(), parts, "{id}");
        }
        assert_eq!(
            format_id(&["default", "public", "users"]),
            "default.public.users"
        );
        assert_eq!(
            format_id(&["default", "my.schema", "t"]),
            r#"default."my.schema".t"#
        );
        assert_eq!(
            parse_id("default.public.users.user.select").unwrap().len(),
            5
        );
        assert_checks(
            parse_id,
            &[],
            &[r#"default."x"#, r#"default."x"y"#, r#"def"ault"#],
        );
    }
}
