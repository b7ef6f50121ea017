# floor(log2(x)) of every u64 in the input, by binary search over the bits (log2(0) is taken as 0).
#
# In:  r1 = an array of u64 values, r2 = its length in bytes, a multiple of 8
# Out: r0 = the results folded in order: acc = acc * 31 + log2(x)
#
# Exercises: 64-bit shifts by immediates, compare-with-zero branches taken about half the time
# (hard to predict), double-word loads.

    r0 = 0
    r4 = r1
    r4 += r2                        # end of the array
    if r1 >= r4 goto done
next:
    r3 = *(u64 *)(r1 + 0)           # x
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
    r1 += 8
    if r1 < r4 goto next
done:
    exit
