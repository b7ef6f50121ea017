//! The instruction table's templates compiled into token patterns, and matching a line of
//! tokens against them.

use std::collections::HashMap;
use std::sync::OnceLock;

use bpfkit_isa::{Dialect, Hole, Insn, Opcode, Reg, TABLE};

use crate::error::AsmErrorKind;
use crate::lexer::{Token, TokenKind, tokenize};

/// One element of a compiled template.
#[derive(Clone, Copy, Debug)]
enum Elem {
    /// A token that must appear as is.
    Lit(TokenKind<'static>),
    /// An operand.
    Hole(Hole),
}

/// A template compiled to tokens.
#[derive(Debug)]
struct Pattern {
    opcode: Opcode,
    elems: Vec<Elem>,
}

/// All patterns of one dialect, indexed by the key of their first token.
#[derive(Debug)]
pub struct Patterns {
    patterns: Vec<Pattern>,
    by_first: HashMap<&'static str, Vec<usize>>,
}

/// The dispatch key of a token: its text, or `reg` for any register.
fn key<'a>(kind: &TokenKind<'a>) -> &'a str {
    match kind {
        TokenKind::Reg(..) => "reg",
        TokenKind::Ident(s) | TokenKind::Punct(s) => s,
        TokenKind::Number { .. } => "number",
        TokenKind::Hole(_) => "hole",
    }
}

fn elem_key(elem: &Elem) -> &'static str {
    match elem {
        Elem::Lit(kind) => key(kind),
        Elem::Hole(Hole::Dst(_) | Hole::Src(_)) => "reg",
        Elem::Hole(_) => "hole",
    }
}

impl Patterns {
    fn compile(dialect: Dialect) -> Patterns {
        let mut patterns = Vec::with_capacity(TABLE.len());
        let mut by_first: HashMap<&'static str, Vec<usize>> = HashMap::new();
        for spec in TABLE {
            let template = match dialect {
                Dialect::Llvm => spec.llvm,
                Dialect::Ubpf => spec.ubpf,
            };
            let mut tokens = Vec::new();
            tokenize(template, &mut tokens).expect("templates of the instruction table lex");
            let elems: Vec<Elem> = tokens
                .iter()
                .map(|t| match t.kind {
                    TokenKind::Hole(name) => {
                        Elem::Hole(Hole::from_name(name).expect("table holes are known"))
                    }
                    kind => Elem::Lit(kind),
                })
                .collect();
            by_first
                .entry(elem_key(&elems[0]))
                .or_default()
                .push(patterns.len());
            patterns.push(Pattern {
                opcode: spec.opcode,
                elems,
            });
        }
        Patterns { patterns, by_first }
    }

    /// The compiled patterns of `dialect`, built on first use.
    pub fn get(dialect: Dialect) -> &'static Patterns {
        static LLVM: OnceLock<Patterns> = OnceLock::new();
        static UBPF: OnceLock<Patterns> = OnceLock::new();
        match dialect {
            Dialect::Llvm => LLVM.get_or_init(|| Patterns::compile(Dialect::Llvm)),
            Dialect::Ubpf => UBPF.get_or_init(|| Patterns::compile(Dialect::Ubpf)),
        }
    }

    /// Whether some instruction starts with this token.
    pub fn knows_first(&self, kind: &TokenKind<'_>) -> bool {
        self.by_first.contains_key(key(kind))
    }

    /// Matches a line's tokens against every pattern sharing its first token and returns the
    /// instruction of the first full match, or the most informative failure.
    pub fn match_line(&self, tokens: &[Token<'_>], line_len: usize) -> Result<Matched, Failure> {
        let candidates = self
            .by_first
            .get(key(&tokens[0].kind))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let mut best: Option<Failure> = None;
        // Literal tokens that would have continued the line at the best failure's depth, so
        // that `lock` alone can say "expected one of `add`, `or`, ...".
        let mut alternatives: Vec<TokenKind<'static>> = Vec::new();
        for &i in candidates {
            let pattern = &self.patterns[i];
            match Matcher::new(tokens, line_len).run(pattern) {
                Ok(m) => return Ok(m),
                Err(f) => {
                    let tie = best
                        .as_ref()
                        .is_some_and(|b| (b.depth, b.hard) == (f.depth, f.hard));
                    if best.as_ref().is_none_or(|b| f.outranks(b)) {
                        alternatives.clear();
                    }
                    if let Reason::ExpectedToken(kind) = f.reason {
                        if (tie || best.as_ref().is_none_or(|b| f.outranks(b)))
                            && !alternatives.contains(&kind)
                        {
                            alternatives.push(kind);
                        }
                    }
                    if best.as_ref().is_none_or(|b| f.outranks(b)) {
                        best = Some(f);
                    }
                }
            }
        }
        if let Some(b) = &mut best {
            if alternatives.len() > 1 && !b.hard {
                b.reason = Reason::OneOf(alternatives);
            }
        }
        Err(best.unwrap_or(Failure {
            depth: 0,
            hard: false,
            start: tokens[0].start,
            end: tokens[0].end,
            reason: Reason::Unknown,
        }))
    }
}

