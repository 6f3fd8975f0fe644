//! The JSON API v1: thin handlers that extract the caller and input, call one domain
//! function and render the result; errors as RFC 9457 problem documents.

pub mod attachments;
pub mod audit;
pub mod auth;
pub mod desk;
pub mod fallback;
pub mod health;
pub mod keys;
pub mod municipalities;
pub mod needs;
pub mod notifications;
pub mod offers;
pub mod outcomes;
pub mod partners;
pub mod problem;
pub mod proposals;
pub mod routes;
pub mod search;
pub mod staff;
