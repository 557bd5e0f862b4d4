// Chromium interop for the SDP negotiator.
//
//   node [--experimental-websocket] chromium_interop.mjs <sdp_answer> [save-dir]
//
// Starts headless Chromium on 127.0.0.1, drives RTCPeerConnection through the
// DevTools protocol, and checks both directions:
//  - Chromium offers (audio; audio+video; audio+video+datachannel), sdp_answer
//    answers, setRemoteDescription(answer) must succeed, and each answer is
//    checked against RFC 3264 here (Chromium accepts answers that share no codec);
//  - sdp_answer --offer, Chromium answers, and sdp_answer --offer-file/--answer-file
//    must negotiate every stream.
// With a save-dir, the captured SDPs are written there (test data, fuzz seeds).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [sdpAnswer, saveDir] = process.argv.slice(2);
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const profile = mkdtempSync(join(tmpdir(), 'sigwire-chromium-'));
let failures = 0;
const fail = (msg) => { failures++; console.log('FAIL ' + msg); };
const ok = (msg) => console.log('ok   ' + msg);

const chrome = spawn(chromiumPath, [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
  '--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0',
  `--user-data-dir=${profile}`, 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] });

const killAll = () => { try { chrome.kill('SIGKILL'); } catch {} try { rmSync(profile, { recursive: true, force: true }); } catch {} };
const deadline = setTimeout(() => { fail('timeout'); killAll(); process.exit(1); }, 90000);

const wsUrl = await new Promise((resolve, reject) => {
  let buf = '';
  chrome.stderr.on('data', (d) => {
    buf += d.toString();
    const m = buf.match(/DevTools listening on (ws:\/\/\S+)/);
    if (m) resolve(m[1]);
  });
  chrome.on('exit', (code) => reject(new Error('chromium exited ' + code + '\n' + buf)));
});

// node >= 22 (or 20 with --experimental-websocket) has a WebSocket client;
// older node gets npm's ws, installed once under the build dir.
let WebSocketImpl = globalThis.WebSocket;
if (!WebSocketImpl) {
  const prefix = join(process.env.SIGWIRE_BUILD_ROOT || tmpdir(), 'npm');
  const { createRequire } = await import('node:module');
  const req = createRequire(join(prefix, 'index.js'));
  try { req.resolve('ws'); } catch {
    const r = spawnSync('npm', ['install', '--silent', '--no-audit', '--no-fund', '--prefix', prefix, 'ws@8'],
                        { stdio: 'inherit', timeout: 120000 });
    if (r.status !== 0) { fail('npm install ws failed'); killAll(); process.exit(1); }
  }
  WebSocketImpl = req('ws');
}
const ws = new WebSocketImpl(wsUrl);
await new Promise((r, j) => { ws.onopen = r; ws.onerror = j; });
let nextId = 1;
const pending = new Map();
ws.onmessage = (ev) => {
  const msg = JSON.parse(ev.data);
  if (msg.id && pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); }
};
const send = (method, params = {}, sessionId) => new Promise((resolve) => {
  const id = nextId++;
  pending.set(id, resolve);
  ws.send(JSON.stringify(sessionId ? { id, method, params, sessionId } : { id, method, params }));
});
const { result: { targetId } } = await send('Target.createTarget', { url: 'about:blank' });
const { result: { sessionId } } = await send('Target.attachToTarget', { targetId, flatten: true });
const evaluate = async (expr) => {
  const r = await send('Runtime.evaluate', { expression: expr, awaitPromise: true, returnByValue: true }, sessionId);
  if (r.result?.exceptionDetails) throw new Error(r.result.exceptionDetails.exception?.description || 'exception');
  return r.result.result.value;
};

// --- a tiny SDP reader for the RFC 3264 checks (independent of sigwire) ---
function sections(sdp) {
  const lines = sdp.split(/\r?\n/).filter((l) => l);
  const out = { session: [], media: [] };
  for (const l of lines) {
    if (l.startsWith('m=')) {
      const [type, port, proto, ...fmts] = l.slice(2).split(' ');
      out.media.push({ type, port: +port, proto, fmts, attrs: [] });
    } else if (l.startsWith('a=')) {
      (out.media.length ? out.media[out.media.length - 1].attrs : out.session).push(l.slice(2));
    }
  }
  return out;
}
const attr = (m, name) => m.attrs.filter((a) => a === name || a.startsWith(name + ':')).map((a) => a.slice(name.length + 1));
const dirOf = (m) => m.attrs.find((a) => ['sendrecv', 'sendonly', 'recvonly', 'inactive'].includes(a)) || 'sendrecv';
const rtpmap = (m, pt) => (attr(m, 'rtpmap').find((v) => v.split(' ')[0] === pt) || '').split(' ')[1]?.toLowerCase();
const allowedAnswerDir = { sendrecv: ['sendrecv', 'sendonly', 'recvonly', 'inactive'], sendonly: ['recvonly', 'inactive'],
  recvonly: ['sendonly', 'inactive'], inactive: ['inactive'] };

