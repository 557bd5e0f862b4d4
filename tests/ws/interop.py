#!/usr/bin/python3
"""Interop tests of the WebSocket layer against real peers over loopback.

    interop.py python|node|chromium BUILD_ROOT

Each peer is used as a client of examples/ws_echo_server and (python, node)
as a server for examples/ws_client, over ws and wss (self-signed certificate
made with openssl here), with and without permessage-deflate. Every server
this script starts is stopped before it returns; everything is bounded in
time. Prints one line per matrix cell and exits non-zero if any failed;
fails when the peer is not installed (a missing peer is a failure, not a skip).
"""
import asyncio
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time

PEER = sys.argv[1]
BUILD = os.path.abspath(sys.argv[2])
HERE = os.path.dirname(os.path.abspath(__file__))
ECHO = os.path.join(BUILD, 'examples', 'ws_echo_server')
CLIENT = os.path.join(BUILD, 'examples', 'ws_client')
TMP = tempfile.mkdtemp(prefix='sigwire_interop_')
CERT, KEY = os.path.join(TMP, 'cert.pem'), os.path.join(TMP, 'key.pem')
results = []


def skip(why):
    print('FAIL: peer missing:', why)
    sys.exit(1)


def make_cert():
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
                    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
                    '-keyout', KEY, '-out', CERT], check=True, capture_output=True, timeout=60)


class EchoServer:
    """examples/ws_echo_server on an ephemeral port."""

    def __init__(self, tls, deflate):
        args = [ECHO, '--port', '0', '--log']
        if tls:
            args += ['--tls', CERT, KEY]
        if not deflate:
            args += ['--no-deflate']
        self.log_path = os.path.join(TMP, 'echo_%d.log' % time.monotonic_ns())
        self.log = open(self.log_path, 'w')
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        self.port = None
        while time.time() < deadline and self.port is None:
            time.sleep(0.05)
            m = re.search(r':(\d+)/', open(self.log_path).read())
            if m:
                self.port = int(m.group(1))
        if self.port is None:
            self.stop()
            raise RuntimeError('ws_echo_server did not start')

    def output(self):
        return open(self.log_path).read()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def record(name, ok, detail=''):
    results.append((name, ok))
    print('%-58s %s %s' % (name, 'PASS' if ok else 'FAIL', detail), flush=True)


def run_ws_client(url, deflate, extra=()):
    args = [CLIENT, url, '--protocol', 'sip', '--text', 'héllo €uro 😀', '--binary', '00ff7f80' * 3000,
            '--text', 'x' * 70000, '--close', '1000'] + list(extra)
    if not deflate:
        args.append('--no-deflate')
    if url.startswith('wss:'):
        args += ['--ca', CERT]
    p = subprocess.run(args, capture_output=True, text=True, timeout=30)
    out = p.stdout + p.stderr
    return p.returncode == 0 and 'OK echoed 3/3' in out, out


