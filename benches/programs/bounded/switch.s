# `switch.s` written so that the kernel's verifier accepts it: the same dispatch, loading each
# opcode through its index (compared with the length, a scalar) instead of a cursor compared
# with an end pointer, which the verifier cannot bound.
#
# In:  r1 = the opcodes, one per byte (only the low 4 bits are used), r2 = how many
# Out: r0 = an accumulator that every opcode changes its own way, starting from 0x12345

    r6 = r1                         # the opcodes
    r7 = r2                         # their count
    r8 = 0                          # i, the index of the opcode
    r0 = 0x12345                    # the accumulator
    if r8 >= r7 goto done
dispatch:
    r3 = r6
    r3 += r8
    r3 = *(u8 *)(r3 + 0)
    r3 &= 15
    if w3 > 7 goto op8_15
    if w3 > 3 goto op4_7
    if w3 > 1 goto op2_3
    if w3 == 0 goto op0
    goto op1
op2_3:
    if w3 == 2 goto op2
    goto op3
op4_7:
    if w3 > 5 goto op6_7
    if w3 == 4 goto op4
    goto op5
op6_7:
    if w3 == 6 goto op6
    goto op7
op8_15:
    if w3 > 11 goto op12_15
    if w3 > 9 goto op10_11
    if w3 == 8 goto op8
    goto op9
op10_11:
    if w3 == 10 goto op10
    goto op11
op12_15:
    if w3 > 13 goto op14_15
    if w3 == 12 goto op12
    goto op13
op14_15:
    if w3 == 14 goto op14
    goto op15

op0:                                # acc += 1
    r0 += 1
    goto next
op1:                                # acc ^= 0x5bd1e995
    r0 ^= 0x5bd1e995
    goto next
op2:                                # acc *= 3
    r0 *= 3
    goto next
op3:                                # acc += i
    r0 += r8
    goto next
op4:                                # acc -= 7
    r0 -= 7
    goto next
op5:                                # acc ^= acc >> 7
    r4 = r0
    r4 >>= 7
    r0 ^= r4
    goto next
op6:                                # acc ^= acc << 13
    r4 = r0
    r4 <<= 13
    r0 ^= r4
    goto next
op7:                                # acc |= 0x100
    r0 |= 0x100
    goto next
op8:                                # acc += 0x1e3779b9
    r0 += 0x1e3779b9
    goto next
op9:                                # acc = -acc
    r0 = -r0
    goto next
op10:                               # acc ^= i
    r0 ^= r8
    goto next
op11:                               # acc *= 0x2545
    r0 *= 0x2545
    goto next
op12:                               # acc += acc >> 11
    r4 = r0
    r4 >>= 11
    r0 += r4
    goto next
op13:                               # acc = rotl(acc, 7)
    r4 = r0
    r4 >>= 57
    r0 <<= 7
    r0 |= r4
    goto next
op14:                               # acc %= 1000003
    r0 %= 1000003
    goto next
op15:                               # acc &= 0x7fffffff, then + 0x5555
    r0 &= 0x7fffffff
    r0 += 0x5555

next:
    r8 += 1
    if r8 < r7 goto dispatch
done:
    exit
