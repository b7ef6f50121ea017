//! BTF rewritten for a kernel that lacks some kinds, as libbpf's `bpf_object__sanitize_btf`
//! does: each kind the kernel cannot parse becomes one it can, of the same size, so that type
//! ids and the layout of everything else stay the same.

use bpfkit_btf::{Btf, BtfBuilder, BtfError, BtfMember, Int, IntEncoding, Kind, Linkage, TypeData};

/// Which BTF kinds and features the kernel accepts (see [`crate::features`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BtfFeatures {
    /// `BTF_KIND_FUNC` and `FUNC_PROTO` (4.20+).
    pub func: bool,
    /// Global linkage of functions (5.6+).
    pub func_global: bool,
    /// `BTF_KIND_VAR` and `DATASEC` (5.2+).
    pub datasec: bool,
    /// `BTF_KIND_FLOAT` (5.13+).
    pub float: bool,
    /// `BTF_KIND_DECL_TAG` (5.16+).
    pub decl_tag: bool,
    /// `BTF_KIND_TYPE_TAG` (5.17+).
    pub type_tag: bool,
    /// `BTF_KIND_ENUM64` and signed enums (6.0+).
    pub enum64: bool,
}

impl BtfFeatures {
    /// Everything supported: nothing to sanitize.
    pub const ALL: BtfFeatures = BtfFeatures {
        func: true,
        func_global: true,
        datasec: true,
        float: true,
        decl_tag: true,
        type_tag: true,
        enum64: true,
    };

    /// Whether BTF may need rewriting for a kernel with these features.
    pub fn needs_sanitizing(&self) -> bool {
        *self != BtfFeatures::ALL
    }
}

/// `raw` BTF rewritten for a kernel with `features` (unchanged, byte for byte, when the kernel
/// has them all).
pub fn sanitize_btf(raw: &[u8], features: &BtfFeatures) -> Result<Vec<u8>, BtfError> {
    if !features.needs_sanitizing() {
        return Ok(raw.to_vec());
    }
    let btf = Btf::parse(raw)?;
    let mut b = BtfBuilder::from_btf(&btf);
    sanitize(&mut b, features);
    Ok(b.encode())
}

