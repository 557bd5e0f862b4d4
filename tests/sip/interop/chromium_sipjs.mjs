// SIP.js (npm sip.js@0.21.2) running in headless Chromium with the browser's
// own WebRTC (a fake microphone), over WebSocket (RFC 7118) to
// examples/uas --webrtc. Two runs:
//   call        SIP.js calls TARGET_URI; uas answers the browser's offer
//               (DTLS-SRTP audio over ICE); Chromium must accept that answer
//               and agree on a codec; SIP.js hangs up after 300 ms (BYE 200).
//   registered  SIP.js registers TARGET_URI as its address-of-record
//               (answering a digest challenge with SIP_PASSWORD when set);
//               uas --call-registered calls it, the INVITE's offer coming
//               over the browser's WebSocket to its .invalid Contact;
//               Chromium must accept that offer and SIP.js answers; uas
//               hangs up; SIP.js unregisters.
// No media flows (uas has no media engine): ICE and DTLS never complete,
// which neither SIP.js nor the call's signalling waits for.
// It prints one line per step, then "RESULT ok" (exit 0) or "RESULT fail:
// <why>" (exit 1; also after 30 s in all).
//   NPM_PREFIX=... node chromium_sipjs.mjs WS_URL TARGET_URI call|registered
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { extname, join, normalize } from 'node:path';
import { launchChromium } from '../../support/chromium.mjs';

const [wsUrl, target, mode] = process.argv.slice(2);
const npmPrefix = process.env.NPM_PREFIX;

// The page: SIP.js as an ES module, and the two runs as functions the test calls.
const page = `<!doctype html><meta charset="utf-8"><title>sigwire: SIP.js in Chromium</title>
<script type="module">
import * as SIP from '/sip.js/lib/index.js';
const { UserAgent, Inviter, Registerer, SessionState } = SIP;
const steps = [];
const sdhOptions = { peerConnectionConfiguration: { iceServers: [] }, iceGatheringTimeout: 500 };
const media = { sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } } };
function userAgent(uri, password, delegate) {
  return new UserAgent({ uri: UserAgent.makeURI(uri), transportOptions: { server: window.wsUrl }, logLevel: window.logLevel || 'warn',
    logConfiguration: false, sessionDescriptionHandlerFactoryOptions: sdhOptions, delegate,
    authorizationUsername: UserAgent.makeURI(uri).user, authorizationPassword: password });
}
function reached(session, state) {
  return new Promise((resolve, reject) => {
    if (session.state === state) return resolve();
    session.stateChange.addListener((s) => {
      if (s === state) resolve();
      else if (s === SessionState.Terminated) reject(new Error('session terminated before ' + state));
    });
  });
}
function finalStatus() {
  let resolve;
  const status = new Promise((r) => { resolve = r; });
  const settle = (response) => resolve(response.message.statusCode);
  return { status, requestDelegate: { onAccept: settle, onReject: settle } };
}
// What the peer connection agreed: the remote SDP's audio line and the codec in use.
function agreed(session) {
  const pc = session.sessionDescriptionHandler.peerConnection;
  const remote = pc.remoteDescription.sdp, local = pc.localDescription.sdp;
  const line = (sdp) => (/^m=audio .*$/m.exec(sdp) || ['(no m=audio)'])[0];
  return { remote: line(remote), local: line(local), fingerprint: /^a=fingerprint:/m.test(remote), signaling: pc.signalingState };
}
window.runCall = async (target) => {
  const ua = userAgent('sip:chromium@example.com');
  await ua.start();
  const inviter = new Inviter(ua, UserAgent.makeURI(target), media);
  const invite = finalStatus();
  const established = reached(inviter, SessionState.Established);
  await inviter.invite({ requestDelegate: invite.requestDelegate });
  await established;
  steps.push('INVITE ' + await invite.status);
  const result = agreed(inviter);
  await new Promise((r) => setTimeout(r, 300));
  const bye = finalStatus();
  await inviter.bye({ requestDelegate: bye.requestDelegate });
  steps.push('BYE ' + await bye.status);
  await ua.stop();
  return { steps, ...result };
};
window.runRegistered = async (aor, password) => {
  let invited;
  const incoming = new Promise((r) => { invited = r; });
  const ua = userAgent(aor, password, { onInvite: invited });
  await ua.start();
  const registerer = new Registerer(ua, { expires: 300 });
  const registered = finalStatus();
  await registerer.register({ requestDelegate: registered.requestDelegate });
  steps.push('REGISTER ' + await registered.status);
  const invitation = await incoming;
  steps.push('INVITE to ' + invitation.request.ruri + ' for ' + invitation.request.to.uri);
  const ended = reached(invitation, SessionState.Terminated);
  const established = reached(invitation, SessionState.Established);
  await invitation.accept(media);
  await established;
  steps.push('CALL established');
  const result = agreed(invitation);
  await ended;
  steps.push('BYE received');
  const unregistered = finalStatus();
  await registerer.unregister({ requestDelegate: unregistered.requestDelegate });
  steps.push('unREGISTER ' + await unregistered.status);
  await ua.stop();
  return { steps, ...result };
};
window.ready = true;
</script>`;

