/* test_request.c - residents' requests (online/request.c): every line of
 * test/data/requests/invalid.csv refused with its line and the expected
 * rule; every line of valid.csv accepted; the rules alone; what a CSV file
 * cannot hold (NUL, LF, links, FIFOs, large files, other profiles); the
 * fast SubjectPublicKeyInfo reading gives the decoder's key and leaves
 * every other encoding to the decoder's rules. */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "atomic.h"
#include "cert.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "lint.h"
#include "municipalities.h"
#include "profile.h"
#include "request.h"
#include "testutil.h"

#define REQ_DIR		HK_TEST_DATA "/requests"
#define MUNIS		HK_TEST_DATA "/../../online/data/municipalities-kumamoto.csv"

static struct hk_munis *munis;
static struct hk_profile *p;
static struct hk_request_ctx ctx;

static void
setup(void)
{
	cr_assert_eq(hk_munis_load(MUNIS, &munis), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_profile_default(&p), 0);
	memset(&ctx, 0, sizeof(ctx));
	ctx.basedir = REQ_DIR;
	ctx.munis = munis;
	ctx.p = p;
	cr_assert_eq(hk_time_parse("2026-04-02T10:00:00Z", &ctx.now), 0);
}

static void
teardown(void)
{
	hk_munis_free(munis);
	hk_profile_free(p);
}

TestSuite(request, .init = setup, .fini = teardown);

Test(request, every_invalid_line_refused_with_its_rule)
{
	FILE *f = fopen(REQ_DIR "/invalid.csv", "r");
	char *line = NULL, *tab, *rule, want[128];
	size_t cap = 0, ln = 0, cases = 0;
	ssize_t n;
	struct hk_request req;

	cr_assert_not_null(f);
	ctx.input = "invalid.csv";
	while ((n = getline(&line, &cap, f)) >= 0) {
		ln++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (line[0] == '#')
			continue;
		cr_assert_not_null(tab = strchr(line, '\t'), "line %zu", ln);
		*tab = '\0';
		/* "<field>: <rule fragment>" */
		cr_assert_not_null(rule = strstr(line, ": "), "line %zu", ln);
		*rule = '\0';
		rule += 2;
		cr_assert_neq(hk_request_parse_bytes(&ctx, ln, tab + 1,
		    (size_t)(line + n - (tab + 1)), &req), 0,
		    "invalid.csv:%zu accepted (expected: %s)", ln, rule);
		snprintf(want, sizeof(want), "invalid.csv:%zu: %s: ", ln, line);
		cr_assert_eq(strncmp(hk_err_msg(), want, strlen(want)), 0,
		    "message does not start with \"%s\": %s", want,
		    hk_err_msg());
		cr_assert_not_null(strstr(hk_err_msg() + strlen(want), rule),
		    "invalid.csv:%zu: expected \"%s\", got: %s", ln, rule,
		    hk_err_msg());
		cr_assert_null(req.key);
		cases++;
	}
	free(line);
	fclose(f);
	/* issue 5: at least 200, one per rule and boundary */
	cr_assert_geq(cases, 220, "only %zu invalid cases", cases);
}

Test(request, every_valid_line_accepted)
{
	FILE *f = fopen(REQ_DIR "/valid.csv", "r");
	char *line = NULL;
	size_t cap = 0, ln = 0, cases = 0;
	ssize_t n;
	struct hk_request req;

	cr_assert_not_null(f);
	ctx.input = "valid.csv";
	while ((n = getline(&line, &cap, f)) >= 0) {
		ln++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (ln == 1) {
			cr_assert_eq(hk_request_header(&ctx, line), 0);
			continue;
		}
		if (line[0] == '#')
			continue;
		cr_assert_eq(hk_request_parse(&ctx, ln, line, &req), 0,
		    "%s", hk_err_msg());
		cr_assert_not_null(req.key);
		cr_assert_eq(req.line, ln);
		cr_assert_eq(strlen(req.resident_id), 11);
		cr_assert_eq(strlen(req.b4.birth), 9);
		/* the basic 4 items as given, flags one per character */
		cr_assert_eq(strlen(req.b4.name_flags),
		    (size_t)hk_utf8_chars(req.b4.name, strlen(req.b4.name)));
		cr_assert_eq(strlen(req.b4.addr_flags), (size_t)hk_utf8_chars(
		    req.b4.address, strlen(req.b4.address)));
		cr_assert_not_null(strstr(line, req.b4.address));
		hk_request_clear(&req);
		cases++;
	}
	free(line);
	fclose(f);
	cr_assert_geq(cases, 40, "only %zu valid cases", cases);
}

