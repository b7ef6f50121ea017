//! Arbitrary bytes as BTF: parsing never panics; what parses can be walked (every type viewed,
//! resolved, sized, aligned, its members found by name), dumped raw and as C, and re-encoded
//! into bytes that parse and re-encode identically. The same bytes are also tried as split BTF
//! on a small base.
#![no_main]

use std::sync::OnceLock;

use bpfkit_btf::dump::{self, CDumpOptions};
use bpfkit_btf::{Btf, BtfBuilder, IntEncoding, Linkage};
use libfuzzer_sys::fuzz_target;

fn base() -> &'static [u8] {
    static BASE: OnceLock<Vec<u8>> = OnceLock::new();
    BASE.get_or_init(|| {
        let mut b = BtfBuilder::new();
        let int = b.add_int("int", 4, IntEncoding::SIGNED);
        let ptr = b.add_ptr(int);
        let s = b.add_struct("base_s", 16, &[("a", int, 0), ("p", ptr, 64)]);
        let proto = b.add_func_proto(int, &[("s", s)]);
        b.add_func("base_f", proto, Linkage::Global);
        b.encode()
    })
}

fn walk(btf: &Btf<'_>) {
    for t in btf.types() {
        let id = t.id();
        let _ = t.name();
        let _ = t.view();
        let _ = btf.resolve(id);
        let _ = btf.skip_mods(id);
        let _ = btf.size_of(id);
        let _ = btf.align_of(id);
        for m in t.members() {
            let _ = btf.member_bit_offset(&m);
            let _ = btf.member_bitfield_size(&m);
            if let Ok(name) = m.name() {
                let _ = btf.find_member(id, name);
            }
        }
        let _ = t.enum_values().map(|v| v.value()).count();
        let _ = t.params().map(|p| p.type_id()).count();
        let _ = t.var_secinfos().count();
    }
    dump::raw(btf, std::io::sink()).expect("a sink never fails");
    let _ = dump::c(btf, std::io::sink(), &CDumpOptions::default());
    let encoded = btf.to_builder().encode();
    let again = match btf.base() {
        Some(base) => Btf::parse_split(&encoded, base),
        None => Btf::parse(&encoded),
    }
    .expect("re-encoded BTF parses");
    assert_eq!(again.to_builder().encode(), encoded, "encoding is stable");
}

fuzz_target!(|data: &[u8]| {
    if let Ok(btf) = Btf::parse(data) {
        walk(&btf);
    }
    let base = Btf::parse(base()).expect("the base parses");
    if let Ok(split) = Btf::parse_split(data, &base) {
        walk(&split);
    }
});
