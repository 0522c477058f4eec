#!/usr/bin/env python3
"""tests/fuzz/make_corpus.py: writes the seed corpus of every fuzz target.

    python3 tests/fuzz/make_corpus.py [OUT_DIR]     (default: tests/fuzz/corpus)

Each seed is a real message, encoded here from RFC 5531 (RPC), RFC 8881 and
RFC 7862 (NFSv4.1/4.2) by hand, small, one file per seed under
OUT_DIR/<target>/. The committed corpus is this script's output: rerun it
after changing a seed, never edit the files. The formats are the targets'
inputs (see the header comment of each tests/fuzz/<target>.c):
  fuzz_record       limit byte, chunk-count byte, chunk sizes, byte stream
  fuzz_rpc_call     one RPC record (CALL, or whatever a peer sends)
  fuzz_fattr4       a fattr4 (also read as one owner string)
  fuzz_cb_reply     the client's reply record to a CB_COMPOUND
  fuzz_compound     COMPOUND4args, with the placeholders of fuzz_compound.c
  fuzz_nfs4_decode  COMPOUND4args and CB_COMPOUND4res bodies
"""
import os
import struct
import sys

# ---- XDR ----------------------------------------------------------------


def u32(v):
    return struct.pack(">I", v & 0xFFFFFFFF)


def u64(v):
    return struct.pack(">Q", v)


def boolean(v):
    return u32(1 if v else 0)


def opaque(b):
    if isinstance(b, str):
        b = b.encode()
    return u32(len(b)) + b + b"\0" * ((4 - len(b) % 4) % 4)


def fixed(b):
    return b + b"\0" * ((4 - len(b) % 4) % 4)


