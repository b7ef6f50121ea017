//! Random programs, about half of them invalid, for the kernel verdict differential.
//!
//! Each program is built from a few *snippets* (map lookups, packet parsing, stack spills,
//! loops, ring buffer records, helper calls, arithmetic, ctx reads), written as LLVM-dialect
//! assembly. With probability one half, one snippet carries one *defect* of a kind the issue
//! lists: an uninitialised read, a stack access out of bounds, a bad ctx access, an unchecked
//! packet access, a missing null check, forbidden pointer arithmetic, a loop without a bound,
//! a wrong helper argument, a pointer leak at exit, an unreleased reference, plus a few more.
//! Constants are drawn near the boundaries that matter (a bound one past the size, an offset
//! one past the checked range) so the range analysis is exercised at its edges.

use bpfkit_uapi::{MapType, ProgType};
use bpfkit_verifier::MapInfo;

/// The maps every generated program may use: `map_fd(i)` names `MAPS[i]`.
pub fn maps() -> Vec<MapInfo> {
    vec![
        MapInfo::new(MapType::HASH, 8, 8, 16),
        MapInfo::new(MapType::ARRAY, 4, 16, 4),
        MapInfo::new(MapType::RINGBUF, 0, 0, 4096),
        MapInfo::new(MapType::PROG_ARRAY, 4, 4, 4),
    ]
}

/// A seeded generator (splitmix64).
pub struct Rng(u64);

impl Rng {
    /// The generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5851_f42d_4c95_7f2d)
    }
    /// 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// True with probability `p`/100.
    pub fn chance(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
    /// One of `items`.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// A generated program.
pub struct Generated {
    /// Assembly text.
    pub text: String,
    /// Program type.
    pub prog_type: ProgType,
    /// The defect planted, if any (the program may still be valid, or invalid without one).
    pub defect: Option<&'static str>,
}

struct Gen<'r> {
    rng: &'r mut Rng,
    lines: Vec<String>,
    labels: u32,
    prog_type: ProgType,
    /// The defect to plant in the next snippet that can carry it.
    defect: Option<&'static str>,
    planted: Option<&'static str>,
}

const DEFECTS: &[&str] = &[
    "uninit",
    "stack_oob",
    "ctx",
    "packet",
    "null",
    "ptr_arith",
    "loop",
    "helper_arg",
    "leak",
    "ref",
    "misaligned",
    "divzero",
    "r10",
    "boundary",
];

