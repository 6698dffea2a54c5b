/*
 * name.h - distinguished names as text ("C=JP, O=JPKI, OU=Kumamoto-ken")
 * and as X509_NAME.
 *
 * Attributes C, ST, L, O, OU, CN, one per RDN, in the written order (most
 * significant first, as on the wire). C is a PrintableString of two letters
 * A-Z; every other value is a UTF8String. A ',' or '\' inside a value is
 * written "\," or "\\"; blanks around separators are ignored. Empty values,
 * unknown attributes, bad UTF-8 and control characters (C0, DEL, C1) in a
 * value are refused.
 */
#ifndef HK_NAME_H
#define HK_NAME_H

#include <stddef.h>

#include <openssl/x509.h>

#define HK_NAME_MAX	1024	/* bytes of DN text */
#define HK_NAME_MAX_RDNS 16	/* RDNs in one DN */

/* Parse s into a new X509_NAME; detail "DN \"...\": rule" on failure. */
int hk_name_parse(const char *s, X509_NAME **out);
/* Append a final RDN OU=<value> (UTF8String): the rehearsal marker. */
int hk_name_add_ou(X509_NAME *name, const char *value);
/* Parse s and, when marker is not NULL, append OU=<marker>. */
int hk_name_build(const char *s, const char *marker, X509_NAME **out);
/* Text form of name as above (malloc'd, free()); NULL on failure. Other
 * attributes print as their dotted OID; multi-valued RDNs join with '+'. */
char *hk_name_print(const X509_NAME *name);
/* 0 if every entry is single-valued, C is a PrintableString and the rest are
 * UTF8String; else HK_ERR_INVALID and *why names the first offence. */
int hk_name_check_types(const X509_NAME *name, const char **why);

#endif
