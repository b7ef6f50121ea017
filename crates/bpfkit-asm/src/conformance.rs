//! The `.data` test files of the bpf_conformance suite.
//!
//! A file is a list of sections, each opened by a `-- name` line: `asm` (a program in the uBPF
//! dialect), `raw` (the program as little-endian 64-bit slot values, or as eight byte tokens per
//! slot; it overrides `asm`), `mem` (hex bytes of the input memory), `result` (the expected `r0`,
//! hex with `0x` or decimal), `error` (the program is expected to fail; the text is the suite's
//! reference runtime's message), and `c` or `no register offset` (notes, ignored). `#` starts a
//! comment anywhere on a line.

use bpfkit_isa::Dialect;

use crate::{AsmError, assemble_bytes};

/// A parsed test file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TestFile {
    /// The `-- asm` text, if any, and the 1-based file line its first line is on.
    pub asm: Option<(String, usize)>,
    /// The `-- raw` program bytes, if any.
    pub raw: Option<Vec<u8>>,
    /// The input memory (empty without a `-- mem` section).
    pub mem: Vec<u8>,
    /// The expected `r0`.
    pub result: Option<u64>,
    /// The expected error text, when the file expects a failure (may be empty).
    pub error: Option<String>,
}

/// A malformed test file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{line}: {message}")]
pub struct DataError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Why a test file has no program to run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProgramError {
    /// Neither `-- asm` nor `-- raw`.
    #[error("the file has no program (no `-- asm` or `-- raw` section)")]
    Missing,
    /// The `-- asm` section does not assemble; line numbers are the file's.
    #[error(transparent)]
    Asm(#[from] AsmError),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    None,
    Asm,
    Raw,
    Mem,
    Result,
    Error,
    Ignored,
}

fn parse_u64(token: &str) -> Option<u64> {
    match token
        .strip_prefix("0x")
        .or_else(|| token.strip_prefix("0X"))
    {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => token.parse().ok(),
    }
}

/// Eight two-digit hex tokens: one slot written byte by byte.
fn as_slot_bytes(tokens: &[&str]) -> Option<Vec<u8>> {
    if tokens.len() != 8 || !tokens.iter().all(|t| t.len() == 2) {
        return None;
    }
    tokens
        .iter()
        .map(|t| u8::from_str_radix(t, 16).ok())
        .collect()
}

impl TestFile {
    /// Parses the text of a `.data` file.
    pub fn parse(text: &str) -> Result<TestFile, DataError> {
        let mut file = TestFile::default();
        let mut section = Section::None;
        let mut asm = String::new();
        for (i, raw_line) in text.lines().enumerate() {
            let line_no = i + 1;
            let err = |message: String| DataError {
                line: line_no,
                message,
            };
            let line = raw_line
                .split('#')
                .next()
                .unwrap_or("")
                .trim_end_matches('\r');
            if let Some(name) = line.trim().strip_prefix("--") {
                section = match name.trim() {
                    "asm" => {
                        file.asm.get_or_insert((String::new(), line_no + 1));
                        Section::Asm
                    }
                    "raw" => {
                        file.raw.get_or_insert_with(Vec::new);
                        Section::Raw
                    }
                    "mem" => Section::Mem,
                    "result" => Section::Result,
                    "error" => {
                        file.error.get_or_insert_with(String::new);
                        Section::Error
                    }
                    "c" | "no register offset" => Section::Ignored,
                    other => return Err(err(format!("unknown section `-- {other}`"))),
                };
                continue;
            }
            match section {
                // Keep blank lines so that assembler line numbers map back to the file.
                Section::Asm => {
                    asm.push_str(line);
                    asm.push('\n');
                }
                _ if line.trim().is_empty() => {}
                Section::None => {
                    return Err(err(format!("text outside a section: `{}`", line.trim())));
                }
                Section::Raw => {
                    let tokens: Vec<&str> = line.split_whitespace().collect();
                    let raw = file.raw.get_or_insert_with(Vec::new);
                    if let Some(bytes) = as_slot_bytes(&tokens) {
                        raw.extend(bytes);
                    } else {
                        for token in tokens {
                            let slot = parse_u64(token)
                                .ok_or_else(|| err(format!("bad raw slot `{token}`")))?;
                            raw.extend(slot.to_le_bytes());
                        }
                    }
                }
                Section::Mem => {
                    for token in line.split_whitespace() {
                        let byte = u8::from_str_radix(token, 16)
                            .map_err(|_| err(format!("bad memory byte `{token}`")))?;
                        file.mem.push(byte);
                    }
                }
                Section::Result => {
                    let token = line.trim();
                    file.result =
                        Some(parse_u64(token).ok_or_else(|| err(format!("bad result `{token}`")))?);
                }
                Section::Error => {
                    let error = file.error.get_or_insert_with(String::new);
                    if !error.is_empty() {
                        error.push('\n');
                    }
                    error.push_str(line.trim());
                }
                Section::Ignored => {}
            }
        }
        if let Some((text, _)) = &mut file.asm {
            *text = asm;
        }
        Ok(file)
    }

    /// The program's bytes: the `-- raw` section if present, else the assembled `-- asm`.
    pub fn program(&self) -> Result<Vec<u8>, ProgramError> {
        if let Some(raw) = &self.raw {
            return Ok(raw.clone());
        }
        let (text, first_line) = self.asm.as_ref().ok_or(ProgramError::Missing)?;
        assemble_bytes(text, Dialect::Ubpf).map_err(|mut e| {
            e.line += first_line - 1;
            ProgramError::Asm(e)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections() {
        let file = TestFile::parse(
            "# header\n-- asm\nmov %r0, 1 # one\n\nexit\n-- mem\naa bb\n01\n-- result\n0x10\n-- error\nbad thing\n",
        )
        .unwrap();
        assert_eq!(file.asm.as_ref().unwrap().1, 3);
        assert_eq!(file.mem, vec![0xaa, 0xbb, 0x01]);
        assert_eq!(file.result, Some(0x10));
        assert_eq!(file.error.as_deref(), Some("bad thing"));
        assert_eq!(file.program().unwrap().len(), 16);
    }

    #[test]
    fn raw_slots_in_both_spellings() {
        let a = TestFile::parse("-- raw\n0x0000000000000095\n").unwrap();
        let b = TestFile::parse("-- raw\n95 00 00 00 00 00 00 00\n").unwrap();
        assert_eq!(a.raw, b.raw);
        assert_eq!(a.raw.unwrap(), vec![0x95, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn asm_errors_carry_file_lines() {
        let file = TestFile::parse("# c\n-- asm\nmov %r0, 1\nldxq %r0, %r1\n").unwrap();
        match file.program() {
            Err(ProgramError::Asm(e)) => assert_eq!((e.line, e.column), (4, 1)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rejects_unknown_sections() {
        assert_eq!(
            TestFile::parse("-- asm\nexit\n-- Unknown directive\n")
                .unwrap_err()
                .line,
            3
        );
    }
}
