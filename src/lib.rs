//! Long-lived user API keys (`clab_user_…`) next to JWT sessions.
//!
//! This facade re-exports [`clab_keys_core`] as [`core`] and its most used items at the
//! top level, and each adapter behind a feature, so an application adds one dependency:
//!
//! | feature | module | what it brings |
//! |---|---|---|
//! | `axum` | [`axum`](crate::axum) | extractors, RFC 6750 rejections, the management router |
//! | `actix-web` | [`actix`](crate::actix) | extractors, `ResponseError`, the management scope |
//! | `sea-orm` | [`seaorm`](crate::seaorm) | the entity, migration and `KeyStore` |
//! | `testing` | `core::testing` | the store conformance suite and HTTP conformance table |
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use clab_keys_core as core;
pub use clab_keys_core::*;

/// The axum 0.8 adapter ([`clab_keys_axum`]).
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use clab_keys_axum as axum;

/// The actix-web 4 adapter ([`clab_keys_actix`]).
#[cfg(feature = "actix-web")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix-web")))]
pub use clab_keys_actix as actix;

/// The SeaORM 2.0 store ([`clab_keys_seaorm`]).
#[cfg(feature = "sea-orm")]
#[cfg_attr(docsrs, doc(cfg(feature = "sea-orm")))]
pub use clab_keys_seaorm as seaorm;
