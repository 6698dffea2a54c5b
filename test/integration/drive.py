# drive.py ANSWERS CMD...: run CMD on a new pseudo-terminal, as a person at
# a terminal would: each time the last line the terminal shows holds the
# next prompt of ANSWERS (JSON, a list of [prompt, answer]), type its answer
# and Enter. Print everything the terminal showed, then on stderr
# "ANSWERED <n>", how many answers were typed; exit as CMD did. An answer
# "SHA8" types the first 8 hex digits of the last "SHA-256 <64 hex>" shown
# (the typed confirmation before signing), "SHA8-WRONG" the same 8 with the
# first digit changed. An answer "^C" types Ctrl-C (SIGINT to the
# program, through the terminal), "HUP" closes the terminal (SIGHUP); the
# output then ends there. Used by t_prompt.sh, t_ceremony_confirm.sh and
# t_ceremony_custody.sh (through drive() in lib.sh).
import json, os, pty, re, select, sys

answers = json.loads(sys.argv[1]); cmd = sys.argv[2:]


def typed(answer, out):
    if answer not in ("SHA8", "SHA8-WRONG"):
        return answer
    h = re.findall(rb"SHA-256 ([0-9a-f]{64})", out)[-1][:8].decode()
    if answer == "SHA8-WRONG":
        h = ("1" if h[0] != "1" else "2") + h[1:]
    return h


pid, fd = pty.fork()
if pid == 0:
    os.execv(cmd[0], cmd)
out = b""; i = 0
while True:
    r, _, _ = select.select([fd], [], [], 60)
    if not r:
        break
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
    while i < len(answers) and answers[i][0].encode() in out.split(b"\n")[-1]:
        a = answers[i][1]; i += 1
        if a == "^C":
            os.write(fd, b"\x03")
        elif a == "HUP":
            os.close(fd); fd = None; break
        else:
            os.write(fd, (typed(a, out) + "\n").encode())
    if fd is None:
        break
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode("utf-8", "replace"))
sys.stdout.flush()
sys.stderr.write("ANSWERED %d\n" % i)
sys.exit(os.waitstatus_to_exitcode(status))
