# `calls.s` written so that the kernel's verifier accepts it: the same hash through the same
# bpf-to-bpf calls, through an index compared with the length (a scalar) instead of a cursor
# compared with an end pointer, which the verifier cannot bound.
#
# In:  r1 = an array of u64, r2 = its length in bytes (a multiple of 8)
# Out: r0 = acc after acc = combine(acc, word) over the words, acc starting at 0x27d4eb2f

    r9 = r1                         # the words (r1-r5 do not survive calls)
    r6 = 0                          # i
    r7 = r2                         # length
    r8 = 0x27d4eb2f                 # acc
    if r6 >= r7 goto done
loop:
    r1 = r8
    r2 = r9
    r2 += r6
    r2 = *(u64 *)(r2 + 0)
    call combine
    r8 = r0
    r6 += 8
    if r6 < r7 goto loop
done:
    r0 = r8
    exit

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

scramble:
    r2 = 0xc2b2ae3d27d4eb4f ll
    r1 *= r2
    r2 = 31
    call rotl
    r2 = 0x9e3779b185ebca87 ll
    r0 *= r2
    exit

rotl:
    r0 = r1
    r0 <<= r2
    r3 = 64
    r3 -= r2
    r1 >>= r3
    r0 |= r1
    exit
