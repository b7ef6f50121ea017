//! Which program types may call which helper: `bpfkit_uapi`'s helper table (what the verifier
//! checks with [`HelperProto::allowed_in`]) against the running kernel's `get_func_proto`.
//!
//! The kernel is asked directly: for every helper of the table and every program type that
//! loads without a BTF attach target, `call HELPER; r0 = 0; exit` is loaded under the `GPL`
//! license. The kernel looks the helper up before it checks anything else of the call, so a
//! load refused with "program of this type cannot use helper" (or "invalid func") means the
//! type may not call it, and any other outcome (accepted, or refused later, say for an
//! uninitialised argument register) means it may.
//!
//! Some types offer a helper only for some of their expected attach types (`bpf_bind` only in
//! `connect` hooks, for one). The table keys on the program type alone, so it must allow every
//! helper that all of a type's attach types offer, and nothing that none of them offers; the
//! helpers in between are printed.
//!
//! Program types that need a BTF attach target (tracing, LSM, `struct_ops`, extensions), and
//! types this kernel cannot load at all, are not compared, and the test says which.
//!
//! A second test calls every helper a type may call with zeroed arguments and compares our
//! verifier's verdict and message with the kernel's: that checks the argument types of the
//! prototype each program type gets (some helpers have one per type, see
//! `bpfkit_uapi::helper_protos`).

mod tally;

use std::collections::BTreeSet;

use bpfkit_asm::assemble;
use bpfkit_isa::{Dialect, Insn};
use bpfkit_sys::ProgramLoad;
use bpfkit_test_support::{Need, require};
use bpfkit_uapi::{AttachType, HELPER_PROTOS, HelperId, ProgFlags, ProgType, helper_proto_for};
use bpfkit_verifier::{Program, verify};

/// Every program type probed, with the expected attach types its loads need (none: the
/// default, 0).
fn probed_types() -> Vec<(ProgType, Vec<Option<AttachType>>)> {
    use AttachType as A;
    use ProgType as P;
    let plain = |t| (t, vec![None]);
    vec![
        plain(P::SOCKET_FILTER),
        plain(P::KPROBE),
        plain(P::SCHED_CLS),
        plain(P::SCHED_ACT),
        plain(P::TRACEPOINT),
        plain(P::XDP),
        plain(P::PERF_EVENT),
        (
            P::CGROUP_SKB,
            vec![Some(A::CGROUP_INET_INGRESS), Some(A::CGROUP_INET_EGRESS)],
        ),
        (
            P::CGROUP_SOCK,
            [
                A::CGROUP_INET_SOCK_CREATE,
                A::CGROUP_INET_SOCK_RELEASE,
                A::CGROUP_INET4_POST_BIND,
                A::CGROUP_INET6_POST_BIND,
            ]
            .map(Some)
            .to_vec(),
        ),
        plain(P::LWT_IN),
        plain(P::LWT_OUT),
        plain(P::LWT_XMIT),
        plain(P::SOCK_OPS),
        plain(P::SK_SKB),
        plain(P::CGROUP_DEVICE),
        plain(P::SK_MSG),
        plain(P::RAW_TRACEPOINT),
        (
            P::CGROUP_SOCK_ADDR,
            [
                A::CGROUP_INET4_BIND,
                A::CGROUP_INET6_BIND,
                A::CGROUP_INET4_CONNECT,
                A::CGROUP_INET6_CONNECT,
                A::CGROUP_UDP4_SENDMSG,
                A::CGROUP_UDP6_SENDMSG,
                A::CGROUP_UDP4_RECVMSG,
                A::CGROUP_UDP6_RECVMSG,
                A::CGROUP_INET4_GETPEERNAME,
                A::CGROUP_INET6_GETPEERNAME,
                A::CGROUP_INET4_GETSOCKNAME,
                A::CGROUP_INET6_GETSOCKNAME,
            ]
            .map(Some)
            .to_vec(),
        ),
        plain(P::LWT_SEG6LOCAL),
        plain(P::LIRC_MODE2),
        (
            P::SK_REUSEPORT,
            vec![
                Some(A::SK_REUSEPORT_SELECT),
                Some(A::SK_REUSEPORT_SELECT_OR_MIGRATE),
            ],
        ),
        plain(P::FLOW_DISSECTOR),
        plain(P::CGROUP_SYSCTL),
        plain(P::RAW_TRACEPOINT_WRITABLE),
        (
            P::CGROUP_SOCKOPT,
            vec![Some(A::CGROUP_GETSOCKOPT), Some(A::CGROUP_SETSOCKOPT)],
        ),
        (P::SK_LOOKUP, vec![Some(A::SK_LOOKUP)]),
        plain(P::SYSCALL),
        (P::NETFILTER, vec![Some(A::NETFILTER)]),
    ]
}

