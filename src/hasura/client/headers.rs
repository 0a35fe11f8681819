//! Headers Hasura sends with a webhook call (`HeaderConf`, graphql-engine
//! `Hasura/RQL/Types/EventTrigger.hs`): shared by cron and event triggers.
use serde::{Deserialize, Serialize};

/// `HeaderConf`: a literal value or the name of an env var of the engine.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Header {
    Value {
        name: String,
        value: String,
    },
    FromEnv {
        name: String,
        value_from_env: String,
    },
}
