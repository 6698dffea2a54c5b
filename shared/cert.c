/* cert.c - placeholder until the module lands. */
typedef int hk_placeholder_cert;
