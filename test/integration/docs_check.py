#!/usr/bin/env python3
"""docs_check.py - do the documents still name what the code has?

Run by t_docs.sh (HANKO_SRC, HANKO_ONLINE, HANKO_OFFLINE from ctest). Checks
that can be made mechanically, each printed as one line "ok|FAIL: <what>":

 1. man pages: the SYNOPSIS of hanko-online(1) and hanko-offline(1) has a
    line for every command the program's --help names, and lists every
    option of that command's own usage (<prog> <command> --help), and no
    option the usage lacks (but --clock, taken by every command on a state);
    each command as the SYNOPSIS writes it ("audit verify") takes --help.
 2. docs/cps-mapping.md: every unit.X is test/unit/test_X.c, every
    suite::test it names is a Test() in it, every integration.X is
    test/integration/X.sh and every quoted assertion text after it is one of
    that script's (shell expansions in the script stand for anything; in the
    text N, S, K, ... stand for a value); every `path` it names exists.
 3. man pages: every option a SYNOPSIS gives is documented, one line per
    command. hanko-online(1): each has an entry in OPTIONS (a .TP whose
    head names it). hanko-offline(1): each SYNOPSIS command has an entry
    under COMMANDS (a top-level .TP/.B, up to the next, its .RS list
    included) that names each of its options, but those of "OPTIONS COMMON
    TO COMMANDS ON A STATE FOLDER" (--state, --clock) and --share with the
    --passin that opens a share, when the command is named in that
    section's --share entry.

Exit 0 when everything holds, 1 otherwise.
"""
import os
import re
import subprocess
import sys

SRC = os.environ["HANKO_SRC"]
PROGS = [("hanko-online", os.environ["HANKO_ONLINE"], "docs/hanko-online.1"),
         ("hanko-offline", os.environ["HANKO_OFFLINE"], "docs/hanko-offline.1")]
failed = 0


def report(ok, what):
    global failed
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        failed += 1


def key_of(m):
    """'rp add', 'backup verify', 'issue': a command and its verb."""
    c, v = m.group(1), m.group(2)
    return c + " " + v if v and c != "request" else c


# ---- 1. the man pages' SYNOPSIS against the programs' usage ----------

def synopsis(path, prog):
    lines = open(os.path.join(SRC, path), encoding="utf-8").read().split("\n")
    a = next(i for i, l in enumerate(lines) if l.startswith(".SH SYNOPSIS"))
    b = next(i for i, l in enumerate(lines) if l.startswith(".SH") and i > a)
    d, cur = {}, None
    for l in lines[a + 1:b]:
        l = l.replace("\\-", "-")
        m = re.match(r"\.B %s ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?" % prog, l)
        if m:
            cur = key_of(m)
            d.setdefault(cur, set())
            l = l[m.end():]
        if cur:
            d[cur] |= set(re.findall(r"--[a-z0-9-]+", l))
    return d


def commands(binary):
    out = subprocess.run([binary, "--help"], capture_output=True,
                         text=True).stdout
    body = out.split("commands:", 1)[1]
    return set(re.findall(r"^  ([a-z][a-z-]*)", body, re.M))


def usage(binary, prog, cmds):
    d = {}
    for c in sorted(cmds):
        out = subprocess.run([binary, c, "--help"], capture_output=True,
                             text=True).stdout
        cur = None
        for l in out.split("\n"):
            m = re.match(r"(?:usage:)?\s*%s ([a-z][a-z-]*)"
                         r"(?: ([a-z][a-z-]*))?" % prog, l)
            if m:
                cur = key_of(m)
                d.setdefault(cur, set())
                l = l[m.end():]
            elif not l.startswith("      "):
                cur = None		# a usage line goes on indented
            if cur:
                d[cur] |= set(re.findall(r"--[a-z0-9-]+", l))
    return d


for prog, binary, man in PROGS:
    syn = synopsis(man, prog)
    cmds = (commands(binary) | {k.split()[0] for k in syn}) - {"version"}
    use = usage(binary, prog, cmds)
    # each command of the SYNOPSIS, as written there, takes --help
    for k in sorted(syn):
        if k == "version":
            continue
        p = subprocess.run([binary] + k.split() + ["--help"],
                           capture_output=True, text=True)
        report(p.returncode == 0 and re.search(
            r"^(usage:)?\s*%s %s\b" % (prog, re.escape(k)), p.stdout,
            re.M) is not None,
            "%s %s --help: its usage on stdout, exit 0 (exit %d%s)" %
            (prog, k, p.returncode,
             ": " + p.stderr.strip() if p.stderr.strip() else ""))
    for k in sorted(use):
        if k not in syn:
            report(False, "%s: %s: %s --help has it, the SYNOPSIS not"
                   % (man, k, prog))
            continue
        lack = use[k] - syn[k]
        extra = syn[k] - use[k] - {"--clock", "--help"}
        report(not lack and not extra,
               "%s SYNOPSIS: %s %s: options as its usage%s%s" %
               (man, prog, k,
                "; lacks " + " ".join(sorted(lack)) if lack else "",
                "; the usage has no " + " ".join(sorted(extra))
                if extra else ""))