impl Gen<'_> {
    fn emit(&mut self, s: impl Into<String>) {
        self.lines.push(s.into());
    }
    fn label(&mut self) -> String {
        self.labels += 1;
        format!("l{}", self.labels)
    }
    /// Whether this snippet should carry `kind` (once per program).
    fn defect(&mut self, kind: &'static str) -> bool {
        if self.defect == Some(kind) && self.planted.is_none() {
            self.planted = Some(kind);
            true
        } else {
            false
        }
    }
    fn is_net(&self) -> bool {
        matches!(
            self.prog_type,
            ProgType::XDP | ProgType::SCHED_CLS | ProgType::CGROUP_SKB | ProgType::SOCKET_FILTER
        )
    }

    /// r6 = ctx (kept for the whole program).
    fn prologue(&mut self) {
        self.emit("r6 = r1");
        self.emit("r9 = 0");
    }

    fn snippet(&mut self) {
        let choices: &[u32] = if self.is_net() {
            &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
        } else {
            &[0, 1, 2, 4, 5, 6, 7, 8, 9]
        };
        match self.rng.pick(choices) {
            0 => self.arith(),
            1 => self.map_lookup(),
            2 => self.stack(),
            3 => self.packet(),
            4 => self.ringbuf(),
            5 => self.loop_(),
            6 => self.helper(),
            7 => self.ctx_read(),
            8 => self.var_index(),
            9 => self.ptr_ops(),
            _ => self.packet_var(),
        }
    }

    fn arith(&mut self) {
        let ops = [
            "+=", "-=", "*=", "&=", "|=", "^=", "<<=", ">>=", "s>>=", "/=", "%=",
        ];
        self.emit("call 7");
        self.emit("r7 = r0");
        for _ in 0..self.rng.below(4) + 1 {
            let op = self.rng.pick(&ops);
            let w = self.rng.chance(30);
            let r = if w { "w7" } else { "r7" };
            let imm = match op {
                "<<=" | ">>=" | "s>>=" => self.rng.below(if w { 32 } else { 64 }) as i64,
                "/=" | "%=" => {
                    if self.defect("divzero") {
                        0
                    } else {
                        self.rng.below(100) as i64 + 1
                    }
                }
                _ => self
                    .rng
                    .pick(&[0i64, 1, 7, 255, -1, 0x7fff_ffff, -0x8000_0000, 4096]),
            };
            self.emit(format!("{r} {op} {imm}"));
        }
        if self.defect("r10") {
            self.emit("r10 = r7");
        }
        self.emit("r9 ^= r7");
    }

    fn map_lookup(&mut self) {
        let array = self.rng.chance(50);
        let done = self.label();
        let key = self.rng.below(6);
        if array {
            self.emit(format!("*(u32 *)(r10 - 4) = {key}"));
            self.emit("r2 = r10");
            self.emit("r2 += -4");
            self.emit("r1 = map_fd(1) ll");
        } else {
            self.emit(format!("*(u64 *)(r10 - 8) = {key}"));
            self.emit("r2 = r10");
            self.emit("r2 += -8");
            if self.defect("helper_arg") {
                match self.rng.below(3) {
                    0 => self.emit("r2 = 8"),
                    1 => self.emit("r1 = r6"),
                    _ => self.emit("r2 += -512"),
                }
                if self.rng.chance(50) {
                    self.emit("r1 = map_fd(0) ll");
                }
            } else {
                self.emit("r1 = map_fd(0) ll");
            }
        }
        self.emit("call 1");
        let skip_check = self.defect("null");
        if !skip_check {
            self.emit(format!("if r0 == 0 goto {done}"));
        }
        let size = if array { 16 } else { 8 };
        let mut off = self.rng.below(size / 4) * 4;
        if self.defect("boundary") {
            off = size;
        }
        let width = self.rng.pick(&["u32", "u8", "u16"]);
        self.emit(format!("r1 = *({width} *)(r0 + {off})"));
        self.emit("r9 += r1");
        if self.rng.chance(50) {
            let line = format!("*(u32 *)(r0 + {}) = r9", self.rng.below(size / 4) * 4);
            self.emit(line);
        }
        if self.defect("ptr_arith") {
            let bad = self
                .rng
                .pick(&["r0 *= 2", "r0 &= 255", "w0 += 4", "r0 += r6", "r0 <<= 1"]);
            self.emit(bad);
            self.emit("r1 = *(u8 *)(r0 + 0)");
        }
        self.emit(format!("{done}:"));
    }

    fn stack(&mut self) {
        let slot = (self.rng.below(16) + 1) * 8;
        self.emit("call 7");
        self.emit(format!("*(u64 *)(r10 - {slot}) = r0"));
        let mut off = slot as i64;
        if self.defect("stack_oob") {
            off = self.rng.pick(&[520i64, 513, -8, 0]);
        }
        if self.defect("misaligned") {
            off = slot as i64 - 3;
        }
        let size = if self.rng.chance(70) { "u64" } else { "u32" };
        if off <= 0 {
            self.emit(format!("r1 = *({size} *)(r10 + {})", -off));
        } else {
            self.emit(format!("r1 = *({size} *)(r10 - {off})"));
        }
        self.emit("r9 += r1");
        // Spill and fill a pointer.
        if self.rng.chance(30) {
            self.emit(format!("*(u64 *)(r10 - {}) = r6", slot + 8));
            self.emit(format!("r6 = *(u64 *)(r10 - {})", slot + 8));
        }
    }

    /// Packet parsing with a constant bound (xdp, tc, cgroup_skb).
    fn packet(&mut self) {
        let (data, end) = match self.prog_type {
            ProgType::XDP => (0, 4),
            ProgType::SOCKET_FILTER => {
                // Socket filters have no direct packet access.
                self.emit("r0 = 0");
                return;
            }
            _ => (76, 80),
        };
        let out = self.label();
        let n = self.rng.pick(&[1u64, 2, 4, 8, 14, 20, 34, 54]);
        self.emit(format!("r2 = *(u32 *)(r6 + {data})"));
        self.emit(format!("r3 = *(u32 *)(r6 + {end})"));
        self.emit("r4 = r2");
        self.emit(format!("r4 += {n}"));
        let skip = self.defect("packet");
        if !skip {
            let cmp = self.rng.below(3);
            match cmp {
                0 => self.emit(format!("if r4 > r3 goto {out}")),
                1 => self.emit(format!("if r3 < r4 goto {out}")),
                _ => {
                    let ok = self.label();
                    self.emit(format!("if r4 <= r3 goto {ok}"));
                    self.emit(format!("goto {out}"));
                    self.emit(format!("{ok}:"));
                }
            }
        }
        let mut off = self.rng.below(n);
        if self.defect("boundary") {
            off = n;
        }
        self.emit(format!("r1 = *(u8 *)(r2 + {off})"));
        self.emit("r9 += r1");
        if self.prog_type != ProgType::CGROUP_SKB && self.rng.chance(30) {
            let line = format!("*(u8 *)(r2 + {}) = r1", self.rng.below(n));
            self.emit(line);
        }
        self.emit(format!("{out}:"));
    }

    /// Packet access with a variable offset, masked or not.
    fn packet_var(&mut self) {
        if !matches!(self.prog_type, ProgType::XDP | ProgType::SCHED_CLS) {
            return self.arith();
        }
        let (data, end) = if self.prog_type == ProgType::XDP {
            (0, 4)
        } else {
            (76, 80)
        };
        let out = self.label();
        self.emit("call 7");
        self.emit(format!("r2 = *(u32 *)(r6 + {data})"));
        self.emit(format!("r3 = *(u32 *)(r6 + {end})"));
        let mask = self.rng.pick(&[7u64, 15, 63]);
        if !self.defect("boundary") {
            self.emit(format!("r0 &= {mask}"));
        }
        self.emit("r2 += r0");
        self.emit("r4 = r2");
        self.emit("r4 += 2");
        self.emit(format!("if r4 > r3 goto {out}"));
        self.emit("r1 = *(u16 *)(r2 + 0)");
        self.emit("r9 += r1");
        self.emit(format!("{out}:"));
    }

    fn ringbuf(&mut self) {
        let done = self.label();
        let size = self.rng.pick(&[8u64, 16, 24]);
        self.emit("r1 = map_fd(2) ll");
        self.emit(format!("r2 = {size}"));
        self.emit("r3 = 0");
        self.emit("call 131");
        self.emit(format!("if r0 == 0 goto {done}"));
        let mut off = self.rng.below(size / 8) * 8;
        if self.defect("boundary") {
            off = size;
        }
        self.emit(format!("*(u64 *)(r0 + {off}) = r9"));
        let leak = self.defect("ref");
        if leak {
            // Release on one path only.
            let skip = self.label();
            self.emit("r7 = r0");
            self.emit("call 7");
            self.emit(format!("if r0 > 100 goto {skip}"));
            self.emit("r1 = r7");
            self.emit("r2 = 0");
            self.emit("call 132");
            self.emit(format!("{skip}:"));
        } else {
            self.emit("r1 = r0");
            self.emit("r2 = 0");
            let line = format!("call {}", self.rng.pick(&[132, 133]));
            self.emit(line);
        }
        self.emit(format!("{done}:"));
    }

    fn loop_(&mut self) {
        let top = self.label();
        let bound = self.rng.pick(&[2u64, 5, 16, 40]);
        self.emit("r7 = 0");
        self.emit(format!("{top}:"));
        self.emit("r9 += r7");
        if self.defect("loop") {
            match self.rng.below(2) {
                0 => {
                    // Bound on an unknown value, nothing changes: the same state comes back. (A
                    // loop that makes a new state every iteration runs into the 1,000,000
                    // instruction limit; kernel_limits.rs has that case, here it would cost
                    // seconds of kernel time per program.)
                    self.emit("call 7");
                    self.emit(format!("if r0 != 0 goto {top}"));
                }
                _ => {
                    // No bound: the counter never changes.
                    self.emit(format!("if r7 < {bound} goto {top}"));
                }
            }
        } else {
            self.emit("r7 += 1");
            self.emit(format!("if r7 < {bound} goto {top}"));
        }
    }

    fn helper(&mut self) {
        match self.rng.below(4) {
            0 => {
                // probe_read_kernel(fp-32, n, 0)
                let mut n = self.rng.pick(&[1u64, 8, 16, 32]);
                if self.defect("helper_arg") {
                    n = self.rng.pick(&[0, 40]);
                }
                self.emit("r1 = r10");
                self.emit("r1 += -32");
                self.emit(format!("r2 = {n}"));
                self.emit("r3 = 0");
                self.emit("call 113");
            }
            1 => {
                self.emit("call 5");
                self.emit("r9 += r0");
            }
            2 => {
                // map_update(hash, key, value, 0)
                self.emit("*(u64 *)(r10 - 16) = r9");
                self.emit("*(u64 *)(r10 - 24) = 1");
                self.emit("r1 = map_fd(0) ll");
                self.emit("r2 = r10");
                self.emit("r2 += -16");
                self.emit("r3 = r10");
                let line = if self.defect("helper_arg") {
                    "r3 += -4"
                } else {
                    "r3 += -24"
                };
                self.emit(line);
                self.emit("r4 = 0");
                self.emit("call 2");
            }
            _ => {
                self.emit("call 8");
                self.emit("r9 += r0");
            }
        }
        if self.defect("uninit") {
            let line = self.rng.pick(&["r9 += r1", "r0 = r2", "if r3 > 0 goto +0"]);
            self.emit(line);
        }
    }

    fn ctx_read(&mut self) {
        type Fields = &'static [(u32, &'static str)];
        type BadFields = &'static [(i32, &'static str)];
        let (good, bad): (Fields, BadFields) = match self.prog_type {
            ProgType::XDP => (
                &[(12, "u32"), (16, "u32")],
                &[(2, "u32"), (24, "u32"), (0, "u64"), (20, "u32")],
            ),
            ProgType::SOCKET_FILTER => (
                &[(0, "u32"), (8, "u32"), (16, "u16"), (48, "u32")],
                &[(76, "u32"), (2, "u32"), (192, "u32"), (-4, "u32")],
            ),
            ProgType::SCHED_CLS => (
                &[(0, "u32"), (8, "u32"), (16, "u8"), (152, "u64")],
                &[(88, "u32"), (1, "u16"), (144, "u64"), (200, "u32")],
            ),
            ProgType::CGROUP_SKB => (
                &[(0, "u32"), (4, "u32")],
                &[(72, "u32"), (140, "u32"), (3, "u8")],
            ),
            ProgType::KPROBE => (
                &[(112, "u64"), (104, "u64"), (0, "u32")],
                &[(168, "u64"), (4, "u64"), (164, "u64")],
            ),
            ProgType::TRACEPOINT => (
                &[(8, "u64"), (16, "u32")],
                &[(0, "u64"), (4096, "u64"), (10, "u32")],
            ),
            _ => (&[(0, "u64"), (8, "u64")], &[(96, "u64"), (4, "u64")]),
        };
        if self.defect("ctx") {
            let (off, w) = self.rng.pick(bad);
            if self.rng.chance(30) {
                self.emit(format!("*(u32 *)(r6 + {}) = r9", good[0].0));
            } else {
                self.emit(format!(
                    "r1 = *({w} *)(r6 {} {})",
                    if off < 0 { "-" } else { "+" },
                    off.abs()
                ));
            }
        } else {
            let (off, w) = self.rng.pick(good);
            self.emit(format!("r1 = *({w} *)(r6 + {off})"));
        }
        self.emit("r9 += r1");
    }

    /// A variable index into an array value.
    fn var_index(&mut self) {
        let done = self.label();
        self.emit("*(u32 *)(r10 - 4) = 0");
        self.emit("r2 = r10");
        self.emit("r2 += -4");
        self.emit("r1 = map_fd(1) ll");
        self.emit("call 1");
        self.emit(format!("if r0 == 0 goto {done}"));
        self.emit("r7 = r0");
        self.emit("call 7");
        let bound = if self.defect("boundary") {
            self.rng.pick(&[16u64, 17, 13])
        } else {
            self.rng.pick(&[4u64, 12, 15])
        };
        match self.rng.below(3) {
            0 => self.emit(format!("r0 &= {}", bound.next_power_of_two() - 1)),
            1 => self.emit(format!("if r0 > {bound} goto {done}")),
            _ => self.emit(format!("if r0 >= {} goto {done}", bound + 1)),
        }
        if self.defect("boundary") {
            // nothing more: the bound is past the value
        }
        self.emit("r7 += r0");
        self.emit("r1 = *(u8 *)(r7 + 0)");
        self.emit("r9 += r1");
        self.emit(format!("{done}:"));
    }

    fn ptr_ops(&mut self) {
        // Stack pointer arithmetic with constants, compare pointers.
        self.emit("r7 = r10");
        let line = format!("r7 += -{}", (self.rng.below(8) + 1) * 8);
        self.emit(line);
        self.emit("*(u64 *)(r7 + 0) = r9");
        if self.defect("ptr_arith") {
            let line = self
                .rng
                .pick(&["r7 |= 1", "r7 -= r9", "w7 += 8", "r7 *= r9"]);
            self.emit(line);
            self.emit("r1 = *(u64 *)(r7 + 0)");
        } else {
            self.emit("r1 = *(u64 *)(r7 + 0)");
        }
        self.emit("r9 += r1");
    }

    fn epilogue(&mut self) {
        if self.defect("leak") {
            // A pointer as the exit value where a number in [0, 1] is required.
            self.emit("r0 = r10");
            return self.emit("exit");
        }
        self.emit("r0 = r9");
        if self.prog_type == ProgType::CGROUP_SKB {
            self.emit("r0 &= 1");
        }
        self.emit("exit");
    }
}

