//! The network front-end: HTTPS downloads with reqwest (rustls, no OpenSSL). Validation and
//! installation are the core's ([`crate::core::pricing::install`]); this module only fetches.

pub mod alibaba;
pub mod azure;
pub mod hub;
pub mod update;
