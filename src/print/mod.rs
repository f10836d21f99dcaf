//! Printed forms: the Swiss QR-bill (`slip`: its layout, as drawing operations) written out
//! as PDF (`pdf`, the A4 bill) and SVG (`svg`, the payment part alone), with the fonts'
//! metrics (`metrics`) to align and wrap its texts. Pure functions of the bill; no I/O.
mod metrics;
pub mod pdf;
pub mod slip;
pub mod svg;
