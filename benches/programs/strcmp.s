# strcmp of two NUL-terminated strings, byte by byte. The benchmark input holds two equal strings
# of 1023 characters, so every byte is compared.
#
# In:  r1 = two buffers of n bytes each, back to back: string a at 0, string b at n; r2 = 2 * n
# Out: r0 = i << 16 | ((a[i] - b[i]) & 0xffff), where i is the index of the first difference or
#      of the terminating NUL (or n if a has no NUL in its n bytes)
#
# Exercises: byte loads from two streams, two data-dependent exits per byte.

    r8 = r1                         # start of a
    r3 = r2
    r3 >>= 1                        # n
    r5 = r1
    r5 += r3                        # end of a
    r4 = r5                         # b
    r6 = 0                          # a[i]
    r7 = 0                          # b[i]
    if r1 >= r5 goto end
compare:
    r6 = *(u8 *)(r1 + 0)
    r7 = *(u8 *)(r4 + 0)
    if r6 != r7 goto end
    if r6 == 0 goto end
    r1 += 1
    r4 += 1
    if r1 < r5 goto compare         # off the end of a: r6 == r7, equal so far
end:
    r0 = r1
    r0 -= r8                        # i
    r0 <<= 16
    r6 -= r7
    r6 &= 0xffff
    r0 |= r6
    exit
