"""A serial device on a pseudo-terminal, for the native serialport binding's contract test.

argv[1]: the path to link to the pty's device end (as udev links /dev/serial/by-id/...).
stdin lines: hex bytes to send as the device. stdout: "READY", then "R <hex>" for bytes received.
Killing the process closes the master: reads on the port then fail with EIO, as on an unplug.
"""
import os
import select
import sys
import tty

link = sys.argv[1]
master, slave = os.openpty()
tty.setraw(slave)
try:
    os.unlink(link)
except FileNotFoundError:
    pass
os.symlink(os.ttyname(slave), link)
sys.stdout.write("READY\n")
sys.stdout.flush()
stdin = sys.stdin.fileno()
pending = b""
while True:
    ready, _, _ = select.select([stdin, master], [], [])
    if stdin in ready:
        chunk = os.read(stdin, 65536)
        if not chunk:
            break
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            if line.strip():
                os.write(master, bytes.fromhex(line.decode().strip()))
    if master in ready:
        try:
            data = os.read(master, 65536)
        except OSError:
            data = b""
        if data:
            sys.stdout.write("R " + data.hex() + "\n")
            sys.stdout.flush()