/*
 * What the checker accepts, the certificate carries and the user lint
 * passes (docs/requests.md, step 1: the lint is the last net, so it must
 * not refuse a good request): every line of valid.csv built into a
 * resident's certificate of a test issuer at ctx.now and linted. The lint
 * read the address's flags wrongly from 101 characters on, and refused
 * valid.csv's longest addresses.
 */
Test(request, every_valid_line_passes_the_user_lint)
{
	FILE *f = fopen(REQ_DIR "/valid.csv", "r"), *kf;
	char *line = NULL;
	size_t cap = 0, ln = 0, cases = 0;
	ssize_t n;
	struct hk_request req;
	EVP_PKEY *ik;
	X509 *issuer = NULL, *x;

	cr_assert_not_null(f);
	cr_assert_not_null(kf = fopen(HK_TEST_DATA "/cert/rsa2048.pem", "r"));
	cr_assert_not_null(ik = PEM_read_PrivateKey(kf, NULL, NULL, NULL));
	fclose(kf);
	/* a self-signed issuer of ten years, its own SKI: the user
	 * builder's AKI and CRL DP need no more */
	cr_assert_eq(hk_cert_build_root(p, ik, ctx.now - 86400, 0, &issuer), 0,
	    "%s", hk_err_msg());
	cr_assert_gt(X509_sign(issuer, ik, EVP_sha256()), 0);
	ctx.input = "valid.csv";
	while ((n = getline(&line, &cap, f)) >= 0) {
		ln++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (ln == 1 || line[0] == '#')
			continue;
		cr_assert_eq(hk_request_parse(&ctx, ln, line, &req), 0,
		    "%s", hk_err_msg());
		cr_assert_eq(hk_cert_build_user(p, issuer, 1, req.key,
		    req.muni->romaji, req.muni->code, &req.b4, ctx.now, 0, &x),
		    0, "valid.csv:%zu: %s", ln, hk_err_msg());
		cr_assert_gt(X509_sign(x, ik, EVP_sha256()), 0);
		hk_err_clear();
		cr_assert_eq(hk_lint_user(x, p, 0, 1), 0, "valid.csv:%zu: %s",
		    ln, hk_err_msg());
		X509_free(x);
		hk_request_clear(&req);
		cases++;
	}
	free(line);
	fclose(f);
	X509_free(issuer);
	EVP_PKEY_free(ik);
	cr_assert_geq(cases, 40, "only %zu valid cases", cases);
}

Test(request, header_exact)
{
	ctx.input = "b.csv";
	cr_assert_eq(hk_request_header(&ctx, HK_REQ_HEADER), 0);
	cr_assert_eq(hk_request_header(&ctx, "municipality,resident_id"),
	    HK_ERR_PARSE);
	cr_assert_str_eq(hk_err_msg(), "b.csv:1: header: docs/requests.md: "
	    "the first line must be \"" HK_REQ_HEADER "\"");
	/* hk_batch_file_read takes one BOM and a line's CR LF away (Excel's
	 * "CSV UTF-8"); one more of either is named as such */
	cr_assert_eq(hk_request_header(&ctx, HK_REQ_HEADER "\r"),
	    HK_ERR_PARSE);
	cr_assert_str_eq(hk_err_msg(), "b.csv:1: header: docs/requests.md: a "
	    "CR (0x0d) at the end of the header: a line ends in LF or CR LF, "
	    "not in a CR more");
	cr_assert_eq(hk_request_header(&ctx, "\xef\xbb\xbf" HK_REQ_HEADER "\r"),
	    HK_ERR_PARSE);
	cr_assert_str_eq(hk_err_msg(), "b.csv:1: header: docs/requests.md: a "
	    "byte-order mark (U+FEFF) before the header, and a CR (0x0d) after "
	    "it: one at the start of the file is all there may be");
	cr_assert_eq(hk_request_header(&ctx, HK_REQ_HEADER "\r\r"),
	    HK_ERR_PARSE);
	cr_assert_str_eq(hk_err_msg(), "b.csv:1: header: docs/requests.md: "
	    "the first line must be \"" HK_REQ_HEADER "\"");
	cr_assert_eq(hk_request_header(&ctx, HK_REQ_HEADER ","), HK_ERR_PARSE);
	cr_assert_eq(hk_request_header(&ctx, ""), HK_ERR_PARSE);
	/* a UTF-8 byte-order mark, as Windows editors write, named as such */
	cr_assert_eq(hk_request_header(&ctx, "\xef\xbb\xbf" HK_REQ_HEADER),
	    HK_ERR_PARSE);
	cr_assert_not_null(strstr(hk_err_msg(), "b.csv:1: header: "
	    "docs/requests.md: a byte-order mark (U+FEFF)"), "%s",
	    hk_err_msg());
}

