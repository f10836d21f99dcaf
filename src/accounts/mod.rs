//! Accounts: the caller's own profile (`me`). Who may (`access`), the change in its
//! transaction with its audit entry (`process`), the answer (`views`). Registration, address
//! confirmation and password reset are still in `src/api/accounts.rs` (issue 15).
pub mod access;
pub mod process;
pub mod views;
