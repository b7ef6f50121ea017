# `strcmp.s` written so that the kernel's verifier accepts it: the same byte-by-byte compare,
# through an index compared with the length (a scalar) instead of a cursor compared with an
# end pointer, which the verifier cannot bound.
#
# In:  r1 = two strings of n bytes each, back to back, r2 = 2n
# Out: r0 = i << 16 | (a[i] - b[i]) & 0xffff, i the first index where they differ or a[i] is
#      NUL (n when neither happens)

    r3 = r2
    r3 >>= 1                        # n
    r9 = 0                          # i
    r6 = 0                          # a[i]
    r7 = 0                          # b[i]
    if r9 >= r3 goto end
compare:
    r8 = r1
    r8 += r9
    r6 = *(u8 *)(r8 + 0)
    r8 += r3
    r7 = *(u8 *)(r8 + 0)
    if r6 != r7 goto end
    if r6 == 0 goto end
    r9 += 1
    if r9 < r3 goto compare         # off the end of a: r6 == r7, equal so far
end:
    r0 = r9
    r0 <<= 16
    r6 -= r7
    r6 &= 0xffff
    r0 |= r6
    exit
