//! Rejections explained: the kernel's message, then ours (the instruction, the path, the
//! registers, the source line, and a one-line fix for the common mistakes).

use core::fmt;

use crate::Step;
use crate::msg::Message;
use crate::program::{LineInfo, Program};
use crate::reg::RegKind;
use crate::state::State;

/// Why a program is rejected.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    /// The kernel's message (its final error line).
    pub message: Message,
    /// Lines the kernel prints just before it (e.g. `Unreleased reference id=2 alloc_insn=4`).
    pub notes: Vec<Message>,
    /// The instruction at fault (slot index).
    pub pc: usize,
    /// The instruction, disassembled.
    pub insn: String,
    /// The branch decisions that led there.
    pub path: Vec<Step>,
    /// The live registers at the instruction, as the kernel's log prints them.
    pub regs: String,
    /// The source line, from BTF line_info.
    pub line: Option<LineInfo>,
    /// What went wrong, in words.
    pub explanation: String,
    /// How to fix it, for the common cases.
    pub fix: Option<String>,
}

impl Diagnostic {
    pub(crate) fn new(
        prog: &Program<'_>,
        message: Message,
        pc: usize,
        state: Option<State>,
        path: Vec<Step>,
        notes: Vec<Message>,
    ) -> Diagnostic {
        let insn = insn_at(prog, pc).unwrap_or_default();
        let regs = state.as_ref().map(regs_text).unwrap_or_default();
        let line = prog
            .lines
            .iter()
            .filter(|l| l.insn <= pc)
            .max_by_key(|l| l.insn)
            .cloned();
        let (explanation, fix) = explain(&message, state.as_ref());
        Diagnostic {
            message,
            notes,
            pc,
            insn,
            path,
            regs,
            line,
            explanation,
            fix,
        }
    }
}

/// The instruction starting at slot `pc`.
fn insn_at(prog: &Program<'_>, pc: usize) -> Option<String> {
    let mut slot = 0;
    for i in prog.insns {
        if slot == pc {
            return Some(crate::check::insn_text(i));
        }
        slot += i.slots();
    }
    None
}

/// `R1=ctx() R10=fp0` for the innermost frame.
fn regs_text(state: &State) -> String {
    let frame = state.cur();
    let mut parts = Vec::new();
    for (i, r) in frame.regs.iter().enumerate() {
        if r.kind != RegKind::NotInit {
            parts.push(format!("R{i}={r}"));
        }
    }
    for (spi, slot) in frame.stack.iter().enumerate() {
        let off = -8 * (spi as i32 + 1);
        if slot.is_spill() {
            parts.push(format!("fp{off}={}", slot.spilled));
        } else if slot
            .bytes
            .iter()
            .any(|b| *b != crate::state::StackByte::Invalid)
        {
            let s: String = slot.bytes.iter().map(|b| b.letter()).collect();
            parts.push(format!("fp{off}={s}"));
        }
    }
    parts.join(" ")
}

