/*
 * atomic.h - files that are never half-written.
 *
 * hk_file_write writes a temporary file in the target's folder
 * (O_CREAT|O_EXCL|O_NOFOLLOW), fsyncs it, then renames it into place and
 * fsyncs the folder. With HK_WRITE_NOREPLACE the final step refuses to
 * replace an existing file (renameat2 RENAME_NOREPLACE), so nothing already
 * stored is ever lost: the caller gets HK_ERR_EXISTS and the target is as it
 * was. On a file system that takes no rename flags (exFAT or NTFS mounted
 * through FUSE: EINVAL) the target is claimed as an empty file with O_EXCL
 * and the temporary file renamed over it (a crash between the two leaves
 * that empty file, which no reader takes for the real one).
 */
#ifndef HK_ATOMIC_H
#define HK_ATOMIC_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#define HK_WRITE_NOREPLACE	0x01	/* fail with HK_ERR_EXISTS if present */

int hk_file_write(const char *path, const void *buf, size_t len, mode_t mode,
    int flags);
/* The same; *renamed is 1 once the file got into place, also when the call
 * then failed (its folder's fsync): for a caller that must not leave a
 * file it failed on behind (hanko-offline backup). */
int hk_file_write_placed(const char *path, const void *buf, size_t len,
    mode_t mode, int flags, int *renamed);
/* Remove from dir what an interrupted hk_file_write or hk_wfile left:
 * "<stem>.tmp-" and 16 hex digits (any stem when stem is NULL), regular
 * files only. For a caller that holds the lock of the files' writers.
 * Returns how many were removed (a folder that cannot be read: 0). */
size_t hk_tmp_sweep(const char *dir, const char *stem);
/* A DER file and its PEM twin, both or neither (either path may be NULL):
 * HK_ERR_EXISTS naming the path if either exists; each written as
 * hk_file_write with HK_WRITE_NOREPLACE; on a failure, what this call put
 * in place is removed again: the DER written first, and a file renamed
 * into place whose folder's fsync then failed (so a retry does not stop
 * at "exists"). */
int hk_file_write_pair(const char *der_path, const void *der, size_t der_len,
    const char *pem_path, const void *pem, size_t pem_len);

/*
 * The same for a file written piece by piece (too large to build in
 * memory): open makes the temporary file, write buffers (the first error
 * is kept and returned by every later call), commit fsyncs, renames into
 * place (refusing to replace with HK_WRITE_NOREPLACE) and fsyncs the
 * folder; abort removes the temporary file. After commit or abort the
 * structure holds nothing to free and no byte written (buf is wiped: it
 * may have held a secret); commit aborts on failure.
 */
struct hk_wfile {
	int fd;				/* the temporary file, or -1 */
	int flags;			/* HK_WRITE_NOREPLACE */
	int err;			/* first errno of a write */
	int renamed;			/* 1 once in place (also when the
					 * folder's fsync then failed) */
	char path[PATH_MAX];		/* where it goes */
	char tmp[PATH_MAX + 32];	/* "<path>.tmp-<16 hex>" */
	size_t len;			/* bytes in buf */
	unsigned char buf[1 << 16];
};

int hk_wfile_open(struct hk_wfile *wf, const char *path, mode_t mode,
    int flags);
int hk_wfile_write(struct hk_wfile *wf, const void *buf, size_t len);
int hk_wfile_commit(struct hk_wfile *wf);
void hk_wfile_abort(struct hk_wfile *wf);
/* Read a whole regular file (no symlink follow) of at most max bytes.
 * *buf is malloc'd with a NUL after the data; free it with free(). */
int hk_file_read(const char *path, size_t max, unsigned char **buf,
    size_t *len);
/* The same for a file already opened (fd, always closed; name for the
 * messages), e.g. with openat below a folder descriptor. */
int hk_fd_read(int fd, const char *name, size_t max, unsigned char **buf,
    size_t *len);
/* Create a folder that must not exist yet (mode 0700 for secrets). */
int hk_dir_create(const char *path, mode_t mode);
/* Make a new folder "<path>.<tag>-XXXXXX" beside path (mode 0700) for
 * work that is renamed into place or removed at the end; its name in buf. */
int hk_dir_temp_beside(const char *path, const char *tag, char *buf,
    size_t len);
/* Append one line to a file opened O_APPEND and fsync it. On failure the
 * file is cut back to its size before (the caller holds a lock that keeps
 * other appenders out), so a full disk leaves no part of a line. */
int hk_file_append(const char *path, const void *buf, size_t len, mode_t mode);
/* 1 if path exists (any type, no follow), else 0 (also when lstat fails
 * otherwise: hk_path_lookup where "not there" must be known). */
int hk_path_exists(const char *path);
/* 1 if path exists (no follow), 0 if it does not (ENOENT, ENOTDIR), else
 * HK_ERR_IO with the detail "cannot look up": a path whose look-up fails
 * is not taken for one that is not there. */
int hk_path_lookup(const char *path);
/* The folder path, made (hk_dir_create) unless it is there; a look-up that
 * fails is HK_ERR_IO ("cannot look up"). */
int hk_dir_ensure(const char *path, mode_t mode);
/* fsync the folder that holds path. On failure errno says why (the
 * open's or the fsync's; ENAMETOOLONG for a path over PATH_MAX); no
 * detail is set, so that a failure being cleaned up keeps its own. */
int hk_dir_sync(const char *path);
/* Remove path and, when it is a folder, everything below it, without a
 * shell and without following symbolic links (nftw FTW_PHYS|FTW_DEPTH).
 * A path that does not exist is 0. */
int hk_tree_remove(const char *path);
/* hk_tree_remove on the way out of a failure: the failure's detail is
 * kept, and a path that cannot be removed is said on stderr as
 * "<who>: could not remove <path>: <why>"; hk_tree_remove's result. */
int hk_tree_remove_after(const char *path, const char *who);
/*
 * A folder built at tmp moved to out (hk_dir_rename_noreplace: never
 * over anything; HK_ERR_EXISTS when out is there) and its entry made
 * durable (out's parent fsynced). When that fsync fails, out is removed
 * again, so that nothing stands there that is not durable and the next
 * run is not stopped by "already exists"; the error says which. *placed:
 * 1 once tmp is gone (moved), also on that failure.
 */
int hk_dir_place(const char *tmp, const char *out, int *placed);
/*
 * rename(2) of the folder tmp (made by the caller, beside dest) to dest,
 * never over anything: renameat2 RENAME_NOREPLACE, or, on a file system
 * that takes no rename flags (EINVAL: exFAT or NTFS mounted through FUSE,
 * as removable media often are), EEXIST when lstat finds dest, else a
 * plain rename: a folder renamed replaces no file (ENOTDIR) and no folder
 * holding anything (ENOTEMPTY), so what appears at dest in between loses
 * nothing. 0, or -1 with errno set.
 */
int hk_dir_rename_noreplace(const char *tmp, const char *dest);
/* 1 when a chmod that failed with errno e did so because the file system
 * keeps no mode per file (FAT and exFAT: EPERM for a caller other than the
 * mount's owner; a FUSE file system without chmod: ENOSYS, EOPNOTSUPP),
 * so that the mode of a folder written onto removable media may be left
 * as the mount gives it. */
int hk_mode_unkept(int e);

#endif
