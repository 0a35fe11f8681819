//! The table as PostgreSQL's catalog shows it, in the model's terms: what a
//! read reports, and whether a write whose answer was lost landed.
use std::collections::BTreeMap;

use tokio_util::sync::CancellationToken;

use crate::framework::Value::Known;

use super::super::client::catalog::{CatalogColumn, CatalogTable};
use super::super::client::{Engine, HasuraError};
use super::super::types::{display_type, is_serial, same_default, same_type};
use super::tracking::TableRef;
use super::{Column, Model};

/// The table as it is right now (one `run_sql`, bypassing the process's
/// snapshot); `None` when it does not exist. For apply paths: the basis of
/// an ALTER, and whether a write whose answer was lost landed.
pub(super) async fn catalog(
    engine: &Engine,
    cancel: &CancellationToken,
    t: TableRef<'_>,
) -> Result<Option<CatalogTable>, HasuraError> {
    engine.table_catalog_fresh(cancel, t).await
}

/// The primary-key column names the catalog shows; empty when there is none.
pub(super) fn catalog_pk(cat: &CatalogTable) -> Vec<&str> {
    cat.primary_key
        .iter()
        .flat_map(|p| p.columns.iter().map(String::as_str))
        .collect()
}

/// What a read reports for `prior`'s table, found in the catalog as `cat`.
pub(super) fn model_from_catalog(prior: &Model, cat: &CatalogTable, tracked: bool) -> Model {
    let t = prior.table();
    Model {
        id: Known(t.id()),
        source: Known(t.source.to_string()),
        schema: Known(t.schema.to_string()),
        name: Known(t.name.to_string()),
        columns: Known(columns_from_catalog(cat, prior.columns())),
        primary_key: match (&cat.primary_key, &prior.primary_key) {
            (Some(pk), _) => Known(pk.columns.iter().cloned().map(Known).collect()),
            (None, Known(p)) if p.is_empty() => Known(vec![]),
            (None, _) => crate::framework::Null,
        },
        comment: cat.comment.clone().into(),
        track: Known(tracked),
        deletion_protection: Known(prior.protected()),
    }
}

/// Whether the live table is `m` as a read would report it: the columns (in
/// `m`'s equivalent spellings), the primary key and the comment.
pub(super) fn catalog_matches(cat: &CatalogTable, m: &Model) -> bool {
    columns_from_catalog(cat, m.columns()) == m.columns()
        && catalog_pk(cat) == m.pk()
        && cat.comment.as_deref() == m.comment.as_deref()
}

/// Whether the catalog shows exactly the table `m` plans: the same columns
/// (types and defaults as PostgreSQL resolves them), primary key and comment.
/// Used to tell our own CREATE, whose answer was lost, from anything else.
pub(super) fn has_planned_shape(m: &Model, cat: &CatalogTable) -> bool {
    let pk = m.pk();
    if catalog_pk(cat) != pk || cat.comment.as_deref() != m.comment.as_deref() {
        return false;
    }
    let got = columns_from_catalog(cat, m.columns());
    got.len() == m.columns().len()
        && got.iter().zip(m.columns()).all(|(g, w)| {
            // Primary-key columns are NOT NULL whatever the plan says.
            let in_pk = w.name.as_deref().is_some_and(|n| pk.contains(&n));
            g.name == w.name
                && g.ty == w.ty
                && g.default == w.default
                && g.unique.or(false) == w.unique.or(false)
                && (in_pk || g.nullable.or(true) == w.nullable.or(true))
        })
}

