/* yamlx.c - strict YAML documents over libyaml's event parser. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "atomic.h"
#include "err.h"
#include "yamlx.h"

struct frame {
	struct hk_yaml_node *node;	/* the open collection */
	char *key;			/* pending mapping key, or NULL */
	unsigned long kline, kcol;	/* where the pending key starts */
};

struct builder {
	struct hk_yaml_doc *doc;		/* being built */
	struct frame stack[HK_YAML_MAX_DEPTH + 1]; /* open collections */
	int depth;				/* frames in use */
};

/* Offset of the first byte that is not well-formed UTF-8 (or NUL), or len. */
static size_t
utf8_first_bad(const unsigned char *s, size_t len)
{
	size_t i = 0, n, k;
	unsigned long cp;

	while (i < len) {
		unsigned char c = s[i];

		if (c == 0)
			return i;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else
			return i;
		if (len - i - 1 < n)
			return i;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += n + 1;
	}
	return len;
}

int
hk_utf8_valid(const char *s, size_t len)
{
	return utf8_first_bad((const unsigned char *)s, len) == len;
}

static void
node_free(struct hk_yaml_node *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++) {
		node_free(n->kids[i]);
		if (n->keys != NULL)
			free(n->keys[i]);
	}
	free(n->kids);
	free(n->keys);
	free(n->key_line);
	free(n->key_col);
	free(n->path);
	free(n->str);
	free(n);
}

void
hk_yaml_free(struct hk_yaml_doc *doc)
{
	if (doc == NULL)
		return;
	node_free(doc->root);
	free(doc->file);
	free(doc);
}

static int
vfail_at(const struct hk_yaml_doc *d, unsigned long line, unsigned long col,
    const char *path, const char *fmt, va_list ap)
{
	char rule[512];

	vsnprintf(rule, sizeof(rule), fmt, ap);
	if (path != NULL && *path != '\0')
		hk_err_set("%s:%lu:%lu: %s: %s", d->file, line, col, path, rule);
	else
		hk_err_set("%s:%lu:%lu: %s", d->file, line, col, rule);
	return HK_ERR_INVALID;
}

static int fail_at(const struct hk_yaml_doc *, unsigned long, unsigned long,
    const char *, const char *, ...) __attribute__((format(printf, 5, 6)));

static int
fail_at(const struct hk_yaml_doc *d, unsigned long line, unsigned long col,
    const char *path, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail_at(d, line, col, path, fmt, ap);
	va_end(ap);
	return r;
}

int
hk_yaml_fail(const struct hk_yaml_doc *d, const struct hk_yaml_node *n,
    const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail_at(d, n->line, n->col, n->path, fmt, ap);
	va_end(ap);
	return r;
}

/* Path of a child: "parent.key" or "parent[i]". */
static char *
child_path(const struct hk_yaml_node *parent, const char *key, size_t index)
{
	char *p = NULL;
	int r;

	if (parent == NULL)
		return strdup("");
	if (parent->kind == HK_YAML_MAP)
		r = asprintf(&p, "%s%s%s", parent->path,
		    *parent->path ? "." : "", key);
	else
		r = asprintf(&p, "%s[%zu]", parent->path, index);
	return r < 0 ? NULL : p;
}

static int
add_child(struct builder *b, struct hk_yaml_node *parent, struct frame *f,
    struct hk_yaml_node *n)
{
	size_t cap = parent->n + 1;
	struct hk_yaml_node **kids;

	if ((kids = realloc(parent->kids, cap * sizeof(*kids))) == NULL)
		return HK_ERR_ALLOC;
	parent->kids = kids;
	if (parent->kind == HK_YAML_MAP) {
		char **keys;
		unsigned long *kl, *kc;

		if ((keys = realloc(parent->keys, cap * sizeof(*keys))) == NULL)
			return HK_ERR_ALLOC;
		parent->keys = keys;
		if ((kl = realloc(parent->key_line, cap * sizeof(*kl))) == NULL)
			return HK_ERR_ALLOC;
		parent->key_line = kl;
		if ((kc = realloc(parent->key_col, cap * sizeof(*kc))) == NULL)
			return HK_ERR_ALLOC;
		parent->key_col = kc;
		keys[parent->n] = f->key;
		kl[parent->n] = f->kline;
		kc[parent->n] = f->kcol;
		f->key = NULL;
	}
	kids[parent->n++] = n;
	(void)b;
	return 0;
}

