/* state.c - the CA state folder's state.conf (key = value lines). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic.h"
#include "err.h"
#include "state.h"

#define HK_STATE_MAGIC	"# hanko CA state, format 1"

int
hk_state_new(const char *dir, struct hk_state **out)
{
	struct hk_state *s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->dir = strdup(dir)) == NULL) {
		free(s);
		return HK_ERR_ALLOC;
	}
	*out = s;
	return 0;
}

void
hk_state_free(struct hk_state *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		free(s->key[i]);
		free(s->val[i]);
	}
	free(s->dir);
	free(s);
}

int
hk_state_path(const struct hk_state *s, const char *rel, char *buf,
    size_t len)
{
	int n = snprintf(buf, len, "%s/%s", s->dir, rel);

	if (n < 0 || (size_t)n >= len) {
		hk_err_set("%s/%s: path too long", s->dir, rel);
		return HK_ERR_INVALID;
	}
	return 0;
}

const char *
hk_state_get(const struct hk_state *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->key[i], key) == 0)
			return s->val[i];
	return NULL;
}

static int
valid_text(const char *v, int is_key)
{
	const unsigned char *p;

	if (*v == '\0' && is_key)
		return 0;
	for (p = (const unsigned char *)v; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return 0;
		if (is_key && !((*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
			return 0;
	}
	return 1;
}

int
hk_state_set(struct hk_state *s, const char *key, const char *val)
{
	size_t i;
	char *v;

	if (!valid_text(key, 1) || !valid_text(val, 0)) {
		hk_err_set("state.conf: %s: not a valid key or one-line value",
		    key);
		return HK_ERR_INVALID;
	}
	if ((v = strdup(val)) == NULL)
		return HK_ERR_ALLOC;
	for (i = 0; i < s->n; i++)
		if (strcmp(s->key[i], key) == 0) {
			free(s->val[i]);
			s->val[i] = v;
			return 0;
		}
	if (s->n == HK_STATE_MAX_KEYS) {
		free(v);
		hk_err_set("state.conf: too many keys");
		return HK_ERR_INVALID;
	}
	if ((s->key[s->n] = strdup(key)) == NULL) {
		free(v);
		return HK_ERR_ALLOC;
	}
	s->val[s->n++] = v;
	return 0;
}

int
hk_state_save(const struct hk_state *s)
{
	int placed;

	return hk_state_save_placed(s, &placed);
}

int
hk_state_save_placed(const struct hk_state *s, int *placed)
{
	char path[4096];
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f;
	int r;

	*placed = 0;
	if ((r = hk_state_path(s, "state.conf", path, sizeof(path))) != 0)
		return r;
	if ((f = open_memstream(&buf, &len)) == NULL)
		return HK_ERR_ALLOC;
	fprintf(f, "%s\n", HK_STATE_MAGIC);
	for (i = 0; i < s->n; i++)
		fprintf(f, "%s = %s\n", s->key[i], s->val[i]);
	if (fclose(f) != 0) {
		free(buf);
		return HK_ERR_ALLOC;
	}
	r = hk_file_write_placed(path, buf, len, 0644, 0, placed);
	free(buf);
	return r;
}

int
hk_state_load(const char *dir, struct hk_state **out)
{
	struct hk_state *s = NULL;
	unsigned char *buf = NULL;
	char path[4096], *line, *nl, *eq;
	size_t len, lineno = 1;
	struct stat dst;
	int r;

	*out = NULL;
	if ((r = hk_state_new(dir, &s)) != 0)
		return r;
	if ((r = hk_state_path(s, "state.conf", path, sizeof(path))) != 0)
		goto out;
	/* a file given for the folder: bad input, as a folder without
	 * state.conf is, not an I/O error (ENOTDIR) */
	if (stat(dir, &dst) == 0 && !S_ISDIR(dst.st_mode)) {
		hk_err_set("%s: not a hanko CA state folder (not a folder)",
		    dir);
		r = HK_ERR_STATE;
		goto out;
	}
	if ((r = hk_file_read(path, 65536, &buf, &len)) != 0) {
		if (r == HK_ERR_NOT_FOUND) {
			hk_err_set("%s: not a hanko CA state folder (no "
			    "state.conf)", dir);
			r = HK_ERR_STATE;
		}
		goto out;
	}
	if (strlen((char *)buf) != len ||
	    strncmp((char *)buf, HK_STATE_MAGIC "\n",
	    strlen(HK_STATE_MAGIC) + 1) != 0) {
		hk_err_set("%s:1: not a hanko state file of format 1", path);
		r = HK_ERR_PARSE;
		goto out;
	}
	/* every line ends in a newline (hk_state_save): a file that does
	 * not was cut short, and its last value may be cut too */
	if (buf[len - 1] != '\n') {
		for (eq = (char *)buf; *eq != '\0'; eq++)
			lineno += *eq == '\n';
		hk_err_set("%s:%zu: no newline at the end: the file is cut "
		    "short; restore it from the backup", path, lineno);
		r = HK_ERR_PARSE;
		goto out;
	}
	/* line by line, blank lines counted too: a message names the line
	 * the operator sees in an editor */
	for (line = (char *)buf + strlen(HK_STATE_MAGIC) + 1; *line != '\0';
	    line = nl + 1) {
		nl = strchr(line, '\n');	/* there is one: checked above */
		*nl = '\0';
		lineno++;
		if (*line == '\0')
			continue;
		if ((eq = strstr(line, " = ")) == NULL) {
			hk_err_set("%s:%zu: expected 'key = value'", path,
			    lineno);
			r = HK_ERR_PARSE;
			goto out;
		}
		*eq = '\0';
		if (hk_state_get(s, line) != NULL) {
			hk_err_set("%s:%zu: %s: given twice", path, lineno, line);
			r = HK_ERR_PARSE;
			goto out;
		}
		if ((r = hk_state_set(s, line, eq + 3)) != 0) {
			if (r == HK_ERR_INVALID && s->n == HK_STATE_MAX_KEYS)
				hk_err_set("%s:%zu: %s: more than %d keys",
				    path, lineno, line, HK_STATE_MAX_KEYS);
			else if (r == HK_ERR_INVALID)
				hk_err_set("%s:%zu: %s: not a valid key or "
				    "value", path, lineno, line);
			goto out;
		}
	}
	*out = s;
	s = NULL;
	r = 0;
 out:
	free(buf);
	hk_state_free(s);
	return r;
}
