#!/usr/bin/env python3
"""Writes a git fast-import stream of a three-commit store history, the
wide directory /d stored flat (flat) or fanned out as
store/git/fanout.h specifies (fan), so that a reader can be checked
against the flat layout every version reads.
usage: mkfan.py flat|fan BOOT-ID > stream"""
import hashlib
import sys

fan = sys.argv[1] == "fan"
boot = sys.argv[2]
out = sys.stdout.buffer


def bucket(name, level):
    """Hex digit `level` of SHA-1(name): the bucket at that level."""
    return hashlib.sha1(name.encode()).hexdigest()[level]


def put(path, data):
    data = data.encode()
    out.write(b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(),
                                                     len(data), data))


def node(gitdir, value, perms):
    pre = gitdir + "/" if gitdir else ""
    put(pre + ".value", value)
    put(pre + ".perms", "".join(p + "\n" for p in perms.split(",")))


def commit(seq, summary, dom, ops, t, fill):
    msg = summary + "\n\n"
    if dom is not None:
        msg += "Xenstore-Domain: %d\nXenstore-Connection: 1\n" \
               "Xenstore-Transaction: 0\n" % dom
    msg += "Xenstore-Seq: %d\nXenstore-Boot: %s\n" % (seq, boot)
    msg += "".join("Xenstore-Op: %s\n" % o for o in ops)
    who = "dom%d <dom%d@xenstore>" % (dom, dom) if dom is not None \
        else "xenstored <xenstored@xenstore>"
    m = msg.encode()
    # a commit's parent is the branch's previous commit of the stream
    out.write(b"commit refs/heads/main\nmark :%d\nauthor %s %d +0000\n"
              b"committer xenstored <xenstored@xenstore> %d +0000\n"
              b"data %d\n%s\ndeleteall\n" % (seq + 1, who.encode(), t, t,
                                               len(m), m))
    node("", "", "n0")
    fill()


def wide(n):
    """/d with children k0..k<n-1>, created last first; k7 has a child."""
    names = ["k%d" % i for i in range(n)]
    depth = 0 if not fan or n < 256 else 1 if n < 4096 else 2
    node("d", "dv", "n0,r2")
    order = list(reversed(names))
    put("d/.order", "".join(x + "\n" for x in order))
    for i, x in enumerate(names):
        g = "d/" + "".join("." + bucket(x, lv) + "/" for lv in range(depth))
        node(g + x, "v%d" % i, "n%d,r%d" % (i % 3, i % 7))
        if x == "k7":
            node(g + x + "/sub", "deep", "b7")


commit(0, "boot %s: initial tree" % boot, None, [], 1763990000,
       lambda: wide(3))
commit(1, "write /d/k299 and 296 more", 0,
       ["write /d/k%d" % i for i in range(3, 300)], 1763990100,
       lambda: wide(300))
commit(2, "write /d/k4099 and 3799 more", 0,
       ["write /d/k%d" % i for i in range(300, 4100)], 1763990200,
       lambda: wide(4100))
out.write(b"tag boot/%s\nfrom :1\ntagger xenstored "
          b"<xenstored@xenstore> 1763990000 +0000\ndata 0\n\n" % boot.encode())
