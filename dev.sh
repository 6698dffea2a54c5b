#!/usr/bin/env bash
# dev.sh - set-up, build, demo and tests on Debian 12 (run as root).
#
#   ./dev.sh demo    install what is missing, build, run the rehearsal demo
#   ./dev.sh test    install what is missing, build (-Werror), run every test,
#                    then the same suite again under ASan + UBSan
#   ./dev.sh build   install and build only
#
# Exit status: 0 on success; the failing step's status otherwise.
set -euo pipefail
top=$(cd "$(dirname "$0")" && pwd)
cd "$top"

# Debian 12 packages this project needs (build, run, and check with
# independent tools). The list is the whole set-up: nothing else is fetched.
PACKAGES=(
	build-essential cmake pkg-config ca-certificates python3
	libssl-dev openssl gnutls-bin libnss3-tools faketime
	libp11-dev libp11-kit-dev softhsm2 opensc
	libsodium-dev libyaml-dev libcriterion-dev libqrencode-dev libpng-dev libzbar-dev clang
	binutils file clang libclang-rt-14-dev
	libsqlite3-dev sqlite3
	libmicrohttpd-dev libldap-dev slapd ldap-utils curl chromium iproute2
)

install_deps() {
	local missing=()
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "dev.sh: missing packages: ${missing[*]}; run as root" >&2
		exit 1
	fi
	echo "dev.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build() { # build DIR [cmake options...]
	local dir=$1; shift
	cmake -S "$top" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
	cmake --build "$dir" -j"$(nproc)"
}

run_tests() { # run_tests DIR LABEL
	echo "dev.sh: running the test suite ($2)"
	(cd "$1" && ctest --output-on-failure -j"$(nproc)" --timeout 900)
}

case "${1:-}" in
demo)
	install_deps
	build build
	exec "$top/scripts/demo.sh" "$top/build"
	;;
test)
	install_deps
	build build -DHANKO_WERROR=ON
	run_tests build "warnings as errors"
	# The same suite once more under AddressSanitizer + UBSan.
	build build-asan -DHANKO_WERROR=ON -DHANKO_SANITIZE=ON \
		-DCMAKE_BUILD_TYPE=Debug
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		run_tests build-asan "ASan + UBSan"
	;;
build)
	install_deps
	build build
	;;
*)
	sed -n '2,10p' "$0" >&2
	exit 2
	;;
esac