# ---- 2. docs/cps-mapping.md's tests and files ---------------------------

md = open(os.path.join(SRC, "docs/cps-mapping.md"), encoding="utf-8").read()
units, scripts = {}, {}


def unit_tests(mod):
    if mod not in units:
        p = os.path.join(SRC, "test/unit/test_%s.c" % mod)
        units[mod] = None if not os.path.exists(p) else {
            "%s::%s" % t for t in re.findall(
                r"\b(?:Test|ParameterizedTest|Theory)\((?:[^,()]*\*\s*\w+,"
                r"\s*)?(\w+)\s*,\s*(\w+)", open(p, encoding="utf-8").read())}
    return units[mod]


EXP = r"\$\((?:[^()]|\([^()]*\))*\)|\$\{[^}]*\}|\$\w+|\$[@*#?]"


def dquoted(text):
    """The double-quoted strings of a shell script, $(...) inside kept."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
        elif c == "'":
            j = text.find("'", i + 1)
            i = n if j < 0 else j + 1
        elif c == "#" and (i == 0 or text[i - 1] in " \t\n"):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c == '"':
            j, depth = i + 1, 0
            while j < n:
                if text[j] == "\\":
                    j += 2
                    continue
                if text.startswith("$(", j):
                    depth += 1
                    j += 2
                    continue
                if depth and text[j] == "(":
                    depth += 1
                elif depth and text[j] == ")":
                    depth -= 1
                elif not depth and text[j] == '"':
                    break
                j += 1
            out.append(text[i + 1:j])
            i = j + 1
        else:
            i += 1
    return out


def fragments(lit):
    """A string's literal parts around its expansions (which stand for
    anything); a second form without its parenthesised expansions, which a
    text may leave out ("exit 1 ($rc)": "exit 1")."""
    lit = re.sub(r"^\.\.\. ", "", lit).replace('\\"', '"')
    forms = [re.split(EXP, lit)]
    bare = re.sub(r" \((?:%s)\)" % EXP, "", lit)
    if bare != lit:
        forms.append(re.split(EXP, bare))
    return [f for f in forms if len("".join(f)) >= 8 and
            (len(f) > 1 or f is not forms[0])]


def consistent(frags, part):
    """part is what the string says, an expansion being any value, the text
    allowed to stop short within a literal part (a name cut at "(")."""
    def at(i, pos):
        f = frags[i]
        rest = part[pos:]
        if rest and f.startswith(rest):
            return True			# the text ends here, in a part
        if not rest.startswith(f):
            return False
        pos += len(f)
        if i + 1 == len(frags):
            return pos == len(part)
        return any(at(i + 1, q) for q in range(pos + 1, len(part) + 1))
    return at(0, 0)


def script(name):
    if name not in scripts:
        p = os.path.join(SRC, "test/integration/%s.sh" % name)
        if not os.path.exists(p):
            scripts[name] = None
        else:
            text = open(p, encoding="utf-8").read()
            scripts[name] = (text, [f for lit in dquoted(text)
                                    for f in fragments(lit)])
    return scripts[name]


def found(name, part):
    text, forms = script(name)
    return part in text or any(consistent(f, part) for f in forms)


for ln, line in enumerate(md.split("\n"), 1):
    if not line.startswith("|"):
        continue
    cells = line.split("|")
    if len(cells) < 6:
        continue
    shown = cells[4]
    for m in re.finditer(r"`unit\.(\w+)`((?:[^;`]|`[^`]*`)*)", shown):
        mod, names = m.group(1), unit_tests(m.group(1))
        report(names is not None, "cps-mapping.md:%d: unit.%s is "
               "test/unit/test_%s.c" % (ln, mod, mod))
        if names is None:
            continue
        last = None
        for t in re.findall(r"`(\w*::\w+)`", m.group(2)):
            if t.startswith("::"):
                if last is None:
                    continue
                t = last + t
            else:
                last = t.split("::")[0]
                if last != mod and last not in {n.split("::")[0]
                                                for n in names}:
                    last = None		# another module's, named in passing
                    continue
            if t.split("::")[0] in {n.split("::")[0] for n in names}:
                report(t in names, "cps-mapping.md:%d: unit.%s has %s"
                       % (ln, mod, t))
    for m in re.finditer(r"`integration\.(\w+)`((?:[^;`]|`[^`]*`)*)",
                         shown):
        name = m.group(1)
        ok = script(name) is not None
        report(ok, "cps-mapping.md:%d: integration.%s is "
               "test/integration/%s.sh" % (ln, name, name))
        if not ok:
            continue
        for q in re.findall(r'"([^"]*)"', m.group(2)):
            for part in re.split(r"\.\.\.|…|\{…\}", q):
                part = part.strip(" :")
                if part:
                    report(found(name, part), "cps-mapping.md:%d: %s "
                           "asserts \"%s\"" % (ln, name, part))
    for p in re.findall(r"`((?:shared|online|offline|test|docs|deploy|"
                        r"scripts|ceremony-scripts|media-format)/[^` ]+)`",
                        line):
        p = p.split(":")[0]
        report(os.path.exists(os.path.join(SRC, p)),
               "cps-mapping.md:%d: %s exists" % (ln, p))


# ---- 3. the man pages document every option their SYNOPSIS gives --------

def section(lines, title):
    """The lines of the .SH section whose title starts with title."""
    a = next((i for i, l in enumerate(lines)
              if l.startswith(".SH " + title)), None)
    if a is None:
        return []
    b = next((i for i, l in enumerate(lines) if l.startswith(".SH")
              and i > a), len(lines))
    return lines[a + 1:b]


def entry_heads(body):
    """The options each .TP entry's head line (.B/.BI/.BR) names."""
    return [set(re.findall(r"--[a-z0-9-]+", body[i]))
            for i in range(1, len(body))
            if body[i - 1].startswith(".TP") and body[i].startswith(".B")]


