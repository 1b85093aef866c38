//! The data plane: the worker's HTTP data [`service`] (uploads of inputs, downloads of
//! outputs, data demands), its [`connections`] limits and [`tls`], and the [`fetch`]es of
//! inputs a client serves at a URL or another device kept.

pub mod connections;
pub mod fetch;
pub mod service;
pub mod tls;
