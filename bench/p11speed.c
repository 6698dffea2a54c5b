/*
 * p11speed.c - the raw RSA signing rate of a PKCS#11 token, the peer figure
 * of the issuance benchmark (bench/README.md): N threads, one session each,
 * C_Sign with CKM_RSA_PKCS over a SHA-256 DigestInfo (what libp11 sends for
 * a PKCS#1 v1.5 signature), for a fixed time.
 *
 *   p11speed MODULE TOKEN-LABEL PIN-FILE KEY-ID THREADS SECONDS
 *
 * Prints "p11speed: THREADS threads: N signatures in S s: R sig/s". The
 * module is loaded with dlopen; SOFTHSM2_CONF comes from the environment.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <p11-kit/pkcs11.h>

static CK_FUNCTION_LIST_PTR f;
static CK_SLOT_ID slot;
static CK_BYTE key_id[256];
static CK_ULONG key_id_len;
static volatile int stop;
static double seconds;

/* DigestInfo of SHA-256 (RFC 8017 9.2 note 1) followed by 32 bytes. */
static const CK_BYTE digest_info[51] = {
	0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
	0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
worker(void *arg)
{
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE key;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[2] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, key_id, 0 },
	};
	CK_MECHANISM m = { CKM_RSA_PKCS, NULL, 0 };
	CK_BYTE sig[1024];
	CK_ULONG n, found = 0;
	unsigned long *count = arg;

	tmpl[1].ulValueLen = key_id_len;
	if (f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &h) != CKR_OK ||
	    f->C_FindObjectsInit(h, tmpl, 2) != CKR_OK ||
	    f->C_FindObjects(h, &key, 1, &found) != CKR_OK || found != 1) {
		fprintf(stderr, "p11speed: session or key not found\n");
		exit(1);
	}
	f->C_FindObjectsFinal(h);
	while (!stop) {
		n = sizeof(sig);
		if (f->C_SignInit(h, &m, key) != CKR_OK ||
		    f->C_Sign(h, (CK_BYTE_PTR)digest_info, sizeof(digest_info),
		    sig, &n) != CKR_OK) {
			fprintf(stderr, "p11speed: C_Sign failed\n");
			exit(1);
		}
		(*count)++;
	}
	f->C_CloseSession(h);
	return NULL;
}

int
main(int argc, char **argv)
{
	CK_C_GetFunctionList gfl;
	CK_C_INITIALIZE_ARGS ia;
	CK_SLOT_ID slots[64];
	CK_ULONG ns = 64, i;
	CK_TOKEN_INFO ti;
	CK_SESSION_HANDLE login;
	pthread_t th[64];
	unsigned long counts[64], total = 0;
	char pin[256], label[33];
	const char *hex;
	double t0, t1;
	FILE *pf;
	void *lib;
	int threads, k;
	size_t pl;

	if (argc != 7) {
		fprintf(stderr, "usage: p11speed MODULE TOKEN-LABEL PIN-FILE "
		    "KEY-ID-HEX THREADS SECONDS\n");
		return 2;
	}
	threads = atoi(argv[5]);
	seconds = atof(argv[6]);
	if (threads < 1 || threads > 64 || seconds <= 0)
		return 2;
	for (hex = argv[4], key_id_len = 0; hex[0] && hex[1] &&
	    key_id_len < sizeof(key_id); hex += 2)
		sscanf(hex, "%2hhx", &key_id[key_id_len++]);
	if ((pf = fopen(argv[3], "r")) == NULL ||
	    fgets(pin, sizeof(pin), pf) == NULL) {
		fprintf(stderr, "p11speed: %s: cannot read the PIN\n", argv[3]);
		return 1;
	}
	fclose(pf);
	pl = strcspn(pin, "\r\n");
	pin[pl] = '\0';
	if ((lib = dlopen(argv[1], RTLD_NOW)) == NULL ||
	    (gfl = (CK_C_GetFunctionList)dlsym(lib, "C_GetFunctionList")) ==
	    NULL || gfl(&f) != CKR_OK) {
		fprintf(stderr, "p11speed: %s: not a PKCS#11 module\n", argv[1]);
		return 1;
	}
	memset(&ia, 0, sizeof(ia));
	ia.flags = CKF_OS_LOCKING_OK;
	if (f->C_Initialize(&ia) != CKR_OK ||
	    f->C_GetSlotList(CK_TRUE, slots, &ns) != CKR_OK)
		return 1;
	for (i = 0; i < ns; i++) {
		if (f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		memcpy(label, ti.label, 32);
		for (k = 32; k > 0 && label[k - 1] == ' '; k--)
			;
		label[k] = '\0';
		if (strcmp(label, argv[2]) == 0)
			break;
	}
	if (i == ns) {
		fprintf(stderr, "p11speed: token %s not found\n", argv[2]);
		return 1;
	}
	slot = slots[i];
	if (f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &login) !=
	    CKR_OK || f->C_Login(login, CKU_USER, (CK_UTF8CHAR_PTR)pin,
	    (CK_ULONG)pl) != CKR_OK) {
		fprintf(stderr, "p11speed: login failed\n");
		return 1;
	}
	memset(pin, 0, sizeof(pin));
	memset(counts, 0, sizeof(counts));
	t0 = now();
	for (k = 0; k < threads; k++)
		pthread_create(&th[k], NULL, worker, &counts[k]);
	while (now() - t0 < seconds) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	stop = 1;
	for (k = 0; k < threads; k++) {
		pthread_join(th[k], NULL);
		total += counts[k];
	}
	t1 = now();
	printf("p11speed: %d threads: %lu signatures in %.2f s: %.0f sig/s\n",
	    threads, total, t1 - t0, (double)total / (t1 - t0));
	f->C_Logout(login);
	f->C_CloseSession(login);
	f->C_Finalize(NULL);
	return 0;
}