/// Every helper the table describes, once (a helper with a prototype per program type has
/// several rows).
fn helper_ids() -> Vec<HelperId> {
    let mut ids: Vec<HelperId> = HELPER_PROTOS.iter().map(|p| p.id).collect();
    ids.dedup();
    ids
}

/// Whether our table lets `prog_type` call `id`.
fn table_allows(id: HelperId, prog_type: ProgType) -> bool {
    helper_proto_for(id, prog_type).is_some_and(|p| p.allowed_in(prog_type))
}

/// How a load of `insns` ended: `Ok(())` accepted, `Err(log or error)` refused.
fn load(prog_type: ProgType, attach: Option<AttachType>, insns: &[Insn]) -> Result<(), String> {
    let mut load = ProgramLoad::new(prog_type, insns)
        .log_level(1)
        .log_size(64 * 1024);
    if let Some(attach) = attach {
        load = load.expected_attach_type(attach);
    }
    // The kernel loads syscall programs only as sleepable ones.
    if prog_type == ProgType::SYSCALL {
        load = load.flags(ProgFlags::SLEEPABLE);
    }
    match load.load_with_log() {
        Ok(_) => Ok(()),
        Err(bpfkit_sys::Error::Verifier { log, .. }) => Err(log),
        Err(e) => Err(e.to_string()),
    }
}

/// Whether the kernel's `get_func_proto` of `prog_type` (for `attach`) offers `helper`.
fn kernel_offers(prog_type: ProgType, attach: Option<AttachType>, id: HelperId) -> bool {
    let text = format!("call {}\nr0 = 0\nexit", id.0);
    let insns = assemble(&text, Dialect::Llvm).expect("a helper call assembles");
    match load(prog_type, attach, &insns) {
        Ok(()) => true,
        Err(log) => !(log.contains("cannot use helper") || log.contains("invalid func")),
    }
}

