//! Arbitrary objects and inputs through the userspace test runtime never panic, and what it
//! cannot do is refused with an error that names it: an unsupported helper by number and name,
//! an unsupported map type by type, an unsupported context field by `struct.field`.
//!
//! Input: `[program][flags][data_len u16][ctx_len u16][data][ctx][object]`; `flags` bit 0
//! passes a context, bit 1 simulates 2 CPUs, bits 2-3 add repeats. The CO-RE target is an
//! empty BTF and `.kconfig` is empty, so nothing is read from the machine; runs have an
//! instruction budget (unverified programs may loop), and objects asking for more than 512 MiB
//! of maps in all are passed over (the runtime caps each map at 256 MiB; libFuzzer's memory
//! limit would report the sum).
#![no_main]

use bpfkit_elf::Object;
use bpfkit_relo::Kconfig;
use bpfkit_vm::{Fault, MapError, ObjectError, TestObject, TestRun, TestRunError};
use libfuzzer_sys::fuzz_target;

/// A BTF blob with no types: its header and the empty string.
const EMPTY_BTF: [u8; 25] = [
    0x9f, 0xeb, 1, 0, 24, 0, 0, 0, // magic, version, flags, hdr_len
    0, 0, 0, 0, 0, 0, 0, 0, // type_off, type_len
    0, 0, 0, 0, 1, 0, 0, 0, // str_off, str_len
    0,
];

fn check_fault(f: &Fault) {
    let text = f.to_string();
    if let Fault::UnknownHelper { id, .. } = f {
        // Named when the kernel has a helper of that number.
        let helper = bpfkit_uapi::HelperId(*id);
        let want = if helper.is_known() && *id != 0 {
            format!("unsupported helper {id} (bpf_{helper:#})")
        } else {
            format!("unsupported helper {id}")
        };
        assert!(text.contains(&want), "{text}");
    }
}

fuzz_target!(|input: &[u8]| {
    let [program, flags, d0, d1, c0, c1, rest @ ..] = input else {
        return;
    };
    let data_len = (u16::from_le_bytes([*d0, *d1]) as usize).min(rest.len());
    let (data, rest) = rest.split_at(data_len);
    let ctx_len = (u16::from_le_bytes([*c0, *c1]) as usize).min(rest.len());
    let (ctx, object) = rest.split_at(ctx_len);

    // The harness's memory bound (see above).
    if let Ok(o) = Object::parse(object) {
        let asked: u64 = o
            .maps()
            .iter()
            .map(|m| m.def.max_entries as u64 * (m.def.value_size as u64 * 2 + 16))
            .sum();
        if asked > 512 << 20 {
            return;
        }
    }

    let mut obj = match TestObject::builder(object)
        .core_target(&EMPTY_BTF)
        .kconfig(Kconfig::new())
        .cpus(if flags & 2 != 0 { 2 } else { 1 })
        .build()
    {
        Ok(obj) => obj,
        Err(e) => {
            let text = e.to_string();
            if let ObjectError::Map {
                source: MapError::Unsupported(t),
                ..
            } = &e
            {
                assert!(text.contains(&format!("unsupported map type {t}")), "{text}");
            }
            return;
        }
    };
    obj.vm_mut().set_budget(Some(1 << 16));
    let names: Vec<String> = obj.programs().iter().map(|p| p.name.clone()).collect();
    if names.is_empty() {
        return;
    }
    for p in obj.programs() {
        if let Some(e) = p.error() {
            if e.contains("is not supported by the userspace runtime") {
                assert!(e.contains("ctx field ") && e.contains('.'), "{e}");
            }
        }
    }
    let name = &names[*program as usize % names.len()];
    let run = TestRun {
        data,
        ctx_in: (flags & 1 != 0).then_some(ctx),
        repeat: 1 + (flags >> 2 & 3) as u32,
        ..TestRun::default()
    };
    match obj.test_run(name, &run) {
        Ok(out) => {
            let _ = (out.retval, out.data_out.len(), out.ctx_out.map(|c| c.len()));
        }
        Err(TestRunError::Fault(f)) => check_fault(&f),
        Err(e) => {
            let _ = (e.to_string(), e.errno());
        }
    }
    // Everything the test would read back.
    for (_, m) in obj.maps() {
        for (k, v) in m.entries() {
            let _ = (k.len(), v.len());
        }
    }
    for g in obj.globals().to_vec() {
        let _ = obj.global(&g.name);
    }
});
