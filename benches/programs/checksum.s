# The Internet checksum (RFC 1071) of the input, reading it a byte at a time.
#
# In:  r1 = the data, r2 = its length in bytes
# Out: r0 = the ones' complement of the ones' complement sum of its 16-bit big-endian words (an
#      odd last byte is padded with a zero), in 0..=0xffff
#
# Exercises: byte loads, shifts and ors to assemble big-endian words, a carry fold loop.

    r0 = 0                          # sum; 64 bits, so carries are folded once at the end
    r3 = r1
    r4 = r1
    r4 += r2                        # end of the data
    r5 = r2
    r5 >>= 1
    r5 <<= 1
    r5 += r1                        # end of the whole 16-bit words
    if r3 >= r5 goto tail
words:
    r6 = *(u8 *)(r3 + 0)
    r6 <<= 8
    r7 = *(u8 *)(r3 + 1)
    r6 |= r7
    r0 += r6
    r3 += 2
    if r3 < r5 goto words
tail:
    if r3 >= r4 goto fold
    r6 = *(u8 *)(r3 + 0)            # odd length: the last byte is the high half of a word
    r6 <<= 8
    r0 += r6
fold:
    r6 = r0
    r6 >>= 16
    if r6 == 0 goto done
    r0 &= 0xffff
    r0 += r6
    goto fold
done:
    r0 ^= 0xffff
    exit
