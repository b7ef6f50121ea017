//! The object model against what the C sources in `testdata/src` say: who calls whom, which
//! variable each data relocation points at, what each extern is declared as, which CO-RE
//! accesses the code makes, how maps are initialised. Every variant of each object must agree.

use bpfkit_btf::Kind;
use bpfkit_elf::{ExternKind, InitialTarget, Object, RelocTarget, SymbolBinding};
use bpfkit_uapi::{CoreReloKind, MapType};

fn variants(stem: &str) -> Vec<(String, Vec<u8>)> {
    let dir = format!("{}/../../testdata/obj", env!("CARGO_MANIFEST_DIR"));
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{stem}."))
        })
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(p).unwrap(),
            )
        })
        .collect();
    out.sort();
    assert!(out.len() >= 4, "{stem}: {} variants", out.len());
    out
}

/// Names of the functions `caller` calls, in call order.
fn callees(object: &Object<'_>, caller: &str) -> Vec<String> {
    let f = object.functions().find(|f| f.name == caller).unwrap();
    f.calls
        .iter()
        .map(|c| {
            object
                .function_at(c.target_section, c.target_insn)
                .unwrap()
                .name
                .to_string()
        })
        .collect()
}

#[test]
fn subprogram_calls_follow_the_source() {
    for (name, bytes) in variants("subprogs") {
        let object = Object::parse(&bytes).unwrap();
        // sum = sum_bytes(data, end, 8); ... sum = clamp(sum + lc.total, 4096);
        assert_eq!(
            callees(&object, "xdp_subprogs"),
            ["sum_bytes", "clamp"],
            "{name}"
        );
        // return clamp(skb->len, 1500) == 1500 ? ...
        assert_eq!(callees(&object, "tc_subprogs"), ["clamp"], "{name}");
        assert!(callees(&object, "clamp").is_empty(), "{name}");
        // bpf_loop(32, loop_body, &lc, 0): the callback's address.
        let xdp = object.program("xdp_subprogs").unwrap();
        let addr: Vec<&str> = xdp
            .function
            .relocations
            .iter()
            .filter_map(|r| match r.target {
                RelocTarget::FuncAddr { section, insn } => {
                    Some(object.function_at(section, insn).unwrap().name)
                }
                _ => None,
            })
            .collect();
        assert_eq!(addr, ["loop_body"], "{name}");
        // `static` and global functions.
        let binding = |n: &str| {
            object
                .subprograms()
                .iter()
                .find(|f| f.name == n)
                .unwrap()
                .binding
        };
        assert_eq!(binding("clamp"), SymbolBinding::Global, "{name}");
        assert_eq!(binding("sum_bytes"), SymbolBinding::Local, "{name}");
        assert_eq!(binding("loop_body"), SymbolBinding::Local, "{name}");
    }
}

#[test]
fn data_relocations_point_at_the_variables_used() {
    for (name, bytes) in variants("global_data") {
        let object = Object::parse(&bytes).unwrap();
        let prog = object.program("xdp_globals").unwrap();
        let mut used: Vec<String> = prog
            .function
            .relocations
            .iter()
            .map(|r| match r.target {
                RelocTarget::Data { data, offset } => {
                    let section = &object.data_sections()[data];
                    let var = section
                        .variables
                        .iter()
                        .find(|v| v.offset == offset)
                        .unwrap_or_else(|| panic!("{name}: nothing at {}+{offset}", section.name));
                    format!("{}:{}", section.name, var.name)
                }
                other => panic!("{name}: unexpected {other:?}"),
            })
            .collect();
        used.sort();
        used.dedup();
        assert_eq!(
            used,
            [
                ".bss:bytes_total",
                ".bss:last_len",
                ".data.counters:drops",
                ".data.counters:passes",
                ".data:packets",
                ".data:static_seen",
                ".rodata.limits:min_len",
                ".rodata:drop_odd",
                ".rodata:max_len",
            ],
            "{name}"
        );
        // `static __u64 static_seen` is reached through the .data section symbol.
        assert!(
            prog.function
                .relocations
                .iter()
                .any(|r| r.symbol_name == ".data"
                    && matches!(r.target, RelocTarget::Data { offset: 8, .. })),
            "{name}"
        );
    }
}

