//! Mail: messages are rendered from template folders and written to the outbox in the
//! transaction of the event that causes them; the sender (`send`) takes due rows, builds
//! each message and hands it to the transport.

pub mod links;
pub mod message;
pub mod outbox;
pub mod send;
pub mod signing;
pub mod templates;
pub mod transport;