// Serves the page and the sip.js package on 127.0.0.1 (a secure context, so
// getUserMedia is allowed).
function serve() {
  const types = { '.js': 'text/javascript', '.html': 'text/html' };
  const server = http.createServer(async (request, response) => {
    try {
      const path = new URL(request.url, 'http://127.0.0.1').pathname;
      if (path === '/') {
        response.writeHead(200, { 'content-type': 'text/html' }).end(page);
        return;
      }
      if (!path.startsWith('/sip.js/')) throw new Error('not found');
      const file = normalize(join(npmPrefix, 'node_modules', path));
      if (!file.startsWith(join(npmPrefix, 'node_modules', 'sip.js'))) throw new Error('not found');
      response.writeHead(200, { 'content-type': types[extname(file)] || 'application/octet-stream' }).end(await readFile(file));
    } catch {
      response.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function run(browser, server) {
  await browser.navigate(`http://127.0.0.1:${server.address().port}/`);
  for (let i = 0; i < 100 && !(await browser.evaluate('window.ready === true')); ++i) await new Promise((r) => setTimeout(r, 50));
  await browser.evaluate(`window.wsUrl = ${JSON.stringify(wsUrl)}; window.logLevel = ${JSON.stringify(process.env.SIPJS_LOG || 'warn')}`);
  const call = mode === 'registered'
    ? `window.runRegistered(${JSON.stringify(target)}, ${JSON.stringify(process.env.SIP_PASSWORD)})`
    : `window.runCall(${JSON.stringify(target)})`;
  const r = await browser.evaluate(`${call}.catch((e) => ({ error: e.message || String(e) }))`);
  if (r.error) throw new Error(r.error);
  for (const step of r.steps) console.log(step);
  console.log(`remote ${r.remote}; local ${r.local}; signaling ${r.signaling}`);
  if (!/^m=audio [1-9]\d* UDP\/TLS\/RTP\/SAVPF /.test(r.remote) || !r.fingerprint) throw new Error(`no DTLS-SRTP audio from uas: ${r.remote}`);
  if (!/^m=audio [1-9]\d* /.test(r.local)) throw new Error(`Chromium rejected the audio: ${r.local}`);
  if (r.signaling !== 'stable') throw new Error(`signaling state ${r.signaling}`);
  const last = r.steps[r.steps.length - 1];
  if (!/ 2\d\d$/.test(last)) throw new Error(`last step: ${last}`);
}

if (!wsUrl || !target || !['call', 'registered'].includes(mode) || !npmPrefix) {
  console.log('RESULT fail: usage: NPM_PREFIX=... node chromium_sipjs.mjs WS_URL TARGET_URI call|registered');
  process.exit(1);
}
let browser, server;
const finish = (ok, why) => {
  console.log(ok ? 'RESULT ok' : `RESULT fail: ${why}`);
  if (!ok && browser) for (const line of browser.consoleLines) console.log(`  chromium console: ${line}`);
  browser?.close();
  server?.close();
  process.exit(ok ? 0 : 1);
};
setTimeout(() => finish(false, 'timed out after 30 s'), 30000);
try {
  server = await serve();
  browser = await launchChromium({
    args: ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', '--ignore-certificate-errors'],
    npmPrefix,
  });
  await run(browser, server);
  finish(true);
} catch (e) {
  finish(false, e.message);
}
