//! `clerk_allowlist_identifier` and `clerk_blocklist_identifier`: one entry
//! of the instance's allow-list or block-list. One implementation, two
//! registrations. The API has no update, so any change replaces the entry,
//! and no GET of one entry, so reads find it in the list.
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::{
    ApplyError, AttrPath, Attribute, Ctx, Diagnostics, IntoDiags, Invalid, RequiresReplace,
    Resource, Schema, StrCheck, UseStateForUnknown, Value,
};
use crate::settle::{settle, ReadBack, Settle};

use super::client::{ClerkClient, ClerkError, Identifier, IdentifierCreate, IdentifierList};
use super::crud::{created_at, Lookup};

pub struct IdentifierResource(pub IdentifierList);

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Model {
    id: Value<String>,
    identifier: Value<String>,
    /// Allow-list only (CreateAllowlistIdentifier); absent from the
    /// block-list's schema, so never serialised there.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    notify: Value<bool>,
    #[serde(default, skip_serializing_if = "Value::is_null")]
    invitation_id: Value<String>,
    identifier_type: Value<String>,
    created_at: Value<i64>,
}

impl Model {
    /// `notify` is write-only in the API: it is kept from `prior`.
    fn from_api(list: IdentifierList, i: Identifier, notify: Value<bool>) -> Self {
        let allow = list == IdentifierList::Allow;
        Model {
            id: i.id.into(),
            identifier: i.identifier.into(),
            notify: if allow { notify } else { Value::default() },
            invitation_id: if allow {
                i.invitation_id.into()
            } else {
                Value::default()
            },
            identifier_type: i.identifier_type.into(),
            created_at: i.created_at.into(),
        }
    }
}

const CREATE_RESENDS: u32 = 3;

/// What the create operations accept: "an email address, a phone number,
/// or a web3 wallet" (E.164 phone numbers, `0x` Ethereum addresses), and an
/// email domain written `*@example.com`.
pub fn check_identifier(s: &str) -> Result<(), Invalid> {
    let email = |s: &str| {
        s.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        })
    };
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain whitespace".into());
    }
    let ok = if let Some(digits) = s.strip_prefix('+') {
        (2..=15).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
            && !digits.starts_with('0')
    } else if let Some(hex) = s.strip_prefix("0x") {
        hex.len() == 40 && hex.chars().all(|c| c.is_ascii_hexdigit())
    } else if let Some(domain) = s.strip_prefix("*@") {
        email(&format!("x@{domain}"))
    } else {
        email(s)
    };
    if ok {
        Ok(())
    } else {
        Err("must be an email address (`user@example.com`), an email domain (`*@example.com`), an E.164 phone number (`+15555550100`) or a web3 wallet (`0x` and 40 hexadecimal digits)".into())
    }
}

impl IdentifierResource {
    fn noun(&self) -> &'static str {
        match self.0 {
            IdentifierList::Allow => "allow-list",
            IdentifierList::Block => "block-list",
        }
    }

    /// Neither list has a GET of one entry: entries are found in the listing.
    async fn find(
        &self,
        ctx: &Ctx,
        client: &ClerkClient,
        id_or_value: &str,
    ) -> Result<Option<Identifier>, ClerkError> {
        let by = |i: &Identifier| i.id == id_or_value || i.identifier == id_or_value;
        self.0.collection().find(client, &ctx.cancel, by).await
    }
}

#[async_trait]
impl Resource for IdentifierResource {
    type Model = Model;