#define GOOD	"431010,12345678901,熊本　太郎,00000,319750301,1," \
		"熊本県熊本市中央区水前寺６丁目,000000000000000,"

/* What a text file of lines cannot carry: NUL and LF inside a line. */
Test(request, nul_and_newline_inside_a_line)
{
	static const char nul[] = GOOD "keys/resident-1.pub.pem\0junk";
	static const char lf[] = GOOD "keys/resident-1.pub.pem\njunk";
	struct hk_request req;

	ctx.input = "r.csv";
	cr_assert_eq(hk_request_parse_bytes(&ctx, 3, nul, sizeof(nul) - 1,
	    &req), HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), "r.csv:3: line: docs/requests.md: "
	    "control character 0x00 at byte 139");
	cr_assert_null(req.key);
	cr_assert_eq(hk_request_parse_bytes(&ctx, 4, nul, 5, &req),
	    HK_ERR_INVALID);
	cr_assert_eq(hk_request_parse(&ctx, 5, lf, &req), HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), "r.csv:5: line: docs/requests.md: "
	    "control character 0x0a at byte 139");
	/* the same line without them is good */
	cr_assert_eq(hk_request_parse_bytes(&ctx, 6, nul, 138, &req), 0, "%s",
	    hk_err_msg());
	hk_request_clear(&req);
	cr_assert_eq(hk_request_parse_bytes(&ctx, 7, "", 0, &req),
	    HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), "r.csv:7: line: docs/requests.md: 1 "
	    "fields, expected 9 (" HK_REQ_HEADER ")");
}

static int
parse_key(const char *key, struct hk_request *req)
{
	char line[1024];

	snprintf(line, sizeof(line), GOOD "%s", key);
	return hk_request_parse(&ctx, 2, line, req);
}

/* The profile decides the size: user.key and the legacy allowance. */
Test(request, key_size_follows_the_profile)
{
	static const struct {
		enum hk_key_alg alg;
		int legacy;
		const char *key;
		int ok;
	} t[] = {
		{ HK_KEY_RSA2048, 0, "keys/resident-1.pub.pem", 1 },
		{ HK_KEY_RSA2048, 0, "keys/rsa-1024.pub.pem", 0 },
		{ HK_KEY_RSA2048, 1, "keys/rsa-1024.pub.pem", 1 },
		{ HK_KEY_RSA2048, 1, "keys/csr-rsa-1024.csr.pem", 1 },
		{ HK_KEY_RSA2048, 1, "keys/rsa-1024-e3.pub.pem", 0 },
		{ HK_KEY_RSA2048, 1, "keys/rsa-512.pub.pem", 0 },
		{ HK_KEY_RSA2048, 1, "keys/rsa-2047.pub.pem", 0 },
		{ HK_KEY_RSA2048, 1, "keys/resident-1.pub.pem", 1 },
		{ HK_KEY_RSA2048, 1, "keys/ec-p256.pub.pem", 0 },
		{ HK_KEY_RSA3072, 0, "keys/rsa-3072.pub.pem", 1 },
		{ HK_KEY_RSA3072, 0, "keys/resident-1.pub.pem", 0 },
		{ HK_KEY_RSA3072, 1, "keys/rsa-1024.pub.pem", 1 },
		{ HK_KEY_RSA4096, 0, "keys/rsa-4096.pub.pem", 1 },
		{ HK_KEY_RSA4096, 0, "keys/csr-rsa-4096.csr.pem", 1 },
		{ HK_KEY_RSA4096, 0, "keys/rsa-3072.pub.pem", 0 },
		{ HK_KEY_RSA4096, 0, "keys/resident-1.pub.pem", 0 },
	};
	struct hk_request req;
	size_t i;

	ctx.input = "r.csv";
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		p->user_key = t[i].alg;
		p->user_allow_rsa1024 = t[i].legacy;
		if (t[i].ok) {
			cr_assert_eq(parse_key(t[i].key, &req), 0, "%zu: %s", i,
			    hk_err_msg());
			hk_request_clear(&req);
		} else {
			cr_assert_eq(parse_key(t[i].key, &req), HK_ERR_INVALID,
			    "%zu: %s accepted", i, t[i].key);
			cr_assert_not_null(strstr(hk_err_msg(),
			    "r.csv:2: key: "), "%s", hk_err_msg());
		}
	}
	p->user_key = HK_KEY_RSA4096;
	cr_assert_eq(parse_key("keys/resident-1.pub.pem", &req),
	    HK_ERR_INVALID);
	cr_assert_not_null(strstr(hk_err_msg(), "RSA-2048; must be rsa-4096 "
	    "(the profile does not allow legacy RSA-1024)"), "%s",
	    hk_err_msg());
}