/// The program for `seed`.
pub fn generate(seed: u64) -> Generated {
    generate_for(
        seed,
        &[
            ProgType::SOCKET_FILTER,
            ProgType::XDP,
            ProgType::SCHED_CLS,
            ProgType::CGROUP_SKB,
            ProgType::KPROBE,
            ProgType::TRACEPOINT,
            ProgType::RAW_TRACEPOINT,
        ],
    )
}

/// The program for `seed`, of one of `types`.
pub fn generate_for(seed: u64, types: &[ProgType]) -> Generated {
    let mut rng = Rng::new(seed);
    let prog_type = rng.pick(types);
    let defect = if rng.chance(55) {
        Some(rng.pick(DEFECTS))
    } else {
        None
    };
    let mut g = Gen {
        rng: &mut rng,
        lines: Vec::new(),
        labels: 0,
        prog_type,
        defect,
        planted: None,
    };
    g.prologue();
    let n = g.rng.below(4) + 1;
    for _ in 0..n {
        g.snippet();
    }
    // Make sure the defect is planted when some snippet can carry it.
    if g.planted.is_none() {
        match defect {
            Some("ref") => g.ringbuf(),
            Some("loop") => g.loop_(),
            Some("ctx") => g.ctx_read(),
            Some("null" | "helper_arg") => g.map_lookup(),
            Some("stack_oob" | "misaligned") => g.stack(),
            Some("divzero" | "r10") => g.arith(),
            Some("uninit") => g.helper(),
            Some("ptr_arith") => g.ptr_ops(),
            Some("packet")
                if matches!(
                    prog_type,
                    ProgType::XDP | ProgType::SCHED_CLS | ProgType::CGROUP_SKB
                ) =>
            {
                g.packet()
            }
            Some("boundary") => g.var_index(),
            _ => {}
        }
    }
    g.epilogue();
    let planted = g.planted;
    Generated {
        text: g.lines.join("\n"),
        prog_type,
        defect: planted,
    }
}
