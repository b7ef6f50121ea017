//! What the kernel tests share: the rule for when they may skip.

/// Whether `bpf(2)` can be used here. When it cannot for a reason of the environment (not root,
/// `EPERM`, no `bpf(2)`), prints why and returns `false` so the test can skip — except under
/// `CI=true`, where the kernel tests must run, so it panics instead. Any other failure panics.
pub fn kernel_available(test: &str) -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    match bpfkit_sys::probe() {
        Ok(()) => true,
        Err(why) if why.is_environmental() && !ci => {
            eprintln!("skipped {test}: {why}");
            false
        }
        Err(why) if ci => panic!("{test}: CI=true, but bpf(2) cannot be used: {why}"),
        Err(why) => panic!("{test}: {why}"),
    }
}
