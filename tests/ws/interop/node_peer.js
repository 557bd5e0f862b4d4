// Node `ws` peer for the interop tests.
//   node node_peer.js client URL DEFLATE(0|1) CA_FILE   -> echo check, prints RESULT ok|fail
//   node node_peer.js server TLS(0|1) DEFLATE(0|1) CERT KEY -> echo server, prints PORT n
const path = require('path');
const fs = require('fs');
const WebSocket = require(process.env.WS_MODULE || 'ws');
const [mode, a1, a2, a3, a4] = process.argv.slice(2);

if (mode === 'client') {
  const url = a1, deflate = a2 === '1';
  const opts = { perMessageDeflate: deflate };
  if (url.startsWith('wss:')) opts.ca = fs.readFileSync(a3);
  const ws = new WebSocket(url, ['sip'], opts);
  const text = 'héllo from node ' + '€'.repeat(100);
  const bin = Buffer.alloc(100000); for (let i = 0; i < bin.length; i++) bin[i] = (i * 7) & 255;
  const expected = [text, bin, 'small 0', 'small 1', 'small 2'];
  let got = 0, ok = true;
  ws.on('open', () => {
    console.log('open protocol=' + ws.protocol + ' extensions=' + (ws.extensions || ''));
    for (const m of expected) ws.send(m);
  });
  ws.on('message', (data, isBinary) => {
    const want = expected[got++];
    const same = isBinary ? Buffer.isBuffer(want) && Buffer.compare(Buffer.from(data), want) === 0
                          : typeof want === 'string' && data.toString() === want;
    ok = ok && same;
    if (got === expected.length) ws.close(1000, 'done');
  });
  ws.on('close', (code) => { console.log('close ' + code); console.log('RESULT ' + (ok && got === expected.length && code === 1000 ? 'ok' : 'fail')); process.exit(0); });
  ws.on('error', (e) => { console.log('error ' + e.message); console.log('RESULT fail'); process.exit(0); });
  setTimeout(() => { console.log('RESULT timeout'); process.exit(0); }, 10000);
} else {
  const tls = a1 === '1', deflate = a2 === '1';
  let server;
  const wssOpts = { perMessageDeflate: deflate, handleProtocols: (p) => (p.has('sip') ? 'sip' : false) };
  if (tls) {
    const https = require('https');
    server = https.createServer({ cert: fs.readFileSync(a3), key: fs.readFileSync(a4) });
    wssOpts.server = server;
  } else {
    const http = require('http');
    server = http.createServer();
    wssOpts.server = server;
  }
  const wss = new WebSocket.WebSocketServer(wssOpts);
  wss.on('connection', (ws) => {
    console.log('connection protocol=' + ws.protocol + ' extensions=' + (ws.extensions || ''));
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  server.listen(0, '127.0.0.1', () => console.log('PORT ' + server.address().port));
}
