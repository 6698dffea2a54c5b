/* audit.c - placeholder until the module lands. */
typedef int hk_placeholder_audit;
