//! Mail: messages are rendered from template folders and written to the outbox in the
//! transaction of the event that causes them; a worker (the notifications issue) sends
//! what the outbox holds.

pub mod outbox;
pub mod templates;
