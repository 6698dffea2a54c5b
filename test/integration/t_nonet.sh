#!/usr/bin/env bash
# t_nonet.sh - the offline program links no network code (DESIGN.md 2):
# no network library among its dynamic dependencies, and no socket
# function among the symbols the binary itself imports.
. "$(dirname "$0")/lib.sh"
fresh_tmp

# The same scan must see a socket call where there is one.
printf '#include <sys/socket.h>\nint main(void){return socket(AF_INET,SOCK_STREAM,0);}\n' >"$HANKO_TMP/net.c"
cc -o "$HANKO_TMP/net" "$HANKO_TMP/net.c"
check "the scan finds socket in a program that calls it" \
	bash -c "nm -D --undefined-only '$HANKO_TMP/net' | awk '{print \$NF}' | sed 's/@.*//' | grep -qx socket"

ldd "$OFF" >"$HANKO_TMP/ldd"
nm -D --undefined-only "$OFF" | awk '{print $NF}' | sed 's/@.*//' | sort -u >"$HANKO_TMP/syms"

check "the binary has dynamic dependencies to inspect" test -s "$HANKO_TMP/ldd"
check "libcrypto is linked (the check sees real libraries)" grep -q libcrypto "$HANKO_TMP/ldd"
check "the binary imports symbols (the check sees real symbols)" grep -qx 'EVP_PKEY_free' "$HANKO_TMP/syms"
for lib in libssl libmicrohttpd libldap liblber libpq libcurl libresolv libnsl libgnutls libzmq libevent; do
	check "no $lib among the linked libraries" \
		bash -c "! grep -q '$lib' '$HANKO_TMP/ldd'"
done
for sym in socket connect bind listen accept accept4 send sendto sendmsg \
	recv recvfrom recvmsg getaddrinfo gethostbyname getnameinfo \
	inet_pton inet_ntop socketpair setsockopt getsockopt shutdown \
	curl_easy_init MHD_start_daemon ldap_initialize PQconnectdb SSL_new; do
	check "the binary imports no $sym" bash -c "! grep -qx '$sym' '$HANKO_TMP/syms'"
done
finish
