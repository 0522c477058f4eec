/*
 * server/nfs4_errno.c: the one errno -> nfsstat4 table.
 *
 * The backend reports -errno; every handler translates through here so that
 * the same failure gives the same status everywhere. Codes follow RFC 8881
 * §15.1; NFSv4.0-only codes (RESOURCE) are not used.
 * Calls: nothing. Called by: server/ handlers.
 */
#include <errno.h>
#include <stdio.h>

#include "server/nfs4_attr.h"

nfsstat4 nfs4_errno_to_status(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:            return NFS4_OK;
	case EPERM:        return NFS4ERR_PERM;
	case ENOENT:       return NFS4ERR_NOENT;
	case EIO:          return NFS4ERR_IO;
	case ENXIO:        return NFS4ERR_NXIO;
	case ENODEV:       return NFS4ERR_NXIO;
	case EACCES:       return NFS4ERR_ACCESS;
	case EEXIST:       return NFS4ERR_EXIST;
	case EXDEV:        return NFS4ERR_XDEV;
	case ENOTDIR:      return NFS4ERR_NOTDIR;
	case EISDIR:       return NFS4ERR_ISDIR;
	case EINVAL:       return NFS4ERR_INVAL;
	case EFBIG:        return NFS4ERR_FBIG;
	case ENOSPC:       return NFS4ERR_NOSPC;
	case EROFS:        return NFS4ERR_ROFS;
	case EMLINK:       return NFS4ERR_MLINK;
	case ENAMETOOLONG: return NFS4ERR_NAMETOOLONG;
	case ENOTEMPTY:    return NFS4ERR_NOTEMPTY;
	case EDQUOT:       return NFS4ERR_DQUOT;
	case ESTALE:       return NFS4ERR_STALE;
	case EBADF:        return NFS4ERR_BADHANDLE;
	case EOPNOTSUPP:   return NFS4ERR_NOTSUPP;
#if ENOTSUP != EOPNOTSUPP
	case ENOTSUP:      return NFS4ERR_NOTSUPP;
#endif
	case ENOSYS:       return NFS4ERR_NOTSUPP;
	case ELOOP:        return NFS4ERR_SYMLINK;   /* a symlink where a directory was needed */
	case EAGAIN:       return NFS4ERR_DELAY;
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:  return NFS4ERR_DELAY;
#endif
	case EINTR:        return NFS4ERR_DELAY;
	case EBUSY:        return NFS4ERR_DELAY;
	case ETIMEDOUT:    return NFS4ERR_DELAY;
	case ETXTBSY:      return NFS4ERR_FILE_OPEN;
	case EDEADLK:      return NFS4ERR_DEADLOCK;
	case EOVERFLOW:    return NFS4ERR_INVAL;
	case ERANGE:       return NFS4ERR_INVAL;
	case E2BIG:        return NFS4ERR_TOOSMALL;
	default:           return NFS4ERR_SERVERFAULT;   /* ENOMEM and anything unexpected */
	}
}

const char *nfs4_status_name(nfsstat4 st, char *buf, size_t cap)
{
	switch (st) {
	case NFS4_OK:                    return "NFS4_OK";
	case NFS4ERR_DELAY:              return "NFS4ERR_DELAY";
	case NFS4ERR_BADSESSION:         return "NFS4ERR_BADSESSION";
	case NFS4ERR_BADSLOT:            return "NFS4ERR_BADSLOT";
	case NFS4ERR_SEQ_MISORDERED:     return "NFS4ERR_SEQ_MISORDERED";
	case NFS4ERR_RETRY_UNCACHED_REP: return "NFS4ERR_RETRY_UNCACHED_REP";
	case NFS4ERR_SEQ_FALSE_RETRY:    return "NFS4ERR_SEQ_FALSE_RETRY";
	case NFS4ERR_MINOR_VERS_MISMATCH: return "NFS4ERR_MINOR_VERS_MISMATCH";
	case NFS4ERR_SERVERFAULT:        return "NFS4ERR_SERVERFAULT";
	case NFS4ERR_NOTSUPP:            return "NFS4ERR_NOTSUPP";
	case NFS4ERR_OP_ILLEGAL:         return "NFS4ERR_OP_ILLEGAL";
	case NFS4ERR_BADXDR:             return "NFS4ERR_BADXDR";
	case NFS4ERR_RESOURCE:           return "NFS4ERR_RESOURCE";
	case NFS4ERR_REP_TOO_BIG:        return "NFS4ERR_REP_TOO_BIG";
	case NFS4ERR_TOO_MANY_OPS:       return "NFS4ERR_TOO_MANY_OPS";
	case NFS4ERR_BAD_STATEID:        return "NFS4ERR_BAD_STATEID";
	case NFS4ERR_NOMATCHING_LAYOUT:  return "NFS4ERR_NOMATCHING_LAYOUT";
	default:
		snprintf(buf, cap, "NFS4ERR_#%u", (unsigned)st);
		return buf;
	}
}
