// Headless Chromium on 127.0.0.1, driven through the DevTools protocol: what
// the interop tests that need a real browser share (tests/sdp/chromium_interop.mjs,
// tests/sip/interop/chromium_sipjs.mjs).
//
//   const browser = await launchChromium({ args: ['--use-fake-ui-for-media-stream'] });
//   await browser.navigate('http://127.0.0.1:8000/page.html');
//   const value = await browser.evaluate('(async () => 42)()');
//   browser.close();
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// node >= 22 (or 20 with --experimental-websocket) has a WebSocket client;
// older node gets npm's ws from `npmPrefix` (installed there once when missing).
function webSocketClass(npmPrefix) {
  if (globalThis.WebSocket) return globalThis.WebSocket;
  const require = createRequire(join(npmPrefix, 'index.js'));
  try { require.resolve('ws'); } catch {
    const r = spawnSync('npm', ['install', '--silent', '--no-audit', '--no-fund', '--prefix', npmPrefix, 'ws@8'],
                        { stdio: 'inherit', timeout: 120000 });
    if (r.status !== 0) throw new Error('npm install ws failed');
  }
  return require('ws');
}

// Starts Chromium with `args` added, opens one blank page and attaches to it.
export async function launchChromium({ args = [], npmPrefix = join(process.env.SIGWIRE_BUILD_ROOT || tmpdir(), 'npm') } = {}) {
  const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
  const profile = mkdtempSync(join(tmpdir(), 'sigwire-chromium-'));
  const chrome = spawn(chromiumPath, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run',
    '--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0',
    `--user-data-dir=${profile}`, ...args, 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const close = () => {
    try { chrome.kill('SIGKILL'); } catch {}
    try { rmSync(profile, { recursive: true, force: true }); } catch {}
  };
  try {
    const devtoolsUrl = await new Promise((resolve, reject) => {
      let buf = '';
      chrome.stderr.on('data', (d) => {
        buf += d.toString();
        const m = buf.match(/DevTools listening on (ws:\/\/\S+)/);
        if (m) resolve(m[1]);
      });
      chrome.on('exit', (code) => reject(new Error('chromium exited ' + code + '\n' + buf)));
    });
    const WebSocketImpl = webSocketClass(npmPrefix);
    const ws = new WebSocketImpl(devtoolsUrl);
    await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
    let nextId = 1;
    const pending = new Map();
    const consoleLines = [];
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      if (msg.id && pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); }
      if (msg.method === 'Runtime.consoleAPICalled') {
        consoleLines.push(msg.params.args.map((a) => a.value ?? a.description ?? '').join(' '));
      }
    };
    const send = (method, params = {}, sessionId) => new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      ws.send(JSON.stringify(sessionId ? { id, method, params, sessionId } : { id, method, params }));
    });
    const { result: { targetId } } = await send('Target.createTarget', { url: 'about:blank' });
    const { result: { sessionId } } = await send('Target.attachToTarget', { targetId, flatten: true });
    await send('Runtime.enable', {}, sessionId);
    await send('Page.enable', {}, sessionId);
    return {
      // The value of a JavaScript expression in the page (promises awaited).
      async evaluate(expression) {
        const r = await send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, sessionId);
        if (r.result?.exceptionDetails) throw new Error(r.result.exceptionDetails.exception?.description || 'exception');
        return r.result.result.value;
      },
      // Loads `url` and waits for its load event.
      async navigate(url) {
        await send('Page.navigate', { url }, sessionId);
        for (let i = 0; i < 100; ++i) {
          if (await this.evaluate('document.readyState') === 'complete') return;
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error(`${url} did not load`);
      },
      consoleLines,  // what the page logged, in order
      close() { try { ws.close(); } catch {} close(); },
    };
  } catch (e) {
    close();
    throw e;
  }
}
