//! The vocabulary of the pipeline: feeds, items, signals, alerts.
//!
//! Everything here is plain data with no I/O. Values that arrive from outside (config, feeds)
//! become these types through `parse`/`TryFrom`, so that past the boundary a `FeedName` is
//! always a valid name and an `EmailAddress` always a valid address.

mod alert;
mod digest;
mod item;
mod names;
mod quiet;
pub mod redact;
mod signal;
mod silence;
pub mod time;

pub use alert::{Alert, AlertOn, Channel, Delivery, Lane, Route, StatusNote};
pub use digest::DailyDigest;
pub use item::{Item, ItemKey, Validators};
pub use names::{EmailAddress, FeedName, FeedSource, Mailbox, normalize_lexically, web_link};
pub use quiet::QuietHours;
pub use signal::{Evidence, Field, ObjectKey, Signal, SignalKind, Topic};
pub use silence::Silence;
