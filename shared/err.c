/* err.c - error codes, their texts and exit statuses, and the detail line. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "basic4.h"
#include "err.h"

static _Thread_local char hk_detail[HK_ERR_DETAIL_MAX];
/* formatted here first: an argument may be hk_err_msg() itself */
static _Thread_local char hk_scratch[HK_ERR_DETAIL_MAX];

const char *
hk_strerror(int r)
{
	switch (r) {
	case HK_OK:			return "success";
	case HK_ERR_INTERNAL:		return "internal error";
	case HK_ERR_ALLOC:		return "out of memory";
	case HK_ERR_IO:			return "input/output error";
	case HK_ERR_EXISTS:		return "refusing to overwrite";
	case HK_ERR_NOT_FOUND:		return "not found";
	case HK_ERR_INVALID:		return "invalid input";
	case HK_ERR_PARSE:		return "malformed input";
	case HK_ERR_USAGE:		return "usage error";
	case HK_ERR_CRYPTO:		return "cryptographic operation failed";
	case HK_ERR_P11:		return "PKCS#11 token error";
	case HK_ERR_PASSPHRASE:		return "wrong passphrase";
	case HK_ERR_WEAK_PASSPHRASE:	return "passphrase too weak";
	case HK_ERR_SHARE_CORRUPT:	return "share file damaged";
	case HK_ERR_SHARE_FOREIGN:	return "share from another set";
	case HK_ERR_SHARE_DUPLICATE:	return "share given twice";
	case HK_ERR_QUORUM:		return "quorum not reached";
	case HK_ERR_COMMITMENT:		return "reconstructed secret does not match its commitment";
	case HK_ERR_LINT:		return "certificate breaks the profile";
	case HK_ERR_VERIFY:		return "signature does not verify";
	case HK_ERR_AUDIT:		return "audit log verification failed";
	case HK_ERR_TTY:		return "no terminal to prompt on";
	case HK_ERR_STATE:		return "CA state folder not in the required state";
	case HK_ERR_WARNING:		return "done, with a warning";
	}
	return "unknown error";
}

int
hk_exit_code(int r)
{
	switch (r) {
	case HK_OK:
		return 0;
	case HK_ERR_VERIFY:
	case HK_ERR_LINT:
	case HK_ERR_CRYPTO:
		return 1;
	case HK_ERR_USAGE:
		return 2;
	case HK_ERR_INVALID:
	case HK_ERR_PARSE:
	case HK_ERR_NOT_FOUND:
	case HK_ERR_STATE:
	case HK_ERR_WEAK_PASSPHRASE:
	case HK_ERR_TTY:
		return 3;
	case HK_ERR_PASSPHRASE:
	case HK_ERR_SHARE_CORRUPT:
	case HK_ERR_SHARE_FOREIGN:
	case HK_ERR_SHARE_DUPLICATE:
	case HK_ERR_QUORUM:
	case HK_ERR_COMMITMENT:
		return 4;
	case HK_ERR_P11:
		return 5;
	case HK_ERR_AUDIT:
		return 6;
	case HK_ERR_EXISTS:
		return 7;
	case HK_ERR_IO:
		return 8;
	case HK_ERR_WARNING:
		return 9;
	default:
		return 70;
	}
}

void
hk_err_set(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(hk_scratch, sizeof(hk_scratch), fmt, ap);
	va_end(ap);
	if (n < 0)
		snprintf(hk_scratch, sizeof(hk_scratch), "(an error detail "
		    "that could not be formatted)");
	else if (n >= (int)sizeof(hk_scratch))
		memcpy(hk_scratch + sizeof(hk_scratch) - sizeof(HK_ERR_CUT),
		    HK_ERR_CUT, sizeof(HK_ERR_CUT));
	memcpy(hk_detail, hk_scratch, strlen(hk_scratch) + 1);
}

void
hk_err_add_openssl(void)
{
	unsigned long e;
	size_t len = strlen(hk_detail);
	char buf[256];

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		if (len + 3 < sizeof(hk_detail)) {
			snprintf(hk_detail + len, sizeof(hk_detail) - len,
			    "%s%s", len ? ": " : "", buf);
			len = strlen(hk_detail);
		}
	}
}

const char *
hk_err_msg(void)
{
	return hk_detail;
}

int
hk_err_twice(const char *name, const char *first, const char *second)
{
	/* a passphrase source (--passin pass:...) may be the secret */
	if (first == NULL || strstr(name, "passin") != NULL)
		hk_err_set("%s: given twice (once only)", name);
	else
		hk_err_set("%s: given twice (once only): '%.256s' and '%.256s'",
		    name, first, second != NULL ? second : "");
	return HK_ERR_USAGE;
}

int
hk_opt_once(const char **slot, int argc, char **argv, int *i)
{
	if (*i + 1 >= argc || argv[*i + 1][0] == '\0') {
		hk_err_set("%s: needs a value", argv[*i]);
		return HK_ERR_USAGE;
	}
	if (*slot != NULL)
		return hk_err_twice(argv[*i], *slot, argv[*i + 1]);
	*slot = argv[++*i];
	return 0;
}

void
hk_err_clear(void)
{
	hk_detail[0] = '\0';
}

void
hk_err_keep(struct hk_err_kept *k)
{
	memcpy(k->msg, hk_detail, strlen(hk_detail) + 1);
}

void
hk_err_restore(const struct hk_err_kept *k)
{
	memcpy(hk_detail, k->msg, strnlen(k->msg, sizeof(k->msg) - 1));
	hk_detail[strnlen(k->msg, sizeof(k->msg) - 1)] = '\0';
}

void
hk_err_print_line(FILE *f, const char *prefix, const char *detail)
{
	const unsigned char *s = (const unsigned char *)detail;
	const unsigned char *end = s + strlen(detail);
	size_t n;
	unsigned cp;

	fprintf(f, "%s: ", prefix);
	while (*s != '\0') {
		if (*s == '\n' || *s == '\t' || *s == '\r') {
			fprintf(f, "\\%c", *s == '\n' ? 'n' : *s == '\t' ?
			    't' : 'r');
			s++;
		} else if (*s < 0x20 || *s == 0x7f) {
			fprintf(f, "\\x%02x", *s++);
		} else if (*s < 0x80) {
			fputc(*s++, f);
		} else if ((n = hk_utf8_char((const char *)s,
		    (size_t)(end - s), &cp)) == 0) {
			fprintf(f, "\\x%02x", *s++);
		} else if (cp <= 0x9f || cp == 0x200e || cp == 0x200f ||
		    (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069)) {
			fprintf(f, "\\u{%x}", cp);
			s += n;
		} else {
			fwrite(s, 1, n, f);
			s += n;
		}
	}
	fputc('\n', f);
}
