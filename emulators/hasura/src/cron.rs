//! `parseCronSchedule` and `serializeCronSchedule` of the `cron` package
//! (0.7.0, graphql-engine's `cabal.project.freeze`), which graphql-engine
//! decodes and encodes every `CronSchedule` with
//! (`server/src-lib/Hasura/Base/Instances.hs`): a cron trigger's `schedule`
//! and an event trigger's `cleanup_config.schedule`.
//!
//! A transliteration of `src/System/Cron/Parser.hs`, with attoparsec 0.14's
//! rules (`Data/Attoparsec/Internal/Types.hs`, `Text/Internal.hs`): `a <|> b`
//! runs `b` from where `a` started when `a` fails, and reports `b`'s error; an
//! alternative that succeeded is never revisited; `fail m` reads
//! `"Failed reading: m"`; `char c` adds the context `show c`, and `parseOnly`
//! writes contexts as `"' ': "` before the message; a parser short of input
//! fails with "not enough input". So the error text is Hasura's, e.g.
//! "Failed reading: minutes out of range" or "' ': Failed reading: satisfy".
//! Range checks and the written form follow `src/System/Cron/Types.hs`.

type Res<T> = Result<T, String>;

/// One alternative of a `<|>` chain, given the field's names.
type Alt<T> = fn(&mut P, &[&str]) -> Res<T>;

#[derive(Clone, Copy)]
enum Base {
    Star,
    Specific(i64),
    Range(i64, i64),
}

enum CronField {
    Field(Base),
    List(Vec<Base>),
    Step(Base, i64),
}

