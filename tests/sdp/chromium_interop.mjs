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
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium } from '../support/chromium.mjs';

const [sdpAnswer, saveDir] = process.argv.slice(2);
let failures = 0;
const fail = (msg) => { failures++; console.log('FAIL ' + msg); };
const ok = (msg) => console.log('ok   ' + msg);

let browser;
const deadline = setTimeout(() => { fail('timeout'); browser?.close(); process.exit(1); }, 90000);
try {
  browser = await launchChromium();
} catch (e) {
  fail(e.message);
  process.exit(1);
}
const evaluate = (expr) => browser.evaluate(expr);

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
browser.close();
console.log(failures ? `${failures} failure(s)` : 'all Chromium interop checks passed');
process.exit(failures ? 1 : 0);