/* Files a CSV line can name but the repository does not hold: a link, a
 * FIFO (reading would block), a file over the size cap, one at the cap. */
Test(request, key_file_kinds_and_size)
{
	char dir[] = "/tmp/hanko-req-XXXXXX", path[512], *pem = NULL;
	unsigned char *src = NULL;
	size_t len = 0;
	struct hk_request req;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	ctx.basedir = dir;
	ctx.input = "r.csv";
	cr_assert_eq(hk_file_read(REQ_DIR "/keys/resident-1.pub.pem", 4096,
	    &src, &len), 0);
	snprintf(path, sizeof(path), "%s/link.pem", dir);
	cr_assert_eq(symlink(REQ_DIR "/keys/resident-1.pub.pem", path), 0);
	cr_assert_eq(parse_key("link.pem", &req), HK_ERR_INVALID);
	cr_assert_not_null(strstr(hk_err_msg(), "key: link.pem: cannot be "
	    "read (not a regular file"), "%s", hk_err_msg());
	snprintf(path, sizeof(path), "%s/fifo.pem", dir);
	cr_assert_eq(mkfifo(path, 0600), 0);
	cr_assert_eq(parse_key("fifo.pem", &req), HK_ERR_INVALID);
	cr_assert_not_null(strstr(hk_err_msg(), "key: fifo.pem: cannot be "
	    "read (not a regular file"), "%s", hk_err_msg());
	/* the key padded with blank lines to exactly 64 KiB: accepted */
	cr_assert_not_null(pem = malloc(64 * 1024 + 1));
	memset(pem, '\n', 64 * 1024 + 1);
	memcpy(pem, src, len);
	snprintf(path, sizeof(path), "%s/cap.pem", dir);
	cr_assert_not_null(f = fopen(path, "w"));
	cr_assert_eq(fwrite(pem, 1, 64 * 1024, f), 64 * 1024);
	fclose(f);
	cr_assert_eq(parse_key("cap.pem", &req), 0, "%s", hk_err_msg());
	hk_request_clear(&req);
	/* one byte more: refused */
	snprintf(path, sizeof(path), "%s/big.pem", dir);
	cr_assert_not_null(f = fopen(path, "w"));
	cr_assert_eq(fwrite(pem, 1, 64 * 1024 + 1, f), 64 * 1024 + 1);
	fclose(f);
	cr_assert_eq(parse_key("big.pem", &req), HK_ERR_INVALID);
	cr_assert_not_null(strstr(hk_err_msg(), "key: big.pem: cannot be read "
	    "(at most 65536 bytes)"), "%s", hk_err_msg());
	/* a file that cannot be opened (a folder named like a key) */
	snprintf(path, sizeof(path), "%s/dir.pem", dir);
	cr_assert_eq(mkdir(path, 0700), 0);
	cr_assert_eq(parse_key("dir.pem", &req), HK_ERR_INVALID);
	cr_assert_null(req.key);
	/* a batch folder so deep that folder + path overflows: refused, never
	 * truncated to another file's name */
	memset(pem, 'a', 4090);
	memcpy(pem, dir, strlen(dir));
	pem[strlen(dir)] = '/';
	pem[4090] = '\0';
	ctx.basedir = pem;
	cr_assert_eq(parse_key("keys/resident-1.pub.pem", &req),
	    HK_ERR_INVALID);
	cr_assert_not_null(strstr(hk_err_msg(), "key: keys/resident-1.pub.pem: "
	    "the path is too long"), "%s", hk_err_msg());
	ctx.basedir = dir;
	free(pem);
	free(src);
	remove(path);
	snprintf(path, sizeof(path), "%s/link.pem", dir); remove(path);
	snprintf(path, sizeof(path), "%s/fifo.pem", dir); remove(path);
	snprintf(path, sizeof(path), "%s/cap.pem", dir); remove(path);
	snprintf(path, sizeof(path), "%s/big.pem", dir); remove(path);
	cr_assert_eq(rmdir(dir), 0);
}