fn sanitize(b: &mut BtfBuilder, f: &BtfFeatures) {
    let byte_int = TypeData::Int(Int {
        size: 1,
        encoding: IntEncoding(0),
        bit_offset: 0,
        bits: 8,
    });
    let mut enum64_placeholder = None;
    for i in 0..b.types().len() {
        let t = b.types()[i].clone();
        let kind = t.data.kind();
        let mut new = t.clone();
        match kind {
            // VAR and DECL_TAG become a one-byte INT: 4 could be larger than the variable.
            Kind::Var if !f.datasec => new.data = byte_int.clone(),
            Kind::DeclTag if !f.decl_tag => {
                new.data = byte_int.clone();
                new.kind_flag = false;
            }
            // DATASEC becomes a STRUCT of its variables, named without dots.
            Kind::Datasec if !f.datasec => {
                let TypeData::Datasec { size, vars } = &t.data else {
                    unreachable!()
                };
                let name = b
                    .strings()
                    .get(t.name_off)
                    .map(|s| String::from_utf8_lossy(s).replace('.', "_"))
                    .unwrap_or_default();
                let members = vars
                    .iter()
                    .map(|v| BtfMember {
                        name_off: b.type_by_id(v.type_id).map_or(0, |vt| vt.name_off),
                        type_id: v.type_id,
                        offset: v.offset * 8,
                    })
                    .collect();
                new.name_off = b.add_str(&name);
                new.data = TypeData::Struct {
                    size: *size,
                    members,
                };
            }
            // FUNC_PROTO becomes an ENUM with as many (nameless) values as parameters.
            Kind::FuncProto if !f.func => {
                let TypeData::FuncProto { params, .. } = &t.data else {
                    unreachable!()
                };
                new.data = TypeData::Enum {
                    size: 4,
                    values: params
                        .iter()
                        .map(|p| bpfkit_btf::BtfEnumValue {
                            name_off: p.name_off,
                            value: p.type_id.0,
                        })
                        .collect(),
                };
            }
            // FUNC becomes a TYPEDEF of its prototype.
            Kind::Func if !f.func => {
                let TypeData::Func { proto, .. } = t.data else {
                    unreachable!()
                };
                new.data = TypeData::Typedef(proto);
            }
            Kind::Func if !f.func_global => {
                if let TypeData::Func { linkage, .. } = &mut new.data {
                    *linkage = Linkage::Static;
                }
            }
            // FLOAT becomes an anonymous empty STRUCT of the same size.
            Kind::Float if !f.float => {
                let TypeData::Float { size } = t.data else {
                    unreachable!()
                };
                new.name_off = 0;
                new.data = TypeData::Struct {
                    size,
                    members: Vec::new(),
                };
            }
            // TYPE_TAG becomes an anonymous CONST.
            Kind::TypeTag if !f.type_tag => {
                let TypeData::TypeTag(of) = t.data else {
                    unreachable!()
                };
                new.name_off = 0;
                new.data = TypeData::Const(of);
            }
            // Signed enums lose their signedness.
            Kind::Enum if !f.enum64 => new.kind_flag = false,
            // ENUM64 becomes a UNION of one-byte members.
            Kind::Enum64 if !f.enum64 => {
                let placeholder = *enum64_placeholder
                    .get_or_insert_with(|| b.add_int("enum64_placeholder", 1, IntEncoding(0)));
                let TypeData::Enum64 { size, values } = &t.data else {
                    unreachable!()
                };
                new.kind_flag = false;
                new.data = TypeData::Union {
                    size: *size,
                    members: values
                        .iter()
                        .map(|v| BtfMember {
                            name_off: v.name_off,
                            type_id: placeholder,
                            offset: 0,
                        })
                        .collect(),
                };
            }
            _ => continue,
        }
        b.types_mut()[i] = new;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpfkit_btf::VarSecinfo;

    fn sample() -> Vec<u8> {
        let mut b = BtfBuilder::new();
        let int = b.add_int("int", 4, IntEncoding::SIGNED);
        let float = b.add_float("float", 4);
        let proto = b.add_func_proto(int, &[("x", int)]);
        b.add_func("f", proto, Linkage::Global);
        let var = b.add_var("v", int, Linkage::Global);
        b.add_datasec(
            ".data",
            4,
            &[VarSecinfo {
                type_id: var,
                offset: 0,
                size: 4,
            }],
        );
        b.add_type_tag("user", float);
        b.add_decl_tag("tag", var, -1);
        b.add_enum64("big", 8, false, &[("A", u64::MAX)]);
        b.encode()
    }

    #[test]
    fn all_features_keep_the_bytes() {
        let raw = sample();
        assert_eq!(sanitize_btf(&raw, &BtfFeatures::ALL).unwrap(), raw);
    }

    #[test]
    fn nothing_of_a_missing_kind_is_left() {
        let raw = sample();
        let none = BtfFeatures {
            func: false,
            func_global: false,
            datasec: false,
            float: false,
            decl_tag: false,
            type_tag: false,
            enum64: false,
        };
        let out = sanitize_btf(&raw, &none).unwrap();
        let btf = Btf::parse(&out).unwrap();
        let original = Btf::parse(&raw).unwrap();
        for kind in [
            Kind::Func,
            Kind::FuncProto,
            Kind::Var,
            Kind::Datasec,
            Kind::Float,
            Kind::TypeTag,
            Kind::DeclTag,
            Kind::Enum64,
        ] {
            assert!(btf.types().all(|t| t.kind() != kind), "{kind:?} left");
        }
        // Ids are kept: one placeholder INT is appended, nothing else moves.
        assert_eq!(btf.type_cnt(), original.type_cnt() + 1);
        let datasec = btf.find_by_name_kind("_data", Kind::Struct).unwrap();
        assert_eq!(btf.size_of(datasec).unwrap(), 4);
    }
}
