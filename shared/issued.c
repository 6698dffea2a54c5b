/* issued.c - the register of certificates the root has signed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/sha.h>

#include "atomic.h"
#include "cert.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "issued.h"

#define NFIELDS	10

int
hk_issued_serial_hex(X509 *cert, char *buf, size_t len)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = NULL, *p;
	int r = HK_ERR_CRYPTO;

	if (bn == NULL || (hex = BN_bn2hex(bn)) == NULL)
		goto out;
	if (strlen(hex) + 1 > len) {
		r = HK_ERR_INVALID;
		goto out;
	}
	for (p = hex; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
	strcpy(buf, hex);
	r = 0;
 out:
	OPENSSL_free(hex);
	BN_free(bn);
	return r;
}

static int
grow(struct hk_issued *r)
{
	struct hk_issued_entry *e;
	size_t cap = r->cap ? r->cap * 2 : 16;

	if (r->n < r->cap)
		return 0;
	if (cap > HK_ISSUED_MAX)
		return HK_ERR_INVALID;
	if ((e = realloc(r->e, cap * sizeof(*e))) == NULL)
		return HK_ERR_ALLOC;
	r->e = e;
	r->cap = cap;
	return 0;
}

static int
is_hex(const char *s, size_t max)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return 0;
	return 1;
}

static int
parse_line(char *line, struct hk_issued_entry *e)
{
	char *f[NFIELDS], *save = NULL, *tok;
	int n = 0;

	memset(e, 0, sizeof(*e));
	for (tok = strtok_r(line, "\t", &save); tok != NULL && n < NFIELDS;
	    tok = strtok_r(NULL, "\t", &save))
		f[n++] = tok;
	if (n != NFIELDS || tok != NULL)
		return -1;
	if (!is_hex(f[0], 42) || strlen(f[1]) >= sizeof(e->kind) ||
	    !is_hex(f[4], 64) || strlen(f[4]) != 64 ||
	    strlen(f[5]) >= sizeof(e->file) ||
	    strlen(f[9]) >= sizeof(e->subject))
		return -1;
	strcpy(e->serial, f[0]);
	strcpy(e->kind, f[1]);
	if (hk_time_parse(f[2], &e->not_before) != 0 ||
	    hk_time_parse(f[3], &e->not_after) != 0)
		return -1;
	strcpy(e->sha256, f[4]);
	strcpy(e->file, f[5]);
	if (strcmp(f[6], "valid") == 0) {
		if (strcmp(f[7], "-") != 0 || strcmp(f[8], "-") != 0)
			return -1;
	} else if (strcmp(f[6], "revoked") == 0) {
		e->revoked = 1;
		if (hk_time_parse(f[7], &e->revoked_at) != 0)
			return -1;
		if (strcmp(f[8], "-") == 0)
			e->reason = 0;
		else if (strlen(f[8]) == 1 && f[8][0] >= '1' && f[8][0] <= '5')
			e->reason = f[8][0] - '0';
		else
			return -1;
	} else
		return -1;
	strcpy(e->subject, f[9]);
	return 0;
}

int
hk_issued_load(const char *state_dir, struct hk_issued **out)
{
	struct hk_issued *r;
	unsigned char *buf = NULL;
	char *line, *save = NULL;
	size_t len, lineno = 0;
	int rc;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return HK_ERR_ALLOC;
	if ((size_t)snprintf(r->path, sizeof(r->path), "%s/%s", state_dir,
	    HK_ISSUED_FILE) >= sizeof(r->path)) {
		free(r);
		return HK_ERR_INVALID;
	}
	rc = hk_file_read(r->path, 64u << 20, &buf, &len);
	if (rc == HK_ERR_NOT_FOUND) {
		hk_err_clear();
		*out = r;
		return 0;
	}
	if (rc != 0)
		goto fail;
	if (strlen((char *)buf) != len) {
		hk_err_set("%s: contains a NUL byte", r->path);
		rc = HK_ERR_PARSE;
		goto fail;
	}
	for (line = strtok_r((char *)buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (line[0] == '#')
			continue;
		if ((rc = grow(r)) != 0)
			goto fail;
		if (parse_line(line, &r->e[r->n]) != 0) {
			hk_err_set("%s:%zu: not a register line (10 tab-"
			    "separated fields, see issued.h)", r->path, lineno);
			rc = HK_ERR_PARSE;
			goto fail;
		}
		if (hk_issued_find(r, r->e[r->n].serial) != NULL) {
			hk_err_set("%s:%zu: serial %s given twice", r->path,
			    lineno, r->e[r->n].serial);
			rc = HK_ERR_PARSE;
			goto fail;
		}
		r->n++;
	}
	free(buf);
	*out = r;
	return 0;
 fail:
	free(buf);
	hk_issued_free(r);
	return rc;
}

struct hk_issued_entry *
hk_issued_find(struct hk_issued *r, const char *serial)
{
	char low[64];
	size_t i;

	if (strlen(serial) >= sizeof(low))
		return NULL;
	for (i = 0; serial[i]; i++)
		low[i] = (char)(serial[i] >= 'A' && serial[i] <= 'F' ?
		    serial[i] - 'A' + 'a' : serial[i]);
	low[i] = '\0';
	for (i = 0; i < r->n; i++)
		if (strcmp(r->e[i].serial, low) == 0)
			return &r->e[i];
	return NULL;
}

int
hk_issued_add(struct hk_issued *r, X509 *cert, const char *kind,
    const char *file)
{
	struct hk_issued_entry e;
	unsigned char *der = NULL, d[32];
	int len, rc;

	memset(&e, 0, sizeof(e));
	if ((rc = hk_issued_serial_hex(cert, e.serial, sizeof(e.serial))) != 0)
		return rc;
	if (hk_issued_find(r, e.serial) != NULL) {
		hk_err_set("%s: serial %s is already registered", r->path,
		    e.serial);
		return HK_ERR_EXISTS;
	}
	if (strlen(kind) >= sizeof(e.kind) || strlen(file) >= sizeof(e.file) ||
	    strchr(file, '\t') || strchr(file, '\n'))
		return HK_ERR_INVALID;
	strcpy(e.kind, kind);
	strcpy(e.file, file);
	if (hk_cert_time(X509_get0_notBefore(cert), &e.not_before) != 0 ||
	    hk_cert_time(X509_get0_notAfter(cert), &e.not_after) != 0)
		return HK_ERR_CRYPTO;
	if ((len = i2d_X509(cert, &der)) <= 0)
		return HK_ERR_CRYPTO;
	SHA256(der, (size_t)len, d);
	OPENSSL_free(der);
	hk_hex_encode(d, sizeof(d), e.sha256);
	{
		BIO *b = BIO_new(BIO_s_mem());
		char *p;
		long n;
		if (b == NULL || X509_NAME_print_ex(b,
		    X509_get_subject_name(cert), 0, XN_FLAG_RFC2253 &
		    ~ASN1_STRFLGS_ESC_MSB) < 0) {
			BIO_free(b);
			return HK_ERR_CRYPTO;
		}
		n = BIO_get_mem_data(b, &p);
		if (n < 0 || (size_t)n >= sizeof(e.subject)) {
			BIO_free(b);
			return HK_ERR_INVALID;
		}
		memcpy(e.subject, p, (size_t)n);
		e.subject[n] = '\0';
		BIO_free(b);
		for (p = e.subject; *p; p++)
			if (*p == '\t' || *p == '\n')
				*p = ' ';
	}
	if ((rc = grow(r)) != 0)
		return rc;
	r->e[r->n++] = e;
	return 0;
}

int
hk_issued_revoke(struct hk_issued *r, const char *serial, time_t when,
    int reason)
{
	struct hk_issued_entry *e = hk_issued_find(r, serial);

	if (e == NULL) {
		hk_err_set("serial %s: the root never issued it (not in %s)",
		    serial, r->path);
		return HK_ERR_NOT_FOUND;
	}
	if (reason < 0 || reason > 5) {
		hk_err_set("serial %s: reason %d: only keyCompromise(1), "
		    "cACompromise(2), affiliationChanged(3), superseded(4), "
		    "cessationOfOperation(5) or none (CPS 4-4-4-2)", serial,
		    reason);
		return HK_ERR_INVALID;
	}
	if (e->revoked) {
		hk_err_set("serial %s: already revoked; a revocation is never "
		    "changed or undone", serial);
		return HK_ERR_EXISTS;
	}
	e->revoked = 1;
	e->revoked_at = when;
	e->reason = reason;
	return 0;
}

int
hk_issued_save(const struct hk_issued *r)
{
	int placed;

	return hk_issued_save_placed(r, &placed);
}

int
hk_issued_save_placed(const struct hk_issued *r, int *placed)
{
	char *buf = NULL, nb[32], na[32], ra[32];
	size_t len = 0, i;
	FILE *f;
	int rc;

	*placed = 0;
	if ((f = open_memstream(&buf, &len)) == NULL)
		return HK_ERR_ALLOC;
	fprintf(f, "# hanko: certificates issued by the root (issued.h)\n");
	for (i = 0; i < r->n; i++) {
		const struct hk_issued_entry *e = &r->e[i];
		hk_time_format(e->not_before, nb, sizeof(nb));
		hk_time_format(e->not_after, na, sizeof(na));
		if (e->revoked)
			hk_time_format(e->revoked_at, ra, sizeof(ra));
		fprintf(f, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t", e->serial,
		    e->kind, nb, na, e->sha256, e->file,
		    e->revoked ? "revoked" : "valid", e->revoked ? ra : "-");
		if (e->revoked && e->reason > 0)
			fprintf(f, "%d", e->reason);
		else
			fputc('-', f);
		fprintf(f, "\t%s\n", e->subject);
	}
	if (fclose(f) != 0) {
		free(buf);
		return HK_ERR_ALLOC;
	}
	rc = hk_file_write_placed(r->path, buf, len, 0644, 0, placed);
	free(buf);
	return rc;
}

void
hk_issued_free(struct hk_issued *r)
{
	if (r == NULL)
		return;
	free(r->e);
	free(r);
}
