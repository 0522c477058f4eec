/*
 * server/nfs4_errno.c: the one errno -> nfsstat4 table.
 *
 * The backend reports -errno; every handler translates through here so that
 * the same failure gives the same status everywhere. Codes follow RFC 8881
 * §15.1; NFSv4.0-only codes (RESOURCE) are not used.
 * Calls: nothing. Called by: server/ handlers.
 */
#include <errno.h>

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