/// Columns as the catalog reports them, in the prior order (new ones last),
/// keeping the prior spelling of types and defaults PostgreSQL considers equal.
pub(super) fn columns_from_catalog(cat: &CatalogTable, prior: &[Column]) -> Vec<Column> {
    let by_name: BTreeMap<&str, &CatalogColumn> =
        cat.columns.iter().map(|c| (c.name.as_str(), c)).collect();
    let mut order: Vec<&str> = prior
        .iter()
        .filter_map(|c| c.name.as_deref())
        .filter(|n| by_name.contains_key(n))
        .collect();
    for c in &cat.columns {
        if !order.contains(&c.name.as_str()) {
            order.push(&c.name);
        }
    }
    order
        .into_iter()
        .map(|n| {
            let c = by_name[n];
            let p = prior.iter().find(|p| p.name.as_deref() == Some(n));
            let prior_ty = p.and_then(|p| p.ty.as_deref());
            let ty = match prior_ty {
                Some(pt) if same_type(pt, &c.ty) => pt.to_string(),
                _ => display_type(&c.ty),
            };
            let serial = prior_ty.is_some_and(is_serial);
            let default = match (&c.default, p.and_then(|p| p.default.as_deref())) {
                (Some(d), None) if serial && d.starts_with("nextval(") => None,
                (Some(d), Some(pd)) if same_default(pd, d) => Some(pd.to_string()),
                (d, _) => d.clone(),
            };
            Column {
                name: Known(n.to_string()),
                ty: Known(ty),
                nullable: Known(!c.not_null),
                default: default.into(),
                unique: Known(c.unique.is_some()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::tests::col;
    use super::*;
    use crate::hasura::client::catalog::CatalogPk;

    fn cat_col(n: &str, t: &str, not_null: bool, default: Option<&str>) -> CatalogColumn {
        CatalogColumn {
            name: n.into(),
            ty: t.into(),
            not_null,
            default: default.map(str::to_string),
            unique: None,
        }
    }

    /// After an ALTER whose answer was lost, a fresh read tells whether it
    /// landed (the table is the new model), did not (still the old one), or
    /// something else happened; PostgreSQL's spellings count as the model's.
    #[test]
    fn an_ambiguous_alter_is_settled_by_comparing_the_catalog() {
        let pk = Some(CatalogPk {
            name: "t_pkey".into(),
            columns: vec!["id".into()],
        });
        let model = |cols: Vec<Column>| Model {
            name: "t".into(),
            columns: Known(cols),
            primary_key: Known(vec!["id".into()]),
            ..Model::default()
        };
        let id = Column {
            nullable: Known(false),
            ..col("id", "int")
        };
        let old = model(vec![id.clone(), col("name", "text")]);
        let new = model(vec![id, col("name", "text"), col("age", "int")]);
        let before = CatalogTable {
            comment: None,
            columns: vec![
                cat_col("id", "integer", true, None),
                cat_col("name", "text", false, None),
            ],
            primary_key: pk.clone(),
        };
        let mut after = before.clone();
        after.columns.push(cat_col("age", "integer", false, None));
        let mut elsewhere = after.clone();
        elsewhere.columns[2].ty = "text".into();

        assert!(catalog_matches(&before, &old) && !catalog_matches(&before, &new));
        assert!(catalog_matches(&after, &new) && !catalog_matches(&after, &old));
        assert!(!catalog_matches(&elsewhere, &new) && !catalog_matches(&elsewhere, &old));
        let mut commented = after.clone();
        commented.comment = Some("x".into());
        assert!(!catalog_matches(&commented, &new));
        let mut no_pk = after;
        no_pk.primary_key = None;
        assert!(!catalog_matches(&no_pk, &new));
    }

    #[test]
    fn catalog_keeps_prior_spelling_and_order() {
        let mut tag_col = cat_col("tag", "text", false, Some("'x'::text"));
        tag_col.unique = Some("t_tag_key".into());
        let cat = CatalogTable {
            comment: None,
            columns: vec![
                cat_col("id", "integer", true, Some("nextval('t_id_seq'::regclass)")),
                cat_col("seen", "timestamp without time zone", false, Some("now()")),
                tag_col,
                cat_col("extra", "character varying(3)", false, None),
            ],
            primary_key: None,
        };
        let mut tag = col("tag", "text");
        tag.default = "'x'".into();
        let prior = vec![tag, col("id", "serial"), col("seen", "timestamp")];
        let cols = columns_from_catalog(&cat, &prior);
        let names: Vec<_> = cols.iter().map(|c| c.name.str_or("")).collect();
        assert_eq!(names, ["tag", "id", "seen", "extra"]);
        assert_eq!(cols[0].default.as_deref(), Some("'x'"));
        assert_eq!(cols[0].unique, Known(true));
        assert_eq!(cols[1].ty.as_deref(), Some("serial"));
        assert_eq!(cols[1].default, crate::framework::Null);
        assert_eq!(cols[1].nullable, Known(false));
        assert_eq!(cols[2].ty.as_deref(), Some("timestamp"));
        assert_eq!(cols[2].default.as_deref(), Some("now()"));
        assert_eq!(cols[3].ty.as_deref(), Some("varchar(3)"));
    }
}