#[test]
fn externs_are_what_the_source_declares() {
    for (name, bytes) in variants("externs") {
        let object = Object::parse(&bytes).unwrap();
        let mut got: Vec<(&str, ExternKind, bool)> = object
            .externs()
            .iter()
            .map(|e| (e.name, e.kind, e.weak))
            .collect();
        got.sort_by_key(|e| e.0);
        let want = [
            ("CONFIG_BPF_SYSCALL", ExternKind::Kconfig, true),
            ("CONFIG_HZ", ExternKind::Kconfig, false),
            ("CONFIG_NOT_A_REAL_OPTION", ExternKind::Kconfig, true),
            ("LINUX_KERNEL_VERSION", ExternKind::Kconfig, false),
            ("bpf_kfunc_that_may_not_exist", ExternKind::Kfunc, true),
            ("bpf_prog_active", ExternKind::Ksym { typed: false }, false),
            ("bpf_task_acquire", ExternKind::Kfunc, false),
            ("bpf_task_release", ExternKind::Kfunc, false),
            ("runqueues", ExternKind::Ksym { typed: true }, false),
        ];
        assert_eq!(got, want, "{name}");
        // bpf_task_acquire(task) and bpf_task_release(acquired) are kfunc calls.
        let newtask = object.program("externs_newtask").unwrap();
        let calls: Vec<&str> = newtask
            .function
            .relocations
            .iter()
            .filter_map(|r| match r.target {
                RelocTarget::ExternCall(i) => Some(object.externs()[i].name),
                _ => None,
            })
            .collect();
        assert_eq!(calls, ["bpf_task_acquire", "bpf_task_release"], "{name}");
    }
}

/// The member names an access string walks from its root type (`0:3` -> `real_parent`).
fn access_path(object: &Object<'_>, root: bpfkit_btf::TypeId, access: &str) -> Vec<String> {
    let btf = object.btf().unwrap();
    let mut id = root;
    let mut path = Vec::new();
    for index in access.split(':').skip(1) {
        let t = btf.type_by_id(btf.resolve(id).unwrap()).unwrap();
        let m = t.members().nth(index.parse().unwrap()).unwrap();
        path.push(m.name().unwrap().to_string());
        id = m.type_id();
        // Pointers are followed by the next BPF_CORE_READ step, not by the access string.
        let next = btf.type_by_id(btf.resolve(id).unwrap()).unwrap();
        if next.kind() == Kind::Ptr {
            id = next.ref_type().unwrap();
        }
    }
    path
}

