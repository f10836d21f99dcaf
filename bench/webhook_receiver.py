#!/usr/bin/env python3
"""A webhook receiver for bench/webhooks: HTTP/1.1 with keep-alive on 127.0.0.1, asyncio
streams and no framework (so that the receiver is not what limits the dispatch), answering
every POST 204. For each delivery it records the time it arrived, the path, the webhook-id
and the event's occurred_at (the commit, within a millisecond), and on SIGTERM or SIGINT writes them
as tab-separated lines to the file named by the second argument.

    python3 bench/webhook_receiver.py PORT OUT.tsv
"""
import asyncio
import re
import signal
import sys
import time

OCCURRED = re.compile(rb'"occurred_at":"([^"]+)"')
records = []


async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            wid = b""
            lines = head.split(b"\r\n")
            path = lines[0].split(b" ")[1] if len(lines[0].split(b" ")) > 1 else b""
            for line in lines[1:]:
                low = line.lower()
                if low.startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
                elif low.startswith(b"webhook-id:"):
                    wid = line.split(b":", 1)[1].strip()
            body = await reader.readexactly(length) if length else b""
            now = time.time()
            m = OCCURRED.search(body)
            records.append((now, path, wid, m.group(1) if m else b""))
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionResetError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def main(port, out):
    server = await asyncio.start_server(handle, "127.0.0.1", port, limit=1 << 20, backlog=1024)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    print("ready", flush=True)
    async with server:
        await stop.wait()
    with open(out, "wb") as f:
        for at, path, wid, occurred in records:
            f.write(b"%.6f\t%s\t%s\t%s\n" % (at, path, wid, occurred))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
