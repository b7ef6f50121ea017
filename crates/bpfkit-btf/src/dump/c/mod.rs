//! C dump (in progress).
use super::DumpError;
use crate::Btf;
use std::io::Write;
/// Options.
#[derive(Clone, Debug, Default)]
pub struct CDumpOptions {
    /// ptr
    pub ptr_size: u32,
}
/// Dump.
pub fn c<W: Write>(_btf: &Btf<'_>, _w: W, _o: &CDumpOptions) -> Result<(), DumpError> {
    Ok(())
}
