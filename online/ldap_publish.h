/*
 * ldap_publish.h - the repository in an LDAP directory (CPS 2-6, 4-4-4-1;
 * PROFILE.md "Repository"; RFC 4523; docs/ldap.md).
 *
 * One published set folder (docs/repository.md) is written into an LDAP
 * server the publisher binds to with a simple bind:
 *
 *   the root's entry, named by the root's subject DN: objectClass
 *     certificationAuthority and pkiCA beside a structural class of its
 *     RDN's attribute (organizationalUnit for OU=...), holding
 *     cACertificate;binary            every root generation and link
 *     authorityRevocationList;binary  the current ARL
 *     certificateRevocationList;binary the same ARL (certificationAuthority
 *                                     requires the attribute, and the ARL
 *                                     covers everything the root issued)
 *     crossCertificatePair;binary     every CertificatePair (none: removed)
 *   one entry per partition, named by the partition DN its CRL's
 *     issuingDistributionPoint names: objectClass cRLDistributionPoint
 *     (organizationalUnit + pkiCA when the DN ends in OU=, as a rehearsal
 *     DN does), holding certificateRevocationList;binary
 *
 * Missing parent entries are made (country, organization,
 * organizationalUnit, locality, applicationProcess by RDN attribute).
 * Values are replaced (LDAP_MOD_REPLACE), so a second run converges and
 * never duplicates; entries are never deleted; a CRL or ARL is never
 * replaced by one of a lower number. Before anything is sent,
 * every object is parsed strictly, the ARL must verify with a root
 * generation's key and each CRL with an issuing CA certificate of the set.
 *
 * The caller should ignore SIGPIPE (a server that drops the connection).
 */
#ifndef HK_LDAP_PUBLISH_H
#define HK_LDAP_PUBLISH_H

#include <stddef.h>

#include <openssl/x509.h>

#define HK_LDAP_TIMEOUT_DEFAULT	10	/* seconds: connect, each operation */
#define HK_LDAP_TIMEOUT_MAX	600	/* seconds */

/* What one run did. */
struct hk_ldap_stats {
	size_t added;		/* entries created, parents included */
	size_t updated;		/* existing entries, values replaced */
	size_t ca_certs;	/* cACertificate values (generations + links) */
	size_t pairs;		/* crossCertificatePair values */
	size_t partitions;	/* partition entries written */
	unsigned long set;	/* the number of the set published */
	char root_dn[1024];	/* the root entry's DN (RFC 4514) */
};

struct hk_ldap_opts {
	const char *uri;	/* ldap://HOST:PORT (loopback only, or with
				 * starttls), ldaps://..., ldapi://... */
	const char *bind_dn;	/* the simple bind DN */
	const char *password;	/* the bind password: hk_secret_alloc
				 * memory, owned by the caller */
	int starttls;		/* 1: StartTLS before the bind */
	int timeout;		/* seconds for the connection and for each
				 * operation; 0: HK_LDAP_TIMEOUT_DEFAULT */
	struct hk_ldap_stats *stats; /* filled when not NULL */
};

struct hk_repo_set;

/*
 * Publish the current set of the repository repo (the link "--repo DIR",
 * repo.h; opened once, so a publish that swaps the link meanwhile does not
 * mix two sets). Every file is read through hk_repo_read (size and SHA-256
 * checked against MANIFEST). The URI is checked before the set is read,
 * and everything is checked before the server is contacted. Errors, with a
 * one-line detail naming the URI, the entry and the LDAP error:
 *   HK_ERR_USAGE       a bad URI, or plain ldap:// to a host that is not
 *                      the loopback without starttls (the password would
 *                      cross the network in clear)
 *   HK_ERR_NOT_FOUND   nothing published, or the set lacks a root
 *                      generation or the ARL
 *   HK_ERR_PARSE, HK_ERR_INVALID, HK_ERR_VERIFY  an object of the set
 *   HK_ERR_PASSPHRASE  the server refused the bind or the access
 *   HK_ERR_IO          the server cannot be reached, timed out, or
 *                      refused an update
 *   HK_ERR_EXISTS      an entry holds a CRL of the same issuer numbered
 *                      above the set's (RFC 5280 5.2.3: an older set);
 *                      nothing is written
 */
int hk_ldap_publish(const struct hk_ldap_opts *o, const char *repo);
/* The same for a set already open (publish --ldap, after its commit). */
int hk_ldap_publish_set(const struct hk_ldap_opts *o,
    const struct hk_repo_set *set);

/*
 * The RFC 4514 string of name: RDNs from the last to the first, the
 * attribute as its short name (c, o, ou, cn, l, st; any other attribute,
 * an empty name or a value that is not UTF-8: HK_ERR_INVALID), values in
 * UTF-8 with , + " \ < > ; = escaped, a leading space or '#' and a
 * trailing space escaped, control bytes as \XX; the values of one RDN
 * joined by '+'. *out malloc'd.
 */
int hk_ldap_dn(const X509_NAME *name, char **out);

#endif
