#!/usr/bin/env python3
# gen.py - regenerates the malformed ceremony scripts of this folder and
# their INDEX ("file<TAB>line<TAB>message fragment"). Each case is the good
# script with one edit; "#!" marks the line the error must name (removed
# from the file written).
import os
BASE = open(os.path.join(os.path.dirname(__file__), "good.yaml")).read()
CASES = [
 # name, old, new, fragment
 ("version-2", "hanko-ceremony: 1", "hanko-ceremony: 2 #!", "must be an integer from 1 to 1"),
 ("version-missing", "hanko-ceremony: 1\n", "", "hanko-ceremony: required key is missing"),
 ("version-string", "hanko-ceremony: 1", "hanko-ceremony: \"1\" #!", "must be an integer"),
 ("unknown-top-key", "title: \"A test\"", "title: \"A test\"\ncomment: x #!", "unknown key"),
 ("duplicate-top-key", "title: \"A test\"", "title: \"A test\"\ntitle: again #!", "duplicate"),
 ("name-missing", "name: test-ceremony\n", "", "name: required key is missing"),
 ("name-upper", "name: test-ceremony", "name: Test #!", "must be 1 to 32 of a-z"),
 ("name-long", "name: test-ceremony", "name: " + "a" * 40 + " #!", "string of 1 to 32 bytes"),
 ("name-list", "name: test-ceremony", "name: [a] #!", "must be a string"),
 ("title-map", "title: \"A test\"", "title: {a: b} #!", "must be a string"),
 ("cps-missing", "cps: [\"5-2-2\", \"6-1-1-1\"]\n", "", "cps: required key is missing"),
 ("cps-empty", "cps: [\"5-2-2\", \"6-1-1-1\"]", "cps: [] #!", "must list 1 to 64 CPS sections"),
 ("cps-bad", "cps: [\"5-2-2\", \"6-1-1-1\"]", "cps: [\"5-2-2\", \"6.1.1\"] #!", "must be a CPS section"),
 ("cps-zero", "cps: [\"5-2-2\", \"6-1-1-1\"]", "cps: [\"0-1\"] #!", "must be a CPS section"),
 ("cps-dup", "cps: [\"5-2-2\", \"6-1-1-1\"]", "cps: [\"5-2-2\", \"5-2-2\"] #!", "duplicate CPS section"),
 ("cps-scalar", "cps: [\"5-2-2\", \"6-1-1-1\"]", "cps: \"5-2-2\" #!", "must be a sequence"),
 ("roles-missing", "roles:\n  ca-manager: 1\n  key-manager: quorum\n  senior-operator: 2\n", "", "roles: required key is missing"),
 ("role-unknown", "  ca-manager: 1", "  ca-manager: 1\n  janitor: 1 #!", "unknown key"),
 ("role-zero", "  senior-operator: 2", "  senior-operator: 0 #!", "must be an integer from 1 to 16"),
 ("role-big", "  senior-operator: 2", "  senior-operator: 17 #!", "must be an integer from 1 to 16"),
 ("role-km-number", "  key-manager: quorum", "  key-manager: 3 #!", "must be 'quorum'"),
 ("role-quorum-other", "  ca-manager: 1", "  ca-manager: quorum #!", "only key-manager can be 'quorum'"),
 ("role-dup", "  ca-manager: 1", "  ca-manager: 1\n  ca-manager: 2 #!", "duplicate"),
 ("role-unused", "  ca-manager: 1", "  ca-manager: 1\n  auditor: 1 #!", "role auditor acts in no step"),
 ("input-no-kind", "    kind: csr\n", "", "kind: required key is missing"),
 ("input-bad-kind", "    kind: csr", "    kind: pdf #!", "must be one of: file, csr, cert"),
 ("input-bad-sha", "    kind: csr", "    kind: csr\n    sha256: abc #!", "must be 64 lowercase hex digits"),
 ("input-upper-sha", "    kind: csr", "    kind: csr\n    sha256: " + "A" * 64 + " #!", "must be 64 lowercase hex digits"),
 ("input-dup", "  - name: csr\n    kind: csr\n", "  - name: csr\n    kind: csr\n  - name: csr #!\n    kind: file\n", "duplicate input name 'csr'"),
 ("input-unused", "  - name: csr\n    kind: csr\n", "  - name: csr\n    kind: csr\n  - name: other #!\n    kind: file\n", "input 'other' is used by no step"),
 ("input-unknown-key", "    kind: csr", "    kind: csr\n    path: /tmp/x #!", "unknown key"),
 ("output-abs", "    path: certs/root-1.der", "    path: /etc/passwd #!", "must be certs/NAME"),
 ("output-dotdot", "    path: certs/root-1.der", "    path: certs/../x #!", "file name must be"),
 ("output-subdir", "    path: certs/root-1.der", "    path: certs/a/b #!", "file name must be"),
 ("output-empty", "    path: certs/root-1.der", "    path: certs/ #!", "file name must be"),
 ("output-kind", "    kind: cert-der", "    kind: der #!", "must be one of: cert-der"),
 ("output-dup-path", "    path: certs/root-1.pem", "    path: certs/root-1.der #!", "is also output 'der'"),
 ("output-unwritten", "    kind: cert-pem\n", "    kind: cert-pem\n  - name: extra #!\n    path: out/x\n    kind: file\n", "output 'extra' is written by no step"),
 ("output-no-path", "    path: certs/root-1.pem\n", "", "path: required key is missing"),
 ("steps-missing", None, None, "steps: required key is missing"),
 ("steps-empty", None, None, "must list 1 to 64 steps"),
 ("step-unknown-action", "    action: approve", "    action: launch-missiles #!", "unknown action 'launch-missiles'"),
 ("step-unknown-key", "    action: approve", "    action: approve\n    when: now #!", "unknown key"),
 ("step-dup-id", "  - id: look", "  - id: approve #!", "duplicate step id 'approve'"),
 ("step-bad-id", "  - id: look", "  - id: Look! #!", "must be 1 to 32 of a-z"),
 ("step-no-action", "    action: input-check\n", "", "action: required key is missing"),
 ("param-unknown", "      input: csr", "      input: csr\n      fast: true #!", "takes no parameter 'fast'"),
 ("param-missing", "      algorithm: rsa-2048", "      {} #!", "needs parameter 'algorithm'"),
 ("param-bad-enum", "      algorithm: rsa-2048", "      algorithm: rsa-1024 #!", "must be one of: rsa-2048"),
 ("param-undefined-input", "      input: csr", "      input: crs #!", "no input named 'crs'"),
 ("param-undefined-output", "      der: der", "      der: root #!", "no output named 'root'"),
 ("param-wrong-output-kind", "      der: der\n      pem: pem", "      der: pem #!\n      pem: der", "output 'pem' is cert-pem"),
 ("param-undefined-step", "      key: keygen", "      key: kegen #!", "no earlier step with id 'kegen'"),
 ("param-forward-step", "      certificate: sign", "      certificate: later #!", "no earlier step with id 'later'"),
 ("param-wrong-step-action", "      key: keygen", "      key: approve #!", "step 'approve' runs approve"),
 ("param-map", "      input: csr", "      input: {a: b} #!", "must be a scalar"),
 ("params-on-none", "    roles: [key-manager]", "    roles: [key-manager]\n    params: {x: 1} #!", "takes no parameter 'x'"),
 ("signs-missing", "    signs: true\n", "", "the step must say signs: true"),
 ("signs-wrong", "    action: approve", "    action: approve\n    signs: true #!", "signs nothing"),
 ("signs-not-bool", "    signs: true", "    signs: yes #!", "must be true or false"),
 ("dual-missing", "    dual-control: true\n", "", "needs dual-control: true"),
 ("dual-one-person", "  senior-operator: 2", "  senior-operator: 1", "dual control needs two people"),
 ("dual-quorum", "    roles: [senior-operator]\n    dual-control: true", "    roles: [key-manager]\n    dual-control: true #!", "not the key managers' quorum"),
 ("dual-no-roles", "    roles: [senior-operator]\n", "", "dual control needs roles"),
 ("step-role-undeclared", "    roles: [ca-manager]", "    roles: [ca-manager, auditor] #!", "role auditor is not in the script's roles"),
 ("step-role-twice", "    roles: [ca-manager]", "    roles: [ca-manager, ca-manager] #!", "listed twice"),
 ("quorum-without-km", "    roles: [key-manager]", "    roles: [ca-manager] #!", "roles must include key-manager"),
 ("token-before-activate", None, None, "needs the token"),
 ("output-written-twice", None, None, "already written by step"),
 ("clock-bad", "title: \"A test\"", "title: \"A test\"\nclock: tomorrow #!", "must be a UTC time"),
 ("yaml-alias", "title: \"A test\"", "title: &t \"A test\" #!", "anchor"),
 ("yaml-tab", "name: test-ceremony", "name:\ttest-ceremony\n\tx: 1 #!", ""),
 ("yaml-two-docs", None, None, "document"),
 ("not-a-map", None, None, "must be a mapping"),
]

