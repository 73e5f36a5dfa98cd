//! A bad record: one the sink will not load, found before loading (a value that is not a row)
//! or by a load StarRocks refused. Both delivery modes make them; the JNI layer hands them to
//! Connect's errant-record reporter (docs/delivery-guarantees.md "Bad records").

/// A bad record's original coordinates (what the shim reports and commits in) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub reason: String,
}
