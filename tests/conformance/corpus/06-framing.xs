# Framing: payload limits, missing terminators, request ids, messages
# split across writes, oversize and garbage headers. A dropped connection
# prints CLOSED; the next line shows that the others keep working.
## the largest valid payload is 4096 bytes
a WRITE 0 "/f\0" "p"*4093
a READ 0 "/f\0"
## oversize: the connection is dropped, another connection is unaffected
b WATCH 0 "/f\0fw\0"
b events 1
a WRITE 0 "/f\0" "p"*4094
a READ 0 "/f\0"
c READ 0 "/f\0" len=4097
b READ 0 "/f\0"
a WRITE 0 "/f\0small"
b events 1
c READ 0 "/f\0" len=0xffffffff
a READ 0 "/f\0"
## a header announcing too much, then nothing
c raw "\x02\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x10\x00\x00"
c reply
a READ 0 "/f\0"
## (payloads without their final NUL: see 07-reference-crash.xs)
a WRITE 0 "/g\0value"
## any request id is echoed back
a READ 0 "/g\0" req=0
a READ 0 "/g\0" req=0xffffffff
a READ 0 "/g\0" req=7
a READ 0 "/g\0" req=7
## a request split over several writes is assembled
d raw "\x02\x00\x00\x00" "\x63\x00\x00\x00"
d raw "\x00\x00\x00\x00\x03\x00\x00\x00/g"
d raw "\0"
d reply req=0x63
## two requests in one write get two replies in order
d raw "\x02\x00\x00\x00\x0a\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00/g\0" "\x01\x00\x00\x00\x0b\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00/\0"
d reply req=10
d reply req=11
## a connection that closes mid-message does not disturb others
e raw "\x0b\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x20\x00\x00\x00/half"
e close
a READ 0 "/half\0"
a READ 0 "/g\0"
b UNWATCH 0 "/f\0fw\0"
