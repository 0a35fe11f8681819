use std::fmt;

/// One step of an attribute path, as Terraform's `AttributePath` carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Attr(String),
    Key(String),
    Index(i64),
}

/// Where in a configuration object a diagnostic or a replacement applies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttrPath(pub Vec<Step>);

impl AttrPath {
    pub fn root() -> AttrPath {
        AttrPath(Vec::new())
    }
    pub fn attr(name: &str) -> AttrPath {
        AttrPath(vec![Step::Attr(name.into())])
    }
    pub fn child(&self, name: &str) -> AttrPath {
        let mut p = self.clone();
        p.0.push(Step::Attr(name.into()));
        p
    }
    pub fn index(&self, i: usize) -> AttrPath {
        let mut p = self.clone();
        p.0.push(Step::Index(i as i64));
        p
    }
    pub fn key(&self, k: &str) -> AttrPath {
        let mut p = self.clone();
        p.0.push(Step::Key(k.into()));
        p
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            match s {
                Step::Attr(a) if i == 0 => write!(f, "{a}")?,
                Step::Attr(a) => write!(f, ".{a}")?,
                Step::Key(k) => write!(f, "[{k:?}]")?,
                Step::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}
