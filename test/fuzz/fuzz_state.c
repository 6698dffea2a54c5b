/* fuzz_state.c - libFuzzer target for the state folder's state.conf
 * (shared/state.c: hk_state_load, the file both hanko-offline and
 * hanko-online open first). The input is the whole file, written into a
 * scratch state folder. Beyond "no crash, no leak": a refusal names the
 * file, and when it names a line, that line exists and is one that breaks
 * the rule named; a file loaded has valid unique keys and one-line
 * values, and what hk_state_save writes of it loads again to the same keys
 * and values. Seeds: corpus/state/ (what both init commands write). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "state.h"
#include "fuzz_tmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *dir;
static char path[128];

static void
setup(void)
{
	/* a tmpfs when there is one: hk_state_save fsyncs */
	dir = fuzz_tmp_dir("fuzz_state");
	snprintf(path, sizeof(path), "%s/state.conf", dir);
}

static void
put(const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
}

/* Line n (1-based) of the input as a C string, or NULL if there is none. */
static char *
line_of(const uint8_t *data, size_t size, size_t n)
{
	size_t i = 0, l = 1, s;
	char *out;

	while (l < n && i < size)
		l += data[i++] == '\n';
	if (l != n || (i == size && n > 1))
		return NULL;
	for (s = i; i < size && data[i] != '\n'; i++)
		;
	if ((out = malloc(i - s + 1)) == NULL)
		abort();
	memcpy(out, data + s, i - s);
	out[i - s] = '\0';
	return out;
}

static void
check_refusal(const uint8_t *data, size_t size)
{
	const char *m = hk_err_msg();
	size_t pl = strlen(path), n;
	char *end, *l;

	if (strncmp(m, path, pl) != 0 || (m[pl] != ':' && m[pl] != ' '))
		abort();
	if (m[pl] != ':' || m[pl + 1] < '0' || m[pl + 1] > '9')
		return;
	n = strtoul(m + pl + 1, &end, 10);
	if (*end != ':')
		abort();
	if (strncmp(end, ": no newline at the end", 23) == 0) {
		/* the last line, which has no newline */
		if (line_of(data, size, n + 1) != NULL)
			abort();
		return;
	}
	if (strcmp(end, ": not a hanko state file of format 1") == 0) {
		if (n != 1)
			abort();
		return;
	}
	if ((l = line_of(data, size, n)) == NULL)
		abort();
	/* the line named breaks the rule named */
	if (strcmp(end, ": expected 'key = value'") == 0) {
		if (strstr(l, " = ") != NULL)
			abort();
	} else {
		/* ": KEY: rule", KEY that line's */
		char *eq = strstr(l, " = ");
		size_t kl;
		if (eq == NULL || end[1] != ' ')
			abort();
		kl = (size_t)(eq - l);
		if (strncmp(end + 2, l, kl) != 0 || end[2 + kl] != ':' ||
		    (strcmp(end + 2 + kl, ": given twice") != 0 &&
		    strcmp(end + 2 + kl, ": not a valid key or value") != 0 &&
		    strcmp(end + 2 + kl, ": more than 512 keys") != 0))
			abort();
	}
	free(l);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hk_state *s = NULL, *t = NULL;
	size_t i, j;
	const unsigned char *p;

	if (dir == NULL)
		setup();
	put(data, size);
	if (hk_state_load(dir, &s) != 0) {
		if (s != NULL)
			abort();
		check_refusal(data, size);
		hk_err_clear();
		return 0;
	}
	for (i = 0; i < s->n; i++) {
		if (s->key[i][0] == '\0')
			abort();
		for (p = (const unsigned char *)s->key[i]; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' &&
			    *p <= '9') || *p == '-' || *p == '.'))
				abort();
		for (p = (const unsigned char *)s->val[i]; *p; p++)
			if (*p < 0x20 || *p == 0x7f)
				abort();
		for (j = 0; j < i; j++)
			if (strcmp(s->key[i], s->key[j]) == 0)
				abort();
		if (hk_state_get(s, s->key[i]) != s->val[i])
			abort();
	}
	/* what is saved loads again, the same */
	if (hk_state_save(s) != 0 || hk_state_load(dir, &t) != 0 ||
	    t->n != s->n)
		abort();
	for (i = 0; i < s->n; i++)
		if (strcmp(s->key[i], t->key[i]) != 0 ||
		    strcmp(s->val[i], t->val[i]) != 0)
			abort();
	hk_state_free(t);
	hk_state_free(s);
	hk_err_clear();
	return 0;
}
