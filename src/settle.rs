//! Settling a write whose answer was lost.
//!
//! A create or a DDL statement that fails ambiguously (a 5xx, a reset, a
//! timeout) may have been applied all the same, so the HTTP layer does not
//! repeat it. Sending it again blindly could apply it twice; reporting the
//! failure could leave behind an object Terraform does not know about. So the
//! server is asked: if the write landed, its result is adopted; if it
//! certainly did not, it is sent again, a bounded number of times; if that
//! cannot be told, the user gets both errors.
use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// An API error that can leave a write's outcome unknown. Implemented next
/// to the code that settles each provider's writes (`hasura::table`,
/// `clerk::jwt_template`): the API clients are private to their provider.
pub trait Ambiguous: Sized {
    /// Whether the failed write may have been applied, so the server must be
    /// asked before anything else. Never for cancellation: the user asked to stop.
    fn may_have_landed(&self) -> bool;
    /// The user-facing text of the error.
    fn message_mut(&mut self) -> &mut String;
    /// What of this error may be logged.
    fn log_text(&self) -> Option<&str>;

    /// This error, saying that `reading_back` (e.g. "reading the metadata
    /// back to see whether it landed") failed too, with `failure`.
    fn with_read_back_failure(mut self, reading_back: &str, mut failure: Self) -> Self {
        let failure = std::mem::take(failure.message_mut());
        let message = self.message_mut();
        *message = format!("{message} ({reading_back} also failed: {failure})");
        self
    }
}

/// What the server shows after an ambiguous failure.
#[derive(Debug, PartialEq)]
pub enum ReadBack<T> {
    /// The write landed and only its answer was lost: `T` is what it made.
    Landed(T),
    /// It certainly did not land: sending it again is safe.
    Absent,
    /// Something else is there: neither ours to adopt nor safe to write over.
    Other,
}

/// Why a write could not be settled.
#[derive(Debug, PartialEq)]
pub enum Unsettled<E> {
    /// It did not land: refused outright, or still absent after every re-send.
    Failed(E),
    /// It failed ambiguously, and the read-back found [`ReadBack::Other`].
    Other(E),
    /// It failed ambiguously, and reading back failed too.
    ReadBackFailed { write: E, read_back: E },
}

impl<E> Unsettled<E> {
    /// The error to report when a failed read-back needs no mention of the
    /// write (the read-back's own failure says it all).
    pub fn into_last_error(self) -> E {
        match self {
            Unsettled::Failed(e) | Unsettled::Other(e) => e,
            Unsettled::ReadBackFailed { read_back, .. } => read_back,
        }
    }
}

impl<E: Ambiguous> Unsettled<E> {
    /// One error for the user; `reading_back` names the read-back in it.
    pub fn into_error(self, reading_back: &str) -> E {
        match self {
            Unsettled::Failed(e) | Unsettled::Other(e) => e,
            Unsettled::ReadBackFailed { write, read_back } => {
                write.with_read_back_failure(reading_back, read_back)
            }
        }
    }
}

/// How one kind of write is settled, and the lines logged meanwhile.
pub struct Settle<'a> {
    /// Logged, with `attempt` and the error, before each re-send.
    pub resending: &'a str,
    /// Logged, with `attempt`, when a lost write is found to have landed.
    pub landed: Option<&'a str>,
    /// Logged as `table` with both, for writes about one.
    pub table: Option<&'a str>,
    /// How many times a write that certainly did not land is sent again.
    pub resends: u32,
    /// Whether each re-send first waits [`pause`]: a server that just failed
    /// (a 5xx, a reset) is given time to recover.
    pub backoff: bool,
}

/// Sends a write with `send` until it is settled. After an ambiguous failure,
/// `read_back` (given the failure) asks the server what became of it.
pub async fn settle<T, E: Ambiguous, SF, RF>(
    cancel: &CancellationToken,
    how: &Settle<'_>,
    send: impl FnMut() -> SF,
    read_back: impl FnMut(&E) -> RF,
) -> Result<T, Unsettled<E>>
where
    SF: Future<Output = Result<T, E>>,
    RF: Future<Output = Result<ReadBack<T>, E>>,
{
    settle_when(cancel, how, E::may_have_landed, send, read_back).await
}

