//! Accounts: the caller's own profile (`me`), a resident's registration, the confirmation of
//! an address and the reset of a password by a link sent by mail. Who may (`access`), the
//! change in its transaction with its audit entry and mails (`process`), the answer (`views`).
pub mod access;
pub mod process;
pub mod views;
