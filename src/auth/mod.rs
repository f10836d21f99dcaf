//! Identity and access: signing keys, access and refresh tokens, the caller of a request, and
//! the policy that decides what a caller may do.
pub mod caller;
pub mod external;
pub mod keys;
pub mod policy;
pub mod secrets;
pub mod service;
pub mod sessions;
pub mod state;
pub mod tokens;

pub use caller::Caller;
pub use policy::Scope;
pub use service::AuthService;
