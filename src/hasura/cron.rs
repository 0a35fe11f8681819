//! The cron grammar Hasura reads a cron trigger's `schedule` and an event
//! trigger's `cleanup_config.schedule` with, and the form it stores them in.
//!
//! graphql-engine decodes both with `parseCronSchedule` and encodes them with
//! `serializeCronSchedule` (`server/src-lib/Hasura/Base/Instances.hs`:
//! `FromJSON`/`ToJSON CronSchedule`), from the `cron` package (0.7.0 in
//! graphql-engine's `cabal.project.freeze`). In that package
//! (`src/System/Cron/Parser.hs`, `src/System/Cron/Types.hs`):
//! - the text is lower-cased first (`parseCronSchedule = ... . toLower`);
//! - `@yearly @monthly @weekly @daily @hourly` stand for `0 0 1 1 *`,
//!   `0 0 1 * *`, `0 0 * * 0`, `0 0 * * *`, `0 * * * *` (`yearly` ... `hourly`);
//! - otherwise five fields (`classicP`); each is a step `b/n`, a list of two or
//!   more `b`, or one `b` (`cronFieldP`), where `b` is `a-z`, `*` or a number
//!   (`baseFieldP`): a list item cannot carry a step and any `b` can (`5/15`);
//! - numbers are `A.decimal` into an `Int` (`00` is 0); the month field also
//!   takes `jan`..`dec` (1-12) and the day of week `mon`..`sun` (1-7)
//!   (`parseMonth`, `parseDay`);
//! - every number and every step must lie in the field's range, a step is
//!   above 0 and a range does not run backwards (`validCF`, `mkStepField`,
//!   `mkRangeField`): minute 0-59, hour 0-23, day of month 1-31, month 1-12,
//!   day of week 0-7 (`mkDayOfWeekSpec`);
//! - written back (`ShowT`) with numbers in decimal, fields joined by one space.
//!
//! Hasura wants exactly one space between fields (`A.char ' '`); Terraform
//! users get any whitespace, since the provider sends the serialised form.
use crate::framework::{Invalid, SameText};

/// The grammar above, for the `schedule` attributes' descriptions.
pub(super) const SCHEDULE_DESCRIPTION: &str = "Cron expression in UTC: five fields separated by spaces, minute (0-59), hour (0-23), day of month (1-31), month (1-12 or `JAN`-`DEC`), day of week (0-7, Sunday is 0 or 7, or `MON`-`SUN`), or one of `@yearly`, `@monthly`, `@weekly`, `@daily`, `@hourly`. A field is `*`, a value, a range `a-b`, a comma-separated list of these, or one of these with a step `/n` (`*/15`, `0-30/5`, `5/15`); a list cannot hold a step (`*/5,30` is refused) and a step lies in the field's range (`*/60` is refused for minutes). Hasura stores the schedule rewritten (`00 9 * * MON` as `0 9 * * 1`, `@daily` as `0 0 * * *`); a spelling that Hasura stores alike is no change. Checked at plan time.";