/// A label used as a jump or call target, resolved after every line is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelRef {
    /// The label's name.
    pub name: String,
    /// Whether the distance goes into `imm` (calls, `gotol`) rather than `offset`.
    pub in_imm: bool,
    /// Byte range of the reference in its line.
    pub start: usize,
    /// End of that range.
    pub end: usize,
}

/// A successfully matched line.
#[derive(Clone, Debug)]
pub struct Matched {
    /// The instruction, with label distances still zero.
    pub insn: Insn,
    /// The label the instruction jumps to, if it names one.
    pub label: Option<LabelRef>,
}

/// Why a pattern did not match, and how far it got.
#[derive(Clone, Debug)]
pub struct Failure {
    /// Number of tokens matched before failing; deeper failures explain more.
    pub depth: usize,
    /// The token had the right shape but a bad value (out of range, past `r10`).
    pub hard: bool,
    /// Byte range of the offending text.
    pub start: usize,
    /// End of that range.
    pub end: usize,
    /// What is wrong, rendered into a message only for the failure that gets reported.
    reason: Reason,
}

/// Why matching failed, cheap to build: most candidate patterns fail on every line.
#[derive(Clone, Debug)]
enum Reason {
    /// No pattern starts with the first token.
    Unknown,
    /// A literal token was expected.
    ExpectedToken(TokenKind<'static>),
    /// An operand of this description was expected.
    Expected(&'static str),
    /// One of several literal tokens was expected.
    OneOf(Vec<TokenKind<'static>>),
    /// The token had the right shape but a bad value.
    Invalid(AsmErrorKind),
}

impl Failure {
    fn outranks(&self, other: &Failure) -> bool {
        (self.depth, self.hard) > (other.depth, other.hard)
    }

    /// The error to report, given the line's tokens.
    pub fn kind(self, tokens: &[Token<'_>]) -> AsmErrorKind {
        let found = || describe(tokens.get(self.depth));
        match self.reason {
            Reason::Unknown => AsmErrorKind::UnknownInstruction(
                describe(tokens.first()).trim_matches('`').to_string(),
            ),
            Reason::ExpectedToken(kind) => AsmErrorKind::Expected {
                expected: describe(Some(&Token {
                    kind,
                    start: 0,
                    end: 0,
                })),
                found: found(),
            },
            Reason::Expected(what) => AsmErrorKind::Expected {
                expected: what.to_string(),
                found: found(),
            },
            Reason::OneOf(kinds) => {
                let names: Vec<String> = kinds
                    .iter()
                    .map(|&kind| {
                        describe(Some(&Token {
                            kind,
                            start: 0,
                            end: 0,
                        }))
                    })
                    .collect();
                AsmErrorKind::Expected {
                    expected: format!("one of {}", names.join(", ")),
                    found: found(),
                }
            }
            Reason::Invalid(kind) => kind,
        }
    }
}

/// A token as messages quote it.
fn describe(token: Option<&Token<'_>>) -> String {
    match token.map(|t| t.kind) {
        None => "end of line".into(),
        Some(TokenKind::Reg('%', n)) => format!("`%r{n}`"),
        Some(TokenKind::Reg(p, n)) => format!("`{p}{n}`"),
        Some(TokenKind::Ident(s) | TokenKind::Punct(s)) => format!("`{s}`"),
        Some(TokenKind::Number { value, hex: true }) => format!("`{value:#x}`"),
        Some(TokenKind::Number { value, .. }) => format!("`{value}`"),
        Some(TokenKind::Hole(s)) => format!("`{{{s}}}`"),
    }
}

/// Matching state for one pattern against one line.
struct Matcher<'t, 'a> {
    tokens: &'t [Token<'a>],
    line_len: usize,
    pos: usize,
    insn: Insn,
    dst: Option<Reg>,
    src: Option<Reg>,
    label: Option<LabelRef>,
}

/// Signed number read from an optional sign and a number token.
struct Signed {
    negative: bool,
    magnitude: u64,
    hex: bool,
}

impl<'t, 'a> Matcher<'t, 'a> {
    fn new(tokens: &'t [Token<'a>], line_len: usize) -> Self {
        Matcher {
            tokens,
            line_len,
            pos: 0,
            insn: Insn::new(Opcode::Exit),
            dst: None,
            src: None,
            label: None,
        }
    }

    fn peek(&self) -> Option<&Token<'a>> {
        self.tokens.get(self.pos)
    }

    /// A soft failure at the current token: it is not what the pattern wants.
    fn expected(&self, what: &'static str) -> Failure {
        self.soft(Reason::Expected(what))
    }

    fn soft(&self, reason: Reason) -> Failure {
        let (start, end) = self
            .peek()
            .map_or((self.line_len, self.line_len), |t| (t.start, t.end));
        Failure {
            depth: self.pos,
            hard: false,
            start,
            end,
            reason,
        }
    }

    /// A hard failure over tokens `from..self.pos`: right shape, bad value.
    fn invalid(&self, from: usize, kind: AsmErrorKind) -> Failure {
        let start = self.tokens[from].start;
        let end = self.tokens[self.pos.max(from + 1) - 1].end;
        Failure {
            depth: self.pos,
            hard: true,
            start,
            end,
            reason: Reason::Invalid(kind),
        }
    }

    fn run(mut self, pattern: &Pattern) -> Result<Matched, Failure> {
        self.insn = Insn::new(pattern.opcode);
        for elem in &pattern.elems {
            match elem {
                Elem::Lit(kind) => self.literal(kind)?,
                Elem::Hole(hole) => self.hole(*hole)?,
            }
        }
        self.trailing()?;
        Ok(Matched {
            insn: self.insn,
            label: self.label,
        })
    }

    fn literal(&mut self, want: &TokenKind<'static>) -> Result<(), Failure> {
        match self.peek() {
            Some(t) if t.kind == *want => {
                self.pos += 1;
                Ok(())
            }
            _ => Err(self.soft(Reason::ExpectedToken(*want))),
        }
    }

    /// After a full match only llvm-objdump's `<sym+0x30>` annotation may follow.
    fn trailing(&self) -> Result<(), Failure> {
        let rest = &self.tokens[self.pos..];
        let is_annotation = rest.len() >= 2
            && rest[0].kind == TokenKind::Punct("<")
            && rest[rest.len() - 1].kind == TokenKind::Punct(">");
        if rest.is_empty() || is_annotation {
            Ok(())
        } else {
            Err(self.expected("end of line"))
        }
    }

    fn take_sign(&mut self) -> Option<bool> {
        match self.peek().map(|t| t.kind) {
            Some(TokenKind::Punct("-")) => {
                self.pos += 1;
                Some(true)
            }
            Some(TokenKind::Punct("+")) => {
                self.pos += 1;
                Some(false)
            }
            _ => None,
        }
    }

    fn signed(&mut self, sign_required: bool, what: &'static str) -> Result<Signed, Failure> {
        let negative = match self.take_sign() {
            Some(negative) => negative,
            None if sign_required => return Err(self.expected(what)),
            None => false,
        };
        match self.peek().map(|t| t.kind) {
            Some(TokenKind::Number { value, hex }) => {
                self.pos += 1;
                Ok(Signed {
                    negative,
                    magnitude: value,
                    hex,
                })
            }
            _ => Err(self.expected(what)),
        }
    }

    /// A 32-bit immediate: decimal within i32, hexadecimal up to `0xffffffff` (the bits).
    fn imm32(&mut self, what: &'static str) -> Result<i32, Failure> {
        let from = self.pos;
        let n = self.signed(false, what)?;
        let value = if n.negative {
            (n.magnitude <= 1 << 31).then(|| (n.magnitude as i64).wrapping_neg() as i32)
        } else if n.hex {
            (n.magnitude <= u32::MAX as u64).then_some(n.magnitude as u32 as i32)
        } else {
            (n.magnitude <= i32::MAX as u64).then_some(n.magnitude as i32)
        };
        value.ok_or_else(|| {
            self.invalid(
                from,
                AsmErrorKind::ImmediateOutOfRange {
                    text: self.text(from),
                    bits: 32,
                },
            )
        })
    }

    /// A 16-bit offset with its sign; hexadecimal up to `0xffff` gives the bits.
    fn off16(&mut self, sign_required: bool, what: &'static str) -> Result<i16, Failure> {
        let from = self.pos;
        let n = self.signed(sign_required, what)?;
        let value = if n.negative {
            (n.magnitude <= 1 << 15).then(|| (n.magnitude as i32).wrapping_neg() as i16)
        } else if n.hex {
            (n.magnitude <= u16::MAX as u64).then_some(n.magnitude as u16 as i16)
        } else {
            (n.magnitude <= i16::MAX as u64).then_some(n.magnitude as i16)
        };
        value.ok_or_else(|| self.invalid(from, AsmErrorKind::OffsetOutOfRange(self.text(from))))
    }

    /// The source text of tokens `from..self.pos`, for messages.
    fn text(&self, from: usize) -> String {
        self.tokens[from..self.pos]
            .iter()
            .map(|t| describe(Some(t)).trim_matches('`').to_string())
            .collect::<Vec<_>>()
            .join("")
    }

    fn register(&mut self, accepts: impl Fn(char) -> bool) -> Result<Reg, Failure> {
        match self.peek().map(|t| t.kind) {
            Some(TokenKind::Reg(prefix, n)) if prefix == '%' || accepts(prefix) => {
                self.pos += 1;
                u8::try_from(n).ok().and_then(Reg::new).ok_or_else(|| {
                    let name = if prefix == '%' {
                        format!("%r{n}")
                    } else {
                        format!("{prefix}{n}")
                    };
                    self.invalid(self.pos - 1, AsmErrorKind::InvalidRegister(name))
                })
            }
            _ => Err(self.expected("a register")),
        }
    }

    /// Fills a register role; a second mention must name the same register.
    fn reg_role(&mut self, is_dst: bool, accepts: impl Fn(char) -> bool) -> Result<(), Failure> {
        let from = self.pos;
        let reg = self.register(accepts)?;
        let slot = if is_dst { &mut self.dst } else { &mut self.src };
        match *slot {
            Some(previous) if previous != reg => Err(self.invalid(
                from,
                AsmErrorKind::SameRegister {
                    expected: previous,
                    found: reg,
                },
            )),
            _ => {
                *slot = Some(reg);
                if is_dst {
                    self.insn.dst = reg;
                } else {
                    self.insn.src = reg;
                }
                Ok(())
            }
        }
    }

    /// A jump or call target: a signed distance or a label.
    fn target(&mut self, in_imm: bool) -> Result<(), Failure> {
        if let Some(Token {
            kind: TokenKind::Ident(name),
            start,
            end,
        }) = self.peek().copied()
        {
            self.pos += 1;
            self.label = Some(LabelRef {
                name: name.to_string(),
                in_imm,
                start,
                end,
            });
            return Ok(());
        }
        let what = "a jump target (+N, -N or a label)";
        if in_imm {
            let from = self.pos;
            if self.take_sign().is_none() {
                return Err(self.expected(what));
            }
            self.pos = from;
            self.insn.imm = self.imm32(what)?;
        } else {
            self.insn.off = self.off16(true, what)?;
        }
        Ok(())
    }

    fn hole(&mut self, hole: Hole) -> Result<(), Failure> {
        match hole {
            Hole::Dst(name) => self.reg_role(true, |p| name.accepts(p)),
            Hole::Src(name) => self.reg_role(false, |p| name.accepts(p)),
            Hole::Imm | Hole::HexImm => {
                self.insn.imm = self.imm32("an immediate")?;
                Ok(())
            }
            Hole::NextImm => {
                self.insn.next_imm = self.imm32("an immediate")?;
                Ok(())
            }
            Hole::Helper => match self.peek().map(|t| t.kind) {
                Some(TokenKind::Number { value, .. }) => {
                    self.pos += 1;
                    let id = u32::try_from(value).map_err(|_| {
                        self.invalid(
                            self.pos - 1,
                            AsmErrorKind::ImmediateOutOfRange {
                                text: value.to_string(),
                                bits: 32,
                            },
                        )
                    })?;
                    self.insn.imm = id as i32;
                    Ok(())
                }
                _ => Err(self.expected("a helper number")),
            },
            Hole::Imm64 => {
                let from = self.pos;
                let n = self.signed(false, "a 64-bit immediate")?;
                let value = if n.negative {
                    (n.magnitude <= 1 << 63).then(|| (n.magnitude as i64).wrapping_neg() as u64)
                } else {
                    Some(n.magnitude)
                };
                let value = value.ok_or_else(|| {
                    self.invalid(
                        from,
                        AsmErrorKind::ImmediateOutOfRange {
                            text: self.text(from),
                            bits: 64,
                        },
                    )
                })?;
                self.insn = self.insn.with_imm64(value);
                Ok(())
            }
            // An omitted offset is zero: `[%r1]`, `(r1)`.
            Hole::Off | Hole::OffCompact => {
                if matches!(
                    self.peek().map(|t| t.kind),
                    Some(TokenKind::Punct("+" | "-"))
                ) {
                    self.insn.off = self.off16(true, "an offset (+N or -N)")?;
                }
                Ok(())
            }
            Hole::ImmOff => {
                if matches!(
                    self.peek().map(|t| t.kind),
                    Some(TokenKind::Punct("+" | "-"))
                ) {
                    self.insn.imm = self.imm32("an offset")?;
                }
                Ok(())
            }
            Hole::JumpOff => self.target(false),
            Hole::JumpImm => self.target(true),
            Hole::Kfunc => {
                self.insn.imm = self.imm32("a kfunc BTF id")?;
                if matches!(self.peek().map(|t| t.kind), Some(TokenKind::Punct(","))) {
                    self.pos += 1;
                    self.insn.off = self.off16(false, "a module index")?;
                }
                Ok(())
            }
        }
    }
}
