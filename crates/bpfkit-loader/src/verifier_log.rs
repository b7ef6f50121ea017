//! Reading the kernel verifier's log: where it stopped and why.
//!
//! A log of level 1 or 2 lists the instructions of the path the verifier walked (`27: (85) call
//! bpf_map_lookup_elem#1`), source lines when line_info was given (`; x = y; @ file.c:12`) and
//! register states; a rejection ends with the reason, then the statistics line (`processed N
//! insns ...`) the kernel prints either way.
//!
//! ```
//! use bpfkit_loader::verifier_log::summarize;
//!
//! let log = "0: R1=ctx() R10=fp0\n; int x = 0; @ prog.c:3\n0: (b7) r0 = 0\n\
//!            1: (95) exit\nR0 !read_ok\nprocessed 2 insns (limit 1000000)";
//! let summary = summarize(log);
//! assert_eq!(summary.failing_insn, Some(1));
//! assert_eq!(summary.message, Some("R0 !read_ok"));
//! assert!(summary.up_to_message.ends_with("R0 !read_ok"));
//! ```

/// What [`summarize`] finds in a log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary<'a> {
    /// The instruction the verifier was at when it stopped: the last one it printed.
    pub failing_insn: Option<usize>,
    /// The verifier's reason: the last line before the statistics.
    pub message: Option<&'a str>,
    /// The log up to and including the reason (without the statistics after it).
    pub up_to_message: &'a str,
}

/// The instruction index of a log line `N: (OP) ...`, if it is one.
pub fn insn_of_line(line: &str) -> Option<usize> {
    let (index, rest) = line.split_once(": (")?;
    let op = rest.as_bytes().get(..3)?;
    let is_op = op[2] == b')' && op[..2].iter().all(u8::is_ascii_hexdigit);
    if !is_op || index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    index.parse().ok()
}

/// Whether `line` is the verifier's closing statistics (or another line it prints after the
/// reason).
fn is_trailer(line: &str) -> bool {
    line.starts_with("processed ")
        || line.starts_with("stack depth ")
        || line.starts_with("verification time ")
        || line.starts_with("-- END PROG LOAD LOG --")
}

/// Reasons after which the kernel prints more than statistics (the states it compared for an
/// infinite loop; the instruction count for a program too large), so the reason is not the
/// last line: the reason starts at the marker.
const REASONS_BEFORE_DUMPS: [&str; 2] = [
    "infinite loop detected at insn",
    "BPF program is too large.",
];

/// Finds where the verifier stopped and why.
pub fn summarize(log: &str) -> Summary<'_> {
    let trimmed = log.trim_end();
    let mut end = trimmed.len();
    let mut message = None;
    for marker in REASONS_BEFORE_DUMPS {
        if let Some(line) = trimmed.lines().rev().find(|l| l.contains(marker)) {
            let start = line.as_ptr() as usize - trimmed.as_ptr() as usize;
            let at = line.find(marker).unwrap_or(0);
            message = Some(line[at..].trim_end());
            end = start + line.len();
            break;
        }
    }
    // Otherwise the reason is the last line that is not a trailer.
    let lines = if message.is_some() { "" } else { trimmed };
    for line in lines.lines().rev() {
        let start = line.as_ptr() as usize - trimmed.as_ptr() as usize;
        if line.trim().is_empty() || is_trailer(line) {
            end = start;
            continue;
        }
        message = Some(line);
        end = start + line.len();
        break;
    }
    let up_to_message = &trimmed[..end];
    let failing_insn = up_to_message.lines().rev().find_map(insn_of_line);
    Summary {
        failing_insn,
        message,
        up_to_message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_infinite_loop_reason_comes_before_the_states() {
        // The kernel prints the two states it compared after the reason (verifier.c,
        // is_state_visited), then its statistics.
        let log = "3: (05) goto pc-2\ninfinite loop detected at insn 2\ncur state: R1=ctx() \
                   R10=fp0\nold state: R1=ctx() R10=fp0\nprocessed 5 insns (limit 1000000)";
        let summary = summarize(log);
        assert_eq!(summary.message, Some("infinite loop detected at insn 2"));
        assert_eq!(summary.failing_insn, Some(3));
        assert!(summary.up_to_message.ends_with("insn 2"));
    }

    #[test]
    fn a_log_without_instructions_has_only_a_reason() {
        let s = summarize("missing btf func_info\nprocessed 0 insns\n");
        assert_eq!(s.failing_insn, None);
        assert_eq!(s.message, Some("missing btf func_info"));
    }

    #[test]
    fn instruction_lines_are_told_from_others() {
        assert_eq!(
            insn_of_line("27: (85) call bpf_map_lookup_elem#1"),
            Some(27)
        );
        assert_eq!(insn_of_line("27: R1_w=fp-4"), None);
        assert_eq!(insn_of_line("; x = 1; @ a.c:3"), None);
        assert_eq!(insn_of_line("x: (85) call"), None);
        assert_eq!(insn_of_line("1: (zz) nope"), None);
        assert_eq!(summarize("").message, None);
    }
}
