# `packet.s` written so that the kernel's verifier accepts it: the same parse and the same
# checks, but every header is reached as the batch's address plus an offset, and every check
# compares offsets (scalars, which the verifier bounds) where the original compares pointers
# (which it cannot). The batch's length lives on the stack: the original uses all ten
# registers and this version needs one more, for the batch's address.
#
# In:  r1 = the batch: records of a u16 little-endian frame length then the frame's bytes,
#      back to back; r2 = the batch's length in bytes. A truncated record ends the batch.
# Out: r0 = flow hash ^ class counters, as `packet.s` computes them.

    *(u64 *)(r10 - 8) = r2          # the batch's length
    r0 = r1                         # the batch
    r6 = 0                          # offset of the next record
    r8 = 0                          # flow hash
    r9 = 0                          # class counters
next:
    r7 = *(u64 *)(r10 - 8)
    r2 = r6
    r2 += 2
    if r2 > r7 goto done            # no room for a length
    r4 = r0
    r4 += r6
    r3 = *(u16 *)(r4 + 0)           # frame length
    r1 = r2                         # r1 = offset of the frame
    r2 += r3                        # r2 = offset of its end
    if r2 > r7 goto done            # truncated record
    r6 = r2                         # the next record follows this frame

    r3 = r1
    r3 += 14                        # r3 = offset of the L3 header
    if r3 > r2 goto malformed
    r7 = r0                         # (an address is formed after its check: the verifier
    r7 += r1                        # bounds the offset, not an address made before)
    r4 = *(u16 *)(r7 + 12)
    r4 = be16 r4                    # EtherType
    if r4 != 0x8100 goto ethertype
    r3 = r1                         # r3 += 4, as a fresh copy of r1 plus a constant,
    r3 += 18                        # which the verifier links to r1
    if r3 > r2 goto malformed
    r7 = r0
    r7 += r1                        # r7 = the frame, now known to hold the tag
    r4 = *(u16 *)(r7 + 16)
    r4 = be16 r4                    # the EtherType after the tag
ethertype:
    if r4 == 0x800 goto ipv4
    r8 ^= r4                        # not IPv4: IPv6, ARP, ...
    r8 *= 0x2127599b
    r9 += 0x1000000
    goto next

ipv4:
    r1 = r3                         # r1 = offset of the IPv4 header
    r3 += 20
    if r3 > r2 goto malformed
    r7 = r0
    r7 += r1                        # r7 = the IPv4 header
    r4 = *(u8 *)(r7 + 0)            # version and IHL
    r5 = r4
    r5 >>= 4
    if r5 != 4 goto malformed
    r4 &= 15
    r4 <<= 2                        # header length in bytes
    if r4 < 20 goto malformed
    r3 = r1
    r3 += r4                        # r3 = offset of the L4 header
    if r3 > r2 goto malformed
    r5 = *(u16 *)(r7 + 2)
    r5 = be16 r5                    # total length
    if r5 < r4 goto malformed
    r4 = r1
    r4 += r5
    if r4 > r2 goto malformed       # the datagram is longer than the frame
    r5 = *(u32 *)(r7 + 12)          # source address
    r4 = *(u32 *)(r7 + 16)          # destination address
    r5 ^= r4
    r8 ^= r5
    r8 *= 0x2127599b
    r5 = *(u16 *)(r7 + 6)
    r5 = be16 r5
    r5 &= 0x1fff                    # fragment offset
    if r5 != 0 goto other           # a later fragment carries no L4 header
    r5 = *(u8 *)(r7 + 9)            # protocol
    if r5 == 6 goto tcp
    if r5 == 17 goto udp
other:
    r9 += 0x10000
    goto next

tcp:
    r4 = r3
    r4 += 20
    if r4 > r2 goto malformed
    r7 = r0
    r7 += r3                        # r7 = the TCP header
    r4 = *(u8 *)(r7 + 12)
    r4 >>= 4
    r4 <<= 2                        # data offset: the TCP header's length
    if r4 < 20 goto malformed
    r4 += r3
    if r4 > r2 goto malformed
    r4 = *(u32 *)(r7 + 0)           # both ports at once
    r8 ^= r4
    r8 *= 0x2127599b
    r4 = *(u8 *)(r7 + 13)           # flags
    r8 += r4
    r9 += 1
    goto next

udp:
    r4 = r3
    r4 += 8
    if r4 > r2 goto malformed
    r7 = r0
    r7 += r3                        # r7 = the UDP header
    r4 = *(u32 *)(r7 + 0)           # both ports at once
    r8 ^= r4
    r8 *= 0x2127599b
    r4 = *(u16 *)(r7 + 4)
    r4 = be16 r4                    # UDP length
    r8 += r4
    r9 += 0x100
    goto next

malformed:
    r3 = 0x100000000 ll
    r9 += r3
    goto next

done:
    r0 = r8
    r0 ^= r9
    exit
