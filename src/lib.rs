//! kyoso (共創): the desk and marketplace where Japanese municipalities meet the
//! companies, universities and NPOs that want to work with them. See ARCHITECTURE.md.

pub mod api;
pub mod app;
pub mod commands;
pub mod config;
pub mod console;
pub mod demo;
pub mod domain;
pub mod files;
pub mod jobs;
pub mod mail;
pub mod security_headers;
pub mod storage;
