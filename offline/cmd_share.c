/*
 * cmd_share.c - "hanko-offline share inspect FILE": what a share file says
 * about itself (set, index, threshold, holder) without its passphrase, so a
 * key manager can check their medium (CPS 6-2-1-2), and the file's SHA-256,
 * which the rotate-shares manifest (new-shares.txt) lists for each share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "atomic.h"
#include "err.h"
#include "hex.h"
#include "offline.h"
#include "quorum.h"

int
cmd_share(int argc, char **argv)
{
	struct hk_quorum_share_info info;
	char setid[2 * HK_QUORUM_ID_LEN + 1];
	char hex[2 * crypto_hash_sha256_BYTES + 1];
	unsigned char dgst[crypto_hash_sha256_BYTES], *buf = NULL;
	size_t len = 0;
	int r;

	if ((argc == 2 || argc == 3) &&
	    strcmp(argv[argc - 1], "--help") == 0) {
		puts("usage: hanko-offline share inspect FILE");
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "inspect") != 0) {
		hk_err_set("usage: hanko-offline share inspect FILE");
		return HK_ERR_USAGE;
	}
	if ((r = hk_quorum_share_info(argv[2], &info)) != 0)
		return r;
	/* The bytes just checked (a share is at most 8 KiB, as the check
	 * allows): their SHA-256, as sha256sum and new-shares.txt give it. */
	if ((r = hk_file_read(argv[2], 8192, &buf, &len)) != 0)
		return r;
	crypto_hash_sha256(dgst, buf, len);
	free(buf);
	hk_hex_encode(dgst, sizeof(dgst), hex);
	hk_hex_encode(info.set_id, sizeof(info.set_id), setid);
	printf("file:      %s\nset:       %s\nshare:     %d of %d\n"
	    "threshold: %d\nholder:    %s\nchecksum:  ok\nsha256:    %s\n",
	    argv[2], setid, info.index, info.n, info.m, info.holder, hex);
	return 0;
}
