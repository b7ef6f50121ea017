//! The one macro that declares every kernel constant set in this crate.
//!
//! Modelled on gimli's `dw!`: each set is a transparent newtype over the kernel's integer, with one
//! associated constant per enumerator, the kernel's own name (`BPF_PROG_TYPE_XDP`) for `Display`,
//! libbpf's short name (`xdp`, what bpftool prints) for the alternate form `{:#}`, and parsing from
//! either. Values outside the table stay representable: the kernel grows these enums every release.

/// The newtype both [`uapi_enum!`] and [`uapi_flags!`] declare: a transparent wrapper over the
/// kernel's integer, public field, value semantics, and `From` both ways.
macro_rules! uapi_newtype {
    ($(#[$meta:meta])* $name:ident($repr:ty)) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub $repr);

        impl From<$repr> for $name {
            fn from(value: $repr) -> Self {
                $name(value)
            }
        }

        impl From<$name> for $repr {
            fn from(value: $name) -> Self {
                value.0
            }
        }
    };
}

pub(crate) use uapi_newtype;

/// Declares a constant set: `uapi_enum! { Name(u32), prefix = "BPF_X_", kind = "..." { ... } }`.
///
/// Each entry is `CONST = value => "short"`; the kernel name is `prefix` followed by `CONST`.
/// Entries under `aliases` are further names for a value declared above (the kernel's
/// `BPF_MAP_TYPE_CGROUP_STORAGE_DEPRECATED` style); they are constants and parse, but `Display`
/// shows the primary name.
///
/// With `names = short` instead of `kind = ...` before the braces, the kernel name is `prefix`
/// followed by the short name (`BPF_FUNC_map_lookup_elem`: the kernel spells helper names in
/// lower case, which Rust constants are not).
macro_rules! uapi_enum {
    (
        $(#[$meta:meta])*
        $name:ident($repr:ty), prefix = $prefix:literal, kind = $kind:literal {
            $( $(#[$cmeta:meta])* $konst:ident = $value:literal => $short:literal, )*
        }
        aliases {
            $( $(#[$ameta:meta])* $alias:ident = $target:ident, )*
        }
    ) => {
        $crate::macros::uapi_enum! { @impl $(#[$meta])* $name($repr), prefix = $prefix, kind = $kind {
            $( $(#[$cmeta])* $konst = $value => $short, (concat!($prefix, stringify!($konst))), )*
        }
        aliases {
            $( $(#[$ameta])* $alias = $target, )*
        } }
    };
    (
        $(#[$meta:meta])*
        $name:ident($repr:ty), prefix = $prefix:literal, kind = $kind:literal, names = short {
            $( $(#[$cmeta:meta])* $konst:ident = $value:literal => $short:literal, )*
        }
    ) => {
        $crate::macros::uapi_enum! { @impl $(#[$meta])* $name($repr), prefix = $prefix, kind = $kind {
            $( $(#[$cmeta])* $konst = $value => $short, (concat!($prefix, $short)), )*
        }
        aliases {} }
    };
    (
        @impl
        $(#[$meta:meta])*
        $name:ident($repr:ty), prefix = $prefix:literal, kind = $kind:literal {
            $( $(#[$cmeta:meta])* $konst:ident = $value:literal => $short:literal, ($full:expr), )*
        }
        aliases {
            $( $(#[$ameta:meta])* $alias:ident = $target:ident, )*
        }
    ) => {
        $crate::macros::uapi_newtype! { $(#[$meta])* $name($repr) }

        impl $name {
            $(
                $(#[$cmeta])*
                pub const $konst: $name = $name($value);
            )*
            $(
                $(#[$ameta])*
                pub const $alias: $name = $name::$target;
            )*

            /// Every value in the table, in the kernel's order (aliases not repeated).
            pub const ALL: &'static [$name] = &[$($name::$konst),*];

            /// The kernel's name of this value, or `None` for a value the table does not know.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some($full), )*
                    _ => None,
                }
            }

            /// libbpf's short name of this value (what bpftool prints), or `None` if unknown.
            pub const fn short_name(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some($short), )*
                    _ => None,
                }
            }

            /// Whether the table knows this value.
            pub const fn is_known(self) -> bool {
                self.name().is_some()
            }

            /// Looks a value up by its kernel name (aliases included) or its short name.
            pub fn from_name(name: &str) -> Option<$name> {
                $( if name == $full || name == $short { return Some($name::$konst); } )*
                match name {
                    $( concat!($prefix, stringify!($alias)) => Some($name::$alias), )*
                    _ => None,
                }
            }
        }

        impl core::fmt::Display for $name {
            /// The kernel name; with `{:#}` libbpf's short name. Unknown values print as `Type(N)`.
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                let known = if f.alternate() { self.short_name() } else { self.name() };
                match known {
                    Some(s) => f.pad(s),
                    None => f.pad(&format!(concat!(stringify!($name), "({})"), self.0)),
                }
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.name() {
                    Some(s) => f.write_str(s),
                    None => write!(f, concat!(stringify!($name), "({})"), self.0),
                }
            }
        }

        impl core::str::FromStr for $name {
            type Err = $crate::UnknownName;

            /// Parses a kernel name, a short name, or a plain decimal value.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                if let Some(v) = $name::from_name(s) {
                    return Ok(v);
                }
                s.parse::<$repr>().map($name).map_err(|_| $crate::UnknownName {
                    kind: $kind,
                    name: s.to_string(),
                })
            }
        }
    };
}

pub(crate) use uapi_enum;

/// Declares a set of bit flags: `uapi_flags! { Name(u32), prefix = "BPF_F_" { CONST = bit => "short", ... } }`.
///
/// `Display` joins the kernel names of the set single-bit flags with `|` (`{:#}`: the short
/// names) and shows leftover unknown bits in hex; an empty set prints as `0`.
macro_rules! uapi_flags {
    (
        $(#[$meta:meta])*
        $name:ident($repr:ty), prefix = $prefix:literal {
            $( $(#[$cmeta:meta])* $konst:ident = $value:expr => $short:literal, )*
        }
    ) => {
        $crate::macros::uapi_newtype! { $(#[$meta])* $name($repr) }

        impl $name {
            /// No flag set.
            pub const NONE: $name = $name(0);
            $(
                $(#[$cmeta])*
                pub const $konst: $name = $name($value);
            )*

            /// Every flag: its value, kernel name and short name.
            pub const NAMES: &'static [($name, &'static str, &'static str)] =
                &[$( ($name::$konst, concat!($prefix, stringify!($konst)), $short) ),*];

            /// The raw bits.
            pub const fn bits(self) -> $repr {
                self.0
            }

            /// Whether every bit of `other` is set in `self`.
            pub const fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }

            /// Whether no bit is set.
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// The bits of `self` that no named flag covers.
            pub const fn unknown_bits(self) -> $repr {
                let mut known: $repr = 0;
                $( known |= $value; )*
                self.0 & !known
            }

            /// The union of `self` and `other`.
            pub const fn union(self, other: $name) -> $name {
                $name(self.0 | other.0)
            }
        }

        impl core::ops::BitOr for $name {
            type Output = $name;
            fn bitor(self, rhs: $name) -> $name {
                self.union(rhs)
            }
        }

        impl core::ops::BitOrAssign for $name {
            fn bitor_assign(&mut self, rhs: $name) {
                *self = self.union(rhs);
            }
        }

        impl core::fmt::Display for $name {
            /// `A|B` with kernel names (`{:#}`: short names), unknown bits as hex, `0` if empty.
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                if self.0 == 0 {
                    return f.write_str("0");
                }
                let mut first = true;
                // Composite flags (more than one bit) are shown through their parts.
                for &(flag, long, short) in $name::NAMES {
                    if flag.0.count_ones() == 1 && self.contains(flag) {
                        if !first {
                            f.write_str("|")?;
                        }
                        first = false;
                        f.write_str(if f.alternate() { short } else { long })?;
                    }
                }
                let rest = self.unknown_bits();
                if rest != 0 {
                    if !first {
                        f.write_str("|")?;
                    }
                    write!(f, "{:#x}", rest)?;
                }
                Ok(())
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }
    };
}

pub(crate) use uapi_flags;