/* "Not in the future" is the date in Japan (UTC+9): a baby born on 3 April
 * in Kumamoto is already born at 2026-04-02T20:00Z. */
Test(request, today_is_the_date_in_japan)
{
	char why[256];
	time_t t;

	cr_assert_eq(hk_time_parse("2026-04-02T14:59:59Z", &t), 0);
	cr_assert_eq(hk_basic4_birth_ok("520260402", t, why, sizeof(why)), 0);
	cr_assert_eq(hk_basic4_birth_ok("520260403", t, why, sizeof(why)),
	    HK_ERR_INVALID);
	cr_assert_str_eq(why, "2026-04-03 is in the future (today is "
	    "2026-04-02 in Japan)");
	cr_assert_eq(hk_time_parse("2026-04-02T15:00:00Z", &t), 0);
	cr_assert_eq(hk_basic4_birth_ok("520260403", t, why, sizeof(why)), 0,
	    "%s", why);
	cr_assert_eq(hk_basic4_birth_ok("020260400", t, why, sizeof(why)), 0);
	cr_assert_eq(hk_basic4_birth_ok("520260404", t, why, sizeof(why)),
	    HK_ERR_INVALID);
	cr_assert_eq(hk_time_parse("2026-12-31T15:00:00Z", &t), 0);
	cr_assert_eq(hk_basic4_birth_ok("020270000", t, why, sizeof(why)), 0);
	cr_assert_eq(hk_basic4_birth_ok("520270101", t, why, sizeof(why)), 0);
}

Test(request, legacy_rsa1024_only_when_the_profile_allows)
{
	char line[1024];
	struct hk_request req;

	ctx.input = "r.csv";
	snprintf(line, sizeof(line), "431010,12345678901,熊本　太郎,00000,"
	    "319750301,1,熊本県熊本市中央区水前寺６丁目,000000000000000,"
	    "keys/rsa-1024.pub.pem");
	cr_assert_eq(hk_request_parse(&ctx, 2, line, &req), HK_ERR_INVALID);
	p->user_allow_rsa1024 = 1;
	cr_assert_eq(hk_request_parse(&ctx, 2, line, &req), 0, "%s",
	    hk_err_msg());
	hk_request_clear(&req);
}

Test(request, era_boundaries)
{
	static const char *ok[] = { "118680125", "119120729", "219120730",
	    "219261224", "319261225", "319890107", "419890108", "419920229",
	    "420190430", "520190501", "520260401", "019500000", "019500300",
	    "018680101" };
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		cr_assert_eq(hk_basic4_birth_ok(ok[i], ctx.now, why,
		    sizeof(why)), 0, "%s: %s", ok[i], why);
	cr_assert_neq(hk_basic4_birth_ok("520260403", ctx.now, why,
	    sizeof(why)), 0);
	cr_assert_str_eq(why, "2026-04-03 is in the future (today is "
	    "2026-04-02 in Japan)");
}

/* docs/municipalities.md, "A merger or a rename": a retired row (a merged
 * town kept for its CRL) issues until the day before its retired day in
 * Japan, and refuses the line from that day on, naming the line, the
 * field and the rule (CPS 4-1-1, 4-2-1). */
