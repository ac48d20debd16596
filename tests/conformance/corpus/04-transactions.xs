# Transactions: own writes, isolation, commit and abort, conflicts over
# two connections, events at commit. Transaction ids are captured into
# variables ($t1...) because their values vary.
a WRITE 0 "/t/x\0base"
a WRITE 0 "/t/y\0base"
## a transaction sees its own writes; others do not until commit
a TRANSACTION_START 0 "\0" -> $t1
a READ $t1 "/t/x\0"
a WRITE $t1 "/t/x\0in-tx"
a WRITE $t1 "/t/new\0created"
a READ $t1 "/t/x\0"
a READ 0 "/t/x\0"
b READ 0 "/t/x\0"
b READ 0 "/t/new\0"
a DIRECTORY $t1 "/t\0"
a DIRECTORY 0 "/t\0"
a TRANSACTION_END $t1 "T\0"
b READ 0 "/t/x\0"
b READ 0 "/t/new\0"
## abort discards
a TRANSACTION_START 0 "\0" -> $t2
a WRITE $t2 "/t/x\0aborted"
a RM $t2 "/t/y\0"
a READ $t2 "/t/y\0"
a TRANSACTION_END $t2 "F\0"
a READ 0 "/t/x\0"
a READ 0 "/t/y\0"
a TRANSACTION_END $t2 "T\0"
## EAGAIN: a node the transaction read was changed by another connection
a TRANSACTION_START 0 "\0" -> $t3
a READ $t3 "/t/x\0"
b WRITE 0 "/t/x\0changed-by-b"
a WRITE $t3 "/t/y\0from-t3"
a TRANSACTION_END $t3 "T\0"
a READ 0 "/t/y\0"
## retry succeeds
a TRANSACTION_START 0 "\0" -> $t4
a READ $t4 "/t/x\0"
a WRITE $t4 "/t/y\0from-t4"
a TRANSACTION_END $t4 "T\0"
a READ 0 "/t/y\0"
## two transactions writing the same node
a TRANSACTION_START 0 "\0" -> $t5
b TRANSACTION_START 0 "\0" -> $t6
a WRITE $t5 "/t/z\0from-t5"
b WRITE $t6 "/t/z\0from-t6"
a TRANSACTION_END $t5 "T\0"
b TRANSACTION_END $t6 "T\0"
a READ 0 "/t/z\0"
## a transaction that read a node deleted meanwhile
a TRANSACTION_START 0 "\0" -> $t7
a READ $t7 "/t/z\0"
b RM 0 "/t/z\0"
a TRANSACTION_END $t7 "T\0"
## a transaction that created a node also created outside
a TRANSACTION_START 0 "\0" -> $t8
a WRITE $t8 "/t/both\0from-t8"
b WRITE 0 "/t/both\0from-b"
a TRANSACTION_END $t8 "T\0"
a READ 0 "/t/both\0"
## watch events fire at commit, not before, and not on abort
c WATCH 0 "/t\0tw\0"
c events 1
a TRANSACTION_START 0 "\0" -> $t9
a WRITE $t9 "/t/x\0ev1"
a WRITE $t9 "/t/q/r\0ev2"
c events
a TRANSACTION_END $t9 "T\0"
c events 2
a TRANSACTION_START 0 "\0" -> $t10
a WRITE $t10 "/t/x\0never"
a TRANSACTION_END $t10 "F\0"
c events
a TRANSACTION_START 0 "\0" -> $t11
a RM $t11 "/t/q\0"
a TRANSACTION_END $t11 "T\0"
c events 1
## transaction ids belong to their connection
a TRANSACTION_START 0 "\0" -> $t12
b READ $t12 "/t/x\0"
b TRANSACTION_END $t12 "T\0"
a TRANSACTION_END $t12 "T\0"
## bad arguments
a TRANSACTION_START 0 "\0" -> $t13
a TRANSACTION_END $t13 "X\0"
a TRANSACTION_END $t13 "\0"
a TRANSACTION_END $t13 ""
a TRANSACTION_END $t13 "TT\0"
a TRANSACTION_START $t13 "\0"
a TRANSACTION_END $t13 "F\0"
a TRANSACTION_END 0 "T\0"
## operations inside a transaction
a TRANSACTION_START 0 "\0" -> $t14
a MKDIR $t14 "/t/mk\0"
a SET_PERMS $t14 "/t/mk\0n0\0r2\0"
a GET_PERMS $t14 "/t/mk\0"
a GET_PERMS 0 "/t/mk\0"
a GET_DOMAIN_PATH $t14 "3\0"
a WATCH $t14 "/t/mk\0intx\0"
a events 1
a UNWATCH $t14 "/t/mk\0intx\0"
a TRANSACTION_END $t14 "T\0"
c events 1
a GET_PERMS 0 "/t/mk\0"
## a transaction left open when its connection closes is discarded
d TRANSACTION_START 0 "\0" -> $t15
d WRITE $t15 "/t/orphan\0x"
d close
a READ 0 "/t/orphan\0"
c UNWATCH 0 "/t\0tw\0"
