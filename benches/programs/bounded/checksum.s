# `checksum.s` written so that the kernel's verifier accepts it: the same byte-at-a-time
# RFC 1071 sum, through an index compared with the length (a scalar) instead of a cursor
# compared with an end pointer, which the verifier cannot bound, and a carry fold with a bound.
#
# In:  r1 = the data, r2 = its length in bytes
# Out: r0 = the Internet checksum, in 0..=0xffff

    r0 = 0                          # sum
    r3 = 0                          # i
    r9 = 0                          # carry folds done
    r5 = r2
    r5 >>= 1
    r5 <<= 1                        # end of the whole 16-bit words
    if r3 >= r5 goto tail
words:
    r8 = r1
    r8 += r3
    r6 = *(u8 *)(r8 + 0)
    r6 <<= 8
    r7 = *(u8 *)(r8 + 1)
    r6 |= r7
    r0 += r6
    r3 += 2
    if r3 < r5 goto words
tail:
    if r3 >= r2 goto fold
    r8 = r1
    r8 += r3
    r6 = *(u8 *)(r8 + 0)            # odd length: the last byte is the high half of a word
    r6 <<= 8
    r0 += r6
fold:                               # at most four folds take any 64-bit sum to 16 bits;
    if r9 >= 4 goto done            # bounding them lets the verifier see the loop end
    r9 += 1
    r6 = r0
    r6 >>= 16
    if r6 == 0 goto done
    r0 &= 0xffff
    r0 += r6
    goto fold
done:
    r0 ^= 0xffff
    exit
