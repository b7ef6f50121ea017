//! The helper, command and context tables checked against the running kernel's BTF
//! (`/sys/kernel/btf/vmlinux`, read with bpfkit-btf): the kernel is the oracle.

use bpfkit_btf::{Btf, Kind, TypeId};
use bpfkit_test_support::{Need, VMLINUX, require};
use bpfkit_uapi::{
    BPF_PERF_EVENT_DATA, BPF_SOCK, BPF_SOCK_ADDR, BpfCmd, CtxLayout, HELPER_PROTOS, HelperId,
    PT_REGS, SK_BUFF, XDP_MD,
};

fn vmlinux() -> Vec<u8> {
    std::fs::read(VMLINUX).expect("read vmlinux BTF")
}

/// `(name, value)` of every enumerator of the kernel enum `name`.
fn enumerators(btf: &Btf<'_>, name: &str) -> Vec<(String, u64)> {
    let id = btf
        .find_by_name_kind(name, Kind::Enum)
        .unwrap_or_else(|| panic!("no enum {name} in the kernel's BTF"));
    btf.type_by_id(id)
        .unwrap()
        .enum_values()
        .map(|v| (v.name().unwrap().to_string(), v.bits()))
        .collect()
}

#[test]
fn helper_ids_are_the_kernels() {
    require!(Need::File(VMLINUX));
    let data = vmlinux();
    let btf = Btf::parse(&data).unwrap();
    let kernel = enumerators(&btf, "bpf_func_id");
    let mut count = 0;
    for (name, value) in &kernel {
        if name == "__BPF_FUNC_MAX_ID" {
            assert_eq!(*value as u32, HelperId::MAX_ID, "__BPF_FUNC_MAX_ID");
            continue;
        }
        assert_eq!(
            HelperId::from_name(name).map(|h| h.0),
            Some(*value as u32),
            "{name} = {value} in the kernel"
        );
        assert_eq!(HelperId(*value as u32).name(), Some(name.as_str()));
        count += 1;
    }
    assert_eq!(count, HelperId::ALL.len(), "helper count");
    // Every prototype is of a helper the kernel has.
    for proto in HELPER_PROTOS {
        assert!(proto.id.0 < HelperId::MAX_ID && proto.id.is_known());
    }
}

#[test]
fn bpf_commands_are_the_kernels() {
    require!(Need::File(VMLINUX));
    let data = vmlinux();
    let btf = Btf::parse(&data).unwrap();
    let mut count = 0;
    for (name, value) in enumerators(&btf, "bpf_cmd") {
        if name.starts_with("__MAX") {
            continue;
        }
        assert_eq!(
            BpfCmd::from_name(&name).map(|c| c.0),
            Some(value as u32),
            "{name}"
        );
        count += 1;
    }
    let aliases = 1; // BPF_PROG_RUN
    assert_eq!(count, BpfCmd::ALL.len() + aliases);
}

/// The byte offset and size of member `name` of struct `id` (anonymous unions searched, as C
/// does), with an array's whole size.
fn member(btf: &Btf<'_>, id: TypeId, name: &str) -> (u32, u32) {
    let (m, bits) = btf
        .find_member(id, name)
        .unwrap()
        .unwrap_or_else(|| panic!("no member {name}"));
    let size = btf.size_of(m.type_id()).unwrap();
    ((bits / 8) as u32, size as u32)
}

fn check_layout(btf: &Btf<'_>, layout: &CtxLayout) {
    let id = btf
        .find_by_name_kind(layout.name, Kind::Struct)
        .unwrap_or_else(|| panic!("no struct {} in the kernel's BTF", layout.name));
    assert_eq!(
        btf.size_of(id).unwrap() as u32,
        layout.size,
        "sizeof(struct {})",
        layout.name
    );
    for field in layout.fields {
        let (offset, size) = member(btf, id, field.name);
        assert_eq!(
            (offset, size),
            (field.offset, field.size * field.count),
            "{}.{}: (offset, size) in the kernel",
            layout.name,
            field.name
        );
    }
}

#[test]
fn ctx_layouts_are_the_kernels() {
    require!(Need::File(VMLINUX));
    let data = vmlinux();
    let btf = Btf::parse(&data).unwrap();
    for layout in [&SK_BUFF, &XDP_MD, &BPF_SOCK_ADDR, &BPF_SOCK, &PT_REGS] {
        check_layout(&btf, layout);
    }
    // bpf_perf_event_data's `regs` is a bpf_user_pt_regs_t (pt_regs on x86_64).
    let id = btf
        .find_by_name_kind("bpf_perf_event_data", Kind::Struct)
        .unwrap();
    assert_eq!(btf.size_of(id).unwrap() as u32, BPF_PERF_EVENT_DATA.size);
    for field in BPF_PERF_EVENT_DATA.fields {
        assert_eq!(
            member(&btf, id, field.name),
            (field.offset, field.size * field.count),
            "bpf_perf_event_data.{}",
            field.name
        );
    }
    // The padding the kernel refuses in __sk_buff is where BTF has no member.
    let skb = btf.find_by_name_kind("__sk_buff", Kind::Struct).unwrap();
    let (tstamp_type, _) = member(&btf, skb, "tstamp_type");
    let (hwtstamp, _) = member(&btf, skb, "hwtstamp");
    assert_eq!((tstamp_type, hwtstamp), (180, 184));
}
