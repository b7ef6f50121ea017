# `memcpy.s` written so that the kernel's verifier accepts it: the same copy, 32 bytes per
# iteration, but through an index that is compared with the length (a scalar), where the
# original compares two pointers, which the verifier cannot bound.
#
# In:  r1 = the buffer, r2 = its length (the first half is copied over the second; the half
#      is a multiple of 32 bytes)
# Out: r0 = n ^ the first u64 copied ^ the last u64 copied (n when nothing is copied)

    r5 = r2
    r5 >>= 1                        # n
    r3 = 0                          # i
    if r3 >= r5 goto copied
copy:
    r8 = r1
    r8 += r3                        # &src[i]
    r9 = r8
    r9 += r5                        # &dst[i]
    r6 = *(u64 *)(r8 + 0)
    *(u64 *)(r9 + 0) = r6
    r6 = *(u64 *)(r8 + 8)
    *(u64 *)(r9 + 8) = r6
    r6 = *(u64 *)(r8 + 16)
    *(u64 *)(r9 + 16) = r6
    r6 = *(u64 *)(r8 + 24)
    *(u64 *)(r9 + 24) = r6
    r3 += 32
    if r3 < r5 goto copy
copied:
    r0 = r5
    if r5 == 0 goto done
    r7 = r1
    r7 += r5
    r6 = *(u64 *)(r7 + 0)           # first word copied
    r0 ^= r6
    r7 += r3
    r6 = *(u64 *)(r7 - 8)           # last word copied
    r0 ^= r6
done:
    exit
