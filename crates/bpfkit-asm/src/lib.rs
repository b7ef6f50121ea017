//! The eBPF assembler, in both dialects of [`bpfkit_isa`]: LLVM/kernel (`r0 = 1`) and
//! uBPF/conformance (`mov %r0, 1`).
//!
//! Instructions are parsed by matching each line against the templates of the instruction table,
//! the same templates the disassembler prints, so whatever `bpfkit-isa` prints, this crate reads.
//! Both dialects take labels (`name:` at the start of a line, used as jump and call targets),
//! comments (`#`, `;` or `//` to the end of the line), and decimal, hexadecimal and negative
//! numbers. The LLVM dialect also skips assembler directives (`.text`, `.globl f`) and
//! llvm-objdump's `<sym+0x30>` annotations after jump targets; the uBPF dialect takes the aliases
//! the conformance suite uses (`add64` for `add`, `swap16` for `bswap16`, `call helper N`) and
//! an implicit `exit` label on the first `exit`.
//!
//! ```
//! use bpfkit_asm::assemble;
//! use bpfkit_isa::{Dialect, encode};
//!
//! let llvm = assemble("r0 = 1\nif r1 > 5 goto out\nr0 = 2\nout:\nexit\n", Dialect::Llvm).unwrap();
//! let ubpf = assemble("mov %r0, 1\njgt %r1, 5, +1\nmov %r0, 2\nexit\n", Dialect::Ubpf).unwrap();
//! assert_eq!(encode(&llvm), encode(&ubpf));
//!
//! let err = assemble("mov %r0, 1\nor %r0, %r50\n", Dialect::Ubpf).unwrap_err();
//! assert_eq!(err.to_string(), "2:9: invalid register `%r50`: registers are r0 to r10");
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod conformance;
pub mod elf;
mod error;
mod lexer;
mod pattern;

use std::collections::HashMap;

use bpfkit_isa::{Dialect, Insn, Opcode};

pub use error::{AsmError, AsmErrorKind};
use lexer::{Token, TokenKind, comment_start, tokenize};
use pattern::{LabelRef, Patterns};

/// A jump or call whose target is a label, waiting for the label's slot.
struct Pending {
    index: usize,
    slot: usize,
    label: LabelRef,
    line: usize,
    source_line: String,
}

/// Assembles `source` into instructions.
pub fn assemble(source: &str, dialect: Dialect) -> Result<Vec<Insn>, AsmError> {
    Assembler::new(dialect).run(source)
}

/// Assembles `source` into 8-byte slots.
pub fn assemble_bytes(source: &str, dialect: Dialect) -> Result<Vec<u8>, AsmError> {
    assemble(source, dialect).map(|insns| bpfkit_isa::encode(&insns))
}

struct Assembler {
    dialect: Dialect,
    patterns: &'static Patterns,
    insns: Vec<Insn>,
    slot: usize,
    labels: HashMap<String, (usize, usize)>,
    pending: Vec<Pending>,
    first_exit: Option<usize>,
}

impl Assembler {
    fn new(dialect: Dialect) -> Self {
        Assembler {
            dialect,
            patterns: Patterns::get(dialect),
            insns: Vec::new(),
            slot: 0,
            labels: HashMap::new(),
            pending: Vec::new(),
            first_exit: None,
        }
    }

    fn run(mut self, source: &str) -> Result<Vec<Insn>, AsmError> {
        let mut tokens = Vec::new();
        for (i, line) in source.lines().enumerate() {
            tokens.clear();
            self.line(i + 1, line, &mut tokens)?;
        }
        self.resolve()?;
        Ok(self.insns)
    }