/* A new node at mark, attached to the open collection (or as root). */
static int
new_node(struct builder *b, enum hk_yaml_kind kind, const yaml_mark_t *m,
    struct hk_yaml_node **out)
{
	struct frame *f = b->depth ? &b->stack[b->depth - 1] : NULL;
	struct hk_yaml_node *n;
	int r;

	*out = NULL;
	if (++b->doc->nodes > HK_YAML_MAX_NODES)
		return fail_at(b->doc, m->line + 1, m->column + 1, NULL,
		    "more than %d nodes", HK_YAML_MAX_NODES);
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return HK_ERR_ALLOC;
	n->kind = kind;
	n->line = m->line + 1;
	n->col = m->column + 1;
	if ((n->path = child_path(f ? f->node : NULL, f ? f->key : NULL,
	    f ? f->node->n : 0)) == NULL) {
		free(n);
		return HK_ERR_ALLOC;
	}
	if (f == NULL) {
		if (b->doc->root != NULL) {
			node_free(n);
			return HK_ERR_INTERNAL;
		}
		b->doc->root = n;
	} else if ((r = add_child(b, f->node, f, n)) != 0) {
		node_free(n);
		return r;
	}
	*out = n;
	return 0;
}

/* True when the next node of the innermost mapping is a key. */
static int
want_key(const struct builder *b)
{
	const struct frame *f;

	if (b->depth == 0)
		return 0;
	f = &b->stack[b->depth - 1];
	return f->node->kind == HK_YAML_MAP && f->key == NULL;
}

static int
on_scalar(struct builder *b, yaml_event_t *ev)
{
	const yaml_mark_t *m = &ev->start_mark;
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	struct hk_yaml_node *n;
	struct frame *f;
	size_t i;
	int r;

	if (len > HK_YAML_MAX_SCALAR)
		return fail_at(b->doc, m->line + 1, m->column + 1, NULL,
		    "scalar longer than %d bytes", HK_YAML_MAX_SCALAR);
	if (!hk_utf8_valid(v, len))
		return fail_at(b->doc, m->line + 1, m->column + 1, NULL,
		    "scalar is not valid UTF-8 (or holds NUL)");
	if (want_key(b)) {
		f = &b->stack[b->depth - 1];
		for (i = 0; i < f->node->n; i++)
			if (strcmp(f->node->keys[i], v) == 0)
				return fail_at(b->doc, m->line + 1,
				    m->column + 1, f->node->path,
				    "duplicate key '%s' (first at line %lu)",
				    v, f->node->key_line[i]);
		if ((f->key = strdup(v)) == NULL)
			return HK_ERR_ALLOC;
		f->kline = m->line + 1;
		f->kcol = m->column + 1;
		return 0;
	}
	if ((r = new_node(b, HK_YAML_SCALAR, m, &n)) != 0)
		return r;
	if ((n->str = malloc(len + 1)) == NULL)
		return HK_ERR_ALLOC;
	memcpy(n->str, v, len);
	n->str[len] = '\0';
	n->len = len;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	return 0;
}

static int
on_start(struct builder *b, yaml_event_t *ev, enum hk_yaml_kind kind)
{
	const yaml_mark_t *m = &ev->start_mark;
	struct hk_yaml_node *n;
	int r;

	if (want_key(b))
		return fail_at(b->doc, m->line + 1, m->column + 1,
		    b->stack[b->depth - 1].node->path,
		    "mapping keys must be plain strings");
	if (b->depth >= HK_YAML_MAX_DEPTH)
		return fail_at(b->doc, m->line + 1, m->column + 1, NULL,
		    "nesting deeper than %d", HK_YAML_MAX_DEPTH);
	if ((r = new_node(b, kind, m, &n)) != 0)
		return r;
	b->stack[b->depth].node = n;
	b->stack[b->depth].key = NULL;
	b->depth++;
	return 0;
}

