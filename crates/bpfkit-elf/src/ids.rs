//! Index newtypes, so a section index is never mistaken for a symbol index, a map index or a
//! count.

use core::fmt;

macro_rules! index {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub usize);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

index! {
    /// The index of a section in the ELF section header table (0 is the null section).
    SectionIndex
}

index! {
    /// The index of a symbol in the ELF symbol table (`.symtab`; 0 is the null symbol).
    SymbolIndex
}

index! {
    /// The index of a map in [`Object::maps`](crate::Object::maps).
    MapIndex
}

index! {
    /// The index of a global data section in
    /// [`Object::data_sections`](crate::Object::data_sections).
    DataIndex
}

index! {
    /// The index of an extern in [`Object::externs`](crate::Object::externs).
    ExternIndex
}

index! {
    /// The index of a program in [`Object::programs`](crate::Object::programs).
    ProgIndex
}
