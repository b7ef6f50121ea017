//! Assembler errors: what is wrong, and the line and column where.

use std::fmt;

use bpfkit_isa::Reg;

/// What is wrong with a line of assembly.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AsmErrorKind {
    /// No instruction of the dialect starts this way.
    #[error("unknown instruction `{0}`")]
    UnknownInstruction(String),
    /// A token is not what the instruction needs there.
    #[error("expected {expected}, found {found}")]
    Expected {
        /// What would have fitted.
        expected: String,
        /// What was there.
        found: String,
    },
    /// Text the lexer cannot read: a stray character, a malformed number.
    #[error("{0}")]
    Syntax(String),
    /// A register past `r10`, or an unknown register name.
    #[error("invalid register `{0}`: registers are r0 to r10")]
    InvalidRegister(String),
    /// An instruction that names one register twice named two different ones (`r0 = -r1`).
    #[error("expected {expected} again here, found {found}")]
    SameRegister {
        /// The register named first.
        expected: Reg,
        /// The register named second.
        found: Reg,
    },
    /// An immediate that does not fit its field.
    #[error("immediate `{text}` out of range for {bits} bits")]
    ImmediateOutOfRange {
        /// The immediate as written.
        text: String,
        /// Width of the field.
        bits: u8,
    },
    /// A memory offset or jump distance that does not fit 16 bits.
    #[error("offset `{0}` out of range for 16 bits")]
    OffsetOutOfRange(String),
    /// A label used but never defined.
    #[error("undefined label `{0}`")]
    UndefinedLabel(String),
    /// A label defined twice.
    #[error("duplicate label `{name}` (first defined on line {first_line})")]
    DuplicateLabel {
        /// The label.
        name: String,
        /// Line of its first definition.
        first_line: usize,
    },
    /// The distance to a label does not fit the jump's field.
    #[error("jump to `{label}` is {distance} instructions away, which does not fit {bits} bits")]
    JumpOutOfRange {
        /// The label.
        label: String,
        /// The distance in slots, relative to the next slot.
        distance: i64,
        /// Width of the field (16 for `offset`, 32 for `imm`).
        bits: u8,
    },
}

/// An assembly error at a line and column, with the line's text for an excerpt.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {kind}")]
pub struct AsmError {
    /// What is wrong.
    pub kind: AsmErrorKind,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column (in characters) where the offending text starts.
    pub column: usize,
    /// Width of the offending text in characters, at least 1.
    pub width: usize,
    /// The text of the line.
    pub source_line: String,
}

impl AsmError {
    /// Builds an error over the byte range `start..end` of `source_line`.
    pub(crate) fn at(
        kind: AsmErrorKind,
        line: usize,
        source_line: &str,
        start: usize,
        end: usize,
    ) -> Self {
        let start = start.min(source_line.len());
        let end = end.clamp(start, source_line.len());
        let column = source_line[..start].chars().count() + 1;
        let width = source_line[start..end].chars().count().max(1);
        AsmError {
            kind,
            line,
            column,
            width,
            source_line: source_line.to_string(),
        }
    }

    /// The offending line with a caret under the offending text, rustc-style.
    pub fn excerpt(&self) -> String {
        Excerpt(self).to_string()
    }
}

struct Excerpt<'a>(&'a AsmError);

impl fmt::Display for Excerpt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.0;
        let number = e.line.to_string();
        let pad = " ".repeat(number.len());
        writeln!(f, "{pad} |")?;
        writeln!(f, "{number} | {}", e.source_line.trim_end())?;
        write!(
            f,
            "{pad} | {}{}",
            " ".repeat(e.column - 1),
            "^".repeat(e.width)
        )
    }
}
