/*
 * yamlx.h - strict YAML loading over libyaml (DESIGN.md section 5).
 *
 * A document is parsed completely into a small tree of mappings, sequences
 * and scalars, each node carrying its 1-based line and column and its dotted
 * path ("root.validity-years", "people[2].id"). Refused while loading:
 * aliases and anchors, explicit tags and %TAG directives, duplicate keys,
 * non-scalar keys, more than one document, bad UTF-8 or NUL in a scalar, and
 * inputs over the caps below. Every accessor that fails sets the one-line
 * detail "file:line:column: path: rule" with hk_err_set() and returns
 * HK_ERR_INVALID (or HK_ERR_PARSE for malformed YAML).
 */
#ifndef HK_YAMLX_H
#define HK_YAMLX_H

#include <stddef.h>

#define HK_YAML_MAX_FILE	(1024 * 1024)	/* bytes in one file */
#define HK_YAML_MAX_DEPTH	32		/* nested collections */
#define HK_YAML_MAX_NODES	20000		/* nodes in one document */
#define HK_YAML_MAX_SCALAR	65536		/* bytes in one scalar */

enum hk_yaml_kind {
	HK_YAML_SCALAR,
	HK_YAML_MAP,
	HK_YAML_SEQ,
};

struct hk_yaml_node {
	enum hk_yaml_kind kind;		/* which of the three */
	unsigned long line;		/* 1-based line of the node's start */
	unsigned long col;		/* 1-based column of the node's start */
	char *path;			/* dotted path; "" for the document root */
	char *str;			/* scalar bytes, NUL-terminated; NULL otherwise */
	size_t len;			/* scalar length in bytes */
	int plain;			/* 1 if the scalar was written unquoted */
	char **keys;			/* mapping keys, parallel to kids; NULL otherwise */
	unsigned long *key_line;	/* line of each mapping key */
	unsigned long *key_col;		/* column of each mapping key */
	struct hk_yaml_node **kids;	/* mapping values or sequence items */
	size_t n;			/* number of kids */
};

struct hk_yaml_doc {
	char *file;			/* file name used in messages */
	struct hk_yaml_node *root;	/* document root; never NULL once loaded */
	size_t nodes;			/* node count (for the cap) */
};

/* Load and parse a file (at most HK_YAML_MAX_FILE bytes). */
int hk_yaml_load(const char *path, struct hk_yaml_doc **out);
/* Parse bytes; name is used in messages. */
int hk_yaml_load_buf(const char *name, const unsigned char *buf, size_t len,
    struct hk_yaml_doc **out);
void hk_yaml_free(struct hk_yaml_doc *doc);

/* Set "file:line:column: path: <fmt>" for node and return HK_ERR_INVALID. */
int hk_yaml_fail(const struct hk_yaml_doc *d, const struct hk_yaml_node *n,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Node must be a mapping / sequence / scalar (string). */
int hk_yaml_map(const struct hk_yaml_doc *d, const struct hk_yaml_node *n);
int hk_yaml_seq(const struct hk_yaml_doc *d, const struct hk_yaml_node *n);
/* Refuse any key of the mapping that is not in the NULL-ended list. */
int hk_yaml_keys(const struct hk_yaml_doc *d, const struct hk_yaml_node *map,
    const char *const *allowed);
/* The value of key in map, or NULL when absent. */
const struct hk_yaml_node *hk_yaml_get(const struct hk_yaml_node *map,
    const char *key);
/* The value of key in map; a missing key is an error naming it. */
int hk_yaml_need(const struct hk_yaml_doc *d, const struct hk_yaml_node *map,
    const char *key, const struct hk_yaml_node **out);

/* Scalar conversions with their rule in the message. */
int hk_yaml_int(const struct hk_yaml_doc *d, const struct hk_yaml_node *n,
    long min, long max, long *out);
int hk_yaml_bool(const struct hk_yaml_doc *d, const struct hk_yaml_node *n,
    int *out);
/* A string of minlen..maxlen bytes; *out points into the tree. */
int hk_yaml_str(const struct hk_yaml_doc *d, const struct hk_yaml_node *n,
    size_t minlen, size_t maxlen, const char **out);
/* One of the NULL-ended names; *out is its index. */
int hk_yaml_enum(const struct hk_yaml_doc *d, const struct hk_yaml_node *n,
    const char *const *names, int *out);

/* Shorthands: look key up (required or not; absent leaves *out as is). */
int hk_yaml_get_int(const struct hk_yaml_doc *d, const struct hk_yaml_node *map,
    const char *key, int required, long min, long max, long *out);
int hk_yaml_get_bool(const struct hk_yaml_doc *d,
    const struct hk_yaml_node *map, const char *key, int required, int *out);
/* Copies the string into buf of size bufsz (the maximum is bufsz - 1). */
int hk_yaml_get_str(const struct hk_yaml_doc *d, const struct hk_yaml_node *map,
    const char *key, int required, size_t minlen, char *buf, size_t bufsz);

/* 1 if s[0..len) is well-formed UTF-8 without NUL, overlongs, surrogates. */
int hk_utf8_valid(const char *s, size_t len);

#endif
