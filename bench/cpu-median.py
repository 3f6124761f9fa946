#!/usr/bin/python3
# bench/cpu-median.py RUNS OUT PREPARE INPUT CMD... - the median CPU
# (user+sys, from each child's own rusage: wait4) of each command run
# RUNS times with INPUT on its standard input, the commands interleaved
# so that drift on the machine touches all alike, PREPARE (a shell
# command) before every run.  A command written "/N/cmd ..." runs N
# times instead.  Writes the medians in milliseconds to OUT, one a
# line, in the order given.  hyperfine reports only a mean, and a few
# runs slowed by the machine pull a mean of ~2 ms by tenths.
import os
import shlex
import statistics
import subprocess
import sys

runs, out, prepare, inp = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
cmds = []
for c in sys.argv[5:]:
    n = runs
    if c.startswith("/") and c[1:].split("/", 1)[0].isdigit():
        n, c = c[1:].split("/", 1)
        n = int(n)
    argv = shlex.split(c)
    if "/" not in argv[0]:
        argv[0] = subprocess.run(["sh", "-c", 'command -v "$0"', argv[0]],
                                 capture_output=True, text=True).stdout.strip()
    cmds.append((argv, n, []))
devnull = os.open(os.devnull, os.O_WRONLY)
for i in range(max(n for _, n, _ in cmds) + 3):
    for argv, n, got in cmds:
        if i >= n + 3:
            continue
        subprocess.run(prepare, shell=True)
        fd = os.open(inp, os.O_RDONLY)
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[
            (os.POSIX_SPAWN_DUP2, fd, 0), (os.POSIX_SPAWN_DUP2, devnull, 1),
            (os.POSIX_SPAWN_DUP2, devnull, 2)])
        os.close(fd)
        _, status, ru = os.wait4(pid, 0)
        if i >= 3:			# the first runs warm the caches
            got.append((ru.ru_utime + ru.ru_stime) * 1e3)
with open(out, "w") as f:
    for _, _, got in cmds:
        f.write("%.4f\n" % statistics.median(got))
