//! Creating an object with a unique natural key (a permission or role key,
//! an organization slug, a domain name) exactly once.
use std::future::Future;

use crate::framework::Ctx;
use crate::settle::{settle, ReadBack, Settle};

use super::client::ClerkError;

/// How many times a create that certainly did not land is sent again.
const CREATE_RESENDS: u32 = 3;

/// Sends `send`; after an ambiguous failure (5xx, reset, timeout) or a
/// "taken" answer that may be an earlier attempt meeting itself, looks the
/// object up with `find`: one that `is_ours` is adopted, none means send
/// again, anything else is the user's to resolve (the original error, with
/// its import hint).
pub async fn create_settled<T, SF, FF>(
    ctx: &Ctx,
    what: &str,
    send: impl FnMut() -> SF,
    find: impl Fn() -> FF,
    is_ours: impl Fn(&T) -> bool,
) -> Result<T, ClerkError>
where
    SF: Future<Output = Result<T, ClerkError>>,
    FF: Future<Output = Result<Option<T>, ClerkError>>,
{
    let resending =
        format!("creating {what} failed ambiguously and did not land; sending it again");
    let landed = format!("creating {what} failed ambiguously but it exists; adopting it");
    let how = Settle {
        resending: &resending,
        landed: Some(&landed),
        table: None,
        resends: CREATE_RESENDS,
        backoff: true,
    };
    let (find, is_ours) = (&find, &is_ours);
    settle(&ctx.cancel, &how, send, |err: &ClerkError| {
        let conflict = err.is_identifier_taken();
        async move {
            Ok(match find().await? {
                Some(t) if is_ours(&t) => ReadBack::Landed(t),
                None if !conflict => ReadBack::Absent,
                _ => ReadBack::Other,
            })
        }
    })
    .await
    .map_err(|u| u.into_error(&format!("looking {what} up to see whether it landed")))
}