    fn type_name(&self) -> &'static str {
        match self.0 {
            IdentifierList::Allow => "clerk_allowlist_identifier",
            IdentifierList::Block => "clerk_blocklist_identifier",
        }
    }

    fn schema(&self) -> Schema {
        let mut attrs = vec![
            Attribute::id("Identifier id, an import id (the identifier itself is the other)."),
            Attribute::string("identifier").required().plan(RequiresReplace).validate(StrCheck("Invalid identifier", check_identifier)).describe("An email address (`user@example.com`), an email domain (`*@example.com`), an E.164 phone number (`+15555550100`) or a web3 wallet (`0x...`). Changing it replaces the entry."),
            Attribute::string("identifier_type").computed().plan(UseStateForUnknown).describe("`email_address`, `phone_number` or `web3_wallet`, as Clerk classified the identifier."),
            created_at(),
        ];
        let (what, gate) = match self.0 {
            IdentifierList::Allow => {
                attrs.push(Attribute::bool("notify").optional().describe("Send the identifier an invitation to join the application when it is added (email addresses and phone numbers only). Only used when the entry is created and not read back: changing it later sends nothing and replaces nothing. Unset: no invitation."));
                attrs.push(
                    Attribute::string("invitation_id")
                        .computed()
                        .plan(UseStateForUnknown)
                        .describe("The invitation sent when `notify` was set, if any."),
                );
                (
                    "may sign up while the allow-list restriction is on",
                    "allowlist",
                )
            }
            IdentifierList::Block => (
                "may neither sign up nor sign in while the block-list restriction is on",
                "blocklist",
            ),
        };
        Schema::new(
            format!("An identifier on the instance's {} (`/v1/{}_identifiers`): it {what} (`clerk_instance_restrictions.{gate}`). The API has no update: a change replaces the entry. Import with the id or the identifier itself.", self.noun(), gate),
            attrs,
        )
    }

    async fn create(&self, ctx: &Ctx, m: Model) -> Result<Model, ApplyError<Model>> {
        let client = ctx.client::<ClerkClient>()?;
        let value = m.identifier.str_or("").to_string();
        let noun = self.noun();
        let failed =
            |e: ClerkError| e.into_diags(&format!("Failed to add identifier to the {noun}"));
        // Adding an identifier that is listed is refused (`duplicate_record`):
        // say how to adopt it instead.
        if let Some(i) = self.find(ctx, &client, &value).await.map_err(failed)? {
            return Err(Diagnostics::attr_error(
                AttrPath::attr("identifier"),
                "Identifier already listed",
                format!("{value:?} is already on the {noun}. To manage it, import it: terraform import <address> {}", i.id),
            )
            .into());
        }
        let how = Settle {
            resending: "adding an identifier failed ambiguously and did not land; sending it again",
            landed: Some("adding an identifier failed ambiguously but it is listed; adopting it"),
            table: None,
            resends: CREATE_RESENDS,
            backoff: true,
        };
        // Only the allow-list takes `notify`.
        let notify = m.notify.known().copied();
        let body = IdentifierCreate {
            identifier: &value,
            notify: notify.filter(|_| self.0 == IdentifierList::Allow),
        };
        let created = settle(
            &ctx.cancel,
            &how,
            || self.0.collection().create(&client, &ctx.cancel, &body),
            |_| async {
                Ok(match self.find(ctx, &client, &value).await? {
                    Some(i) => ReadBack::Landed(i),
                    None => ReadBack::Absent,
                })
            },
        )
        .await
        .map_err(|u| failed(u.into_error("listing the identifiers to see whether it landed")))?;
        Ok(Model::from_api(self.0, created, m.notify))
    }

    async fn read(&self, ctx: &Ctx, state: Model) -> Result<Option<Model>, Diagnostics> {
        let by_id = |i: &Identifier| Some(i.id.as_str()) == state.id.as_deref();
        let found = self.0.collection().read_in(ctx, Lookup::Listed(&by_id));
        Ok(found
            .await?
            .map(|i| Model::from_api(self.0, i, state.notify)))
    }

    // `update` is the default: `identifier` replaces and `notify` only matters
    // at creation, so there is nothing to send.

    async fn delete(&self, ctx: &Ctx, state: Model) -> Result<(), Diagnostics> {
        let collection = self.0.collection();
        collection.delete_in(ctx, state.id.str_or("")).await
    }

    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Model, Diagnostics> {
        let client = ctx.client::<ClerkClient>()?;
        let found = self
            .find(ctx, &client, id)
            .await
            .map_err(|e| e.into_diags("Failed to import identifier"))?;
        found
            .map(|i| Model::from_api(self.0, i, Value::default()))
            .ok_or_else(|| {
                Diagnostics::error(
                    "Identifier not found",
                    format!("No identifier on the {} has the id or value {id:?}. Import takes the id or the exact identifier.", self.noun()),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::check_identifier;
    use crate::framework::assert_checks;

    #[test]
    fn identifiers() {
        assert_checks(
            check_identifier,
            &[
                "user@example.com",
                "*@example.com",
                "+15555550100",
                "0x52908400098527886E0F7030069857D2E4169EE7",
            ],
            &[
                "",
                "example.com",
                "user@",
                "+0123",
                "+1 555",
                "0x1234",
                "*@",
                "a b@example.com",
            ],
        );
    }
}