# --- Python websockets ---------------------------------------------------------
def python_matrix():
    try:
        import websockets
    except ImportError:
        skip('python3-websockets is not installed (apt-get install python3-websockets)')

    async def client_of_echo(tls, deflate):
        srv = EchoServer(tls, deflate)
        try:
            ctx = None
            if tls:
                ctx = ssl.create_default_context(cafile=CERT)
            url = '%s://localhost:%d/sip' % ('wss' if tls else 'ws', srv.port)
            async with websockets.connect(url, subprotocols=['sip'], ssl=ctx,
                                          compression='deflate' if deflate else None,
                                          max_size=2 ** 24) as ws:
                sent = ['héllo from python €😀', bytes(range(256)) * 400, 'y' * 100000] + ['m%d' % i for i in range(50)]
                for m in sent:
                    await ws.send(m)
                got = [await asyncio.wait_for(ws.recv(), 10) for _ in sent]
                pong = await ws.ping(b'ping-data')
                await asyncio.wait_for(pong, 5)
                negotiated = any('deflate' in type(e).__name__.lower() for e in ws.extensions)
                ok = got == sent and ws.subprotocol == 'sip' and negotiated == deflate
                await ws.close(code=1000, reason='bye')
            ok = ok and ws.close_code == 1000
            return ok, 'deflate=%s' % negotiated
        finally:
            srv.stop()

    async def server_for_client(tls, deflate):
        async def echo(ws, path=None):
            async for m in ws:
                await ws.send(m)
        ctx = None
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(CERT, KEY)
        server = await websockets.serve(echo, '127.0.0.1', 0, ssl=ctx, subprotocols=['sip'],
                                        compression='deflate' if deflate else None, max_size=2 ** 24)
        port = server.sockets[0].getsockname()[1]
        try:
            url = '%s://localhost:%d/' % ('wss' if tls else 'ws', port)
            args = [CLIENT, url, '--protocol', 'sip', '--text', 'héllo €uro 😀', '--binary', '00ff7f80' * 3000,
                    '--text', 'x' * 70000, '--close', '1000']
            if tls:
                args += ['--ca', CERT]
            proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE,
                                                        stderr=asyncio.subprocess.STDOUT)
            out, _ = await asyncio.wait_for(proc.communicate(), 30)
            out = out.decode(errors='replace')
            ok = proc.returncode == 0 and 'OK echoed 3/3' in out and ('deflate=on' in out) == deflate
            return ok, '' if ok else out[-300:]
        finally:
            server.close()
            await server.wait_closed()

    async def autobahn_loop():
        # A stand-in for Autobahn's fuzzingserver: the URL protocol of
        # getCaseCount / runCase / updateReports, with a few cases of its own.
        cases = [['text case', b'binary \x00\xff case'], ['\u00e9' * 1000, b'x' * 70000], ['a', 'b', 'c']]
        seen = {'count': 0, 'runs': {}, 'reports': 0}

        async def handler(ws, path=None):
            path = path or ws.path
            if path.startswith('/getCaseCount'):
                seen['count'] += 1
                await ws.send(str(len(cases)))
                await ws.close()
            elif path.startswith('/runCase'):
                n = int(re.search(r'case=(\d+)', path).group(1))
                agent = re.search(r'agent=([^&]+)', path).group(1)
                echoes = []
                for m in cases[n - 1]:
                    await ws.send(m)
                    echoes.append(await asyncio.wait_for(ws.recv(), 5))
                seen['runs'][n] = (agent, echoes == cases[n - 1])
                await ws.close()
            elif path.startswith('/updateReports'):
                seen['reports'] += 1
                await ws.close()

        server = await websockets.serve(handler, '127.0.0.1', 0, compression='deflate', max_size=2 ** 24)
        port = server.sockets[0].getsockname()[1]
        try:
            proc = await asyncio.create_subprocess_exec(CLIENT, '--autobahn', 'ws://127.0.0.1:%d' % port, 'sigwire',
                                                        stdout=asyncio.subprocess.PIPE,
                                                        stderr=asyncio.subprocess.STDOUT)
            out, _ = await asyncio.wait_for(proc.communicate(), 60)
            ok = (proc.returncode == 0 and seen['count'] == 1 and seen['reports'] == 1 and
                  sorted(seen['runs']) == [1, 2, 3] and all(a == 'sigwire' and e for a, e in seen['runs'].values()))
            return ok, '' if ok else out.decode(errors='replace')[-300:] + repr(seen)
        finally:
            server.close()
            await server.wait_closed()

    try:
        ok, d = asyncio.run(asyncio.wait_for(autobahn_loop(), 90))
    except Exception as e:  # noqa: BLE001
        ok, d = False, repr(e)
    record('ws_client --autobahn against a fuzzingserver stand-in', ok, d)

    for tls in (False, True):
        for deflate in (False, True):
            cell = 'ws%s deflate=%s' % ('s' if tls else '', 'on' if deflate else 'off')
            try:
                ok, d = asyncio.run(asyncio.wait_for(client_of_echo(tls, deflate), 30))
            except Exception as e:  # noqa: BLE001 - any failure fails the cell
                ok, d = False, repr(e)
            record('python websockets client -> ws_echo_server ' + cell, ok, d)
            try:
                ok, d = asyncio.run(asyncio.wait_for(server_for_client(tls, deflate), 40))
            except Exception as e:  # noqa: BLE001
                ok, d = False, repr(e)
            record('ws_client -> python websockets server ' + cell, ok, d)


