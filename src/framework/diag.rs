use crate::plugin::cty::AttrPath;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// A diagnostic as Terraform shows it: summary, detail and, where known, the
/// attribute it is about (core then points at that line of the config).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    pub detail: String,
    pub path: Option<AttrPath>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        let mut d = Self::new();
        d.add_error(summary, detail);
        d
    }
    pub fn attr_error(
        path: AttrPath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        let mut d = Self::new();
        d.add_attr_error(path, summary, detail);
        d
    }
    fn push(
        &mut self,
        severity: Severity,
        path: Option<AttrPath>,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.0.push(Diagnostic {
            severity,
            summary: summary.into(),
            detail: detail.into(),
            path,
        });
    }
    pub fn add_error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Error, None, summary, detail);
    }
    pub fn add_attr_error(
        &mut self,
        path: AttrPath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Severity::Error, Some(path), summary, detail);
    }
    pub fn add_attr_warning(
        &mut self,
        path: AttrPath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Severity::Warning, Some(path), summary, detail);
    }
    pub fn add_warning(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Warning, None, summary, detail);
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// `Err(self)` when any error was recorded; lets checks chain with `?`.
    pub fn into_result(self) -> Result<(), Diagnostics> {
        if self.has_errors() {
            Err(self)
        } else {
            Ok(())
        }
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

/// What the framework needs of an API client's error to report it: its
/// message (`Display`, worded for a Terraform user and free of secrets) and,
/// where the API names the request parameter it refused and parameters are
/// named like attributes, that attribute.
pub trait ApiError: std::error::Error {
    fn attribute(&self) -> Option<&str> {
        None
    }
    /// The summary when the error is turned into a diagnostic with `?`
    /// rather than [`IntoDiags::into_diags`] (which names the operation).
    fn summary(&self) -> String {
        "Request failed".into()
    }
}

impl<E: ApiError> From<E> for Diagnostics {
    fn from(e: E) -> Self {
        let summary = e.summary();
        e.into_diags(&summary)
    }
}

/// The one conversion from a client error to Terraform diagnostics.
pub trait IntoDiags {
    fn into_diags(self, summary: &str) -> Diagnostics;
}

impl<E: ApiError> IntoDiags for E {
    fn into_diags(self, summary: &str) -> Diagnostics {
        match self.attribute() {
            Some(a) => Diagnostics::attr_error(AttrPath::attr(a), summary, self.to_string()),
            None => Diagnostics::error(summary, self.to_string()),
        }
    }
}
