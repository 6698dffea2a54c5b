/* name.c - DN text <-> X509_NAME with fixed string types. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "err.h"
#include "name.h"
#include "yamlx.h"

static const struct {
	const char *key;	/* attribute as written */
	int nid;		/* its OpenSSL NID */
} attrs[] = {
	{ "C", NID_countryName },
	{ "ST", NID_stateOrProvinceName },
	{ "L", NID_localityName },
	{ "O", NID_organizationName },
	{ "OU", NID_organizationalUnitName },
	{ "CN", NID_commonName },
};

static int
attr_nid(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		if (strcmp(attrs[i].key, key) == 0)
			return attrs[i].nid;
	return NID_undef;
}

static const char *
attr_key(int nid)
{
	size_t i;

	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		if (attrs[i].nid == nid)
			return attrs[i].key;
	return NULL;
}

static int
add_entry(X509_NAME *name, int nid, const char *val, size_t len)
{
	int type = nid == NID_countryName ? V_ASN1_PRINTABLESTRING :
	    V_ASN1_UTF8STRING;

	if (len > INT32_MAX)
		return HK_ERR_INVALID;
	if (!X509_NAME_add_entry_by_NID(name, nid, type,
	    (const unsigned char *)val, (int)len, -1, 0))
		return HK_ERR_CRYPTO;
	return 0;
}

static void
trim(char *s, size_t *len)
{
	size_t i = 0;

	while (*len > 0 && (s[*len - 1] == ' ' || s[*len - 1] == '\t'))
		s[--(*len)] = '\0';
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	memmove(s, s + i, *len - i + 1);
	*len -= i;
}

int
hk_name_parse(const char *s, X509_NAME **out)
{
	X509_NAME *name = NULL;
	char key[32], val[HK_NAME_MAX + 1];
	size_t klen, vlen, slen, i = 0, k;
	int r = HK_ERR_INVALID, nid, rdns = 0, esc_end;

	*out = NULL;
	if (s == NULL || (slen = strlen(s)) == 0) {
		hk_err_set("DN is empty");
		return HK_ERR_INVALID;
	}
	if (slen > HK_NAME_MAX) {
		hk_err_set("DN longer than %d bytes", HK_NAME_MAX);
		return HK_ERR_INVALID;
	}
	if (!hk_utf8_valid(s, slen)) {
		hk_err_set("DN is not valid UTF-8");
		return HK_ERR_INVALID;
	}
	if ((name = X509_NAME_new()) == NULL)
		return HK_ERR_ALLOC;
	while (i < slen) {
		/* attribute type up to '=' */
		klen = 0;
		while (i < slen && s[i] != '=' && s[i] != ',') {
			if (klen + 1 >= sizeof(key)) {
				hk_err_set("DN \"%s\": attribute name too long",
				    s);
				goto out;
			}
			key[klen++] = s[i++];
		}
		key[klen] = '\0';
		trim(key, &klen);
		if (i >= slen || s[i] != '=') {
			hk_err_set("DN \"%s\": expected ATTR=value", s);
			goto out;
		}
		i++;
		if ((nid = attr_nid(key)) == NID_undef) {
			hk_err_set("DN \"%s\": unknown attribute '%s' "
			    "(C, ST, L, O, OU, CN)", s, key);
			goto out;
		}
		/* value up to an unescaped ',' */
		vlen = 0;
		esc_end = 0;
		while (i < slen && s[i] != ',') {
			if (s[i] == '\\') {
				if (i + 1 >= slen || (s[i + 1] != ',' &&
				    s[i + 1] != '\\')) {
					hk_err_set("DN \"%s\": only \\, and \\\\ "
					    "may be escaped", s);
					goto out;
				}
				i++;
				esc_end = 1;
			} else if (s[i] == '=' || s[i] == '\n' ||
			    s[i] == '\r') {
				hk_err_set("DN \"%s\": %s in a value", s,
				    s[i] == '=' ? "'=' (missing comma?)" :
				    "a line break");
				goto out;
			} else
				esc_end = 0;
			val[vlen++] = s[i++];
		}
		val[vlen] = '\0';
		/* trim blanks, but keep an escaped final character */
		if (!esc_end)
			while (vlen > 0 && (val[vlen - 1] == ' ' ||
			    val[vlen - 1] == '\t'))
				val[--vlen] = '\0';
		{
			size_t lead = 0;

			while (val[lead] == ' ' || val[lead] == '\t')
				lead++;
			memmove(val, val + lead, vlen - lead + 1);
			vlen -= lead;
		}
		if (vlen == 0) {
			hk_err_set("DN \"%s\": %s has an empty value", s, key);
			goto out;
		}
		/* C0, DEL and C1 controls (a tab inside a value, an escape
		 * sequence) would stay in the DN for life; the DN is not
		 * echoed, a terminal would act on it */
		for (k = 0; k < vlen; k++) {
			unsigned char b = (unsigned char)val[k];
			unsigned cp = b;

			if (b == 0xc2 && k + 1 < vlen &&
			    (unsigned char)val[k + 1] <= 0x9f)
				cp = (unsigned char)val[k + 1];
			else if (b >= 0x20 && b != 0x7f)
				continue;
			hk_err_set("DN: %s: a control character (U+%04X) in a "
			    "value", key, cp);
			goto out;
		}
		if (nid == NID_countryName && (vlen != 2 ||
		    val[0] < 'A' || val[0] > 'Z' ||
		    val[1] < 'A' || val[1] > 'Z')) {
			hk_err_set("DN \"%s\": C must be two capital letters "
			    "(ISO 3166)", s);
			goto out;
		}
		if (vlen > 64 && nid != NID_organizationalUnitName &&
		    nid != NID_organizationName) {
			hk_err_set("DN \"%s\": %s longer than 64 bytes", s, key);
			goto out;
		}
		if (++rdns > HK_NAME_MAX_RDNS) {
			hk_err_set("DN \"%s\": more than %d RDNs", s,
			    HK_NAME_MAX_RDNS);
			goto out;
		}
		if ((r = add_entry(name, nid, val, vlen)) != 0) {
			hk_err_set("DN \"%s\": cannot add %s", s, key);
			hk_err_add_openssl();
			goto out;
		}
		r = HK_ERR_INVALID;
		if (i < slen) {		/* at a ',' */
			i++;
			if (i >= slen) {
				hk_err_set("DN \"%s\": ends with a comma", s);
				goto out;
			}
		}
	}
	*out = name;
	name = NULL;
	r = 0;
out:
	X509_NAME_free(name);
	return r;
}

