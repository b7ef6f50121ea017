//! `.BTF.ext`.

/// Placeholder.
pub struct BtfExt;