#[test]
fn core_records_follow_the_source() {
    for (name, bytes) in variants("core") {
        let object = Object::parse(&bytes).unwrap();
        // parent_info: BPF_CORE_READ(task, real_parent, tgid), BPF_CORE_READ(task, mm, total_vm).
        let parent = object
            .subprograms()
            .iter()
            .find(|f| f.name == "parent_info")
            .unwrap();
        let mut paths: Vec<Vec<String>> = parent
            .core_relos
            .iter()
            .inspect(|r| assert_eq!(r.kind, CoreReloKind::FIELD_BYTE_OFFSET, "{name}"))
            .map(|r| access_path(&object, r.type_id, r.access_str))
            .collect();
        paths.sort();
        assert_eq!(
            paths,
            [
                vec!["mm"],
                vec!["real_parent"],
                vec!["tgid"],
                vec!["total_vm"]
            ],
            "{name}"
        );

        let kinds = |prog: &str| {
            let mut k: Vec<CoreReloKind> = object
                .program(prog)
                .unwrap()
                .function
                .core_relos
                .iter()
                .map(|r| r.kind)
                .collect();
            k.sort();
            k.dedup();
            k
        };
        assert_eq!(
            kinds("core_task"),
            [
                CoreReloKind::FIELD_BYTE_SIZE, // bpf_core_field_size(task->flags)
                CoreReloKind::FIELD_EXISTS,    // bpf_core_field_exists(task->mm), (___old)->state
                CoreReloKind::TYPE_ID_TARGET,  // bpf_core_type_id_kernel
                CoreReloKind::TYPE_EXISTS,     // bpf_core_type_exists
                CoreReloKind::TYPE_SIZE,       // bpf_core_type_size
                CoreReloKind::ENUMVAL_EXISTS,  // bpf_core_enum_value_exists
                CoreReloKind::ENUMVAL_VALUE,   // bpf_core_enum_value
            ],
            "{name}"
        );
        // BPF_CORE_READ(skb, len) and BPF_CORE_READ_BITFIELD_PROBED(skb, pkt_type).
        assert_eq!(
            kinds("core_skb"),
            [
                CoreReloKind::FIELD_BYTE_OFFSET,
                CoreReloKind::FIELD_BYTE_SIZE,
                CoreReloKind::FIELD_SIGNED,
                CoreReloKind::FIELD_LSHIFT_U64,
                CoreReloKind::FIELD_RSHIFT_U64,
            ],
            "{name}"
        );
    }
}

#[test]
fn func_info_names_each_function() {
    for stem in [
        "core",
        "subprogs",
        "maps",
        "tracing",
        "externs",
        "xdp_parse",
    ] {
        for (name, bytes) in variants(stem) {
            if !name.ends_with(".g.o") {
                continue;
            }
            let object = Object::parse(&bytes).unwrap();
            let btf = object.btf().unwrap();
            for f in object.functions() {
                assert_eq!(f.func_info.len(), 1, "{name}: {}", f.name);
                let info = f.func_info[0];
                assert_eq!(info.insn, 0, "{name}: {}", f.name);
                let t = btf.type_by_id(info.type_id).unwrap();
                assert_eq!(
                    (t.kind(), t.name().unwrap()),
                    (Kind::Func, f.name),
                    "{name}"
                );
                assert!(!f.line_info.is_empty(), "{name}: {}", f.name);
                assert!(
                    f.line_info.iter().all(|l| l.insn < f.insn_count()),
                    "{name}"
                );
            }
        }
    }
}

#[test]
fn map_initial_values_follow_the_source() {
    for (name, bytes) in variants("maps") {
        let object = Object::parse(&bytes).unwrap();
        let init = |map: &str| -> Vec<(u32, String)> {
            object
                .map(map)
                .unwrap()
                .initial_values
                .iter()
                .map(|v| {
                    let target = match v.target {
                        InitialTarget::Program(i) => object.programs()[i].name().to_string(),
                        InitialTarget::Map(i) => object.maps()[i].name.to_string(),
                    };
                    assert_eq!(target, v.name, "{name}");
                    (v.slot, target)
                })
                .collect()
        };
        // .values = { [2] = (void *)&tail_target }
        assert_eq!(
            init("jump_table"),
            [(2, "tail_target".to_string())],
            "{name}"
        );
        // .values = { &inner_a, &inner_b }
        assert_eq!(
            init("outer_array"),
            [(0, "inner_a".to_string()), (1, "inner_b".to_string())],
            "{name}"
        );
        assert!(init("outer_hash").is_empty(), "{name}");
        // __array(values, struct { HASH, 64 entries, __u32 -> __u64 })
        let inner = object.map("outer_hash").unwrap().inner.unwrap();
        assert_eq!(
            (
                inner.def.map_type,
                inner.def.key_size,
                inner.def.value_size,
                inner.def.max_entries
            ),
            (MapType::HASH, 4, 8, 64),
            "{name}"
        );
    }
}