int
hk_name_add_ou(X509_NAME *name, const char *value)
{
	size_t len = strlen(value);

	if (len == 0 || !hk_utf8_valid(value, len)) {
		hk_err_set("OU value is empty or not UTF-8");
		return HK_ERR_INVALID;
	}
	return add_entry(name, NID_organizationalUnitName, value, len);
}

int
hk_name_build(const char *s, const char *marker, X509_NAME **out)
{
	X509_NAME *n = NULL;
	int r;

	*out = NULL;
	if ((r = hk_name_parse(s, &n)) != 0)
		return r;
	if (marker != NULL && (r = hk_name_add_ou(n, marker)) != 0) {
		X509_NAME_free(n);
		return r;
	}
	*out = n;
	return 0;
}

char *
hk_name_print(const X509_NAME *name)
{
	char *buf = NULL, oid[80];
	size_t cap = 256, len = 0, need;
	int i, n, prev_set = -1;

	if ((buf = malloc(cap)) == NULL)
		return NULL;
	buf[0] = '\0';
	n = X509_NAME_entry_count(name);
	for (i = 0; i < n; i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(e);
		const char *key = attr_key(OBJ_obj2nid(obj));
		unsigned char *u = NULL;
		int ulen, k, set = X509_NAME_ENTRY_set(e);

		if (key == NULL) {
			if (OBJ_obj2txt(oid, sizeof(oid), obj, 1) <= 0)
				goto fail;
			key = oid;
		}
		if ((ulen = ASN1_STRING_to_UTF8(&u,
		    X509_NAME_ENTRY_get_data(e))) < 0)
			goto fail;
		need = len + strlen(key) + 3 + 2 * (size_t)ulen + 1;
		if (need > cap) {
			char *nb;

			cap = need * 2;
			if ((nb = realloc(buf, cap)) == NULL) {
				OPENSSL_free(u);
				goto fail;
			}
			buf = nb;
		}
		if (i > 0) {
			const char *sep = set == prev_set ? "+" : ", ";

			memcpy(buf + len, sep, strlen(sep));
			len += strlen(sep);
		}
		prev_set = set;
		memcpy(buf + len, key, strlen(key));
		len += strlen(key);
		buf[len++] = '=';
		for (k = 0; k < ulen; k++) {
			if (u[k] == ',' || u[k] == '\\')
				buf[len++] = '\\';
			buf[len++] = (char)u[k];
		}
		buf[len] = '\0';
		OPENSSL_free(u);
	}
	return buf;
fail:
	free(buf);
	return NULL;
}

int
hk_name_check_types(const X509_NAME *name, const char **why)
{
	int i, n = X509_NAME_entry_count(name);

	*why = NULL;
	for (i = 0; i < n; i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
		int type = ASN1_STRING_type(X509_NAME_ENTRY_get_data(e));

		if (X509_NAME_ENTRY_set(e) != i) {
			*why = "multi-valued RDN";
			return HK_ERR_INVALID;
		}
		if (attr_key(nid) == NULL) {
			*why = "attribute outside C, ST, L, O, OU, CN";
			return HK_ERR_INVALID;
		}
		if (nid == NID_countryName && type != V_ASN1_PRINTABLESTRING) {
			*why = "C must be a PrintableString";
			return HK_ERR_INVALID;
		}
		if (nid != NID_countryName && type != V_ASN1_UTF8STRING) {
			*why = "attributes other than C must be UTF8String";
			return HK_ERR_INVALID;
		}
	}
	return 0;
}
