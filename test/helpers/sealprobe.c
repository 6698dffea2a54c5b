/*
 * sealprobe.c - a test helper: what an outsider holding m shares of a set
 * and its set record (say a retired one, after a re-key) can open of a CA
 * state's secrets/ (docs/key-lifecycle.md "Changing the quorum key").
 *
 *   hk_sealprobe SETFILE SECRETS-DIR SHARE PASSENV [SHARE PASSENV]...
 *
 * The set is used as if in force (its retired mark ignored); the shares
 * are combined with hanko's own code (hk_quorum_recover), passphrases from
 * the environment variables named. Then every *.sealed file of SECRETS-DIR
 * is tried with the key, its label the file's secret name (the name before
 * ".key-KID" or ".sealed"). One line per file, "opens FILE" or "refused
 * FILE". Exit 0: none opens; 1: some file opens; 2: an error (said).
 * With --print-key last: only "key HEX", the combined key (a test's
 * search pattern for the key in a process's memory), exit 0.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "err.h"
#include "quorum.h"
#include "secmem.h"

int
main(int argc, char **argv)
{
	struct hk_quorum_set *set = NULL;
	const char *paths[HK_QUORUM_MAX_SHARES], *passes[HK_QUORUM_MAX_SHARES];
	uint8_t *key = NULL, *plain = NULL;
	unsigned char *blob = NULL;
	struct dirent *e;
	DIR *d;
	size_t bloblen, len;
	int i, k = 0, opened = 0, tried = 0, r, print = 0;

	if (argc > 1 && strcmp(argv[argc - 1], "--print-key") == 0) {
		print = 1;
		argc--;
	}
	if (argc < 5 || (argc - 3) % 2 != 0) {
		fprintf(stderr, "usage: hk_sealprobe SETFILE SECRETS-DIR "
		    "SHARE PASSENV...\n");
		return 2;
	}
	if (hk_secmem_init() != 0)
		return 2;
	if ((r = hk_quorum_set_read(argv[1], &set)) != 0) {
		fprintf(stderr, "hk_sealprobe: %s\n", hk_err_msg());
		return 2;
	}
	set->retired = 0;
	for (i = 3; i + 1 < argc; i += 2, k++) {
		paths[k] = argv[i];
		if ((passes[k] = getenv(argv[i + 1])) == NULL) {
			fprintf(stderr, "hk_sealprobe: %s not set\n",
			    argv[i + 1]);
			return 2;
		}
	}
	if ((r = hk_quorum_recover(set, paths, passes, k, &key)) != 0) {
		fprintf(stderr, "hk_sealprobe: %s\n", hk_err_msg());
		return 2;
	}
	if (print) {
		printf("key ");
		for (i = 0; i < HK_QUORUM_KEY_LEN; i++)
			printf("%02x", key[i]);
		printf("\n");
		hk_secret_free(key);
		hk_quorum_set_free(set);
		return 0;
	}
	if ((d = opendir(argv[2])) == NULL) {
		perror(argv[2]);
		return 2;
	}
	while ((e = readdir(d)) != NULL) {
		char label[256], path[8192], *p;
		size_t l = strlen(e->d_name);
		if (l <= 7 || strcmp(e->d_name + l - 7, ".sealed") != 0)
			continue;
		snprintf(label, sizeof(label), "%.*s", (int)(l - 7), e->d_name);
		if ((p = strstr(label, ".key-")) != NULL)
			*p = '\0';
		snprintf(path, sizeof(path), "%s/%s", argv[2], e->d_name);
		if (hk_file_read(path, 65536, &blob, &bloblen) != 0) {
			fprintf(stderr, "hk_sealprobe: %s\n", hk_err_msg());
			return 2;
		}
		tried++;
		r = hk_quorum_open_secret(key, label, blob, bloblen, &plain,
		    &len);
		free(blob);
		hk_secret_free(plain);
		plain = NULL;
		printf("%s %s\n", r == 0 ? "opens" : "refused", e->d_name);
		opened += r == 0;
	}
	closedir(d);
	hk_secret_free(key);
	hk_quorum_set_free(set);
	if (tried == 0) {
		fprintf(stderr, "hk_sealprobe: %s: no sealed file\n", argv[2]);
		return 2;
	}
	return opened ? 1 : 0;
}