/* Line and column of a byte offset (for reader errors, which have no mark). */
static void
offset_pos(const unsigned char *buf, size_t len, size_t off,
    unsigned long *line, unsigned long *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if ((buf[i] & 0xc0) != 0x80)
			(*col)++;
	}
}

static int
parser_error(struct builder *b, yaml_parser_t *ps, const unsigned char *buf,
    size_t len)
{
	unsigned long line, col;

	if (ps->error == YAML_MEMORY_ERROR)
		return HK_ERR_ALLOC;
	if (ps->error == YAML_READER_ERROR) {
		offset_pos(buf, len, ps->problem_offset, &line, &col);
		fail_at(b->doc, line, col, NULL, "not valid UTF-8 text (%s)",
		    ps->problem ? ps->problem : "reader error");
	} else
		fail_at(b->doc, ps->problem_mark.line + 1,
		    ps->problem_mark.column + 1, NULL, "YAML syntax: %s%s%s",
		    ps->context ? ps->context : "", ps->context ? ", " : "",
		    ps->problem ? ps->problem : "error");
	return HK_ERR_PARSE;
}

static int
refuse_props(struct builder *b, const yaml_mark_t *m, const yaml_char_t *anchor,
    const yaml_char_t *tag)
{
	if (anchor != NULL)
		return fail_at(b->doc, m->line + 1, m->column + 1, NULL,
		    "anchors are not allowed (&%s)", (const char *)anchor);
	if (tag != NULL)
		return fail_at(b->doc, m->line + 1, m->column + 1, NULL,
		    "tags are not allowed (%s)", (const char *)tag);
	return 0;
}

int
hk_yaml_load_buf(const char *name, const unsigned char *buf, size_t len,
    struct hk_yaml_doc **out)
{
	struct builder b;
	yaml_parser_t ps;
	yaml_event_t ev;
	int r = HK_ERR_INTERNAL, done = 0, docs = 0, have_ev = 0;
	int ps_ok = 0;
	const yaml_mark_t *m;
	size_t bad;

	*out = NULL;
	memset(&b, 0, sizeof(b));
	if ((b.doc = calloc(1, sizeof(*b.doc))) == NULL ||
	    (b.doc->file = strdup(name)) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	if (len > HK_YAML_MAX_FILE) {
		hk_err_set("%s: larger than %d bytes", name, HK_YAML_MAX_FILE);
		r = HK_ERR_INVALID;
		goto out;
	}
	/* libyaml's reader reports no usable position: check UTF-8 first. */
	if ((bad = utf8_first_bad(buf, len)) != len) {
		unsigned long line, col;

		offset_pos(buf, len, bad, &line, &col);
		r = fail_at(b.doc, line, col, NULL, "not valid UTF-8 text "
		    "(byte 0x%02x)", buf[bad]);
		goto out;
	}
	if (!yaml_parser_initialize(&ps)) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	ps_ok = 1;
	yaml_parser_set_input_string(&ps, buf, len);
	yaml_parser_set_encoding(&ps, YAML_UTF8_ENCODING);

	while (!done) {
		if (!yaml_parser_parse(&ps, &ev)) {
			r = parser_error(&b, &ps, buf, len);
			goto out;
		}
		have_ev = 1;
		m = &ev.start_mark;
		r = 0;
		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1)
				r = fail_at(b.doc, m->line + 1, m->column + 1,
				    NULL, "only one YAML document is allowed");
			else if (ev.data.document_start.tag_directives.start !=
			    ev.data.document_start.tag_directives.end)
				r = fail_at(b.doc, m->line + 1, m->column + 1,
				    NULL, "%%TAG directives are not allowed");
			break;
		case YAML_ALIAS_EVENT:
			r = fail_at(b.doc, m->line + 1, m->column + 1, NULL,
			    "aliases are not allowed (*%s)",
			    (const char *)ev.data.alias.anchor);
			break;
		case YAML_SCALAR_EVENT:
			if ((r = refuse_props(&b, m, ev.data.scalar.anchor,
			    ev.data.scalar.tag)) == 0)
				r = on_scalar(&b, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			if ((r = refuse_props(&b, m,
			    ev.data.sequence_start.anchor,
			    ev.data.sequence_start.tag)) == 0)
				r = on_start(&b, &ev, HK_YAML_SEQ);
			break;
		case YAML_MAPPING_START_EVENT:
			if ((r = refuse_props(&b, m,
			    ev.data.mapping_start.anchor,
			    ev.data.mapping_start.tag)) == 0)
				r = on_start(&b, &ev, HK_YAML_MAP);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (b.depth == 0)
				r = HK_ERR_INTERNAL;
			else
				b.depth--;
			break;
		default:
			r = HK_ERR_INTERNAL;
			break;
		}
		yaml_event_delete(&ev);
		have_ev = 0;
		if (r != 0)
			goto out;
	}
	if (b.doc->root == NULL) {
		hk_err_set("%s: empty document", name);
		r = HK_ERR_INVALID;
		goto out;
	}
	*out = b.doc;
	b.doc = NULL;
	r = 0;
out:
	if (have_ev)
		yaml_event_delete(&ev);
	while (b.depth > 0)
		free(b.stack[--b.depth].key);
	if (ps_ok)
		yaml_parser_delete(&ps);
	hk_yaml_free(b.doc);
	return r;
}

