//! The StarRocks emulator's catalog and table store: schemas (StarRocks DDL), users and grants,
//! table data (Duplicate Key / Primary Key semantics), SQL over the MySQL wire protocol.
//! `model` is the contract with the HTTP load path in the `starrocks-emulator` crate.

pub mod catalog;
pub mod ddl;
mod error;
mod kind;
mod lex;
pub mod mirror;
pub mod model;
pub mod mysql;
mod persist;
pub mod schema_change;
pub mod sql;
pub mod store;
pub mod types;

pub use catalog::Catalog;
