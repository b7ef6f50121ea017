//! Essential names: a type's name without its flavor suffix.
//!
//! `task_struct___v2` and `task_struct___old` are flavors of `task_struct`: everything from the
//! last `___` separator on is ignored when CO-RE looks for candidates, so one object can carry
//! several local definitions of a kernel type (libbpf's `bpf_core_essential_name_len`).

/// The name up to its last flavor separator: `X___Y` where neither the character before the
/// `___` nor the one after it is an underscore. Names without one are their own essential name.
///
/// ```
/// use bpfkit_relo::core::essential_name;
/// assert_eq!(essential_name(b"task_struct___v2"), b"task_struct");
/// assert_eq!(essential_name(b"a___b___c"), b"a___b");
/// assert_eq!(essential_name(b"a____b"), b"a____b"); // four underscores: no separator
/// assert_eq!(essential_name(b"___x"), b"___x");
/// ```
pub fn essential_name(name: &[u8]) -> &[u8] {
    &name[..essential_len(name)]
}

/// The length of [`essential_name`].
pub(crate) fn essential_len(name: &[u8]) -> usize {
    // libbpf scans i from n-5 down to 0 for "X___Y" at i; the essential part is name[..=i].
    // Indexing vmlinux asks this for every type, so the scan is over 5-byte windows, which the
    // compiler checks once rather than per byte.
    name.windows(5)
        .rposition(|w| w[0] != b'_' && w[1] == b'_' && w[2] == b'_' && w[3] == b'_' && w[4] != b'_')
        .map_or(name.len(), |i| i + 1)
}

/// Whether two names have the same essential name (libbpf compares the essential lengths, then
/// that many bytes).
pub(crate) fn same_essential(a: &[u8], b: &[u8]) -> bool {
    essential_name(a) == essential_name(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flavors() {
        // Cases from libbpf's rules: the last separator wins, and a separator needs a
        // non-underscore on each side.
        let cases: &[(&str, &str)] = &[
            ("", ""),
            ("s", "s"),
            ("s___", "s___"),
            ("s___a", "s"),
            ("s___a___b", "s___a"),
            ("s____a", "s____a"),
            ("_s___a", "_s"),
            ("s__a", "s__a"),
            ("s___a_", "s"),
            ("s___ab", "s"),
            ("x___y___", "x"),
        ];
        for (name, want) in cases {
            assert_eq!(
                essential_name(name.as_bytes()),
                want.as_bytes(),
                "essential name of {name:?}"
            );
        }
    }
}