#[test]
fn helper_table_allows_what_the_kernel_offers() {
    require!(Need::Kernel);
    let trivial = assemble("r0 = 0\nexit", Dialect::Llvm).unwrap();
    let (mut compared, mut pairs) = (0, 0);
    let mut not_compared = Vec::new();
    let mut wrong = Vec::new();
    let mut by_attach_type = Vec::new();
    for (prog_type, attaches) in probed_types() {
        // A type this kernel cannot load at all (not built in) tells nothing about helpers.
        let loadable: Vec<_> = attaches
            .into_iter()
            .filter(|&a| load(prog_type, a, &trivial).is_ok())
            .collect();
        if loadable.is_empty() {
            not_compared.push(format!(
                "{prog_type}: the kernel refuses even `r0 = 0; exit`"
            ));
            continue;
        }
        compared += 1;
        for id in helper_ids() {
            let offered: BTreeSet<bool> = loadable
                .iter()
                .map(|&a| kernel_offers(prog_type, a, id))
                .collect();
            let ours = table_allows(id, prog_type);
            pairs += 1;
            let name = id.c_name().unwrap_or_default();
            match (offered.len(), ours) {
                // Every attach type offers it, or none does: the table must say the same.
                (1, _) if offered.contains(&ours) => {}
                (1, _) => wrong.push(format!(
                    "{prog_type} / {name}: the kernel {}, our table {}",
                    if ours { "refuses it" } else { "offers it" },
                    if ours { "allows it" } else { "refuses it" },
                )),
                // Some attach types offer it: either answer of the table is a known limit.
                _ => by_attach_type.push(format!("{prog_type} / {name} (table: {ours})")),
            }
        }
    }
    for kind in [
        ProgType::TRACING,
        ProgType::STRUCT_OPS,
        ProgType::EXT,
        ProgType::LSM,
    ] {
        not_compared.push(format!("{kind}: needs a BTF attach target"));
    }
    println!("compared {pairs} (program type, helper) pairs over {compared} program types");
    println!("not compared: {}", not_compared.join("; "));
    println!(
        "offered for some attach types only ({}): {}",
        by_attach_type.len(),
        by_attach_type.join(", ")
    );
    assert!(
        compared >= 20,
        "only {compared} program types could be probed"
    );
    assert!(
        wrong.is_empty(),
        "{} disagreements with the kernel:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Every helper a program type may call, called with `r1` the context and `r2`-`r5` zero, and
/// again with all five zero: the kernel checks each argument against the prototype it gives
/// that program type and rejects most of these calls (a zero is no map, no pointer to
/// memory), and our verifier must reach the same verdict. The first message line is compared
/// too, and the share that is equal is printed.
#[test]
fn helper_calls_with_zero_arguments_get_the_kernels_verdict() {
    require!(Need::Kernel);
    let trivial = assemble("r0 = 0\nexit", Dialect::Llvm).unwrap();
    let mut tally = tally::Tally::default();
    for (prog_type, attaches) in probed_types() {
        let Some(attach) = attaches
            .into_iter()
            .find(|&a| load(prog_type, a, &trivial).is_ok())
        else {
            continue;
        };
        let calls = helper_ids()
            .into_iter()
            .filter(|&id| table_allows(id, prog_type))
            .flat_map(|id| [(id, "r1 = ctx"), (id, "r1 = 0")]);
        for (id, r1) in calls {
            let zero_r1 = if r1 == "r1 = 0" { "r1 = 0\n" } else { "" };
            let text = format!(
                "{zero_r1}r2 = 0\nr3 = 0\nr4 = 0\nr5 = 0\ncall {}\nr0 = 0\nexit",
                id.0
            );
            let insns = assemble(&text, Dialect::Llvm).expect("a helper call assembles");
            let kernel = load(prog_type, attach, &insns);
            let kernel_message = match &kernel {
                Ok(()) => String::new(),
                Err(log) => bpfkit_loader::verifier_log::summarize(log)
                    .message
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            };
            let mut program = Program::new(&insns, prog_type);
            if let Some(attach) = attach {
                program.attach_type = attach;
            }
            program.sleepable = prog_type == ProgType::SYSCALL;
            let ours = verify(&program);
            let what = format!("{prog_type} / {} ({r1})", id.c_name().unwrap_or_default());
            tally.add(&what, "", &ours, kernel.is_ok(), &kernel_message);
        }
    }
    println!("{}", tally.summary("helper calls with zero arguments"));
    for line in tally.disagreements() {
        println!("  disagree {line}");
    }
    for line in &tally.messages_differ {
        println!("  message {line}");
    }
    assert!(
        tally.compared > 1000,
        "only {} calls compared",
        tally.compared
    );
    assert!(
        tally.we_accept_kernel_rejects.is_empty(),
        "we accept calls the kernel rejects"
    );
    assert!(
        tally.we_reject_kernel_accepts.is_empty(),
        "we reject calls the kernel accepts"
    );
    assert!(
        tally.messages_equal_percent() >= 99.0,
        "messages equal on {:.2}% < 99%",
        tally.messages_equal_percent()
    );
}
