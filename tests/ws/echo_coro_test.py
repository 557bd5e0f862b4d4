#!/usr/bin/python3
"""examples/ws_echo_coro against Python websockets (a real peer): text and
binary messages come back unchanged, with the 'sip' subprotocol, and the
close handshake completes with 1000.

    echo_coro_test.py BUILD_ROOT
"""
import asyncio
import os
import re
import subprocess
import sys

import websockets

EXAMPLE = os.path.join(os.path.abspath(sys.argv[1]), 'examples', 'ws_echo_coro')


async def exchange(port):
    sent = ['REGISTER sip:example.com SIP/2.0 ' + 'x' * 600, 'héllo €😀', bytes(range(256)) * 300, '']
    async with websockets.connect('ws://127.0.0.1:%d/' % port, subprotocols=['sip'],
                                  compression=None, max_size=2 ** 24) as ws:
        for m in sent:
            await ws.send(m)
        got = [await asyncio.wait_for(ws.recv(), 10) for _ in sent]
        subprotocol = ws.subprotocol
        await ws.close(code=1000, reason='bye')
    failures = []
    if got != sent:
        failures.append('echoes differ from what was sent')
    if subprotocol != 'sip':
        failures.append('subprotocol %r' % subprotocol)
    if ws.close_code != 1000:
        failures.append('close code %r' % ws.close_code)
    return failures


def main():
    server = subprocess.Popen([EXAMPLE, '0'], stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        m = re.search(r':(\d+)/', line)
        if not m:
            print('FAIL: no URL printed: %r' % line)
            return 1
        failures = asyncio.run(asyncio.wait_for(exchange(int(m.group(1))), 30))
    finally:
        server.kill()
        server.wait()
    for f in failures:
        print('FAIL:', f)
    print('ws_echo_coro: %s' % ('ok' if not failures else '%d failures' % len(failures)))
    return 1 if failures else 0


sys.exit(main())
