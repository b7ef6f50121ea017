# `sieve.s` written so that the kernel's verifier accepts it: the same sieve of Eratosthenes,
# through indexes compared with the length (a scalar) instead of cursors compared with an end
# pointer, which the verifier cannot bound.
#
# In:  r1 = the flags buffer, r2 = its length n (a multiple of 8)
# Out: r0 = (number of primes below n) << 32 | their sum

    r3 = 0
    r5 = 0x0101010101010101 ll      # eight "maybe prime" flags at once
    if r3 >= r2 goto filled
fill:
    r8 = r1
    r8 += r3
    *(u64 *)(r8 + 0) = r5
    r3 += 8
    if r3 < r2 goto fill
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
    r9 = r7                         # j = i * i
cross:
    r8 = r1
    r8 += r9
    *(u8 *)(r8 + 0) = 0
    r9 += r6
    if r9 < r2 goto cross
next_i:
    r6 += 1
    goto outer

count:
    r0 = 0                          # how many primes
    r5 = 0                          # their sum
    r6 = 0                          # i
    if r6 >= r2 goto done
sum:
    r8 = r1
    r8 += r6
    r7 = *(u8 *)(r8 + 0)
    if r7 == 0 goto not_prime
    r0 += 1
    r5 += r6
not_prime:
    r6 += 1
    if r6 < r2 goto sum
done:
    r0 <<= 32
    r0 += r5
    exit
