# Parses a batch of Ethernet frames the way an XDP or tc classifier does: Ethernet (with an
# optional 802.1Q tag), IPv4 (with options and fragments), then TCP or UDP, checking every header
# against the end of its frame before reading it.
#
# In:  r1 = the batch: records of a u16 little-endian frame length then the frame's bytes,
#      back to back; r2 = the batch's length in bytes. A truncated record ends the batch.
# Out: r0 = flow hash ^ class counters. The hash folds each IPv4 packet's addresses, its TCP or
#      UDP ports and either the TCP flags or the UDP length, and each non-IPv4 frame's EtherType.
#      The counters count, one byte each from the low end: TCP, UDP, other IPv4 (other protocols
#      and later fragments), non-IPv4; the fifth byte counts malformed frames.
#
# Exercises: 8/16/32-bit loads at odd offsets, be16, pointer arithmetic and bounds checks (a
# taken-or-not branch every few instructions), a loop over records of varying length.

    r6 = r1                         # cursor: the next record
    r7 = r1
    r7 += r2                        # end of the batch
    r8 = 0                          # flow hash
    r9 = 0                          # class counters
next:
    r2 = r6
    r2 += 2
    if r2 > r7 goto done            # no room for a length
    r3 = *(u16 *)(r6 + 0)           # frame length
    r1 = r2                         # r1 = frame
    r2 += r3                        # r2 = end of the frame
    if r2 > r7 goto done            # truncated record
    r6 = r2                         # the next record follows this frame

    # Ethernet: destination, source, EtherType; an 802.1Q tag inserts 4 bytes before it.
    r3 = r1
    r3 += 14                        # r3 = the L3 header
    if r3 > r2 goto malformed
    r4 = *(u16 *)(r1 + 12)
    r4 = be16 r4                    # EtherType
    if r4 != 0x8100 goto ethertype
    r3 += 4
    if r3 > r2 goto malformed
    r4 = *(u16 *)(r1 + 16)
    r4 = be16 r4                    # the EtherType after the tag
ethertype:
    if r4 == 0x800 goto ipv4
    r8 ^= r4                        # not IPv4: IPv6, ARP, ...
    r8 *= 0x2127599b
    r9 += 0x1000000
    goto next

ipv4:
    r1 = r3                         # r1 = the IPv4 header
    r3 += 20
    if r3 > r2 goto malformed
    r4 = *(u8 *)(r1 + 0)            # version and IHL
    r5 = r4
    r5 >>= 4
    if r5 != 4 goto malformed
    r4 &= 15
    r4 <<= 2                        # header length in bytes
    if r4 < 20 goto malformed
    r3 = r1
    r3 += r4                        # r3 = the L4 header
    if r3 > r2 goto malformed
    r5 = *(u16 *)(r1 + 2)
    r5 = be16 r5                    # total length
    if r5 < r4 goto malformed
    r0 = r1
    r0 += r5
    if r0 > r2 goto malformed       # the datagram is longer than the frame
    r5 = *(u32 *)(r1 + 12)          # source address
    r0 = *(u32 *)(r1 + 16)          # destination address
    r5 ^= r0
    r8 ^= r5
    r8 *= 0x2127599b
    r5 = *(u16 *)(r1 + 6)
    r5 = be16 r5
    r5 &= 0x1fff                    # fragment offset
    if r5 != 0 goto other           # a later fragment carries no L4 header
    r5 = *(u8 *)(r1 + 9)            # protocol
    if r5 == 6 goto tcp
    if r5 == 17 goto udp
other:
    r9 += 0x10000
    goto next

tcp:
    r4 = r3
    r4 += 20
    if r4 > r2 goto malformed
    r4 = *(u8 *)(r3 + 12)
    r4 >>= 4
    r4 <<= 2                        # data offset: the TCP header's length
    if r4 < 20 goto malformed
    r4 += r3
    if r4 > r2 goto malformed
    r4 = *(u32 *)(r3 + 0)           # both ports at once
    r8 ^= r4
    r8 *= 0x2127599b
    r4 = *(u8 *)(r3 + 13)           # flags
    r8 += r4
    r9 += 1
    goto next

udp:
    r4 = r3
    r4 += 8
    if r4 > r2 goto malformed
    r4 = *(u32 *)(r3 + 0)           # both ports at once
    r8 ^= r4
    r8 *= 0x2127599b
    r4 = *(u16 *)(r3 + 4)
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
