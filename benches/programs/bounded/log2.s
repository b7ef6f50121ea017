# `log2.s` written so that the kernel's verifier accepts it: the same binary search for each
# u64, through an index compared with the length (a scalar) instead of a cursor compared with
# an end pointer, which the verifier cannot bound.
#
# In:  r1 = an array of u64, r2 = its length in bytes (a multiple of 8)
# Out: r0 = the floor(log2) of each value (0 for 0), folded as r0 = r0 * 31 + log2

    r0 = 0
    r9 = 0                          # i
    if r9 >= r2 goto done
next:
    r4 = r1
    r4 += r9
    r3 = *(u64 *)(r4 + 0)           # x
    r5 = 0                          # log2(x)
    r6 = r3
    r6 >>= 32
    if r6 == 0 goto half16
    r3 = r6
    r5 += 32
half16:
    r6 = r3
    r6 >>= 16
    if r6 == 0 goto half8
    r3 = r6
    r5 += 16
half8:
    r6 = r3
    r6 >>= 8
    if r6 == 0 goto half4
    r3 = r6
    r5 += 8
half4:
    r6 = r3
    r6 >>= 4
    if r6 == 0 goto half2
    r3 = r6
    r5 += 4
half2:
    r6 = r3
    r6 >>= 2
    if r6 == 0 goto half1
    r3 = r6
    r5 += 2
half1:
    r6 = r3
    r6 >>= 1
    if r6 == 0 goto fold
    r5 += 1
fold:
    r0 *= 31
    r0 += r5
    r9 += 8
    if r9 < r2 goto next
done:
    exit