/// (name, lowest, highest, names for 1, 2, ...).
type Field = (&'static str, i64, i64, &'static [&'static str]);

const FIELDS: [Field; 5] = [
    ("minute", 0, 59, &[]),
    ("hour", 0, 23, &[]),
    ("day of month", 1, 31, &[]),
    (
        "month",
        1,
        12,
        &[
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ],
    ),
    (
        "day of week",
        0,
        7,
        &["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    ),
];

const SHORTHANDS: [(&str, &str); 5] = [
    ("@yearly", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

/// The schedule as `serializeCronSchedule` writes it, or why Hasura refuses it.
pub(super) fn canonical(s: &str) -> Result<String, Invalid> {
    let lower = s.to_lowercase();
    let fields: Vec<&str> = lower.split_whitespace().collect();
    if let [one] = fields[..] {
        if one.starts_with('@') {
            return SHORTHANDS
                .iter()
                .find(|(name, _)| *name == one)
                .map(|(_, cron)| cron.to_string())
                .ok_or_else(|| {
                    Invalid(format!("has the unknown shorthand `{one}`; Hasura knows @yearly, @monthly, @weekly, @daily and @hourly"))
                });
        }
    }
    if fields.len() != 5 {
        return Err(Invalid(format!(
            "has {} fields; a cron schedule has five, minute hour day-of-month month day-of-week (e.g. `*/15 * * * *`), or is one of @yearly, @monthly, @weekly, @daily, @hourly",
            fields.len()
        )));
    }
    let mut out = Vec::with_capacity(5);
    for (text, field) in fields.into_iter().zip(FIELDS) {
        let f = cron_field(text, field)
            .map_err(|why| Invalid(format!("has an invalid {} field `{text}`: {why}", field.0)))?;
        out.push(f);
    }
    Ok(out.join(" "))
}

/// One field, written back: `b/n`, `b,b,...` or `b`.
fn cron_field(text: &str, field: Field) -> Result<String, Invalid> {
    let (_, lo, hi, _) = field;
    if let Some((base, step)) = text.split_once('/') {
        if base.contains(',') || step.contains(',') {
            return Err(
                "a step cannot be part of a list (`*/5,30` is refused); list the minutes instead, e.g. `0,5,10`"
                    .into(),
            );
        }
        let n =
            decimal(step).ok_or_else(|| Invalid(format!("the step `{step}` is not a number")))?;
        // `mkStepField` wants it above 0, `validCF` within the field's range.
        if n < lo.max(1) || n > hi {
            return Err(Invalid(format!(
                "the step `{step}` must be from {} to {hi}",
                lo.max(1)
            )));
        }
        return Ok(format!("{}/{n}", base_field(base, field)?));
    }
    let items = text
        .split(',')
        .map(|b| base_field(b, field))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(items.join(","))
}

/// `*`, a number or a range `a-b`.
fn base_field(text: &str, field: Field) -> Result<String, Invalid> {
    if text == "*" {
        return Ok("*".into());
    }
    match text.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (value(a, field)?, value(b, field)?);
            if a > b {
                return Err(Invalid(format!("the range `{a}-{b}` runs backwards")));
            }
            Ok(format!("{a}-{b}"))
        }
        None => Ok(value(text, field)?.to_string()),
    }
}

/// A number (or name) within the field's range.
fn value(text: &str, (what, lo, hi, names): Field) -> Result<i64, Invalid> {
    let n = match names.iter().position(|n| *n == text) {
        Some(i) => i as i64 + 1,
        None => decimal(text).ok_or_else(|| {
            Invalid(match names {
                [] => format!("`{text}` is not a number"),
                [first, .., last] => {
                    format!("`{text}` is not a number or a name `{first}`..`{last}`")
                }
                _ => unreachable!(),
            })
        })?,
    };
    if !(lo..=hi).contains(&n) {
        return Err(Invalid(format!("{n} is not a {what} from {lo} to {hi}")));
    }
    Ok(n)
}

/// Digits read as `A.decimal` reads them into an `Int`: wrapping on overflow.
fn decimal(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.bytes().fold(0i64, |n, b| {
        n.wrapping_mul(10).wrapping_add(i64::from(b - b'0'))
    }))
}

/// The plan-time check of a schedule attribute.
pub(super) fn check_schedule(s: &str) -> Result<(), Invalid> {
    canonical(s).map(drop)
}

/// What the provider sends: the serialised form, which Hasura stores as is.
/// A schedule the check refused is never sent; it goes as written.
pub(super) fn wire(s: &str) -> String {
    canonical(s).unwrap_or_else(|_| s.to_string())
}

/// Two spellings Hasura stores alike (`00 9 * * *` and `0 9 * * *`).
pub(super) fn same(a: &str, b: &str) -> bool {
    wire(a) == wire(b)
}

/// Schedules compared by what Hasura stores.
pub(super) struct SameSchedule;

impl SameText for SameSchedule {
    fn same(a: &str, b: &str) -> bool {
        same(a, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_forms_are_serialised_as_hasura_stores_them() {
        for (given, stored) in [
            ("*/15 * * * *", "*/15 * * * *"),
            ("00 9 * * *", "0 9 * * *"),
            ("0  9\t* * 1-5", "0 9 * * 1-5"),
            ("@daily", "0 0 * * *"),
            ("@DAILY", "0 0 * * *"),
            ("@yearly", "0 0 1 1 *"),
            ("@monthly", "0 0 1 * *"),
            ("@weekly", "0 0 * * 0"),
            ("@hourly", "0 * * * *"),
            ("* * * * 7", "* * * * 7"),
            ("5/15 * * * *", "5/15 * * * *"),
            ("0-30/5 * * 1-12/3 *", "0-30/5 * * 1-12/3 *"),
            ("0 0 1,15 * 0", "0 0 1,15 * 0"),
            ("*,5 * * * *", "*,5 * * * *"),
            ("0 9 * JAN-mar MON-FRI", "0 9 * 1-3 1-5"),
            ("0 9 * * sun", "0 9 * * 7"),
            ("0 9 * * mon/2", "0 9 * * 1/2"),
            ("007 09 01 01 00", "7 9 1 1 0"),
            // `A.decimal` into a 64-bit `Int` wraps: 2^64 reads as 0.
            ("18446744073709551616 * * * *", "0 * * * *"),
        ] {
            assert_eq!(canonical(given).as_deref(), Ok(stored), "{given}");
        }
    }

    #[test]
    fn cron_forms_hasura_refuses_are_refused() {
        for (given, why) in [
            ("*/5,30 * * * *", "a step cannot be part of a list"),
            ("0,30/5 * * * *", "a step cannot be part of a list"),
            ("* * * *", "has 4 fields"),
            ("* * * * * *", "has 6 fields"),
            ("", "has 0 fields"),
            ("@annually", "unknown shorthand"),
            ("@daily *", "has 2 fields"),
            ("60 * * * *", "60 is not a minute from 0 to 59"),
            ("* 24 * * *", "hour"),
            ("* * 0 * *", "day of month"),
            ("* * * 13 *", "month"),
            ("* * * * 8", "day of week"),
            ("*/0 * * * *", "the step `0` must be from 1 to 59"),
            ("*/60 * * * *", "the step `60` must be from 1 to 59"),
            ("* */24 * * *", "from 1 to 23"),
            ("* * * */13 *", "from 1 to 12"),
            ("* * * * */8", "from 1 to 7"),
            ("9-1 * * * *", "runs backwards"),
            ("* * * * monday", "not a number or a name `mon`..`sun`"),
            ("* * * * jan", "day of week"),
            ("mon * * * *", "`mon` is not a number"),
            ("1,,2 * * * *", "`` is not a number"),
            ("1, * * * *", "is not a number"),
            ("*-5 * * * *", "`*` is not a number"),
            ("-5 * * * *", "is not a number"),
            ("*/5/2 * * * *", "the step `5/2` is not a number"),
            ("+5 * * * *", "is not a number"),
            // Wraps to -1.
            ("18446744073709551615 * * * *", "-1 is not a minute"),
        ] {
            match canonical(given) {
                Ok(s) => panic!("{given:?} was accepted as {s:?}"),
                Err(e) => assert!(e.0.contains(why), "{given:?}: {e}"),
            }
        }
    }

    #[test]
    fn spellings_hasura_stores_alike_are_the_same() {
        assert!(same("00  9 * * MON-FRI", "0 9 * * 1-5"));
        assert!(same("@daily", "0 0 * * *"));
        assert!(!same("0 9 * * *", "30 9 * * *"));
        // Hasura stores `7` for `sun`, not `0`: a real change to the stored text.
        assert!(!same("0 9 * * 0", "0 9 * * sun"));
        assert_eq!(wire("0  9 * * *"), "0 9 * * *");
    }
}
