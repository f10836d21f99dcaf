//! Payments: the bank's notifications of incoming payments (camt.054) imported and matched
//! to bills by their reference. `process` records them; `views` answers them.
pub mod process;
pub mod views;
