//! Mail: messages are rendered from template folders and written to the outbox in the
//! transaction of the event that causes them; the sender (`send`) claims due rows
//! (`claim`: a token and a renewed lease, so only the claimer records the outcome),
//! builds each message and hands it to the transport.

pub mod claim;
pub mod links;
pub mod message;
pub mod outbox;
pub mod send;
pub mod signing;
pub mod templates;
pub mod transport;
