//! Instructions whose x86 counterparts differ from eBPF at the edges: the JIT must give the
//! interpreter's (RFC 9669's) result, where the CPU would trap or keep upper bits.

use bpfkit_asm::assemble;
use bpfkit_isa::Dialect;
use bpfkit_jit::Jit;
use bpfkit_vm::Vm;

fn agree(source: &str) -> u64 {
    let insns = assemble(source, Dialect::Llvm).unwrap_or_else(|e| panic!("{e}\n{source}"));
    let expected = Vm::new(&insns).unwrap().run(&mut []).unwrap();
    let got = Jit::new(Vm::new(&insns).unwrap())
        .unwrap()
        .run(&mut [])
        .unwrap();
    assert_eq!(got, expected, "{source}");
    got
}

#[test]
fn division_never_traps() {
    let min64 = "r0 = 0x8000000000000000 ll\n";
    assert_eq!(agree(&format!("{min64}r1 = -1\nr0 s/= r1\nexit")), 1 << 63);
    assert_eq!(agree(&format!("{min64}r0 s/= -1\nexit")), 1 << 63);
    assert_eq!(agree(&format!("{min64}r1 = -1\nr0 s%= r1\nexit")), 0);
    assert_eq!(
        agree("r0 = -1\nw0 = 0x80000000\nw1 = -1\nw0 s/= w1\nexit"),
        0x8000_0000
    );
    assert_eq!(agree("r0 = -1\nw0 = 0x80000000\nw0 s%= -1\nexit"), 0);
    assert_eq!(agree("r0 = 7\nr1 = 0\nr0 /= r1\nexit"), 0);
    assert_eq!(agree("r0 = 7\nr1 = 0\nr0 %= r1\nexit"), 7);
    assert_eq!(agree("r0 = -7\nr1 = 0\nr0 s%= r1\nexit"), -7i64 as u64);
    // 32-bit modulo by zero keeps the dividend's low half, zero-extended.
    assert_eq!(agree("r0 = -7\nw1 = 0\nw0 %= w1\nexit"), 0xffff_fff9);
    assert_eq!(agree("r0 = -7\nw0 s%= 0\nexit"), 0xffff_fff9);
    // A register divisor whose low half is zero divides a 32-bit value by zero.
    assert_eq!(agree("r0 = 9\nr1 = 0x100000000 ll\nw0 /= w1\nexit"), 0);
    assert_eq!(agree("r0 = -9\nr1 = 2\nr0 s/= r1\nexit"), -4i64 as u64);
    assert_eq!(agree("r0 = -9\nr0 s%= 2\nexit"), -1i64 as u64);
}

#[test]
fn shifts_mask_and_32_bit_results_zero_extend() {
    assert_eq!(agree("r0 = -1\nw1 = 0\nw0 <<= w1\nexit"), 0xffff_ffff);
    assert_eq!(agree("r0 = -1\nw0 >>= 0\nexit"), 0xffff_ffff);
    assert_eq!(agree("r0 = -1\nw1 = 32\nw0 s>>= w1\nexit"), 0xffff_ffff);
    assert_eq!(agree("r0 = 1\nr1 = 65\nr0 <<= r1\nexit"), 2);
    assert_eq!(agree("r0 = -1\nr1 = 0\nr0 >>= r1\nexit"), u64::MAX);
    assert_eq!(agree("r0 = -1\nw0 = -w0\nexit"), 1);
    assert_eq!(agree("r0 = -1\nw0 *= 3\nexit"), 0xffff_fffd);
    assert_eq!(agree("r1 = -1\nr0 = r1\nw0 = w1\nexit"), 0xffff_ffff);
    assert_eq!(agree("r0 = 0x1234567880 ll\nr0 = be16 r0\nexit"), 0x8078);
    assert_eq!(
        agree("r0 = 0x1234567880 ll\nr0 = le32 r0\nexit"),
        0x3456_7880
    );
    assert_eq!(agree("r1 = 0xff80 ll\nw0 = (s8)w1\nexit"), 0xffff_ff80);
    assert_eq!(agree("r6 = 0x80\nr0 = (s8)r6\nexit"), -128i64 as u64);
    assert_eq!(agree("r0 = 0x100000000 ll\nr0 += -1\nexit"), 0xffff_ffff);
    assert_eq!(
        agree("r0 = 0x7fffffff\nif w0 s> -1 goto +1\nr0 = 0\nexit"),
        0x7fff_ffff
    );
    assert_eq!(
        agree("r0 = -1\nif r0 == -1 goto +1\nr0 = 0\nexit"),
        u64::MAX
    );
}