# --- Node ws ----------------------------------------------------------------------
def node_matrix():
    node = shutil.which('node')
    npm = shutil.which('npm')
    if not node or not npm:
        skip('node/npm not installed (apt-get install nodejs npm)')
    prefix = os.path.join(BUILD, 'npm')
    module = os.path.join(prefix, 'node_modules', 'ws')
    if not os.path.isdir(module):
        p = subprocess.run([npm, 'install', '--no-audit', '--no-fund', '--prefix', prefix, 'ws@8'],
                           capture_output=True, text=True, timeout=180)
        if p.returncode != 0 or not os.path.isdir(module):
            skip('npm install ws@8 failed: ' + p.stderr[-300:])
    env = dict(os.environ, WS_MODULE=module)
    script = os.path.join(HERE, 'interop', 'node_peer.js')
    for tls in (False, True):
        for deflate in (False, True):
            cell = 'ws%s deflate=%s' % ('s' if tls else '', 'on' if deflate else 'off')
            srv = EchoServer(tls, deflate)
            try:
                url = '%s://localhost:%d/' % ('wss' if tls else 'ws', srv.port)
                p = subprocess.run([node, script, 'client', url, '1' if deflate else '0', CERT],
                                   capture_output=True, text=True, timeout=30, env=env)
                ok = 'RESULT ok' in p.stdout and ('permessage-deflate' in p.stdout) == deflate
                record('node ws client -> ws_echo_server ' + cell, ok, '' if ok else (p.stdout + p.stderr)[-300:])
            finally:
                srv.stop()
            proc = subprocess.Popen([node, script, 'server', '1' if tls else '0', '1' if deflate else '0', CERT, KEY],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
            try:
                line = proc.stdout.readline()
                m = re.match(r'PORT (\d+)', line)
                if not m:
                    record('ws_client -> node ws server ' + cell, False, line)
                    continue
                url = '%s://localhost:%s/' % ('wss' if tls else 'ws', m.group(1))
                ok, out = run_ws_client(url, True)
                ok = ok and ('deflate=on' in out) == deflate
                record('ws_client -> node ws server ' + cell, ok, '' if ok else out[-300:])
            finally:
                proc.terminate()
                proc.wait(timeout=5)


# --- Chromium ------------------------------------------------------------------------
def chromium_matrix():
    chromium = shutil.which('chromium') or shutil.which('chromium-browser')
    if not chromium:
        skip('chromium not installed (apt-get install chromium)')
    for tls in (False, True):
        for deflate in (True, False):
            cell = 'http%s deflate=%s' % ('s' if tls else '', 'on' if deflate else 'off')
            srv = EchoServer(tls, deflate)
            profile = tempfile.mkdtemp(prefix='chromium_', dir=TMP)
            try:
                url = '%s://127.0.0.1:%d/' % ('https' if tls else 'http', srv.port)
                # Real time, not --virtual-time-budget + --dump-dom: with a
                # virtual budget Chromium sometimes closed the page (1001)
                # before its WebSocket onopen ran. It runs until the page
                # reports to the server (or 30 s), then it is stopped.
                args = [chromium, '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                        '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage',
                        '--user-data-dir=' + profile, '--remote-debugging-port=0', url]
                if tls:
                    args.insert(1, '--ignore-certificate-errors')
                browser = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                try:
                    deadline = time.time() + 30
                    while time.time() < deadline and 'result:pass' not in srv.output():
                        time.sleep(0.1)
                finally:
                    browser.terminate()
                    try:
                        browser.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        browser.kill()
                        browser.wait()
                log = srv.output()
                ok = 'result:pass protocol=sip' in log and ('permessage-deflate' in log) == deflate
                record('chromium page -> ws_echo_server ' + cell, ok, log[-300:])
            finally:
                srv.stop()


try:
    for exe in (ECHO, CLIENT):
        if not os.path.exists(exe):
            skip('examples not built: ' + exe)
    make_cert()
    {'python': python_matrix, 'node': node_matrix, 'chromium': chromium_matrix}[PEER]()
finally:
    shutil.rmtree(TMP, ignore_errors=True)

failed = [n for n, ok in results if not ok]
print('%d/%d passed' % (len(results) - len(failed), len(results)))
sys.exit(1 if failed or not results else 0)