/// `StringSupport`: the names a field takes besides numbers.
const MONTHS: &[&str] = &[
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: &[&str] = &["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// `yearly` .. `hourly` as `serializeCronSchedule` writes them.
const SHORTHANDS: [(&str, &str); 5] = [
    ("@yearly", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

/// (names, lowest, highest, the `mParse` message of `minutesP` ..).
const FIELDS: [(&[&str], i64, i64, &str); 5] = [
    (&[], 0, 59, "minutes out of range"),
    (&[], 0, 23, "hours out of range"),
    (&[], 1, 31, "day of month out of range"),
    (MONTHS, 1, 12, "month out of range"),
    // `mkDayOfWeekSpec`: "0-7 is a matter of some debate but we'll be liberal".
    (DAYS, 0, 7, "day of week out of range"),
];

struct P {
    s: Vec<char>,
    pos: usize,
}

fn failed(m: &str) -> String {
    format!("Failed reading: {m}")
}

impl P {
    /// `a <|> b <|> ..`: each from the same start; the last one's error.
    fn alt<T>(&mut self, ps: &[Alt<T>], names: &[&str]) -> Res<T> {
        let start = self.pos;
        let mut last = Err(failed("empty"));
        for p in ps {
            self.pos = start;
            last = p(self, names);
            if last.is_ok() {
                break;
            }
        }
        last
    }

    /// `A.char c`: `satisfy (== c) <?> show c`.
    fn char(&mut self, c: char) -> Res<()> {
        match self.s.get(self.pos) {
            None => Err(format!("{c:?}: not enough input")),
            Some(&x) if x == c => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => Err(format!("{c:?}: {}", failed("satisfy"))),
        }
    }

    /// `A.string`: its error is never the last alternative's, so never shown.
    fn string(&mut self, lit: &str) -> bool {
        let n = lit.chars().count();
        let ok = self.s.len() >= self.pos + n
            && self.s[self.pos..].iter().copied().take(n).eq(lit.chars());
        if ok {
            self.pos += n;
        }
        ok
    }

    /// `A.decimal :: Parser Int` (`takeWhile1 isDecimal`), wrapping like `Int`.
    fn decimal(&mut self) -> Res<i64> {
        if self.pos == self.s.len() {
            return Err("not enough input".into());
        }
        let mut n: i64 = 0;
        let start = self.pos;
        // `to_digit(10)` takes ASCII digits only, as `isDecimal` does.
        while let Some(d) = self.s.get(self.pos).and_then(|c| c.to_digit(10)) {
            n = n.wrapping_mul(10).wrapping_add(i64::from(d));
            self.pos += 1;
        }
        if self.pos == start {
            return Err(failed("takeWhile1"));
        }
        Ok(n)
    }

    /// `supportParser`: `choice [parseDay, parseInt]` (a `choice` ends in
    /// `empty`, whose "empty" is its error), or `parseInt` alone.
    fn support(&mut self, names: &[&str]) -> Res<i64> {
        if names.is_empty() {
            return self.decimal();
        }
        for (i, name) in names.iter().enumerate() {
            if self.string(name) {
                return Ok(i as i64 + 1);
            }
        }
        self.decimal().map_err(|_| failed("empty"))
    }

    /// `baseFieldP = rangeP <|> starP <|> specificP`.
    fn base(&mut self, names: &[&str]) -> Res<Base> {
        self.alt(
            &[
                |p, names| {
                    let a = p.support(names)?;
                    p.char('-')?;
                    let b = p.support(names)?;
                    match a <= b {
                        true => Ok(Base::Range(a, b)),
                        false => Err(failed("start of range must be less than or equal to end")),
                    }
                },
                |p, _| p.char('*').map(|()| Base::Star),
                |p, names| match p.support(names)? {
                    n if n >= 0 => Ok(Base::Specific(n)),
                    _ => Err(failed("specific field value out of range")),
                },
            ],
            names,
        )
    }

    /// `cronFieldP = stepP <|> listP <|> fieldP`.
    fn cron_field(&mut self, names: &[&str]) -> Res<CronField> {
        self.alt(
            &[
                |p, names| {
                    let b = p.base(names)?;
                    p.char('/')?;
                    match p.decimal()? {
                        n if n > 0 => Ok(CronField::Step(b, n)),
                        _ => Err(failed("invalid stepping")),
                    }
                },
                // `neListP (sepBy1 p (char ','))`: a `,` not followed by an
                // item is left unread.
                |p, names| {
                    let mut items = vec![p.base(names)?];
                    loop {
                        let at = p.pos;
                        match p.char(',').and_then(|()| p.base(names)) {
                            Ok(b) => items.push(b),
                            Err(_) => {
                                p.pos = at;
                                break;
                            }
                        }
                    }
                    match items.len() {
                        1 => Err(failed("invalid singleton list")),
                        _ => Ok(CronField::List(items)),
                    }
                },
                |p, names| p.base(names).map(CronField::Field),
            ],
            names,
        )
    }

    /// `minutesP` ..: the field, then `mkMinuteSpec` .. (`validCF`).
    fn spec(&mut self, (names, lo, hi, msg): (&[&str], i64, i64, &str)) -> Res<String> {
        let f = self.cron_field(names)?;
        let ok = |b: &Base| match *b {
            Base::Star => true,
            Base::Specific(n) => (lo..=hi).contains(&n),
            Base::Range(a, b) => (lo..=hi).contains(&a) && (lo..=hi).contains(&b),
        };
        let valid = match &f {
            CronField::Field(b) => ok(b),
            CronField::List(bs) => bs.iter().all(ok),
            CronField::Step(b, n) => ok(b) && (lo..=hi).contains(n),
        };
        if !valid {
            return Err(failed(msg));
        }
        Ok(show_field(&f))
    }
}

fn show_base(b: &Base) -> String {
    match b {
        Base::Star => "*".into(),
        Base::Specific(n) => n.to_string(),
        Base::Range(a, b) => format!("{a}-{b}"),
    }
}

/// `ShowT CronField`.
fn show_field(f: &CronField) -> String {
    match f {
        CronField::Field(b) => show_base(b),
        CronField::List(bs) => bs.iter().map(show_base).collect::<Vec<_>>().join(","),
        CronField::Step(b, n) => format!("{}/{n}", show_base(b)),
    }
}

/// `parseCronSchedule` (`cronScheduleLoose <* endOfInput` on the lower-cased
/// text), answering `serializeCronSchedule`'s text or attoparsec's error.
pub fn parse_cron(s: &str) -> Result<String, String> {
    let mut p = P {
        s: s.to_lowercase().chars().collect(),
        pos: 0,
    };
    let shorthand = SHORTHANDS.iter().find(|(name, _)| p.string(name));
    let out = match shorthand {
        Some((_, cron)) => cron.to_string(),
        // `classicP`: five fields, each followed by exactly one ' '.
        None => {
            let mut fields = Vec::with_capacity(5);
            for (i, field) in FIELDS.into_iter().enumerate() {
                if i > 0 {
                    p.char(' ')?;
                }
                fields.push(p.spec(field)?);
            }
            fields.join(" ")
        }
    };
    if p.pos < p.s.len() {
        return Err("endOfInput".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::parse_cron;

    #[test]
    fn cron_schedules_are_stored_as_serialize_cron_schedule_writes_them() {
        for (given, stored) in [
            ("*/5 * * * *", "*/5 * * * *"),
            ("00 9 * * *", "0 9 * * *"),
            ("@daily", "0 0 * * *"),
            ("@Weekly", "0 0 * * 0"),
            ("@yearly", "0 0 1 1 *"),
            ("@monthly", "0 0 1 * *"),
            ("@hourly", "0 * * * *"),
            ("* * * * 7", "* * * * 7"),
            ("5/15 * * * *", "5/15 * * * *"),
            ("0 0 1,15 1-12/2 0", "0 0 1,15 1-12/2 0"),
            ("*,5 * * * *", "*,5 * * * *"),
            ("0 9 * jan-MAR mon-fri", "0 9 * 1-3 1-5"),
            ("0 9 * * sun", "0 9 * * 7"),
            ("18446744073709551616 * * * *", "0 * * * *"),
        ] {
            assert_eq!(parse_cron(given).as_deref(), Ok(stored), "{given}");
        }
    }

    #[test]
    fn refusals_carry_attoparsecs_message() {
        for (given, error) in [
            // The step field is taken whole; the ',' is left where a ' ' is due.
            ("*/5,30 * * * *", "' ': Failed reading: satisfy"),
            ("0  9 * * *", "Failed reading: takeWhile1"),
            (" 0 9 * * *", "Failed reading: takeWhile1"),
            ("0 9 * * * ", "endOfInput"),
            ("@daily *", "endOfInput"),
            ("* * * *", "' ': not enough input"),
            ("", "not enough input"),
            ("60 * * * *", "Failed reading: minutes out of range"),
            ("*/60 * * * *", "Failed reading: minutes out of range"),
            ("* 24 * * *", "Failed reading: hours out of range"),
            ("* * 0 * *", "Failed reading: day of month out of range"),
            ("* * * 13 *", "Failed reading: month out of range"),
            ("* * * * 8", "Failed reading: day of week out of range"),
            ("* * * * */8", "Failed reading: day of week out of range"),
            ("*/0 * * * *", "' ': Failed reading: satisfy"),
            ("9-1 * * * *", "' ': Failed reading: satisfy"),
            ("@annually", "Failed reading: takeWhile1"),
            ("* * * x *", "Failed reading: empty"),
            ("* * * * monday", "endOfInput"),
            ("1,,2 * * * *", "' ': Failed reading: satisfy"),
            (
                "9223372036854775808 * * * *",
                "Failed reading: specific field value out of range",
            ),
        ] {
            assert_eq!(parse_cron(given), Err(error.to_string()), "{given:?}");
        }
    }
}