def bitmap(*attrs):
    words = []
    for a in attrs:
        while len(words) <= a // 32:
            words.append(0)
        words[a // 32] |= 1 << (a % 32)
    return u32(len(words)) + b"".join(u32(w) for w in words)


def fattr(attrs):
    """attrs: list of (number, encoded value), in increasing number order."""
    return bitmap(*[n for n, _ in attrs]) + opaque(b"".join(v for _, v in attrs))


# ---- RPC (RFC 5531) -----------------------------------------------------

AUTH_NONE, AUTH_SYS, RPCSEC_GSS = 0, 1, 6


def authsys(uid=4242, gid=4242, gids=(4242,), name="fuzz", stamp=0):
    return u32(stamp) + opaque(name) + u32(uid) + u32(gid) + u32(len(gids)) + \
        b"".join(u32(g) for g in gids)


def call(xid, prog, vers, proc, args=b"", cred_flavor=AUTH_NONE, cred=b"",
         verf_flavor=AUTH_NONE, verf=b"", rpcvers=2):
    return u32(xid) + u32(0) + u32(rpcvers) + u32(prog) + u32(vers) + u32(proc) + \
        u32(cred_flavor) + opaque(cred) + u32(verf_flavor) + opaque(verf) + args


def accepted_reply(xid, accept_stat, body=b""):
    return u32(xid) + u32(1) + u32(0) + u32(AUTH_NONE) + opaque(b"") + u32(accept_stat) + body


def record(msg, frag=None):
    """Record marking: one last fragment, or fragments of frag bytes."""
    if frag is None:
        return u32(0x80000000 | len(msg)) + msg
    out = b""
    for i in range(0, len(msg), frag):
        piece = msg[i:i + frag]
        last = i + frag >= len(msg)
        out += u32((0x80000000 if last else 0) | len(piece)) + piece
    return out


# ---- NFSv4 (RFC 8881, RFC 7862) -----------------------------------------

# attributes
SUPPORTED_ATTRS, TYPE, CHANGE, SIZE, FSID, LEASE_TIME, FILEHANDLE, FILEID = 0, 1, 3, 4, 8, 10, 19, 20
MODE, NUMLINKS, OWNER, OWNER_GROUP, SPACE_USED = 33, 35, 36, 37, 45
TIME_ACCESS_SET, TIME_MODIFY, TIME_MODIFY_SET, MOUNTED_ON_FILEID = 48, 53, 54, 55
SUPPATTR_EXCLCREAT, CLONE_BLKSIZE = 75, 77

NFS4_OK, NFS4ERR_DELAY, NFS4ERR_BADSESSION = 0, 10008, 10052
NFS4ERR_SEQ_MISORDERED, NFS4ERR_RETRY_UNCACHED_REP = 10063, 10068

# the placeholders fuzz_compound.c replaces
SESSION = b"DAXNFS-FUZZ-SESS"
CLIENTID = b"FUZZCLID"
ROOT_FH = opaque(b"DAXNFS-FUZZ-RTFH")

NEXT = b"DAXNFS-FUZZ-NEXT"                     # between the compounds of one input
LAST_STATEID = b"DAXNFS-FUZZ-STID"             # the last stateid an earlier compound got
LAST_FH = opaque(b"DAXNFS-FUZZ-LSFH")          # the last handle GETFH returned

CURRENT_STATEID = u32(1) + b"\0" * 12          # RFC 8881 §16.2.3.1.2
ANON_STATEID = b"\0" * 16


def compound(ops, minor=1, tag=b""):
    return opaque(tag) + u32(minor) + u32(len(ops)) + b"".join(ops)


def op(num, args=b""):
    return u32(num) + args


def SEQUENCE(slot=0, seq=1, cachethis=False, session=SESSION):
    return op(53, session + u32(seq) + u32(slot) + u32(7) + boolean(cachethis))


def PUTROOTFH():
    return op(24)


def PUTFH(fh=ROOT_FH):
    return op(22, fh)


def GETFH():
    return op(10)


def SAVEFH():
    return op(32)


def RESTOREFH():
    return op(31)


def LOOKUP(name):
    return op(15, opaque(name))


def LOOKUPP():
    return op(16)


def GETATTR(*attrs):
    return op(9, bitmap(*attrs))


def ACCESS(bits=0x3F):
    return op(3, u32(bits))


def READDIR(attrs=(TYPE, FILEID), maxcount=4096):
    return op(26, u64(0) + b"\0" * 8 + u32(1024) + u32(maxcount) + bitmap(*attrs))


def createattrs_mode(mode=0o644):
    return fattr([(MODE, u32(mode))])


def OPEN(name, create=True, access=3, deny=0, owner=b"fuzz-owner", exclusive41=False):
    how = u32(0)   # OPEN4_NOCREATE
    if create:
        if exclusive41:   # EXCLUSIVE4_1: verifier + attributes
            how = u32(1) + u32(3) + b"fuzzverf" + createattrs_mode()
        else:             # UNCHECKED4 with a mode
            how = u32(1) + u32(0) + createattrs_mode()
    return op(18, u32(0) + u32(access) + u32(deny) + CLIENTID + opaque(owner) + how +
              u32(0) + opaque(name))   # CLAIM_NULL


def compounds(*cs):
    """Several COMPOUNDs in one input, sent one after the other."""
    return NEXT.join(cs)


def CLOSE(stateid=CURRENT_STATEID):
    return op(4, u32(0) + stateid)


def WRITE(data, offset=0, stateid=CURRENT_STATEID, stable=2):
    return op(38, stateid + u64(offset) + u32(stable) + opaque(data))


def READ(count=4096, offset=0, stateid=CURRENT_STATEID):
    return op(25, stateid + u64(offset) + u32(count))


def COMMIT():
    return op(5, u64(0) + u32(0))


def LOCK(offset=0, length=100, locktype=2, open_stateid=CURRENT_STATEID):   # WRITE_LT
    # a new lock owner, from an open stateid
    locker = boolean(True) + u32(0) + open_stateid + u32(0) + CLIENTID + opaque(b"fuzz-lock-owner")
    return op(12, u32(locktype) + boolean(False) + u64(offset) + u64(length) + locker)


def LOCKT(offset=0, length=100, locktype=2):
    return op(13, u32(locktype) + u64(offset) + u64(length) + CLIENTID + opaque(b"other-owner"))


def LOCKU(offset=0, length=100, locktype=2, stateid=CURRENT_STATEID):
    return op(14, u32(locktype) + u32(0) + stateid + u64(offset) + u64(length))


def OPEN_DOWNGRADE(access=1, deny=0):
    return op(21, CURRENT_STATEID + u32(0) + u32(access) + u32(deny))


def SETATTR(attrs, stateid=ANON_STATEID):
    return op(34, stateid + fattr(attrs))


def VERIFY(attrs):
    return op(37, fattr(attrs))


def NVERIFY(attrs):
    return op(17, fattr(attrs))


def CREATE_DIR(name):
    return op(6, u32(2) + opaque(name) + createattrs_mode(0o755))   # NF4DIR


def CREATE_SYMLINK(name, target):
    return op(6, u32(5) + opaque(target) + opaque(name) + createattrs_mode(0o777))   # NF4LNK


def READLINK():
    return op(27)


def REMOVE(name):
    return op(28, opaque(name))


def RENAME(old, new):
    return op(29, opaque(old) + opaque(new))


def LINK(name):
    return op(11, opaque(name))


def SECINFO(name):
    return op(33, opaque(name))


def SECINFO_NO_NAME(style=0):
    return op(52, u32(style))


def TEST_STATEID(*stateids):
    return op(55, u32(len(stateids)) + b"".join(stateids))


def FREE_STATEID(stateid=CURRENT_STATEID):
    return op(45, stateid)


def DELEGRETURN(stateid=CURRENT_STATEID):
    return op(8, stateid)


def RECLAIM_COMPLETE(one_fs=False):
    return op(58, boolean(one_fs))


def DESTROY_SESSION():
    return op(44, SESSION)


def DESTROY_CLIENTID():
    return op(57, CLIENTID)


def BIND_CONN_TO_SESSION(direction=3):   # CDFC4_FORE_OR_BOTH
    return op(41, SESSION + u32(direction) + boolean(False))


def BACKCHANNEL_CTL():
    return op(40, u32(0x40000000) + u32(1) + u32(AUTH_NONE))


def EXCHANGE_ID(owner=b"fuzz-second-client", flags=0):
    return op(42, b"verifier" + opaque(owner) + u32(flags) + u32(0) + u32(0))   # SP4_NONE, no impl id


def chan_attrs(maxreq=1049600, maxops=32, slots=8):
    return u32(0) + u32(maxreq) + u32(maxreq) + u32(65536) + u32(maxops) + u32(slots) + u32(0)


def CREATE_SESSION(seq=1, flags=0x2):   # CREATE_SESSION4_FLAG_CONN_BACK_CHAN
    return op(43, CLIENTID + u32(seq) + u32(flags) + chan_attrs() + chan_attrs(4096, 8, 1) +
              u32(0x40000000) + u32(1) + u32(AUTH_NONE))


def SEEK(offset=0, what=0):   # NFSv4.2, not served yet
    return op(69, CURRENT_STATEID + u64(offset) + u32(what))


# ---- seeds ---------------------------------------------------------------


def seeds_record():
    null_call = call(1, 100003, 4, 0)
    compound_call = call(2, 100003, 4, 1, compound([SEQUENCE(), PUTROOTFH(), GETFH()]),
                         AUTH_SYS, authsys())

    def rec_input(limit, sizes, stream):
        return bytes([limit, len(sizes)]) + bytes(sizes) + stream

    return {
        "one-call": rec_input(9, [], record(null_call)),
        "two-calls-odd-chunks": rec_input(9, [1, 3, 7, 0, 64], record(null_call) + record(compound_call)),
        "fragments-of-12": rec_input(9, [5, 200], record(compound_call, frag=12)),
        "empty-fragments": rec_input(7, [2], u32(0) + u32(0x80000000) + u32(4) + b"abcd" +
                                     u32(0x80000000) + record(null_call)),
        "over-limit": rec_input(3, [1], record(b"12345678")),
        "cut-mid-record": rec_input(9, [], u32(0x80000000 | 100) + b"ten bytes!"),
        "header-split": rec_input(8, [1, 1, 1, 1, 32], record(null_call) * 3),
    }


def seeds_rpc_call():
    return {
        "nfs-null": call(1, 100003, 4, 0),
        "nfs-compound-authsys": call(2, 100003, 4, 1, compound([SEQUENCE(), PUTROOTFH(), GETFH()]),
                                     AUTH_SYS, authsys(gids=(4242, 100, 1000))),
        "test-echo": call(3, 400100, 1, 1, u32(41) + opaque("hello"), AUTH_SYS, authsys(0, 0, ())),
        "test-tail": call(4, 400100, 2, 2, b"zero-copy tail!!", AUTH_NONE),
        "test-void": call(5, 400100, 2, 0, b"", AUTH_SYS, authsys(name="a" * 255)),
        "prog-mismatch": call(6, 400100, 9, 0),
        "rpc-mismatch": call(7, 400100, 1, 0, rpcvers=3),
        "too-many-gids": call(8, 400100, 1, 0, b"", AUTH_SYS, authsys(gids=tuple(range(17)))),
        "gss-cred": call(9, 400100, 1, 0, b"", RPCSEC_GSS, u32(1) + u32(0) + u32(1) + u32(0) + opaque(b"ctx")),
        "bad-verifier": call(10, 400100, 1, 0, b"", AUTH_NONE, b"", AUTH_SYS, authsys()),
        "reply": accepted_reply(11, 0, u32(0)),
        "authsys-body-alone": authsys(1000, 1000, (1000, 27, 44), "client.example"),
    }


def owner(s):
    return opaque(s)


def seeds_fattr4():
    return {
        "mode": fattr([(MODE, u32(0o644))]),
        "size-mode": fattr([(SIZE, u64(4096)), (MODE, u32(0o600))]),
        "owners-numeric": fattr([(OWNER, owner("4242")), (OWNER_GROUP, owner("4242"))]),
        "owners-names": fattr([(OWNER, owner("root@fuzz.example")),
                               (OWNER_GROUP, owner("nogroup@FUZZ.EXAMPLE"))]),
        "owner-wrong-domain": fattr([(OWNER, owner("root@elsewhere.example"))]),
        "times": fattr([(TIME_ACCESS_SET, u32(1) + u64(1700000000) + u32(5)),   # client time
                        (TIME_MODIFY_SET, u32(0))]),                            # server time
        "verify-like": fattr([(TYPE, u32(2)), (LEASE_TIME, u32(90)), (MODE, u32(0o755)),
                              (NUMLINKS, u32(2)), (OWNER, owner("4242"))]),
        "read-only-attr": fattr([(FILEID, u64(12))]),
        "beyond-known": bitmap(0, 100) + opaque(b"\0" * 8),
        "v42-clone-blksize": fattr([(CLONE_BLKSIZE, u32(4096))]),
        "owner-string": b"nobody@fuzz.example",
    }


def cb_compound_res(status, results, tag=b""):
    return u32(status) + opaque(tag) + u32(len(results)) + b"".join(results)


def cb_sequence_ok():
    return u32(11) + u32(NFS4_OK) + b"fuzz-session-id!" + u32(7) + u32(0) + u32(0) + u32(0)


def cb_sequence_err(status):
    return u32(11) + u32(status)


def cb_recall(status=NFS4_OK):
    return u32(4) + u32(status)


def seeds_cb_reply():
    def ok(body):
        return accepted_reply(0, 0, body)

    return {
        "recall-done": ok(cb_compound_res(NFS4_OK, [cb_sequence_ok(), cb_recall()])),
        "seq-only": ok(cb_compound_res(NFS4_OK, [cb_sequence_ok()])),
        "delay": ok(cb_compound_res(NFS4ERR_DELAY, [cb_sequence_err(NFS4ERR_DELAY)])),
        "misordered": ok(cb_compound_res(NFS4ERR_SEQ_MISORDERED, [cb_sequence_err(NFS4ERR_SEQ_MISORDERED)])),
        "uncached": ok(cb_compound_res(NFS4ERR_RETRY_UNCACHED_REP,
                                       [cb_sequence_err(NFS4ERR_RETRY_UNCACHED_REP)])),
        "badsession": ok(cb_compound_res(NFS4ERR_BADSESSION, [cb_sequence_err(NFS4ERR_BADSESSION)])),
        "recall-failed": ok(cb_compound_res(10004, [cb_sequence_ok(), cb_recall(10004)], b"tag")),
        "no-sequence": ok(cb_compound_res(NFS4_OK, [cb_recall()])),
        "prog-unavail": accepted_reply(0, 1),
        "auth-error": u32(0) + u32(1) + u32(1) + u32(1) + u32(1),
    }


def seeds_compound():
    a = [PUTROOTFH(), LOOKUP("a")]
    return {
        "getattr-root": compound([SEQUENCE(), PUTROOTFH(), GETATTR(SUPPORTED_ATTRS, TYPE, FSID, FILEHANDLE),
                                  READDIR(), GETFH()]),
        "open-write-read-close": compound([SEQUENCE()] + a + [
            OPEN("f"), WRITE(b"hello, daxnfs"), READ(64), COMMIT(),
            GETATTR(SIZE, CHANGE, SPACE_USED), CLOSE()]),
        "dirs": compound([SEQUENCE(slot=1), PUTFH(), CREATE_DIR("d"), PUTFH(), SAVEFH(), RENAME("d", "e"),
                          LOOKUP("e"), GETFH(), LOOKUPP(), REMOVE("e"), READDIR()]),
        "locks": compound([SEQUENCE()] + a + [OPEN("l", access=1), PUTFH(), OPEN("l", create=False),
                                              OPEN_DOWNGRADE(1), LOCK(0, 100, 1),
                                              LOCKT(50, 10, 1), LOCKT(200, 10), LOCKU(0, 100, 1),
                                              FREE_STATEID()]),
        "setattr-verify": compound([SEQUENCE(), PUTFH(), OPEN("s"),
                                    SETATTR([(SIZE, u64(10)), (MODE, u32(0o640))], CURRENT_STATEID),
                                    VERIFY([(SIZE, u64(10))]), NVERIFY([(MODE, u32(0o600))]),
                                    ACCESS(), CLOSE()]),
        "symlink-link": compound([SEQUENCE(), PUTFH(), CREATE_SYMLINK("sl", "target"), READLINK(),
                                  PUTFH(), OPEN("t"), SAVEFH(), PUTFH(), LINK("t2"), SECINFO("t2"),
                                  PUTFH(), SECINFO_NO_NAME()]),
        "exclusive-create": compound([SEQUENCE(), PUTFH(), OPEN("x", exclusive41=True),
                                      GETATTR(SUPPATTR_EXCLCREAT, OWNER, OWNER_GROUP), CLOSE()]),
        "stateids": compound([SEQUENCE(), TEST_STATEID(CURRENT_STATEID, ANON_STATEID, b"\xff" * 16),
                              PUTFH(), DELEGRETURN(ANON_STATEID), FREE_STATEID(ANON_STATEID)]),
        "read-only-export": compound([SEQUENCE(), PUTROOTFH(), LOOKUP("b"), LOOKUP("c"), OPEN("no"),
                                      CREATE_DIR("no")]),
        "cachethis-sequence": compound([SEQUENCE(slot=2, cachethis=True), PUTROOTFH(), GETFH()]),
        "minor-2": compound([SEQUENCE(), PUTFH(), OPEN("v42"), GETATTR(CLONE_BLKSIZE), SEEK()], minor=2),
        "minor-0": compound([PUTROOTFH()], minor=0),
        "no-sequence": compound([PUTROOTFH(), GETFH()]),
        "destroy-session": compound([DESTROY_SESSION()]),
        "destroy-clientid": compound([DESTROY_CLIENTID()]),
        "bind-conn": compound([BIND_CONN_TO_SESSION()]),
        "backchannel": compound([SEQUENCE(), BACKCHANNEL_CTL()]),
        "exchange-id": compound([EXCHANGE_ID()]),
        "create-session": compound([CREATE_SESSION()]),
        "reclaim-complete-again": compound([SEQUENCE(), RECLAIM_COMPLETE()]),
        # several compounds in one input: state carried from one to the next
        "replay-cached": compounds(*[compound([SEQUENCE(slot=3, cachethis=True), PUTROOTFH(),
                                               GETATTR(TYPE, FILEID), GETFH()])] * 2),
        "replay-uncached": compounds(*[compound([SEQUENCE(slot=3), PUTROOTFH(), GETFH()])] * 2),
        "sequence-ids": compounds(compound([SEQUENCE(seq=1)]), compound([SEQUENCE(seq=2)]),
                                  compound([SEQUENCE(seq=4)]), compound([SEQUENCE(seq=1)]),
                                  compound([SEQUENCE(slot=9)])),
        "open-lock-close": compounds(
            compound([SEQUENCE(seq=1), PUTFH(), OPEN("f"), GETFH()]),
            compound([SEQUENCE(seq=2), PUTFH(LAST_FH), LOCK(0, 10, open_stateid=LAST_STATEID),
                      WRITE(b"x" * 10, stateid=LAST_STATEID)]),
            compound([SEQUENCE(seq=3), PUTFH(LAST_FH), LOCKU(0, 10, stateid=LAST_STATEID),
                      FREE_STATEID()]),
            compound([SEQUENCE(seq=4), PUTFH(), OPEN("f", create=False), CLOSE()]),
            compound([SEQUENCE(seq=5), TEST_STATEID(LAST_STATEID), PUTFH(LAST_FH),
                      READ(10, stateid=LAST_STATEID)])),
        "destroy-then-use": compounds(compound([DESTROY_SESSION()]), compound([SEQUENCE()]),
                                      compound([DESTROY_CLIENTID()])),
    }


def seeds_nfs4_decode():
    out = {}
    for name, data in seeds_compound().items():
        out["compound-" + name] = data
    for name in ("recall-done", "delay", "no-sequence"):
        out["cb-res-" + name] = seeds_cb_reply()[name][24:]   # after the accepted-reply header
    return out


# ---- fuzz_rpc_rdma_hdr: RPC-over-RDMA v1 messages (RFC 8166 §4.3) ----

RDMA_MSG, RDMA_NOMSG, RDMA_MSGP, RDMA_DONE, RDMA_ERROR = 0, 1, 2, 3, 4


def rdma_seg(handle, length, offset):
    return u32(handle) + u32(length) + u64(offset)


def rdma_read_seg(pos, handle, length, offset):
    return u32(1) + u32(pos) + rdma_seg(handle, length, offset)


def rdma_chunk(*segs):
    return u32(1) + u32(len(segs)) + b"".join(segs)


def rdma_hdr(xid, proc, reads=b"", writes=b"", reply=None, vers=1, credits=32):
    return (u32(xid) + u32(vers) + u32(credits) + u32(proc) + reads + u32(0) + writes + u32(0) +
            (reply if reply is not None else u32(0)))


def rdma_rpc_call(xid, proc=0, args=b""):
    return call(xid, 100003, 4, proc, args)


def seeds_rpc_rdma_hdr():
    write_args = b"W" * 32          # the part of a WRITE call around the data item
    return {
        "plain-msg": rdma_hdr(1, RDMA_MSG) + rdma_rpc_call(1),
        "write-data-in-read-chunk": rdma_hdr(2, RDMA_MSG, reads=rdma_read_seg(48, 0x11, 4096, 0x10000) +
                                             rdma_read_seg(48, 0x12, 1001, 0x20000)) +
                                    rdma_rpc_call(2, 1, write_args),
        "two-data-items-odd": rdma_hdr(3, RDMA_MSG, reads=rdma_read_seg(44, 0x21, 5, 0x1000) +
                                       rdma_read_seg(52, 0x22, 3, 0x2000)) +
                              rdma_rpc_call(3, 1, b"x" * 16),
        "read-write-chunk-reply-chunk": rdma_hdr(4, RDMA_MSG,
                                                 writes=rdma_chunk(rdma_seg(0x31, 65536, 0x30000),
                                                                   rdma_seg(0x32, 65536, 0x40000)),
                                                 reply=rdma_chunk(rdma_seg(0x33, 8192, 0x50000))) +
                                        rdma_rpc_call(4, 1),
        "long-call": rdma_hdr(5, RDMA_NOMSG, reads=rdma_read_seg(0, 0x41, 3000, 0x60000) +
                              rdma_read_seg(0, 0x42, 2000, 0x70000),
                              reply=rdma_chunk(rdma_seg(0x43, 4096, 0x80000))),
        "long-call-data-item": rdma_hdr(6, RDMA_NOMSG, reads=rdma_read_seg(0, 0x51, 200, 0x1000) +
                                        rdma_read_seg(120, 0x52, 70, 0x2000)),
        "version-2": u32(7) + u32(2) + u32(32) + u32(RDMA_MSG) + u32(0) * 3 + rdma_rpc_call(7),
        "obsolete-msgp": u32(8) + u32(1) + u32(32) + u32(RDMA_MSGP) + u32(4) + u32(1024) + u32(0) * 3 +
                         rdma_rpc_call(8),
        "obsolete-done": u32(9) + u32(1) + u32(32) + u32(RDMA_DONE),
        "peer-err-vers": u32(10) + u32(1) + u32(1) + u32(RDMA_ERROR) + u32(1) + u32(1) + u32(1),
        "peer-err-chunk": u32(11) + u32(1) + u32(1) + u32(RDMA_ERROR) + u32(2),
        "cm-private-data": bytes([0xf6, 0xab, 0x0e, 0x18, 1, 1, 3, 3]) + bytes(48),
    }


TARGETS = {
    "fuzz_record": seeds_record,
    "fuzz_rpc_call": seeds_rpc_call,
    "fuzz_fattr4": seeds_fattr4,
    "fuzz_cb_reply": seeds_cb_reply,
    "fuzz_compound": seeds_compound,
    "fuzz_nfs4_decode": seeds_nfs4_decode,
    "fuzz_rpc_rdma_hdr": seeds_rpc_rdma_hdr,
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    for target, make in TARGETS.items():
        d = os.path.join(out, target)
        os.makedirs(d, exist_ok=True)
        for name in os.listdir(d):
            if name.startswith("seed-"):
                os.unlink(os.path.join(d, name))
        total = 0
        for name, data in make().items():
            with open(os.path.join(d, "seed-" + name), "wb") as f:
                f.write(data)
            total += len(data)
        print("%s: %d seeds, %d bytes" % (target, len(make()), total))


if __name__ == "__main__":
    main()
