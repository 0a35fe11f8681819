//! PostgreSQL type names and column defaults, spelled the way the catalog
//! (`format_type`, `pg_get_expr`) reports them, so that a configuration
//! written with aliases (`int`, `timestamptz`, `varchar(20)`) never shows a
//! diff against what PostgreSQL stores.

/// The `format_type` spelling of a type name, e.g. `int` -> `integer`,
/// `timestamptz` -> `timestamp with time zone`, `varchar(20)` ->
/// `character varying(20)`. Unknown names (domains, enums, extension
/// types) come back lower-cased with whitespace collapsed.
pub fn canonical_type(t: &str) -> String {
    let s = collapse(t);
    if let Some(base) = s.strip_suffix("]") {
        // `integer[3]` and `integer[]` are the same type to PostgreSQL.
        if let Some(open) = base.rfind('[') {
            return format!("{}[]", canonical_type(&base[..open]));
        }
    }
    if s.starts_with('"') {
        return t.trim().to_string();
    }
    let lower = s.to_ascii_lowercase();
    let (name, args) = match lower.find('(') {
        Some(i) if lower.ends_with(')') || lower.contains(") ") => {
            let close = lower.find(')').unwrap_or(lower.len() - 1);
            let rest = lower[close + 1..].trim().to_string();
            let args = lower[i + 1..close].replace(' ', "");
            let name = format!("{} {}", lower[..i].trim(), rest).trim().to_string();
            (name, Some(args))
        }
        _ => (lower.clone(), None),
    };
    let with_args = |base: &str| match &args {
        Some(a) => format!("{base}({a})"),
        None => base.to_string(),
    };
    match name.as_str() {
        "int" | "integer" | "int4" | "serial" | "serial4" => "integer".into(),
        "smallint" | "int2" | "smallserial" | "serial2" => "smallint".into(),
        "bigint" | "int8" | "bigserial" | "serial8" => "bigint".into(),
        "bool" | "boolean" => "boolean".into(),
        "float8" | "double precision" => "double precision".into(),
        "float4" | "real" => "real".into(),
        "float" => match args.as_deref().and_then(|a| a.parse::<u32>().ok()) {
            Some(p) if p <= 24 => "real".into(),
            _ => "double precision".into(),
        },
        "decimal" | "numeric" => match args.as_deref() {
            Some(a) if !a.contains(',') => format!("numeric({a},0)"),
            _ => with_args("numeric"),
        },
        "varchar" | "character varying" => with_args("character varying"),
        "char" | "character" | "bpchar" if args.is_some() => with_args("character"),
        "char" | "character" => "character(1)".into(),
        "varbit" | "bit varying" => with_args("bit varying"),
        "bit" => match &args {
            Some(a) => format!("bit({a})"),
            None => "bit(1)".into(),
        },
        "timestamp" | "timestamp without time zone" => time_type("timestamp", &args, false),
        "timestamptz" | "timestamp with time zone" => time_type("timestamp", &args, true),
        "time" | "time without time zone" => time_type("time", &args, false),
        "timetz" | "time with time zone" => time_type("time", &args, true),
        _ => match args {
            Some(a) => format!("{name}({a})"),
            None => name,
        },
    }
}

