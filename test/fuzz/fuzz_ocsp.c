/*
 * fuzz_ocsp.c - the two parsers of OCSP input (online/ocsp.h): the
 * network's OCSPRequest (hk_ocsp_request_parse) and the key holder's
 * signing job (hk_ocsp_job_decode). Every input goes to both. What parses
 * as a request becomes a job that decodes to the same CertIDs and nonce;
 * what decodes as a job is canonical: it encodes to the same bytes.
 * Seeds: test/fuzz/corpus/ocsp/ (requests made by openssl ocsp -reqout,
 * and jobs).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>

#include "ocsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
same_request(const struct hk_ocsp_request *a, const struct hk_ocsp_request *b)
{
	size_t i;

	if (a->n != b->n || a->has_nonce != b->has_nonce ||
	    a->nonce_len != b->nonce_len ||
	    memcmp(a->nonce, b->nonce, a->nonce_len) != 0)
		abort();
	for (i = 0; i < a->n; i++)
		if (OCSP_id_cmp(a->ids[i], b->ids[i]) != 0)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hk_ocsp_request rq, back;
	unsigned char *job = NULL;
	size_t jl = 0;

	if (hk_ocsp_request_parse(data, size, &rq) == 0) {
		if (hk_ocsp_job_encode(&rq, &job, &jl) != 0 ||
		    hk_ocsp_job_decode(job, jl, &back) != 0)
			abort();
		same_request(&rq, &back);
		hk_ocsp_request_clear(&back);
		free(job);
		job = NULL;
		hk_ocsp_request_clear(&rq);
	}
	if (hk_ocsp_job_decode(data, size, &back) == 0) {
		if (hk_ocsp_job_encode(&back, &job, &jl) != 0 ||
		    jl != size || memcmp(job, data, size) != 0)
			abort();
		free(job);
		hk_ocsp_request_clear(&back);
	}
	ERR_clear_error();
	return 0;
}
