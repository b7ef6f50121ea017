# A hash of the input words folded through bpf-to-bpf calls: four calls per word, nested up to
# three deep (main -> combine -> scramble -> rotl), with a spill to the callee's own stack frame.
#
# In:  r1 = an array of u64 words, r2 = its length in bytes, a multiple of 8
# Out: r0 = the fold, starting from 0x27d4eb2f: acc = combine(acc, word) for each word, where
#        combine(acc, w) = rotl(acc ^ scramble(w), 27) * 5 + 0x52dce729
#        scramble(x)     = rotl(x * 0xc2b2ae3d27d4eb4f, 31) * 0x9e3779b185ebca87
#
# Exercises: local calls and returns (frame push and pop, r6-r9 saved and restored, r10 moved),
# lddw, 64-bit multiply, shifts by registers. r6-r9 hold the loop state across the calls.
# Stack use stays within 256 bytes per frame and 3 levels, so rbpf (one 512-byte stack shared by
# all frames, 256 bytes each) runs it the same.

    r6 = r1                         # cursor
    r7 = r1
    r7 += r2                        # end of the words
    r8 = 0x27d4eb2f                 # acc
    if r6 >= r7 goto done
loop:
    r1 = r8
    r2 = *(u64 *)(r6 + 0)
    call combine
    r8 = r0
    r6 += 8
    if r6 < r7 goto loop
done:
    r0 = r8
    exit

# combine(acc = r1, w = r2)
combine:
    *(u64 *)(r10 - 8) = r1          # acc lives on this frame's stack across the call
    r1 = r2
    call scramble
    r1 = *(u64 *)(r10 - 8)
    r1 ^= r0
    r2 = 27
    call rotl
    r0 *= 5
    r0 += 0x52dce729
    exit

# scramble(x = r1)
scramble:
    r2 = 0xc2b2ae3d27d4eb4f ll
    r1 *= r2
    r2 = 31
    call rotl
    r2 = 0x9e3779b185ebca87 ll
    r0 *= r2
    exit

# rotl(x = r1, k = r2), for k in 1..=63
rotl:
    r0 = r1
    r0 <<= r2
    r3 = 64
    r3 -= r2
    r1 >>= r3
    r0 |= r1
    exit
