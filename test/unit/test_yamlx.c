/* test_yamlx.c - strict YAML: every refusal names file:line:column. */
#include <string.h>

#include <criterion/criterion.h>

#include "err.h"
#include "yamlx.h"

static struct hk_yaml_doc *
load(const char *text, int *r)
{
	struct hk_yaml_doc *d = NULL;

	hk_err_clear();
	*r = hk_yaml_load_buf("t.yaml", (const unsigned char *)text,
	    strlen(text), &d);
	return d;
}

static void
expect_load_error(const char *text, const char *msg)
{
	int r;
	struct hk_yaml_doc *d = load(text, &r);

	cr_assert_null(d);
	cr_assert_neq(r, 0);
	cr_assert_str_eq(hk_err_msg(), msg, "got: %s", hk_err_msg());
}

Test(yamlx, tree_positions_and_paths)
{
	int r;
	struct hk_yaml_doc *d = load("a: 1\nb:\n  c: [x, \"y\"]\n", &r);
	const struct hk_yaml_node *b, *c;

	cr_assert_eq(r, 0, "%s", hk_err_msg());
	b = hk_yaml_get(d->root, "b");
	cr_assert_not_null(b);
	cr_assert_eq(b->kind, HK_YAML_MAP);
	c = hk_yaml_get(b, "c");
	cr_assert_eq(c->kind, HK_YAML_SEQ);
	cr_assert_eq(c->n, 2);
	cr_assert_eq(c->line, 3);
	cr_assert_eq(c->col, 6);
	cr_assert_str_eq(c->path, "b.c");
	cr_assert_str_eq(c->kids[1]->path, "b.c[1]");
	cr_assert_str_eq(c->kids[1]->str, "y");
	cr_assert_eq(c->kids[1]->plain, 0);
	cr_assert_eq(c->kids[0]->plain, 1);
	hk_yaml_free(d);
}

Test(yamlx, unknown_key)
{
	static const char *const keys[] = { "a", NULL };
	int r;
	struct hk_yaml_doc *d = load("a: 1\nroot:\n  x: 2\n", &r);

	cr_assert_eq(r, 0);
	cr_assert_eq(hk_yaml_keys(d, d->root, keys), HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), "t.yaml:2:1: root: unknown key");
	hk_yaml_free(d);
}

Test(yamlx, duplicate_key)
{
	expect_load_error("a: 1\nb:\n  c: 1\n  c: 2\n",
	    "t.yaml:4:3: b: duplicate key 'c' (first at line 3)");
}

Test(yamlx, wrong_type_and_range)
{
	int r;
	long v = 0;
	struct hk_yaml_doc *d = load("root:\n  validity-years: ten\n"
	    "  n: 31\n  q: \"5\"\n  m: [1]\n", &r);
	const struct hk_yaml_node *root = hk_yaml_get(d->root, "root");

	cr_assert_eq(hk_yaml_get_int(d, root, "validity-years", 1, 1, 30, &v),
	    HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), "t.yaml:2:19: root.validity-years: "
	    "must be an integer from 1 to 30");
	cr_assert_eq(hk_yaml_get_int(d, root, "n", 1, 1, 30, &v),
	    HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), "t.yaml:3:6: root.n: must be an "
	    "integer from 1 to 30");
	/* a quoted number is a string, not an integer */
	cr_assert_eq(hk_yaml_get_int(d, root, "q", 1, 1, 30, &v),
	    HK_ERR_INVALID);
	cr_assert_eq(hk_yaml_map(d, hk_yaml_get(root, "m")), HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), "t.yaml:5:6: root.m: must be a "
	    "mapping, not a sequence");
	cr_assert_eq(v, 0);
	hk_yaml_free(d);
}

Test(yamlx, missing_field)
{
	int r;
	const struct hk_yaml_node *n;
	struct hk_yaml_doc *d = load("x: 1\nroot:\n  a: 1\n", &r);

	cr_assert_eq(hk_yaml_need(d, hk_yaml_get(d->root, "root"),
	    "subject", &n), HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), "t.yaml:3:3: root.subject: required "
	    "key is missing");
	cr_assert_eq(hk_yaml_need(d, d->root, "top", &n), HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), "t.yaml:1:1: top: required key is "
	    "missing");
	hk_yaml_free(d);
}

