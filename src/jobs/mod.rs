//! Background work of a running service, each job named and idempotent.

pub mod index_follower;
