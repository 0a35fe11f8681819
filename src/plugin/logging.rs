//! hclog-style JSON logs on stderr.
//!
//! Terraform reads the provider's stderr line by line and re-logs every JSON
//! line under `provider.<binary>` at the line's `@level`. Its parser wants a
//! timestamp with exactly six fractional digits; anything else is demoted to a
//! raw DEBUG line. Stdout is reserved for the handshake line, so nothing here
//! may ever write there.

use std::io::Write as _;
use std::sync::Arc;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

const TIMESTAMP: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
);

/// Crates whose trace output (frame by frame HTTP/2, TLS records) would drown
/// the provider's own messages; they are capped at WARN.
const NOISY: &[&str] = &[
    "h2",
    "hyper",
    "hyper_util",
    "tonic",
    "tower",
    "rustls",
    "tokio_rustls",
    "mio",
    "want",
    "reqwest",
];

/// Installs the global subscriber. Safe to call twice: the second call is a no-op.
pub fn init(module: &'static str) {
    let Some(level) = level_from_env(
        std::env::var("TF_LOG_PROVIDER").ok().as_deref(),
        std::env::var("TF_LOG").ok().as_deref(),
    ) else {
        return;
    };
    let writer: LineWriter = Arc::new(|line: &[u8]| {
        // One write_all per line under the lock keeps concurrent events from interleaving.
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(line);
    });
    let layer = HclogLayer::new(module, writer).with_filter(filter_for(level));
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

/// The per-target filter used by [`init`].
pub fn filter_for(level: LevelFilter) -> Targets {
    let capped = level.min(LevelFilter::WARN);
    NOISY
        .iter()
        .fold(Targets::new().with_default(level), |t, name| {
            t.with_target(*name, capped)
        })
}

/// Terraform's own rules: `TF_LOG_PROVIDER` wins over `TF_LOG`; `JSON` means
/// trace; an unrecognised non-empty value also means trace (Terraform logs a
/// warning and defaults to TRACE); unset, empty or `off` means no logs.
pub fn level_from_env(provider: Option<&str>, global: Option<&str>) -> Option<LevelFilter> {
    let raw = match provider.map(str::trim) {
        Some(p) if !p.is_empty() => p,
        _ => global.map(str::trim).filter(|g| !g.is_empty())?,
    };
    match raw.to_ascii_uppercase().as_str() {
        "OFF" => None,
        "ERROR" => Some(LevelFilter::ERROR),
        "WARN" => Some(LevelFilter::WARN),
        "INFO" => Some(LevelFilter::INFO),
        "DEBUG" => Some(LevelFilter::DEBUG),
        _ => Some(LevelFilter::TRACE),
    }
}

pub type LineWriter = Arc<dyn Fn(&[u8]) + Send + Sync>;

/// A `tracing` layer that renders every event as one hclog JSON line.
pub struct HclogLayer {
    module: &'static str,
    writer: LineWriter,
}

impl HclogLayer {
    pub fn new(module: &'static str, writer: LineWriter) -> Self {
        Self { module, writer }
    }
}

impl<S: Subscriber> Layer<S> for HclogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut visitor = FieldVisitor::default();
        event.record(&mut visitor);
        let line = format_line(
            *event.metadata().level(),
            &visitor.message,
            self.module,
            time::OffsetDateTime::now_utc(),
            visitor.fields,
        );
        (self.writer)(line.as_bytes());
    }
}

/// One hclog line, newline included.
pub fn format_line(
    level: Level,
    message: &str,
    module: &str,
    at: time::OffsetDateTime,
    fields: Map<String, Value>,
) -> String {
    let mut obj = Map::new();
    obj.insert("@level".into(), Value::from(hclog_level(level)));
    obj.insert("@message".into(), Value::from(message));
    obj.insert("@timestamp".into(), Value::from(format_timestamp(at)));
    obj.insert("@module".into(), Value::from(module));
    for (k, v) in fields {
        // An event field may not overwrite the reserved keys Terraform parses.
        if !k.starts_with('@') {
            obj.insert(k, v);
        }
    }
    let mut line = Value::Object(obj).to_string();
    line.push('\n');
    line
}

pub fn format_timestamp(at: time::OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(TIMESTAMP)
        .unwrap_or_else(|_| "0001-01-01T00:00:00.000000Z".to_owned())
}

fn hclog_level(level: Level) -> &'static str {
    match level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

