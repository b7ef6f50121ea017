//! Splits one line of assembly into tokens.
//!
//! The same lexer reads the instruction table's templates, so a template and the text it
//! describes always agree on where tokens start and end, whatever the spacing.

/// A token and the byte column where it starts in its line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token<'a> {
    /// What was read.
    pub kind: TokenKind<'a>,
    /// Byte offset of the token in its line.
    pub start: usize,
    /// Byte offset just past the token.
    pub end: usize,
}

/// The kinds of tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind<'a> {
    /// A register: `r3`, `w3` (LLVM) or `%r3` (uBPF). The prefix is `'r'`, `'w'` or `'%'`.
    /// The number is not checked against `r10` here, so that the error can name it.
    Reg(char, u64),
    /// A name: mnemonic, keyword or label.
    Ident(&'a str),
    /// An unsigned number, decimal or `0x` hexadecimal.
    Number {
        /// The value.
        value: u64,
        /// Whether it was written in hexadecimal.
        hex: bool,
    },
    /// An operator or punctuation, e.g. `+=`, `s`-less `>>=`, `(`, `,`.
    Punct(&'a str),
    /// A `{hole}` (only in templates).
    Hole(&'a str),
}

/// A character the lexer does not know, or a number too large for 64 bits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexError {
    /// Byte offset in the line.
    pub start: usize,
    /// Byte offset just past the offending text.
    pub end: usize,
    /// What is wrong.
    pub message: String,
}

/// Operators, longest first so that `>>=` wins over `>>` and `>`.
const PUNCTS: &[&str] = &[
    ">>=", "<<=", "==", "!=", ">=", "<=", "+=", "-=", "*=", "/=", "%=", "|=", "&=", "^=", ">>",
    "<<", ">", "<", "=", "+", "-", "*", "/", "%", "&", "|", "^", "(", ")", "[", "]", ",", ":",
];

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b'.' || c == b'$'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'$'
}

/// Where a comment starts in `line`: `#`, `;` or `//`.
pub fn comment_start(line: &str) -> usize {
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' | b';' => return i,
            b'/' if b.get(i + 1) == Some(&b'/') => return i,
            _ => i += 1,
        }
    }
    b.len()
}

/// A register name (`r7`, `w7`) or `None` if the identifier is not one.
fn as_register(ident: &str) -> Option<TokenKind<'_>> {
    let prefix = ident.chars().next()?;
    let digits = &ident[1..];
    if (prefix == 'r' || prefix == 'w')
        && !digits.is_empty()
        && digits.bytes().all(|c| c.is_ascii_digit())
    {
        return Some(TokenKind::Reg(prefix, digits.parse().unwrap_or(u64::MAX)));
    }
    None
}

fn number(text: &str, start: usize) -> Result<(TokenKind<'_>, usize), LexError> {
    let b = text.as_bytes();
    let hex =
        b.len() > start + 1 && b[start] == b'0' && (b[start + 1] == b'x' || b[start + 1] == b'X');
    let digits_start = if hex { start + 2 } else { start };
    let mut end = digits_start;
    while end < b.len() && b[end].is_ascii_alphanumeric() {
        end += 1;
    }
    let digits = &text[digits_start..end];
    let radix = if hex { 16 } else { 10 };
    let err = |message: String| LexError {
        start,
        end,
        message,
    };
    if digits.is_empty() {
        return Err(err(format!("`{}` is not a number", &text[start..end])));
    }
    match u64::from_str_radix(digits, radix) {
        Ok(value) => Ok((TokenKind::Number { value, hex }, end)),
        Err(e) if *e.kind() == std::num::IntErrorKind::PosOverflow => Err(err(format!(
            "number `{}` does not fit in 64 bits",
            &text[start..end]
        ))),
        Err(_) => Err(err(format!("`{}` is not a number", &text[start..end]))),
    }
}

/// Tokenizes `text` (one line, comment already removed) into `out`.
pub fn tokenize<'a>(text: &'a str, out: &mut Vec<Token<'a>>) -> Result<(), LexError> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let kind = if c == b'{' {
            let end = text[i..].find('}').map(|e| i + e).ok_or_else(|| LexError {
                start,
                end: b.len(),
                message: "unclosed `{`".into(),
            })?;
            i = end + 1;
            TokenKind::Hole(&text[start + 1..end])
        } else if c == b'%' && b.get(i + 1).is_some_and(|c| c.is_ascii_alphabetic()) {
            // A uBPF register: `%r3`. Anything else after `%` is an unknown register.
            let mut end = i + 1;
            while end < b.len() && is_ident_char(b[end]) {
                end += 1;
            }
            let name = &text[i + 1..end];
            i = end;
            match as_register(name) {
                Some(TokenKind::Reg('r', n)) => TokenKind::Reg('%', n),
                _ => {
                    return Err(LexError {
                        start,
                        end,
                        message: format!("unknown register `{}`", &text[start..end]),
                    });
                }
            }
        } else if is_ident_start(c) {
            let mut end = i;
            while end < b.len() && is_ident_char(b[end]) {
                end += 1;
            }
            let ident = &text[i..end];
            i = end;
            as_register(ident).unwrap_or(TokenKind::Ident(ident))
        } else if c.is_ascii_digit() {
            let (kind, end) = number(text, i)?;
            i = end;
            kind
        } else if let Some(p) = PUNCTS.iter().find(|p| text[i..].starts_with(**p)) {
            i += p.len();
            TokenKind::Punct(p)
        } else {
            let ch = text[i..].chars().next().unwrap_or('?');
            return Err(LexError {
                start,
                end: i + ch.len_utf8(),
                message: format!("unexpected character `{ch}`"),
            });
        };
        out.push(Token {
            kind,
            start,
            end: i,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind<'_>> {
        let mut out = Vec::new();
        tokenize(text, &mut out).unwrap();
        out.into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn spacing_does_not_matter() {
        assert_eq!(kinds("r0 s>>= 3"), kinds("r0 s >>=3"));
        assert_eq!(kinds("*(u32 *)(r1 + 4)"), kinds("*(u32*)(r1+4)"));
    }

    #[test]
    fn registers_in_both_dialects() {
        use TokenKind::*;
        assert_eq!(
            kinds("w1 = %r10"),
            vec![Reg('w', 1), Punct("="), Reg('%', 10)]
        );
        assert_eq!(kinds("r50"), vec![Reg('r', 50)]);
        assert_eq!(kinds("rax"), vec![Ident("rax")]);
    }

    #[test]
    fn numbers() {
        use TokenKind::*;
        assert_eq!(
            kinds("0xFFff 12"),
            vec![
                Number {
                    value: 0xffff,
                    hex: true
                },
                Number {
                    value: 12,
                    hex: false
                }
            ]
        );
        let mut out = Vec::new();
        assert!(tokenize("0x1ffffffffffffffff", &mut out).is_err());
        assert!(tokenize("12ab", &mut out).is_err());
        assert!(tokenize("%x1", &mut out).is_err());
    }

    #[test]
    fn comments() {
        assert_eq!(comment_start("mov %r0, 1 # one"), 11);
        assert_eq!(comment_start("r0 = 1 // one"), 7);
        assert_eq!(comment_start("r0 = 1"), 6);
    }
}