fn time_type(base: &str, args: &Option<String>, tz: bool) -> String {
    let p = args.as_ref().map(|a| format!("({a})")).unwrap_or_default();
    format!(
        "{base}{p} {} time zone",
        if tz { "with" } else { "without" }
    )
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The short spelling shown for imported tables (`timestamptz` rather than
/// `timestamp with time zone`), matching what people write in configs.
pub fn display_type(catalog: &str) -> String {
    let c = catalog.trim();
    if let Some(el) = c.strip_suffix("[]") {
        return format!("{}[]", display_type(el));
    }
    for (long, short) in [(" without time zone", ""), (" with time zone", "tz")] {
        if let Some(base) = c.strip_suffix(long) {
            // `timestamp(3) with time zone` -> `timestamptz(3)`.
            return match base.find('(') {
                Some(i) => format!("{}{short}{}", &base[..i], &base[i..]),
                None => format!("{base}{short}"),
            };
        }
    }
    if let Some(rest) = c.strip_prefix("character varying") {
        return format!("varchar{rest}");
    }
    c.to_string()
}

/// True when two spellings name the same type.
pub fn same_type(a: &str, b: &str) -> bool {
    canonical_type(a) == canonical_type(b)
}

/// Serial pseudo-types create a sequence and a `nextval(...)` default.
pub fn is_serial(t: &str) -> bool {
    matches!(
        collapse(t).to_ascii_lowercase().as_str(),
        "serial" | "serial4" | "bigserial" | "serial8" | "smallserial" | "serial2"
    )
}

/// Offline check of a configured default against the stored one; `false`
/// means "not provably equal" (the plan then asks PostgreSQL itself).
pub fn same_default(config: &str, stored: &str) -> bool {
    let (c, s) = (collapse(config), collapse(stored));
    if c == s || c.eq_ignore_ascii_case(&s) && !c.contains('\'') {
        return true;
    }
    // PostgreSQL stores a bare literal with its cast: 'x' -> 'x'::text.
    if let Some((lit, _cast)) = split_cast(&s) {
        if lit == c {
            return true;
        }
    }
    let lower = c.to_ascii_lowercase();
    matches!(
        (lower.as_str(), s.to_ascii_lowercase().as_str()),
        ("now()", "now()")
            | ("current_timestamp", "current_timestamp")
            | ("true", "true")
            | ("false", "false")
    )
}

/// `'x'::text` -> (`'x'`, `text`), only for a single quoted literal.
fn split_cast(s: &str) -> Option<(&str, &str)> {
    if !s.starts_with('\'') {
        return None;
    }
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() {
        if b[i] == b'\'' {
            if b.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            let rest = &s[i + 1..];
            return rest.strip_prefix("::").map(|cast| (&s[..=i], cast));
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases() {
        for (a, b) in [
            ("int", "integer"),
            ("INT4", "integer"),
            ("serial", "integer"),
            ("int8", "bigint"),
            ("bool", "boolean"),
            ("timestamp", "timestamp without time zone"),
            ("timestamptz", "timestamp with time zone"),
            ("TIMESTAMP  WITH TIME ZONE", "timestamp with time zone"),
            ("timestamptz(3)", "timestamp(3) with time zone"),
            ("timetz", "time with time zone"),
            ("varchar(20)", "character varying(20)"),
            ("varchar", "character varying"),
            ("character varying ( 20 )", "character varying(20)"),
            ("char(2)", "character(2)"),
            ("char", "character(1)"),
            ("numeric(10, 2)", "numeric(10,2)"),
            ("decimal(5)", "numeric(5,0)"),
            ("float8", "double precision"),
            ("float", "double precision"),
            ("float(10)", "real"),
            ("int[]", "integer[]"),
            ("int4[3]", "integer[]"),
            ("text", "text"),
            ("JSONB", "jsonb"),
        ] {
            assert_eq!(canonical_type(a), b, "{a}");
            assert!(same_type(a, b));
        }
        assert!(!same_type("text", "varchar"));
        assert!(!same_type("timestamp", "timestamptz"));
    }

    #[test]
    fn display() {
        assert_eq!(display_type("timestamp without time zone"), "timestamp");
        assert_eq!(display_type("timestamp with time zone"), "timestamptz");
        assert_eq!(
            display_type("timestamp(3) with time zone"),
            "timestamptz(3)"
        );
        assert_eq!(display_type("character varying(20)"), "varchar(20)");
        assert_eq!(display_type("integer[]"), "integer[]");
        assert_eq!(display_type("text"), "text");
        for t in [
            "timestamp",
            "timestamptz",
            "varchar(20)",
            "integer",
            "text",
            "timestamptz(3)",
            "time",
            "timetz",
        ] {
            assert!(same_type(&display_type(&canonical_type(t)), t), "{t}");
        }
    }

    #[test]
    fn defaults() {
        assert!(same_default("now()", "now()"));
        assert!(same_default("'x'", "'x'::text"));
        assert!(same_default("'it''s'", "'it''s'::character varying"));
        assert!(same_default("CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP"));
        assert!(!same_default("'x'", "'y'::text"));
        assert!(!same_default("1", "2"));
        assert!(!same_default("'A'", "'a'::text"));
    }
}
