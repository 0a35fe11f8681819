use std::fmt;

/// A cty number kept as its canonical decimal text, so values beyond i64/f64
/// survive a round trip unchanged (core compares numbers by decimal text).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Number(String);

impl Number {
    /// Parses a decimal literal (optionally signed, with fraction and exponent).
    pub fn parse(s: &str) -> Option<Number> {
        let t = s.trim();
        let body = t.strip_prefix('-').unwrap_or(t);
        let (mantissa, exp) = match body.find(['e', 'E']) {
            Some(i) => (&body[..i], Some(&body[i + 1..])),
            None => (body, None),
        };
        let mut parts = mantissa.splitn(2, '.');
        let int = parts.next().unwrap_or("");
        let frac = parts.next();
        let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
        if !digits(int) || frac.is_some_and(|f| !digits(f)) {
            return None;
        }
        if let Some(e) = exp {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            if !digits(e) {
                return None;
            }
        }
        if exp.is_some() {
            // Exponent forms are rare on the wire; normalise through f64 only
            // when that is exact, otherwise keep the literal.
            if let Ok(f) = t.parse::<f64>() {
                if f.is_finite() {
                    return Some(Number::from_f64(f));
                }
            }
            return Some(Number(t.to_string()));
        }
        let mut canon = String::new();
        if t.starts_with('-') {
            canon.push('-');
        }
        let int = int.trim_start_matches('0');
        canon.push_str(if int.is_empty() { "0" } else { int });
        if let Some(f) = frac
            .map(|f| f.trim_end_matches('0'))
            .filter(|f| !f.is_empty())
        {
            canon.push('.');
            canon.push_str(f);
        }
        if canon == "-0" {
            canon = "0".into();
        }
        Some(Number(canon))
    }

    pub fn from_i64(i: i64) -> Number {
        Number(i.to_string())
    }

    pub fn from_u64(u: u64) -> Number {
        Number(u.to_string())
    }

    pub fn from_f64(f: f64) -> Number {
        if f.fract() == 0.0 && f.abs() < 9.0e15 {
            return Number((f as i64).to_string());
        }
        // `{}` prints the shortest text that round-trips, never exponent form.
        Number::parse(&format!("{f}")).unwrap_or_else(|| Number(format!("{f}")))
    }

    pub fn as_i64(&self) -> Option<i64> {
        self.0.parse().ok()
    }

    /// `Some` when the number is exactly representable as an f64.
    pub fn as_exact_f64(&self) -> Option<f64> {
        let f: f64 = self.0.parse().ok()?;
        (f.is_finite() && Number::from_f64(f) == *self).then_some(f)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