int
hk_yaml_load(const char *path, struct hk_yaml_doc **out)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if ((r = hk_file_read(path, HK_YAML_MAX_FILE, &buf, &len)) != 0) {
		if (r == HK_ERR_INVALID || r == HK_ERR_PARSE)
			hk_err_set("%s: unreadable or larger than %d bytes",
			    path, HK_YAML_MAX_FILE);
		else if (*hk_err_msg() == '\0' || r == HK_ERR_NOT_FOUND)
			hk_err_set("%s: %s", path, hk_strerror(r));
		return r;
	}
	r = hk_yaml_load_buf(path, buf, len, out);
	free(buf);
	return r;
}

static const char *
kind_name(enum hk_yaml_kind k)
{
	switch (k) {
	case HK_YAML_SCALAR:
		return "a scalar";
	case HK_YAML_MAP:
		return "a mapping";
	case HK_YAML_SEQ:
		return "a sequence";
	}
	return "?";
}

int
hk_yaml_map(const struct hk_yaml_doc *d, const struct hk_yaml_node *n)
{
	if (n->kind != HK_YAML_MAP)
		return hk_yaml_fail(d, n, "must be a mapping, not %s",
		    kind_name(n->kind));
	return 0;
}

int
hk_yaml_seq(const struct hk_yaml_doc *d, const struct hk_yaml_node *n)
{
	if (n->kind != HK_YAML_SEQ)
		return hk_yaml_fail(d, n, "must be a sequence, not %s",
		    kind_name(n->kind));
	return 0;
}

int
hk_yaml_keys(const struct hk_yaml_doc *d, const struct hk_yaml_node *map,
    const char *const *allowed)
{
	size_t i, k;
	int r;

	if ((r = hk_yaml_map(d, map)) != 0)
		return r;
	for (i = 0; i < map->n; i++) {
		for (k = 0; allowed[k] != NULL; k++)
			if (strcmp(map->keys[i], allowed[k]) == 0)
				break;
		if (allowed[k] == NULL)
			return fail_at(d, map->key_line[i], map->key_col[i],
			    map->kids[i]->path, "unknown key");
	}
	return 0;
}

const struct hk_yaml_node *
hk_yaml_get(const struct hk_yaml_node *map, const char *key)
{
	size_t i;

	if (map == NULL || map->kind != HK_YAML_MAP)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (strcmp(map->keys[i], key) == 0)
			return map->kids[i];
	return NULL;
}

int
hk_yaml_need(const struct hk_yaml_doc *d, const struct hk_yaml_node *map,
    const char *key, const struct hk_yaml_node **out)
{
	int r;

	*out = NULL;
	if ((r = hk_yaml_map(d, map)) != 0)
		return r;
	if ((*out = hk_yaml_get(map, key)) == NULL)
		return fail_at(d, map->line, map->col, NULL,
		    "%s%s%s: required key is missing", map->path,
		    *map->path ? "." : "", key);
	return 0;
}

