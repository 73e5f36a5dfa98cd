//! Tables that create themselves and follow their records (`auto.create`, `auto.evolve`), and
//! fields that are never dropped silently (docs/schemas.md).
//!
//! - `column_type`: StarRocks column types from Connect schemas and values; what fits what.
//! - `fields`: the members of a record's row and where their types come from.
//! - `ddl`: the statement texts.
//! - `catalog`: columns, CREATE and ALTER over the query port, waiting for schema changes.
//! - `guard`: per batch, compares records with their tables and acts as configured.

pub mod catalog;
pub mod column_type;
pub mod ddl;
pub mod fields;
pub mod guard;