    fn line<'a>(
        &mut self,
        line_no: usize,
        line: &'a str,
        tokens: &mut Vec<Token<'a>>,
    ) -> Result<(), AsmError> {
        let code = &line[..comment_start(line)];
        tokenize(code, tokens).map_err(|e| {
            AsmError::at(
                AsmErrorKind::Syntax(e.message),
                line_no,
                line,
                e.start,
                e.end,
            )
        })?;
        let mut first = 0;
        while let [
            Token {
                kind: TokenKind::Ident(name),
                start,
                end,
            },
            Token {
                kind: TokenKind::Punct(":"),
                ..
            },
            ..,
        ] = tokens[first..]
        {
            self.define_label(name, line_no, line, start, end)?;
            first += 2;
        }
        let rest = &mut tokens[first..];
        if rest.is_empty() {
            return Ok(());
        }
        if self.dialect == Dialect::Llvm
            && matches!(rest[0].kind, TokenKind::Ident(s) if s.starts_with('.'))
        {
            return Ok(()); // an assembler directive
        }
        let rest = self.apply_aliases(rest);
        let matched = self.patterns.match_line(&rest, code.len()).map_err(|f| {
            let (start, end) = (f.start, f.end);
            AsmError::at(f.kind(&rest), line_no, line, start, end)
        })?;
        if let Some(label) = matched.label {
            let (index, slot) = (self.insns.len(), self.slot);
            self.pending.push(Pending {
                index,
                slot,
                label,
                line: line_no,
                source_line: line.to_string(),
            });
        }
        if matched.insn.opcode == Opcode::Exit && self.first_exit.is_none() {
            self.first_exit = Some(self.slot);
        }
        self.slot += matched.insn.slots();
        self.insns.push(matched.insn);
        Ok(())
    }

    fn define_label(
        &mut self,
        name: &str,
        line_no: usize,
        line: &str,
        start: usize,
        end: usize,
    ) -> Result<(), AsmError> {
        if let Some(&(_, first_line)) = self.labels.get(name) {
            let kind = AsmErrorKind::DuplicateLabel {
                name: name.to_string(),
                first_line,
            };
            return Err(AsmError::at(kind, line_no, line, start, end));
        }
        self.labels.insert(name.to_string(), (self.slot, line_no));
        Ok(())
    }

    /// Rewrites the uBPF aliases the conformance suite uses to the table's spellings.
    fn apply_aliases<'a>(&self, tokens: &[Token<'a>]) -> Vec<Token<'a>> {
        let mut tokens = tokens.to_vec();
        if self.dialect != Dialect::Ubpf {
            return tokens;
        }
        if let TokenKind::Ident(name) = tokens[0].kind {
            if !self.patterns.knows_first(&tokens[0].kind) {
                let canonical = match name {
                    "swap16" => Some("bswap16"),
                    "swap32" => Some("bswap32"),
                    "swap64" => Some("bswap64"),
                    _ => name.strip_suffix("64"),
                };
                if let Some(canonical) =
                    canonical.filter(|c| self.patterns.knows_first(&TokenKind::Ident(c)))
                {
                    tokens[0].kind = TokenKind::Ident(canonical);
                }
            }
            if name == "call"
                && tokens
                    .get(1)
                    .is_some_and(|t| t.kind == TokenKind::Ident("helper"))
            {
                tokens.remove(1);
            }
        }
        tokens
    }

    fn resolve(&mut self) -> Result<(), AsmError> {
        if self.dialect == Dialect::Ubpf && !self.labels.contains_key("exit") {
            if let Some(slot) = self.first_exit {
                self.labels.insert("exit".to_string(), (slot, 0));
            }
        }
        for p in &self.pending {
            let at = |kind| AsmError::at(kind, p.line, &p.source_line, p.label.start, p.label.end);
            let &(target, _) = self
                .labels
                .get(&p.label.name)
                .ok_or_else(|| at(AsmErrorKind::UndefinedLabel(p.label.name.clone())))?;
            let distance = target as i64 - (p.slot as i64 + 1);
            let insn = &mut self.insns[p.index];
            let fits = if p.label.in_imm {
                i32::try_from(distance).map(|d| insn.imm = d).is_ok()
            } else {
                i16::try_from(distance).map(|d| insn.off = d).is_ok()
            };
            if !fits {
                let bits = if p.label.in_imm { 32 } else { 16 };
                return Err(at(AsmErrorKind::JumpOutOfRange {
                    label: p.label.name.clone(),
                    distance,
                    bits,
                }));
            }
        }
        Ok(())
    }
}
