# Message types newer than Debian's 4.17 cxenstored (it answers ENOSYS):
# GET/SET_FEATURE and GET/SET_QUOTA. We follow the newest
# docs/misc/xenstore.txt instead; 08-newer-protocol.override holds the
# replies we expect and says why.
a GET_FEATURE 0 "\0"
a GET_FEATURE 0 ""
a GET_FEATURE 0 "9\0"
a SET_FEATURE 0 "9\0" "1\0"
a SET_FEATURE 0 "9\0"
a GET_QUOTA 0 "nodes\0"
a GET_QUOTA 0 "no-such-quota\0"
a SET_QUOTA 0 "nodes\0" "2000\0"
a GET_QUOTA 0 "nodes\0" req=2
a SET_QUOTA 0 "nodes\0"
a SET_QUOTA 0 "nodes\0" "many\0"