/// [`settle`] for writes that must also be read back after other failures:
/// `read_back_after` says which (e.g. a lost compare-and-swap race, where
/// the server's state decides whether to re-send). A `send` that derives
/// what it writes from the server's current state re-sends only what is
/// still missing.
pub async fn settle_when<T, E, S, SF, R, RF>(
    cancel: &CancellationToken,
    how: &Settle<'_>,
    read_back_after: impl Fn(&E) -> bool,
    mut send: S,
    mut read_back: R,
) -> Result<T, Unsettled<E>>
where
    E: Ambiguous,
    S: FnMut() -> SF,
    SF: Future<Output = Result<T, E>>,
    R: FnMut(&E) -> RF,
    RF: Future<Output = Result<ReadBack<T>, E>>,
{
    // Re-sends so far; a send's `attempt` in the logs is 1 for the first.
    let mut attempt = 0;
    loop {
        let e = match send().await {
            Ok(t) => return Ok(t),
            Err(e) if read_back_after(&e) => e,
            Err(e) => return Err(Unsettled::Failed(e)),
        };
        match read_back(&e).await {
            Ok(ReadBack::Landed(t)) => {
                if let Some(line) = how.landed {
                    tracing::info!(table = how.table, attempt = attempt + 1, "{line}");
                }
                return Ok(t);
            }
            Ok(ReadBack::Absent) if attempt < how.resends => {
                attempt += 1;
                tracing::info!(
                    table = how.table,
                    attempt,
                    error = e.log_text(),
                    "{}",
                    how.resending
                );
                if how.backoff {
                    // Cancellation cuts the wait short; the next send then
                    // fails as cancelled, which is final.
                    pause(cancel, attempt).await;
                }
            }
            Ok(ReadBack::Absent) => return Err(Unsettled::Failed(e)),
            Ok(ReadBack::Other) => return Err(Unsettled::Other(e)),
            Err(read_back) => {
                return Err(Unsettled::ReadBackFailed {
                    write: e,
                    read_back,
                })
            }
        }
    }
}

