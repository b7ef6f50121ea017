# Sieve of Eratosthenes over the input buffer.
#
# In:  r1 = a scratch buffer of n bytes (its contents are overwritten), r2 = n, a multiple of 8
# Out: r0 = (number of primes below n) << 32 | (sum of the primes below n)
#
# Exercises: double-word stores (the fill), byte stores with a variable stride (crossing out),
# byte loads, nested loops, 64-bit multiply.

    r4 = r1
    r4 += r2                        # r4 = end of the buffer
    r3 = r1
    r5 = 0x0101010101010101 ll      # eight "maybe prime" flags at once
    if r3 >= r4 goto filled
fill:
    *(u64 *)(r3 + 0) = r5
    r3 += 8
    if r3 < r4 goto fill
filled:
    if r2 < 2 goto count            # 0 and 1 are not prime, if the buffer has room for them
    *(u8 *)(r1 + 0) = 0
    *(u8 *)(r1 + 1) = 0
    r6 = 2                          # i
outer:
    r7 = r6
    r7 *= r6                        # i * i
    if r7 >= r2 goto count          # every composite below n has a factor below sqrt(n)
    r8 = r1
    r8 += r6
    r9 = *(u8 *)(r8 + 0)
    if r9 == 0 goto next_i          # i is composite: its multiples are crossed out already
    r8 = r1
    r8 += r7                        # &flags[i * i]
cross:
    *(u8 *)(r8 + 0) = 0
    r8 += r6
    if r8 < r4 goto cross
next_i:
    r6 += 1
    goto outer

count:
    r0 = 0                          # how many primes
    r5 = 0                          # their sum
    r6 = 0                          # i
    r3 = r1
    if r3 >= r4 goto done
sum:
    r7 = *(u8 *)(r3 + 0)
    if r7 == 0 goto not_prime
    r0 += 1
    r5 += r6
not_prime:
    r3 += 1
    r6 += 1
    if r3 < r4 goto sum
done:
    r0 <<= 32
    r0 += r5
    exit