Test(request, retired_municipality_refused_from_its_day)
{
	const char *text = "code,kind,parent,romaji,kanji,partition,district,"
	    "retired\n"
	    "434434,town,,Mashiki-machi,益城町,yes,上益城郡,2026-04-03\n"
	    "434043,town,,Kikuyo-machi,菊陽町,yes,菊池郡,\n";
	const char *line = "434434,12345678901,熊本　太郎,00000,319750301,1,"
	    "熊本県上益城郡益城町大字宮園７０２番地,0000000000000000000,"
	    "resident-1.pub.pem";
	const char *other = "434043,12345678901,熊本　太郎,00000,319750301,1,"
	    "熊本県菊池郡菊陽町久保田１番,00000000000000,resident-1.pub.pem";
	char path[4096];
	struct hk_munis *m = NULL;
	struct hk_request r;

	snprintf(path, sizeof(path), "%s/m.csv", hk_test_dir("req_retired"));
	hk_test_write(path, text, strlen(text));
	cr_assert_eq(hk_munis_load(path, &m), 0, "%s", hk_err_msg());
	ctx.munis = m;
	ctx.basedir = REQ_DIR "/keys";
	ctx.input = "b.csv";
	/* 2026-04-02 23:59:59 in Japan: the last second it issues */
	cr_assert_eq(hk_time_parse("2026-04-02T14:59:59Z", &ctx.now), 0);
	cr_assert_eq(hk_request_parse(&ctx, 2, line, &r), 0, "%s",
	    hk_err_msg());
	hk_request_clear(&r);
	/* 2026-04-03 00:00:00 in Japan */
	cr_assert_eq(hk_time_parse("2026-04-02T15:00:00Z", &ctx.now), 0);
	cr_assert_eq(hk_request_parse(&ctx, 5, line, &r), HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), "b.csv:5: municipality: CPS 4-1-1, "
	    "4-2-1: 434434 (益城町) is retired since 2026-04-03 "
	    "(municipalities.csv: retired): no certificate is issued under "
	    "it; the request comes from the municipality of the resident's "
	    "address today, under its code");
	cr_assert_null(r.muni);
	cr_assert_null(r.key);
	/* the other row of the same file still issues */
	cr_assert_eq(hk_request_parse(&ctx, 6, other, &r), 0, "%s",
	    hk_err_msg());
	hk_request_clear(&r);
	ctx.munis = munis;
	hk_munis_free(m);
}

/* A town's or village's address as the resident register writes it, with
 * its district (郡), or without; never another district. */
Test(request, address_with_its_district)
{
	static const char *ok[] = {
		"434434,12345678901,熊本　太郎,00000,319750301,1,"
		    "熊本県上益城郡益城町大字宮園７０２番地,"
		    "0000000000000000000,resident-1.pub.pem",
		"434434,12345678901,熊本　太郎,00000,319750301,1,"
		    "熊本県益城町大字宮園７０２番地,000000000000000,"
		    "resident-1.pub.pem",
		"435147,12345678901,熊本　太郎,00000,319750301,1,"
		    "熊本県球磨郡あさぎり町上北１番地,0000000000000000,"
		    "resident-1.pub.pem",
	};
	struct hk_request r;
	size_t i;

	ctx.basedir = REQ_DIR "/keys";
	ctx.input = "d.csv";
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_assert_eq(hk_request_parse(&ctx, 2, ok[i], &r), 0, "%s: %s",
		    ok[i], hk_err_msg());
		hk_request_clear(&r);
	}
	/* another town's district: 菊陽町 lies in 菊池郡 */
	cr_assert_eq(hk_request_parse(&ctx, 2, "434043,12345678901,熊本　太郎,"
	    "00000,319750301,1,熊本県上益城郡菊陽町久保田１番,"
	    "000000000000000,resident-1.pub.pem", &r), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "d.csv:2: address: must continue with "
	    "the municipality's name 菊陽町 or its district and name "
	    "菊池郡菊陽町 (code 434043)") != NULL, "%s", hk_err_msg());
}

Test(request, jis_sets)
{
	/* PROFILE.md: 鷗 and 丂 in JIS X 0212; 髙 﨑 𠮷 Ⅰ ① in neither */
	static const char *yes[] = { "熊本", "鷗", "丂", "ア", "ー", "　", "６",
	    "Ａ", "α", "Д", "é", "№", "～", "〜", "−" };
	/* ㈱ －(U+FF0D) —(U+2014) NBSP ¥ (0x5C) U+E0041 (glibc: no output) */
	static const char *no[] = { "髙", "﨑", "𠮷", "Ⅰ", "①", "ｱ", "A", " ",
	    "\xff", "\xe3\x80", "㈱", "－", "—", "\xc2\xa0", "¥",
	    "\xf3\xa0\x81\x81" };
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		cr_assert_eq(hk_basic4_jis_ok(yes[i], why, sizeof(why)), 0,
		    "%s: %s", yes[i], why);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		cr_assert_eq(hk_basic4_jis_ok(no[i], why, sizeof(why)),
		    HK_ERR_INVALID, "%s accepted", no[i]);
}