/// A short, growing pause before re-sending after an ambiguous failure.
pub async fn pause(cancel: &CancellationToken, attempt: u32) {
    let wait = Duration::from_millis(100u64 << attempt.min(5));
    tokio::select! {
        _ = tokio::time::sleep(wait) => {}
        _ = cancel.cancelled() => {}
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::time::Instant;

    use super::*;

    /// A fake error: `true` may have landed.
    #[derive(Debug, PartialEq)]
    struct Fake(bool, String);

    impl Ambiguous for Fake {
        fn may_have_landed(&self) -> bool {
            self.0
        }
        fn message_mut(&mut self) -> &mut String {
            &mut self.1
        }
        fn log_text(&self) -> Option<&str> {
            Some(&self.1)
        }
    }

    fn how(resends: u32, backoff: bool) -> Settle<'static> {
        Settle {
            resending: "did not land; sending it again",
            landed: Some("landed; adopting it"),
            table: None,
            resends,
            backoff,
        }
    }

    /// Runs `settle` with sends answering `sends` in turn (then ambiguous
    /// failures) and every read-back answering `read_back`; returns the
    /// result and the number of sends and read-backs.
    async fn run(
        resends: u32,
        sends: Vec<Result<u32, Fake>>,
        read_back: impl Fn() -> Result<ReadBack<u32>, Fake>,
    ) -> (Result<u32, Unsettled<Fake>>, usize, usize) {
        let (sent, read) = (Cell::new(0), Cell::new(0));
        let sends = std::cell::RefCell::new(sends.into_iter());
        let r = settle(
            &CancellationToken::new(),
            &how(resends, false),
            || {
                sent.set(sent.get() + 1);
                let next = sends.borrow_mut().next();
                async move { next.unwrap_or_else(|| Err(Fake(true, "reset".into()))) }
            },
            |_| {
                read.set(read.get() + 1);
                let r = read_back();
                async move { r }
            },
        )
        .await;
        (r, sent.get(), read.get())
    }

    #[tokio::test]
    async fn an_answered_write_is_not_read_back() {
        assert_eq!(
            run(4, vec![Ok(7)], || Ok(ReadBack::Absent)).await,
            (Ok(7), 1, 0)
        );
        let refused = Fake(false, "400".into());
        assert_eq!(
            run(4, vec![Err(refused)], || Ok(ReadBack::Absent)).await,
            (Err(Unsettled::Failed(Fake(false, "400".into()))), 1, 0)
        );
    }

    #[tokio::test]
    async fn a_lost_write_that_landed_is_adopted() {
        assert_eq!(
            run(4, vec![], || Ok(ReadBack::Landed(9))).await,
            (Ok(9), 1, 1)
        );
    }

    #[tokio::test]
    async fn a_lost_write_that_did_not_land_is_sent_again_within_the_bound() {
        let (r, sent, read) = run(4, vec![], || Ok(ReadBack::Absent)).await;
        assert_eq!((sent, read), (5, 5));
        assert_eq!(r, Err(Unsettled::Failed(Fake(true, "reset".into()))));
        let again = vec![Err(Fake(true, "reset".into())), Ok(3)];
        assert_eq!(run(4, again, || Ok(ReadBack::Absent)).await, (Ok(3), 2, 1));
        let (_, sent, _) = run(0, vec![], || Ok(ReadBack::Absent)).await;
        assert_eq!(sent, 1);
    }

    #[tokio::test]
    async fn something_else_or_a_failed_read_back_stops_it() {
        let (r, sent, _) = run(4, vec![], || Ok(ReadBack::Other)).await;
        assert_eq!(
            (r, sent),
            (Err(Unsettled::Other(Fake(true, "reset".into()))), 1)
        );
        let (r, sent, _) = run(4, vec![], || Err(Fake(true, "timeout".into()))).await;
        assert_eq!(sent, 1);
        assert_eq!(
            r.unwrap_err().into_error("reading back"),
            Fake(true, "reset (reading back also failed: timeout)".into())
        );
    }

    /// A refusal the caller names (e.g. a lost compare-and-swap race) is
    /// read back like an ambiguous failure; others still end it at once.
    #[tokio::test]
    async fn settle_when_reads_back_after_the_failures_it_names() {
        let raced = |e: &Fake| e.1 == "conflict";
        let read = Cell::new(0);
        let sends = std::cell::RefCell::new(vec![Ok(5), Err(Fake(false, "conflict".into()))]);
        let r = settle_when(
            &CancellationToken::new(),
            &how(4, false),
            raced,
            || {
                let next = sends.borrow_mut().pop().unwrap();
                async move { next }
            },
            |_| {
                read.set(read.get() + 1);
                async { Ok(ReadBack::Absent) }
            },
        )
        .await;
        assert_eq!((r, read.get()), (Ok(5), 1));
        let r: Result<(), _> = settle_when(
            &CancellationToken::new(),
            &how(4, false),
            raced,
            || async { Err(Fake(true, "reset".into())) },
            |_| async { panic!("not read back") },
        )
        .await;
        assert_eq!(r, Err(Unsettled::Failed(Fake(true, "reset".into()))));
    }

    #[tokio::test]
    async fn cancellation_cuts_the_backoff_short() {
        let cancel = CancellationToken::new();
        cancel.cancel();
        let start = Instant::now();
        let r: Result<(), _> = settle(
            &cancel,
            &how(4, true),
            || async { Err(Fake(true, "reset".into())) },
            |_| async { Ok(ReadBack::Absent) },
        )
        .await;
        assert!(matches!(r, Err(Unsettled::Failed(_))));
        // Uncancelled, the four pauses take 3 s.
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "{:?}",
            start.elapsed()
        );
    }
}
