//! Counting our verdicts against the kernel's, the same way in every differential test: how many
//! agree, which disagree in each direction, and on how many rejections the messages are equal.

use bpfkit_verifier::Verdict;

/// The verdicts of one differential run.
#[derive(Debug, Default)]
pub struct Tally {
    /// Programs judged by both verifiers.
    pub compared: usize,
    /// Programs both accept or both reject.
    pub agree: usize,
    /// Programs the kernel rejects.
    pub kernel_rejects: usize,
    /// Kernel rejections whose final message line equals ours.
    pub messages_equal: usize,
    /// Programs we accept and the kernel rejects (the unsafe direction), with the kernel's
    /// message.
    pub we_accept_kernel_rejects: Vec<String>,
    /// Programs we reject and the kernel accepts, with our message.
    pub we_reject_kernel_accepts: Vec<String>,
    /// Rejections by both with different messages.
    pub messages_differ: Vec<String>,
}

impl Tally {
    /// Records one program: `what` names it in the lists, `detail` (the program's text, or
    /// nothing) follows its line there.
    pub fn add(
        &mut self,
        what: &str,
        detail: &str,
        ours: &Verdict,
        kernel_accepts: bool,
        kernel_message: &str,
    ) {
        self.compared += 1;
        let our_message = ours
            .error
            .as_ref()
            .map(|e| e.message.to_string())
            .unwrap_or_default();
        if ours.accepted() == kernel_accepts {
            self.agree += 1;
        } else if ours.accepted() {
            self.we_accept_kernel_rejects
                .push(format!("{what}: kernel: {kernel_message}{detail}"));
        } else {
            let pc = ours.error.as_ref().map_or(0, |e| e.pc);
            self.we_reject_kernel_accepts
                .push(format!("{what}: ours: {our_message} (insn {pc}){detail}"));
        }
        if !kernel_accepts {
            self.kernel_rejects += 1;
            if our_message == kernel_message {
                self.messages_equal += 1;
            } else if !ours.accepted() {
                self.messages_differ.push(format!(
                    "{what}: kernel `{kernel_message}` ours `{our_message}`"
                ));
            }
        }
    }

    /// The share of programs whose verdicts agree, in percent.
    pub fn agree_percent(&self) -> f64 {
        self.agree as f64 * 100.0 / self.compared.max(1) as f64
    }

    /// The share of kernel rejections whose message equals ours, in percent.
    pub fn messages_equal_percent(&self) -> f64 {
        self.messages_equal as f64 * 100.0 / self.kernel_rejects.max(1) as f64
    }

    /// One line for the test's output: `NAME: N programs compared, ...`.
    pub fn summary(&self, name: &str) -> String {
        format!(
            "{name}: {} programs compared, {} verdicts agree ({:.2}%); we accept / kernel \
             rejects: {}; we reject / kernel accepts: {}; messages equal on {} of {} kernel \
             rejections ({:.2}%)",
            self.compared,
            self.agree,
            self.agree_percent(),
            self.we_accept_kernel_rejects.len(),
            self.we_reject_kernel_accepts.len(),
            self.messages_equal,
            self.kernel_rejects,
            self.messages_equal_percent(),
        )
    }

    /// Both lists of disagreements, the unsafe direction first.
    pub fn disagreements(&self) -> impl Iterator<Item = &String> {
        self.we_accept_kernel_rejects
            .iter()
            .chain(&self.we_reject_kernel_accepts)
    }
}