/// Our explanation and fix for the kernel's message.
fn explain(m: &Message, state: Option<&State>) -> (String, Option<String>) {
    use Message::*;
    let _ = state;
    let (e, f): (String, Option<&str>) = match m {
        RegNotInit(r) => (
            format!("r{r} is read here, but no instruction on this path wrote it"),
            Some(
                "set the register before this instruction on every path (helper calls clobber r1-r5)",
            ),
        ),
        PacketOutOfRange(r) => (
            format!(
                "the access through r{r} reaches past the bytes this path proved to be inside the packet"
            ),
            Some(
                "compare the pointer plus the access size with data_end (`if (p + n > data_end) return ...`) before the access",
            ),
        ),
        InvalidMemAccess { type_str, .. } if type_str.ends_with("_or_null") => (
            format!("the pointer ({type_str}) may be NULL on this path"),
            Some("check the helper's result against NULL before using it (`if (!p) return ...`)"),
        ),
        InvalidMemAccess { type_str, .. } => (
            format!("a {type_str} is not a pointer the program may dereference"),
            None,
        ),
        PtrArithNullCheck { type_str, .. } => (
            format!("arithmetic on a pointer that may be NULL ({type_str})"),
            Some("check the pointer against NULL first"),
        ),
        InvalidStack { .. } | InvalidVarStack { .. } => (
            "the access falls outside the 512-byte stack frame".into(),
            Some("keep stack offsets within r10-512 .. r10-1"),
        ),
        UnboundedVarStack { .. } | UnboundedMemAccess(_) | SizeUnbounded(_) => (
            "the offset or size is not bounded on this path".into(),
            Some("bound the variable first (`if (i >= N) return ...` or `i &= N - 1`)"),
        ),
        MinValueNegative(_) | SizeMinNegative(_) => (
            "the variable may be negative on this path".into(),
            Some("use an unsigned variable, or check `if (i < 0) return ...` first"),
        ),
        MaxOutsideMem(_) | MinOutsideMem(_) | MapValueOutOfBounds { .. } => (
            "some value of the offset puts the access outside the object".into(),
            Some("compare the index with the object's size before the access"),
        ),
        InvalidCtxAccess { off, size } => (
            format!("this program type may not access {size} bytes at offset {off} of its context"),
            Some("use a context field this program type can read, with its full size"),
        ),
        ModifiedCtx { .. } => (
            "the context pointer was moved before the access".into(),
            Some("access context fields through the unmodified ctx pointer (`ctx->field`)"),
        ),
        RefLeak(_) => (
            "a reference (ring buffer record or socket) is still held on this path".into(),
            Some("release it on every path (bpf_ringbuf_submit/discard, bpf_sk_release)"),
        ),
        InfiniteLoop(_) | TooLarge(_) | JumpSequenceTooComplex(_) => (
            "the verifier cannot prove that the loop ends".into(),
            Some("give the loop a constant bound the verifier can see, or use bpf_loop()"),
        ),
        ArgType {
            reg,
            type_str,
            expected,
        } => (
            format!("argument r{reg} is a {type_str}, the helper takes {expected}"),
            Some("pass the kind of pointer the helper's prototype asks for"),
        ),
        ZeroSizedRead { .. } => (
            "the size argument may be 0".into(),
            Some("make sure the size is at least 1 (`if (len == 0) return ...`)"),
        ),
        HelperNotAllowed { .. } => ("this program type cannot call this helper".into(), None),
        UnreachableInsn(_) => (
            "no path reaches this instruction".into(),
            Some("remove dead code"),
        ),
        PtrArith32(_)
        | PtrBitwise { .. }
        | PtrArithOp { .. }
        | PtrArithProhibited { .. }
        | PtrPtr { .. } => (
            "pointers only allow adding and subtracting numbers".into(),
            None,
        ),
        FramePointerReadOnly => ("r10 cannot be written".into(), None),
        UseStaticFunction => (
            "a global function is called while a bpf_spin_lock is held: the kernel verifies a \
             global function on its own, without its callers' lock, so it cannot allow it inside \
             the locked region"
                .into(),
            Some(
                "make the function static (`static __noinline`), or call it after bpf_spin_unlock",
            ),
        ),
        Unsupported(_) => (
            "bpfkit's verifier does not model this yet; it rejects rather than guess".into(),
            None,
        ),
        _ => (m.to_string(), None),
    };
    (e, f.map(str::to_string))
}

/// The steps that fit one readable line: a path through a loop the verifier could not bound
/// has thousands, of which the start (how the loop was entered) and the end (where it gave
/// up) say what there is to say. The whole path stays in [`Diagnostic::path`].
const PATH_HEAD: usize = 16;
const PATH_TAIL: usize = 32;

fn path_text(path: &[Step]) -> String {
    let step = |s: &Step| format!("{}{}", s.pc, if s.taken { "+" } else { "-" });
    if path.len() <= PATH_HEAD + PATH_TAIL {
        return path.iter().map(step).collect::<Vec<_>>().join(" ");
    }
    let head: Vec<String> = path[..PATH_HEAD].iter().map(step).collect();
    let tail: Vec<String> = path[path.len() - PATH_TAIL..].iter().map(step).collect();
    format!(
        "{} ... ({} more jumps) ... {}",
        head.join(" "),
        path.len() - PATH_HEAD - PATH_TAIL,
        tail.join(" ")
    )
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.message)?;
        writeln!(f, "  at insn {}: {}", self.pc, self.insn)?;
        if let Some(l) = &self.line {
            writeln!(f, "  source {}:{}: {}", l.file, l.line, l.text.trim())?;
        }
        if !self.path.is_empty() {
            writeln!(
                f,
                "  path (jump taken +, not taken -): {}",
                path_text(&self.path)
            )?;
        }
        if !self.regs.is_empty() {
            writeln!(f, "  state: {}", self.regs)?;
        }
        writeln!(f, "  why: {}", self.explanation)?;
        if let Some(fix) = &self.fix {
            writeln!(f, "  fix: {fix}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(n: usize) -> Vec<Step> {
        (0..n)
            .map(|i| Step {
                pc: i,
                taken: i % 2 == 0,
            })
            .collect()
    }

    #[test]
    fn a_short_path_is_shown_whole() {
        assert_eq!(path_text(&steps(3)), "0+ 1- 2+");
        let whole = path_text(&steps(PATH_HEAD + PATH_TAIL));
        assert_eq!(whole.split(' ').count(), PATH_HEAD + PATH_TAIL);
    }

    #[test]
    fn a_long_path_keeps_its_start_and_end() {
        let text = path_text(&steps(10_000));
        assert!(text.starts_with("0+ 1- 2+"), "{text}");
        assert!(text.ends_with("9998+ 9999-"), "{text}");
        let skipped = 10_000 - PATH_HEAD - PATH_TAIL;
        assert!(
            text.contains(&format!("... ({skipped} more jumps) ...")),
            "{text}"
        );
        assert!(text.len() < 400, "{} characters", text.len());
    }
}
