"""Start an interactive login shell on a pty, type nothing, and report
whether it logged itself out (TMOUT) before the deadline."""

import os
import pty
import select
import sys
import time

deadline = float(sys.argv[1])
start = time.monotonic()
pid, fd = pty.fork()
if pid == 0:
    os.execv("/bin/bash", ["bash", "-l", "-i"])  # noqa: S606 - a login shell is the point
output = b""
while time.monotonic() - start < deadline:
    ready, _, _ = select.select([fd], [], [], 0.5)
    if not ready:
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    output += data
elapsed = time.monotonic() - start
done = 0
for _ in range(30):  # the pty closes as the shell exits; reap it
    done, _status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    time.sleep(0.1)
text = output.decode("utf-8", "replace").strip().splitlines()
if done:
    print(f"shell exited by itself after {elapsed:.1f}s: {text[-1] if text else ''}")
    sys.exit(0)
os.kill(pid, 9)
print(f"shell still open after {elapsed:.1f}s")
sys.exit(1)
