//! The one error type of the core. Every error carries a *kind* that the JNI layer passes to
//! Java unchanged (`NativeException(int kind, String message)`); the shim maps the kind to a
//! Connect exception (see docs/architecture.md). Keep the numbers stable: they are a contract.

use std::fmt;

/// Error kinds, numbered as in docs/architecture.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum ErrorKind {
    /// A setting the core cannot use.
    Config = 1,
    /// Transient; the same call may succeed later.
    Retriable = 2,
    /// A record cannot be decoded or converted.
    Data = 3,
    /// StarRocks refused a load (its message is included).
    Load = 4,
    /// A bug or a panic; the sink is poisoned.
    Internal = 5,
}

impl ErrorKind {
    /// The number passed across JNI.
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// An error with a kind and a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into() }
    }
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }
    pub fn retriable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Retriable, message)
    }
    pub fn data(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Data, message)
    }
    pub fn load(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Load, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_contract_numbers() {
        assert_eq!(ErrorKind::Config.code(), 1);
        assert_eq!(ErrorKind::Retriable.code(), 2);
        assert_eq!(ErrorKind::Data.code(), 3);
        assert_eq!(ErrorKind::Load.code(), 4);
        assert_eq!(ErrorKind::Internal.code(), 5);
        assert_eq!(Error::load("x").kind, ErrorKind::Load);
    }
}