Test(yamlx, alias_anchor_tag)
{
	expect_load_error("a: &x 1\nb: 2\n",
	    "t.yaml:1:4: anchors are not allowed (&x)");
	expect_load_error("a: [1]\nb: *x\n", "t.yaml:2:4: aliases are not "
	    "allowed (*x)");
	expect_load_error("a: !!str 1\n",
	    "t.yaml:1:4: tags are not allowed (tag:yaml.org,2002:str)");
	expect_load_error("%TAG !e! tag:example.com,2000:\n---\na: 1\n",
	    "t.yaml:1:1: %TAG directives are not allowed");
}

Test(yamlx, billion_laughs_refused)
{
	int r;
	struct hk_yaml_doc *d = load("a: &a [\"lol\",\"lol\"]\n"
	    "b: &b [*a,*a,*a]\nc: [*b,*b,*b]\n", &r);

	cr_assert_null(d);
	cr_assert_str_eq(hk_err_msg(), "t.yaml:1:4: anchors are not "
	    "allowed (&a)");
}

Test(yamlx, multiple_documents)
{
	expect_load_error("a: 1\n---\nb: 2\n",
	    "t.yaml:2:1: only one YAML document is allowed");
}

Test(yamlx, bad_utf8)
{
	expect_load_error("a: 1\nb: \xe7\x86\x8a\xff\n",
	    "t.yaml:2:5: not valid UTF-8 text (byte 0xff)");
	expect_load_error("a: \"x\\0y\"\n",
	    "t.yaml:1:4: scalar is not valid UTF-8 (or holds NUL)");
}

Test(yamlx, caps)
{
	char buf[400];
	int i, r;
	struct hk_yaml_doc *d;

	strcpy(buf, "a: ");
	for (i = 0; i < 40; i++)
		strcat(buf, "[");
	for (i = 0; i < 40; i++)
		strcat(buf, "]");
	d = load(buf, &r);
	cr_assert_null(d);
	cr_assert_str_eq(hk_err_msg(), "t.yaml:1:35: nesting deeper than 32");
	expect_load_error("", "t.yaml: empty document");
	expect_load_error("a: [1, 2\n", "t.yaml:2:1: YAML syntax: while "
	    "parsing a flow sequence, did not find expected ',' or ']'");
}

Test(yamlx, complex_key_refused)
{
	expect_load_error("? [a, b]\n: 1\n",
	    "t.yaml:1:3: mapping keys must be plain strings");
}

Test(yamlx, scalars)
{
	static const char *const names[] = { "x", "y", NULL };
	int r, b = -1, e = -1;
	const char *s;
	struct hk_yaml_doc *d = load("t: true\nf: no\ns: ''\ne: z\n"
	    "j: 熊本県\nn: ~\n", &r);

	cr_assert_eq(hk_yaml_bool(d, hk_yaml_get(d->root, "t"), &b), 0);
	cr_assert_eq(b, 1);
	cr_assert_eq(hk_yaml_bool(d, hk_yaml_get(d->root, "f"), &b),
	    HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), "t.yaml:2:4: f: must be true or false");
	cr_assert_eq(hk_yaml_str(d, hk_yaml_get(d->root, "s"), 1, 10, &s),
	    HK_ERR_INVALID);
	cr_assert_eq(hk_yaml_str(d, hk_yaml_get(d->root, "n"), 1, 10, &s),
	    HK_ERR_INVALID);
	cr_assert_eq(hk_yaml_str(d, hk_yaml_get(d->root, "j"), 1, 64, &s), 0);
	cr_assert_str_eq(s, "熊本県");
	cr_assert_eq(hk_yaml_enum(d, hk_yaml_get(d->root, "e"), names, &e),
	    HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), "t.yaml:4:4: e: must be one of: x, y");
	hk_yaml_free(d);
}

Test(yamlx, utf8_validator)
{
	cr_assert(hk_utf8_valid("熊本", strlen("熊本")));
	cr_assert_not(hk_utf8_valid("\xc0\xaf", 2));		/* overlong */
	cr_assert_not(hk_utf8_valid("\xed\xa0\x80", 3));	/* surrogate */
	cr_assert_not(hk_utf8_valid("\xf4\x90\x80\x80", 4));	/* > U+10FFFF */
	cr_assert_not(hk_utf8_valid("\xe7\x86", 2));		/* truncated */
}

Test(yamlx, file_missing_and_size)
{
	struct hk_yaml_doc *d = NULL;

	cr_assert_neq(hk_yaml_load(HK_TEST_DATA "/nope.yaml", &d), 0);
	cr_assert_null(d);
}