def mark(text):
    lines = text.split("\n")
    for i, l in enumerate(lines):
        if "#!" in l:
            lines[i] = l.replace(" #!", "").replace("#!", "")
            return "\n".join(lines), i + 1
    return text, 0

here = os.path.dirname(os.path.abspath(__file__))
index = []
for name, old, new, frag in CASES:
    if old is None:
        if name == "steps-missing":
            text = BASE[:BASE.index("steps:")] + "#!\n"
        elif name == "steps-empty":
            text = BASE[:BASE.index("steps:")] + "steps: [] #!\n"
        elif name == "token-before-activate":
            text = BASE.replace("  - id: look\n", "  - id: early\n    action: audit-checkpoint #!\n  - id: look\n", 1)
        elif name == "output-written-twice":
            text = BASE.replace("      key: keygen\n      der: der\n      pem: pem\n",
                "      key: keygen\n      der: der\n      pem: pem\n  - id: again\n    action: root-self-sign\n"
                "    roles: [senior-operator]\n    dual-control: true\n    signs: true\n    params:\n"
                "      key: keygen\n      der: der #!\n      pem: pem\n", 1)
        elif name == "yaml-two-docs":
            text = BASE + "--- #!\nname: two\n"
        elif name == "not-a-map":
            text = "- hanko-ceremony: 1 #!\n"
        text, line = mark(text)
        if name == "steps-missing":
            line = 1
    else:
        assert old in BASE, name
        text, line = mark(BASE.replace(old, new, 1))
        if line == 0:
            line = -1     # any line
    fn = "bad-%s.yaml" % name
    open(os.path.join(here, fn), "w").write(text)
    index.append("%s\t%d\t%s" % (fn, line, frag))
open(os.path.join(here, "INDEX"), "w").write(
    "# file<TAB>line (-1: any)<TAB>message fragment; made by gen.py\n" + "\n".join(index) + "\n")
print(len(index), "cases")