function checkRfc3264(name, offerSdp, answerSdp) {
  const o = sections(offerSdp), a = sections(answerSdp);
  const errs = [];
  if (o.media.length !== a.media.length) errs.push(`m-line count ${a.media.length} != ${o.media.length}`);
  o.media.forEach((om, i) => {
    const am = a.media[i];
    if (!am) return;
    if (am.type !== om.type || am.proto !== om.proto) errs.push(`m${i}: ${am.type} ${am.proto} vs ${om.type} ${om.proto}`);
    const omid = attr(om, 'mid')[0], amid = attr(am, 'mid')[0];
    if (omid !== amid) errs.push(`m${i}: mid ${amid} != ${omid}`);
    if (am.port === 0) return;
    if (om.proto.includes('RTP')) {
      const common = am.fmts.filter((f) => om.fmts.includes(f) && rtpmap(am, f) === rtpmap(om, f));
      const media = common.filter((f) => !/^(telephone-event|cn|rtx|red|ulpfec)\//.test(rtpmap(am, f)));
      if (!media.length) errs.push(`m${i}: accepted without a common codec`);
      if (common.length !== am.fmts.length) errs.push(`m${i}: answer formats ${am.fmts} not all offered with the same rtpmap`);
      if (!allowedAnswerDir[dirOf(om)].includes(dirOf(am))) errs.push(`m${i}: direction ${dirOf(am)} answers ${dirOf(om)}`);
      if (attr(om, 'rtcp-mux').length && !attr(am, 'rtcp-mux').length) errs.push(`m${i}: rtcp-mux dropped`);
    } else if (!attr(am, 'sctp-port').length) {
      errs.push(`m${i}: data channel without sctp-port`);
    }
    const setup = attr(am, 'setup')[0];
    if (attr(om, 'setup')[0] === 'actpass' && !['active', 'passive'].includes(setup)) errs.push(`m${i}: setup ${setup}`);
    if (!attr(am, 'fingerprint').length || !attr(am, 'ice-ufrag').length) errs.push(`m${i}: missing fingerprint/ice`);
  });
  const og = o.session.find((s) => s.startsWith('group:BUNDLE')), ag = a.session.find((s) => s.startsWith('group:BUNDLE'));
  if (og && ag) {
    const offered = og.split(' ').slice(1);
    for (const t of ag.split(' ').slice(1)) if (!offered.includes(t)) errs.push(`BUNDLE tag ${t} not offered`);
  }
  if (errs.length) fail(`${name}: RFC 3264 check: ${errs.join('; ')}`); else ok(`${name}: answer follows RFC 3264`);
}

const variants = {
  audio: `pc.addTransceiver('audio');`,
  audio_video: `pc.addTransceiver('audio'); pc.addTransceiver('video');`,
  audio_video_datachannel: `pc.addTransceiver('audio'); pc.addTransceiver('video'); pc.createDataChannel('chat');`,
};

for (const [name, setup] of Object.entries(variants)) {
  const offer = await evaluate(`(async () => {
    window.pc && window.pc.close();
    const pc = window.pc = new RTCPeerConnection();
    ${setup}
    const o = await pc.createOffer();
    await pc.setLocalDescription(o);
    return o.sdp; })()`);
  if (saveDir) writeFileSync(join(saveDir, `chromium_offer_${name}.sdp`), offer);
  const r = spawnSync(sdpAnswer, [], { input: offer, encoding: 'utf8', timeout: 10000 });
  if (r.status !== 0) { fail(`${name}: sdp_answer exit ${r.status}: ${r.stderr}`); continue; }
  const answer = r.stdout;
  if (saveDir) writeFileSync(join(saveDir, `sigwire_answer_${name}.sdp`), answer);
  const res = await evaluate(`(async () => {
    try { await window.pc.setRemoteDescription({ type: 'answer', sdp: ${JSON.stringify(answer)} });
          return 'ok ' + window.pc.signalingState; }
    catch (e) { return 'error ' + e.message; } })()`);
  if (res === 'ok stable') ok(`${name}: Chromium accepted our answer`); else fail(`${name}: setRemoteDescription: ${res}`);
  checkRfc3264(name, offer, answer);
}

// --- reverse: our offer, Chromium's answer ---
{
  const r = spawnSync(sdpAnswer, ['--offer'], { encoding: 'utf8', timeout: 10000 });
  if (r.status !== 0) fail(`--offer exit ${r.status}: ${r.stderr}`);
  const ourOffer = r.stdout;
  const answer = await evaluate(`(async () => {
    window.pc && window.pc.close();
    const pc = window.pc = new RTCPeerConnection();
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: ${JSON.stringify(ourOffer)} });
      const a = await pc.createAnswer();
      await pc.setLocalDescription(a);
      return a.sdp;
    } catch (e) { return 'error ' + e.message; } })()`);
  if (answer.startsWith('error')) {
    fail(`reverse: Chromium rejected our offer: ${answer}`);
  } else {
    ok('reverse: Chromium accepted our offer');
    const dir = mkdtempSync(join(tmpdir(), 'sigwire-sdp-'));
    writeFileSync(join(dir, 'offer.sdp'), ourOffer);
    writeFileSync(join(dir, 'answer.sdp'), answer);
    if (saveDir) {
      writeFileSync(join(saveDir, 'sigwire_offer.sdp'), ourOffer);
      writeFileSync(join(saveDir, 'chromium_answer.sdp'), answer);
    }
    const n = spawnSync(sdpAnswer, ['--offer-file', join(dir, 'offer.sdp'), '--answer-file', join(dir, 'answer.sdp')],
                        { encoding: 'utf8', timeout: 10000 });
    rmSync(dir, { recursive: true, force: true });
    const streams = (n.stdout.match(/^stream /gm) || []).length;
    const rejected = (n.stdout.match(/ rejected$/gm) || []).length;
    if (n.status === 0 && streams === 3 && rejected === 0) ok('reverse: negotiated 3 streams\n' + n.stdout.trimEnd());
    else fail(`reverse: negotiation exit ${n.status} streams ${streams} rejected ${rejected}: ${n.stderr}${n.stdout}`);
  }
}

clearTimeout(deadline);
ws.close();
killAll();
console.log(failures ? `${failures} failure(s)` : 'all Chromium interop checks passed');
process.exit(failures ? 1 : 0);
