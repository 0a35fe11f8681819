//! Generated bindings for `proto/`.
#![allow(clippy::all, clippy::pedantic, missing_docs)]

pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

pub mod go_plugin {
    tonic::include_proto!("plugin");
}
