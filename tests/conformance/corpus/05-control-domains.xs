# CONTROL commands, domain messages for domains that do not exist (no
# guest can connect over a socket), and unknown message types.
## CONTROL (help and memreport texts are implementation details: hidden)
a CONTROL 0 "check\0"
a CONTROL 0 "print\0hello\0"
a CONTROL 0 "print\0"
a CONTROL 0 "log\0on\0"
a CONTROL 0 "log\0off\0"
a CONTROL 0 "log\0maybe\0"
a CONTROL 0 "quota\0"
a CONTROL 0 "quota\0" "0\0"
a CONTROL 0 "quota\0" "99\0"
a CONTROL 0 "help\0" norm=text
a CONTROL 0 "\0" norm=text
a CONTROL 0 "nosuchcommand\0"
a CONTROL 0 ""
## GET_DOMAIN_PATH and IS_DOMAIN_INTRODUCED
a GET_DOMAIN_PATH 0 "0\0"
a GET_DOMAIN_PATH 0 "32752\0"
a GET_DOMAIN_PATH 0 "-1\0"
a IS_DOMAIN_INTRODUCED 0 "0\0"
a IS_DOMAIN_INTRODUCED 0 "9\0"
a IS_DOMAIN_INTRODUCED 0 "x\0"
## INTRODUCE: bad arguments
a INTRODUCE 0 "\0"
a INTRODUCE 0 "5\0"
a INTRODUCE 0 "5\0" "4096\0"
## RELEASE, RESUME, SET_TARGET on domains never introduced
a RELEASE 0 "9\0"
a RELEASE 0 "0\0"
a RELEASE 0 ""
a RESUME 0 "9\0"
a RESUME 0 "0\0"
a RESUME 0 ""
a SET_TARGET 0 "9\0" "8\0"
a SET_TARGET 0 "9\0"
a SET_TARGET 0 ""
## RESET_WATCHES with and without payload
a RESET_WATCHES 0 ""
a RESET_WATCHES 0 "\0"
## message types that do not exist (20 was RESTRICT, now removed)
a RESTRICT 0 "1\0"
a 27 0 ""
a 28 0 "/\0"
a 100 0 ""
a 0xffff 0 ""
a 0xffffffff 0 ""
a ERROR 0 "EINVAL\0"
a WATCH_EVENT 0 "/a\0tok\0"
## the connection still works after all of the above
a READ 0 "/tool\0"