/* What Windows (CP932) and macOS send for six JIS X 0208 characters is
 * refused with the code point to send, not the advice of a substitute
 * (which would set a flag for a character the registry holds). */
Test(request, jis_cp932_forms_name_the_jis_code_point)
{
	static const struct { const char *sent, *want; } t[] = {
		{ "１－２", "character 2 (U+FF0D) is the Windows/Mac code of "
		    "JIS X 0208's MINUS SIGN: send U+2212 (no substitute, "
		    "flag 0)" },
		{ "∥", "(U+2225) is the Windows/Mac code of JIS X 0208's "
		    "DOUBLE VERTICAL LINE: send U+2016" },
		{ "￠", "send U+00A2" }, { "￡", "send U+00A3" },
		{ "￢", "send U+00AC" }, { "—", "send U+2015" },
	};
	static const char *jis[] = { "１−２", "‖", "¢", "£", "¬", "―" };
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cr_assert_eq(hk_basic4_jis_ok(t[i].sent, why, sizeof(why)),
		    HK_ERR_INVALID, "%s accepted", t[i].sent);
		cr_assert(strstr(why, t[i].want) != NULL, "%s: %s", t[i].sent,
		    why);
		/* and the code point named is one the test accepts */
		cr_assert_eq(hk_basic4_jis_ok(jis[i], why, sizeof(why)), 0,
		    "%s: %s", jis[i], why);
	}
	cr_assert_eq(hk_basic4_jis_ok("髙", why, sizeof(why)), HK_ERR_INVALID);
	cr_assert(strstr(why, "send its substitute with the flag 1") != NULL,
	    "%s", why);
}

/* The PEM file rel (under test/data/requests) as DER. */
static void
key_der(const char *rel, unsigned char **der, long *len)
{
	char path[512], *pn = NULL, *ph = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", REQ_DIR, rel);
	cr_assert_not_null(f = fopen(path, "r"), "%s", path);
	cr_assert_eq(PEM_read(f, &pn, &ph, der, len), 1, "%s", path);
	fclose(f);
	OPENSSL_free(pn);
	OPENSSL_free(ph);
}

/* dir/name holding der as a PUBLIC KEY block. */
static void
put_pub(const char *dir, const char *name, const unsigned char *der,
    long len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert_not_null(f = fopen(path, "w"));
	cr_assert_gt(PEM_write(f, "PUBLIC KEY", "", der, len), 0);
	fclose(f);
}

/*
 * request.c reads an rsaEncryption SubjectPublicKeyInfo without OpenSSL's
 * decoders when it is exactly OpenSSL's DER of the key (spki_rsa): the key
 * is then OpenSSL's built-in RSA type and the same key d2i_PUBKEY gives.
 * Any other encoding goes to d2i_PUBKEY and keeps its refusal: the
 * parameters left out (BER-ish, not what OpenSSL writes), or a bit string
 * with unused bits.
 */