int
hk_yaml_int(const struct hk_yaml_doc *d, const struct hk_yaml_node *n,
    long min, long max, long *out)
{
	const char *s = n->str;
	char *end;
	long v;

	if (n->kind != HK_YAML_SCALAR || !n->plain || n->len == 0 ||
	    n->len > 19)
		goto bad;
	if (s[0] == '-' ? !(s[1] >= '1' && s[1] <= '9') :
	    !(s[0] >= '0' && s[0] <= '9'))
		goto bad;
	if (s[0] == '0' && n->len > 1)
		goto bad;			/* no octal, no leading zeros */
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	return hk_yaml_fail(d, n, "must be an integer from %ld to %ld", min,
	    max);
}

int
hk_yaml_bool(const struct hk_yaml_doc *d, const struct hk_yaml_node *n,
    int *out)
{
	if (n->kind == HK_YAML_SCALAR && n->plain) {
		if (strcmp(n->str, "true") == 0) {
			*out = 1;
			return 0;
		}
		if (strcmp(n->str, "false") == 0) {
			*out = 0;
			return 0;
		}
	}
	return hk_yaml_fail(d, n, "must be true or false");
}

int
hk_yaml_str(const struct hk_yaml_doc *d, const struct hk_yaml_node *n,
    size_t minlen, size_t maxlen, const char **out)
{
	*out = NULL;
	if (n->kind != HK_YAML_SCALAR)
		return hk_yaml_fail(d, n, "must be a string, not %s",
		    kind_name(n->kind));
	/* A plain "~" or "null" is YAML's null, not a string. */
	if (n->plain && (strcmp(n->str, "~") == 0 ||
	    strcmp(n->str, "null") == 0 || n->len == 0)) {
		if (minlen > 0)
			return hk_yaml_fail(d, n, "must be a non-empty string");
		*out = "";
		return 0;
	}
	if (n->len < minlen || n->len > maxlen)
		return hk_yaml_fail(d, n,
		    "must be a string of %zu to %zu bytes", minlen, maxlen);
	*out = n->str;
	return 0;
}

int
hk_yaml_enum(const struct hk_yaml_doc *d, const struct hk_yaml_node *n,
    const char *const *names, int *out)
{
	char list[512];
	size_t i, off = 0;

	if (n->kind == HK_YAML_SCALAR)
		for (i = 0; names[i] != NULL; i++)
			if (strcmp(n->str, names[i]) == 0) {
				*out = (int)i;
				return 0;
			}
	list[0] = '\0';
	for (i = 0; names[i] != NULL && off < sizeof(list); i++) {
		int w = snprintf(list + off, sizeof(list) - off, "%s%s",
		    i ? ", " : "", names[i]);
		if (w < 0)
			break;
		off += (size_t)w;
	}
	return hk_yaml_fail(d, n, "must be one of: %s", list);
}

int
hk_yaml_get_int(const struct hk_yaml_doc *d, const struct hk_yaml_node *map,
    const char *key, int required, long min, long max, long *out)
{
	const struct hk_yaml_node *n;
	int r;

	if (required) {
		if ((r = hk_yaml_need(d, map, key, &n)) != 0)
			return r;
	} else if ((n = hk_yaml_get(map, key)) == NULL)
		return 0;
	return hk_yaml_int(d, n, min, max, out);
}

int
hk_yaml_get_bool(const struct hk_yaml_doc *d, const struct hk_yaml_node *map,
    const char *key, int required, int *out)
{
	const struct hk_yaml_node *n;
	int r;

	if (required) {
		if ((r = hk_yaml_need(d, map, key, &n)) != 0)
			return r;
	} else if ((n = hk_yaml_get(map, key)) == NULL)
		return 0;
	return hk_yaml_bool(d, n, out);
}

int
hk_yaml_get_str(const struct hk_yaml_doc *d, const struct hk_yaml_node *map,
    const char *key, int required, size_t minlen, char *buf, size_t bufsz)
{
	const struct hk_yaml_node *n;
	const char *s;
	int r;

	if (bufsz == 0)
		return HK_ERR_INTERNAL;
	if (required) {
		if ((r = hk_yaml_need(d, map, key, &n)) != 0)
			return r;
	} else if ((n = hk_yaml_get(map, key)) == NULL)
		return 0;
	if ((r = hk_yaml_str(d, n, minlen, bufsz - 1, &s)) != 0)
		return r;
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}
