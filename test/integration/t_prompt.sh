#!/usr/bin/env bash
# t_prompt.sh - passphrases typed at a terminal (CPS 5-2-3): without
# --passin, hanko-offline asks on the terminal with echo off, naming the
# holder and the share; init asks twice and refuses two different entries;
# with no terminal at all it fails with exit 3 instead of waiting.
. "$(dirname "$0")/lib.sh"
fresh_tmp
T=$HANKO_TMP
make_ca "$T/ca"
S=$T/ca/state
M=$T/ca/media

answers=$(python3 -c 'import json,os; print(json.dumps([
 ["Passphrase of yamada for share 1 of 5", os.environ["HK_PASS_yamada"]],
 ["Passphrase of suzuki for share 3 of 5", os.environ["HK_PASS_suzuki"]],
 ["Passphrase of tanaka for share 5 of 5", os.environ["HK_PASS_tanaka"]]]))')
ok "three key managers type their passphrases at the terminal" \
	drive "$answers" "$OFF" activate --state "$S" \
	--share "$M/yamada/share-1-yamada.hks" --share "$M/suzuki/share-3-suzuki.hks" \
	--share "$M/tanaka/share-5-tanaka.hks"
cp "$T/out" "$T/tty.out"
check "each prompt named the holder and the share" \
	bash -c "grep -q 'Passphrase of yamada for share 1 of 5' '$T/tty.out' && grep -q 'Passphrase of tanaka for share 5 of 5' '$T/tty.out'"
check "the terminal did not echo any passphrase" \
	bash -c "! grep -qF -e \"\$HK_PASS_yamada\" -e \"\$HK_PASS_suzuki\" -e \"\$HK_PASS_tanaka\" '$T/tty.out'"
check "the quorum was reached" grep -q "Quorum reached by yamada,suzuki,tanaka" "$T/tty.out"

# init asks twice and refuses two different entries.
mkdir -p "$T/n"
others=(--passin sato=env:HK_PASS_sato --passin suzuki=env:HK_PASS_suzuki
	--passin takahashi=env:HK_PASS_takahashi --passin tanaka=env:HK_PASS_tanaka)
answers=$(python3 -c 'import json; print(json.dumps([
 ["New passphrase for yamada", "Kumamoto castle 1607 spring!"],
 ["gain", "Kumamoto castle 1607 summer!"]]))')
TESTS_RUN=$((TESTS_RUN + 1))
rc=0; drive "$answers" "$OFF" init --state "$T/n/state" --rehearsal \
	--kdf interactive --profile "$PROFILE" --roster "$ROSTER" --media "$T/n/media" \
	"${others[@]}" >"$T/tty2.out" 2>&1 || rc=$?
if [ "$rc" = 3 ] && grep -q "two passphrases typed differ" "$T/tty2.out" && [ ! -e "$T/n/state" ]; then
	echo "ok - two different entries of a new passphrase are refused; nothing made"
else
	echo "FAIL - mismatched new passphrase: exit $rc"; cat "$T/tty2.out"
	TESTS_FAILED=$((TESTS_FAILED + 1))
fi

# No terminal at all: fail at once, never hang.
fails "with no terminal and no --passin, exit 3 at once" 3 "terminal" \
	setsid -w timeout 20 "$OFF" activate --state "$S" --share "$M/yamada/share-1-yamada.hks"
finish
