//! The upper layer: everything that faces HTTP. It turns `Authorization` header lines into a
//! [`Principal`] or a [`Rejection`], and management requests into an [`ApiResponse`], using the
//! key service of the layer below. Nothing below this module imports from it.

mod body;
mod header;
mod lifecycle;
mod management;
mod paging;
mod principal;
mod rejection;
mod response;
mod router;
mod wire;

#[cfg(feature = "openapi")]
mod openapi;

pub use body::{BodyBuffer, MAX_BODY_LEN};
pub use header::{BearerOutcome, MAX_BEARER_LEN, looks_like_jwt, parse_authorization};
pub use management::{MANAGEMENT_PATH, ManagementCall};
#[cfg(feature = "openapi")]
pub use openapi::ManagementApi;
pub use principal::{CredentialKind, Principal, ScopeName};
pub use rejection::{Realm, Rejection, RejectionKind};
pub use response::ApiResponse;
pub use router::{CredentialRouter, JwtError, JwtIdentity, JwtVerifier};