#[derive(Default)]
struct FieldVisitor {
    message: String,
    fields: Map<String, Value>,
}

impl FieldVisitor {
    fn put(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            self.message = match value {
                Value::String(s) => s,
                other => other.to_string(),
            };
        } else {
            self.fields.insert(field.name().to_owned(), value);
        }
    }
}

impl Visit for FieldVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::from(value.to_string()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, Value::from(format!("{value:?}")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn timestamp_has_six_fraction_digits_and_z() {
        let at = time::macros::datetime!(2026-11-27 04:23:30.9356 UTC);
        assert_eq!(format_timestamp(at), "2026-11-27T04:23:30.935600Z");
        let whole = time::macros::datetime!(2026-01-02 03:04:05 UTC);
        assert_eq!(format_timestamp(whole), "2026-01-02T03:04:05.000000Z");
        let offset = time::macros::datetime!(2026-01-02 03:04:05.123456789 +02:00);
        assert_eq!(format_timestamp(offset), "2026-01-02T01:04:05.123456Z");
    }

    #[test]
    fn line_shape() {
        let mut fields = Map::new();
        fields.insert("address".into(), Value::from("/tmp/plugin1"));
        fields.insert("@level".into(), Value::from("spoofed"));
        let at = time::macros::datetime!(2026-11-27 04:23:30.935673 UTC);
        let line = format_line(Level::WARN, "plugin address", "prov", at, fields);
        assert!(line.ends_with("}\n") && line.matches('\n').count() == 1);
        assert_eq!(
            line,
            "{\"@level\":\"warn\",\"@message\":\"plugin address\",\
             \"@timestamp\":\"2026-11-27T04:23:30.935673Z\",\"@module\":\"prov\",\
             \"address\":\"/tmp/plugin1\"}\n"
        );
    }

    #[test]
    fn events_become_lines() {
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = lines.clone();
        let writer: LineWriter = Arc::new(move |b: &[u8]| {
            sink.lock()
                .unwrap()
                .push(String::from_utf8(b.to_vec()).unwrap())
        });
        let sub = tracing_subscriber::registry()
            .with(HclogLayer::new("test-mod", writer).with_filter(filter_for(LevelFilter::DEBUG)));
        tracing::subscriber::with_default(sub, || {
            tracing::info!(count = 3u64, ok = true, who = %"me", "hello {}", "world");
            tracing::trace!("filtered out");
            tracing::debug!(target: "h2", "noisy crate is capped");
            tracing::error!(target: "h2", "but its errors pass");
        });
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 2, "{lines:?}");
        let v: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(v["@level"], "info");
        assert_eq!(v["@message"], "hello world");
        assert_eq!(v["@module"], "test-mod");
        assert_eq!(v["count"], 3);
        assert_eq!(v["ok"], true);
        assert_eq!(v["who"], "me");
        let ts = v["@timestamp"].as_str().unwrap();
        let frac = ts.split('.').nth(1).unwrap();
        assert_eq!(frac.len(), 7, "{ts}");
        assert!(frac.ends_with('Z'));
        let v: Value = serde_json::from_str(&lines[1]).unwrap();
        assert_eq!(v["@level"], "error");
    }

    #[test]
    fn levels_from_env() {
        assert_eq!(level_from_env(None, None), None);
        assert_eq!(level_from_env(None, Some("")), None);
        assert_eq!(level_from_env(None, Some("off")), None);
        assert_eq!(
            level_from_env(None, Some("trace")),
            Some(LevelFilter::TRACE)
        );
        assert_eq!(level_from_env(None, Some("JSON")), Some(LevelFilter::TRACE));
        assert_eq!(
            level_from_env(None, Some("Debug")),
            Some(LevelFilter::DEBUG)
        );
        assert_eq!(level_from_env(None, Some("INFO")), Some(LevelFilter::INFO));
        assert_eq!(level_from_env(None, Some("warn")), Some(LevelFilter::WARN));
        assert_eq!(
            level_from_env(None, Some("ERROR")),
            Some(LevelFilter::ERROR)
        );
        assert_eq!(
            level_from_env(None, Some("bogus")),
            Some(LevelFilter::TRACE)
        );
        assert_eq!(
            level_from_env(Some("error"), Some("trace")),
            Some(LevelFilter::ERROR)
        );
        assert_eq!(level_from_env(Some("off"), Some("trace")), None);
        assert_eq!(
            level_from_env(Some(""), Some("debug")),
            Some(LevelFilter::DEBUG)
        );
    }
}
