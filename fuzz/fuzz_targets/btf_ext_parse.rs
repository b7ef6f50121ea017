//! Arbitrary bytes as `.BTF.ext`: the input is a little-endian `u32` length, that many bytes of
//! `.BTF`, then the `.BTF.ext` bytes (seeds come from real objects in that shape). Parsing never
//! panics, and every record that parses points at types and strings that exist.
#![no_main]

use bpfkit_btf::{Btf, BtfExt};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((len, rest)) = data.split_first_chunk::<4>() else {
        return;
    };
    let len = (u32::from_le_bytes(*len) as usize).min(rest.len());
    let (btf_data, ext_data) = rest.split_at(len);
    let Ok(btf) = Btf::parse(btf_data) else {
        return;
    };
    let Ok(ext) = BtfExt::parse(ext_data, &btf) else {
        return;
    };
    for (_, f) in ext.func_info.records() {
        assert!(f.type_id.0 < btf.type_cnt());
    }
    for (_, l) in ext.line_info.records() {
        assert!(btf.str_bytes(l.file_name_off).is_some());
        assert!(btf.str_bytes(l.line_off).is_some());
    }
    for (_, r) in ext.core_relos.records() {
        assert!(r.type_id.0 < btf.type_cnt());
        assert!(btf.str_bytes(r.access_str_off).is_some());
    }
});