def man_lines(path):
    return open(os.path.join(SRC, path), encoding="utf-8").read().replace(
        "\\-", "-").split("\n")


# hanko-online: one OPTIONS section; each option of the SYNOPSIS has an
# entry there (a .TP whose head names it).
L = man_lines("docs/hanko-online.1")
documented = set().union(*entry_heads(section(L, "OPTIONS")))
for k, opts in sorted(synopsis("docs/hanko-online.1", "hanko-online").items()):
    lack = opts - documented - {"--help"}
    report(not lack, "docs/hanko-online.1 OPTIONS: hanko-online %s: an entry "
           "for each option of its SYNOPSIS%s" %
           (k, "; none for " + " ".join(sorted(lack)) if lack else ""))

# hanko-offline: options per command, under COMMANDS (a top-level .TP/.B
# entry, up to the next one, its .RS list included); --state and --clock in
# "OPTIONS COMMON TO COMMANDS ON A STATE FOLDER", whose --share entry (with
# --passin SPEC: the share's passphrase) names the commands that take it.
L = man_lines("docs/hanko-offline.1")
c = next(i for i, l in enumerate(L) if l.startswith(".SH COMMANDS"))
e = next(i for i, l in enumerate(L) if l.startswith(".SH") and i > c)
heads, depth = [], 0
for i in range(c + 1, e):
    if L[i].startswith(".RS"):
        depth += 1
    elif L[i].startswith(".RE"):
        depth -= 1
    elif depth == 0 and L[i - 1].startswith(".TP") and \
            L[i].startswith(".B "):
        m = re.match(r"\.B ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?", L[i])
        if m:
            heads.append((i, key_of(m)))
entries = {}
for j, (i, k) in enumerate(heads):
    entries[k] = "\n".join(L[i:heads[j + 1][0] if j + 1 < len(heads) else e])
common = section(L, "OPTIONS COMMON TO COMMANDS ON A STATE FOLDER")
everywhere, share_text = set(), ""
for j in range(1, len(common)):
    if not (common[j - 1].startswith(".TP") and common[j].startswith(".B")):
        continue
    names = set(re.findall(r"--[a-z0-9-]+", common[j]))
    if "--share" in names:
        end = next((t for t in range(j + 1, len(common))
                    if common[t].startswith(".TP")), len(common))
        share_text = "\n".join(common[j + 1:end])
    else:
        everywhere |= names


def named_in(k, text):
    return re.search(r"(?<![a-z-])%s(?![a-z-])" % re.escape(k), text)


for k, opts in sorted(synopsis("docs/hanko-offline.1",
                               "hanko-offline").items()):
    if k not in entries:
        report(False, "docs/hanko-offline.1 COMMANDS: hanko-offline %s: no "
               "entry" % k)
        continue
    shared = {"--share", "--passin"} if "--share" in opts and \
        named_in(k, share_text) else set()
    lack = {o for o in opts - everywhere - shared - {"--help"}
            if not re.search(r"%s(?![a-z0-9-])" % re.escape(o), entries[k])}
    report(not lack, "docs/hanko-offline.1 COMMANDS: hanko-offline %s: its "
           "entry (or the common options) names each option of its "
           "SYNOPSIS%s" % (k, "; not " + " ".join(sorted(lack))
                           if lack else ""))

print("%d failed" % failed)
sys.exit(1 if failed else 0)
