# Watches: the initial event, subtree matches, relative watches, special
# paths, duplicates, unwatch and reset. Events are printed by "events"
# lines in arrival order per connection (see README for why they are
# separated from replies).
## initial event on a missing and on an existing node
a WATCH 0 "/w\0t1\0"
a events 1
a WRITE 0 "/w\0v"
a events 1
a WRITE 0 "/w/sub/leaf\0v"
a events 1
a MKDIR 0 "/w/dir\0"
a events 1
a MKDIR 0 "/w/dir\0"
a events
a WRITE 0 "/wother\0v"
a events
## a second watch with another token on the same path, same connection
a WATCH 0 "/w\0t2\0"
a events 1
a WRITE 0 "/w\0v2"
a events 2
## EEXIST: the same path and token twice
a WATCH 0 "/w\0t1\0"
a events
## rm fires on the node watched and on watches below it
a WATCH 0 "/w/sub/leaf\0leaf\0"
a events 1
a RM 0 "/w/sub\0"
a events 3
a SET_PERMS 0 "/w\0n0\0r1\0"
a events 2
## unwatch: unknown pair is ENOENT; afterwards no more events
a UNWATCH 0 "/w\0t1\0"
a UNWATCH 0 "/w\0t1\0"
a UNWATCH 0 "/w\0nosuch\0"
a WRITE 0 "/w\0v3"
a events 1
## relative watches get relative event paths
b WATCH 0 "rw\0rel\0"
b events 1
b WRITE 0 "/local/domain/0/rw\0x"
b events 1
b WRITE 0 "rw/kid\0x"
b events 1
b UNWATCH 0 "rw\0rel\0"
## another connection's writes fire this connection's watches
b WATCH 0 "/shared\0sh\0"
b events 1
c WRITE 0 "/shared\0from-c"
b events 1
c events
## tokens are arbitrary strings
b WATCH 0 "/tokens\0with spaces and / slashes\0"
b events 1
b WATCH 0 "/tokens\0\0"
b events 1
## watching the root sees everything
d WATCH 0 "/\0root\0"
d events 1
a WRITE 0 "/anything\0x"
d events 1
d UNWATCH 0 "/\0root\0"
## special paths
e WATCH 0 "@introduceDomain\0intro\0"
e events 1
e WATCH 0 "@releaseDomain\0rel\0"
e events 1
e WATCH 0 "@bogus\0x\0"
e events
e WRITE 0 "@introduceDomain\0x"
e events
e READ 0 "@introduceDomain\0"
## RESET_WATCHES drops every watch of the connection
e RESET_WATCHES 0 ""
a WRITE 0 "/w\0after-reset"
e events
e UNWATCH 0 "@introduceDomain\0intro\0"
## watches end with their connection
f WATCH 0 "/gone\0g\0"
f events 1
f close
a WRITE 0 "/gone\0x"
a events 1
