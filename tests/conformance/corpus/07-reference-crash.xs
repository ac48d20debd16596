# Debian's 4.17 cxenstored can abort (assertion conn->in == NULL in
# consider_message) on a one-path request whose payload lacks its final
# NUL. We must not crash: 07-reference-crash.override holds the replies
# we expect instead (EINVAL, as newer cxenstored's argument check gives).
a WRITE 0 "/rc\0x"
a WATCH 0 "/rc\0tok\0"
a events 1
a READ 0 "/rc"
b READ 0 "/rc\0"
a READ 0 "/rc\0"