Test(request, spki_read_without_decoders_same_key)
{
	static const char *ok[] = { "keys/resident-1.pub.pem",
	    "keys/rsa-1024.pub.pem", "keys/rsa-3072.pub.pem",
	    "keys/rsa-4096.pub.pem" };
	static const enum hk_key_alg alg[] = { HK_KEY_RSA2048, HK_KEY_RSA2048,
	    HK_KEY_RSA3072, HK_KEY_RSA4096 };
	char dir[] = "/tmp/hanko-spki-XXXXXX", path[512];
	unsigned char *der = NULL, *v = NULL;
	const unsigned char *q;
	struct hk_request req;
	EVP_PKEY *ref;
	long len = 0;
	size_t i;

	ctx.input = "r.csv";
	p->user_allow_rsa1024 = 1;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		p->user_key = alg[i];
		key_der(ok[i], &der, &len);
		q = der;
		cr_assert_not_null(ref = d2i_PUBKEY(NULL, &q, len));
		cr_assert_eq(parse_key(ok[i], &req), 0, "%s: %s", ok[i],
		    hk_err_msg());
		cr_assert_null(EVP_PKEY_get0_provider(req.key), "%s: read "
		    "through a decoder", ok[i]);
		cr_assert_eq(EVP_PKEY_eq(req.key, ref), 1, "%s", ok[i]);
		hk_request_clear(&req);
		EVP_PKEY_free(ref);
		OPENSSL_free(der);
		der = NULL;
	}
	p->user_key = HK_KEY_RSA2048;
	p->user_allow_rsa1024 = 0;

	cr_assert_not_null(mkdtemp(dir));
	ctx.basedir = dir;
	key_der("keys/resident-1.pub.pem", &der, &len);
	/* 30 82 01 22 | 30 0d 06 09 <rsaEncryption> 05 00 |
	 * 03 82 01 0f 00 <RSAPublicKey> */
	cr_assert_eq(len, 294);
	cr_assert_eq(der[4], 0x30);
	cr_assert_eq(der[5], 0x0d);
	cr_assert_eq(der[17], 0x05);
	cr_assert_eq(der[19], 0x03);
	/* the NULL parameters left out */
	cr_assert_not_null(v = malloc((size_t)len));
	memcpy(v, der, 17);
	memcpy(v + 17, der + 19, (size_t)len - 19);
	v[3] = 0x20;
	v[5] = 0x0b;
	put_pub(dir, "no-params.pem", v, len - 2);
	cr_assert_eq(parse_key("no-params.pem", &req), HK_ERR_INVALID);
	cr_assert_not_null(strstr(hk_err_msg(), "key: no-params.pem: RFC 5280 "
	    "4.1.2.7: the SubjectPublicKeyInfo is not DER-encoded"), "%s",
	    hk_err_msg());
	/* one unused bit in the subjectPublicKey */
	memcpy(v, der, (size_t)len);
	v[23] = 0x01;
	put_pub(dir, "unused-bit.pem", v, len);
	cr_assert_eq(parse_key("unused-bit.pem", &req), HK_ERR_INVALID);
	cr_assert_not_null(strstr(hk_err_msg(), "key: unused-bit.pem: "),
	    "%s", hk_err_msg());
	/* byte-identical copy: accepted */
	put_pub(dir, "same.pem", der, len);
	cr_assert_eq(parse_key("same.pem", &req), 0, "%s", hk_err_msg());
	hk_request_clear(&req);
	free(v);
	OPENSSL_free(der);
	ctx.basedir = REQ_DIR;
	snprintf(path, sizeof(path), "%s/no-params.pem", dir); remove(path);
	snprintf(path, sizeof(path), "%s/unused-bit.pem", dir); remove(path);
	snprintf(path, sizeof(path), "%s/same.pem", dir); remove(path);
	cr_assert_eq(rmdir(dir), 0);
}

/* What Excel's "CSV UTF-8" writes (a byte-order mark, CR LF line ends) is
 * read as the LF file is: the BOM no part of the header, each line's one
 * CR before its LF (or the file's end) no part of it; a second CR stays
 * (the line's refusal); the SHA-256 is of the bytes as read. */
Test(request, batch_file_excel_bom_crlf)
{
	static const char body[] = "\xef\xbb\xbf" HK_REQ_HEADER "\r\n"
	    "# x\r\n\r\nA,B\r\r\nC,D\nE\r";
	struct hk_batch_file b;
	struct hk_request_ctx c = ctx;
	char path[4200];
	unsigned char d[32];
	char hex[65];

	snprintf(path, sizeof(path), "%s/excel.csv", hk_test_dir("excel"));
	hk_test_write(path, body, sizeof(body) - 1);
	cr_assert_eq(hk_batch_file_read(path, 1 << 20, &b, &c), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(b.nlines, 6);
	cr_assert_str_eq((char *)b.content + b.lines[0], HK_REQ_HEADER);
	cr_assert_eq(b.lens[0], strlen(HK_REQ_HEADER));
	cr_assert_str_eq((char *)b.content + b.lines[1], "# x");
	cr_assert_eq(b.lens[2], 0);
	cr_assert_eq(b.lens[3], 4);
	cr_assert_eq(memcmp(b.content + b.lines[3], "A,B\r", 4), 0);
	cr_assert_str_eq((char *)b.content + b.lines[4], "C,D");
	cr_assert_eq(b.lens[5], 1);
	cr_assert_eq(b.content[b.lines[5]], 'E');
	SHA256((const unsigned char *)body, sizeof(body) - 1, d);
	hk_hex_encode(d, 32, hex);
	cr_assert_str_eq(b.sha, hex);
	hk_batch_file_free(&b);
}
