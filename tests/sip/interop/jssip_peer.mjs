// A real JsSIP (npm jssip@3.13.8) user agent as a SIP-over-WebSocket peer
// (RFC 7118), with no browser: a fake RTCPeerConnection with a fixed plain-SDP
// offer stands in for WebRTC. It proves that a server such as examples/uas,
// spoken to over WS with the "sip" subprotocol, interoperates with JsSIP:
//   1. an out-of-dialog MESSAGE is answered 2xx,
//   2. an INVITE with a plain audio SDP offer is answered 200 with an SDP
//      answer (m=audio, non-zero port), JsSIP ACKs it: the call is confirmed,
//   3. an in-dialog INFO is answered 2xx,
//   4. after HOLD_MS terminate() sends a BYE that is answered 2xx; with HOLD_MS
//      "wait-bye" the server's BYE is awaited instead (sent to the .invalid
//      Contact, so it must come over this WebSocket: RFC 7118 §5.2).
// With "registered" as HOLD_MS, TARGET_URI is JsSIP's own address-of-record
// instead: JsSIP registers it over the WebSocket (its Contact in .invalid,
// with reg-id and +sip.instance, RFC 5626), the server (examples/uas
// --call-registered) calls that address, JsSIP answers, the server's BYE
// ends the call, and JsSIP unregisters. With SIP_PASSWORD set, JsSIP answers
// the registrar's digest challenge with it (user: the AOR's user part).
// It prints one line per step, then "RESULT ok" (exit 0) or
// "RESULT fail: <why>" (exit 1; also after 10 s in all). JsSIP's own warnings
// and errors go to stderr (DEBUG=JsSIP:* for all its logs, on stdout).
//
// Run (jssip and ws installed by the calling script):
//   npm install --no-audit --no-fund --prefix "$NPM_PREFIX" jssip@3.13.8 ws@8
//   NPM_PREFIX=... node jssip_peer.mjs WS_URL TARGET_URI [HOLD_MS|wait-bye|registered]
//   e.g. node jssip_peer.mjs ws://127.0.0.1:5097 'sip:bob@127.0.0.1:5097;transport=ws' 300
import { audioPortProblem, audioSdp, expect2xx, parseArguments, requireFromNpmPrefix, runPeer } from './peer_common.mjs';

let ua;
let answerProblem = ''; // why the SDP answer was refused, if it was
let socketError = ''; // the last WebSocket error, if any
let byeAnswered; // resolves with the final status code of our BYE
const byeStatus = new Promise((r) => { byeAnswered = r; });

function stopUserAgent() {
  if (!ua) return undefined;
  const closed = new Promise((r) => ua.once('disconnected', r));
  try { ua.stop(); } catch {}
  return closed;
}

// What JsSIP 3 (lib/RTCSession.js) uses of WebRTC, without media: the local
// description is ready at once (iceGatheringState "complete", so no ICE
// events are awaited and none are ever fired), the remote one is checked.
class FakePeerConnection {
  signalingState = 'stable';
  iceGatheringState = 'complete';
  iceConnectionState = 'new';
  localDescription = null;
  remoteDescription = null;
  addEventListener() {}
  removeEventListener() {}
  createOffer() { return Promise.resolve({ type: 'offer', sdp: audioSdp('jssip') }); }
  createAnswer() { return Promise.resolve({ type: 'answer', sdp: audioSdp('jssip') }); }
  setLocalDescription(description) {
    this.localDescription = description;
    this.signalingState = description.type === 'offer' ? 'have-local-offer' : 'stable';
    return Promise.resolve();
  }
  setRemoteDescription(description) {
    answerProblem = audioPortProblem(description.sdp, `SDP ${description.type}`);
    if (answerProblem) return Promise.reject(new Error(`${answerProblem}:\n${description.sdp}`));
    this.remoteDescription = description;
    this.signalingState = description.type === 'offer' ? 'have-remote-offer' : 'stable';
    return Promise.resolve();
  }
  getSenders() { return []; }
  getReceivers() { return []; }
  getTransceivers() { return []; }
  addTrack() {}
  close() { this.signalingState = 'closed'; }
}

// jssip and ws are CommonJS (required from the prefix). JsSIP calls
// new WebSocket(url, "sip") and tests window.RTCPeerConnection.
function loadLibraries() {
  const { require } = requireFromNpmPrefix();
  const JsSIP = require('jssip');
  JsSIP.debug.enable(process.env.DEBUG || 'JsSIP:WARN:*,JsSIP:ERROR:*');
  globalThis.WebSocket = tappedWebSocket(require('ws').WebSocket);
  globalThis.window = globalThis;
  globalThis.RTCPeerConnection = FakePeerConnection;
  globalThis.RTCSessionDescription = class { constructor({ type, sdp }) { this.type = type; this.sdp = sdp; } };
  return JsSIP;
}

// JsSIP does not report the response to the BYE of terminate() (the session
// ends at once): the final response is taken from the frames received.
function tappedWebSocket(WebSocket) {
  return class extends WebSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener('error', ({ message }) => { socketError = message; });
      this.addEventListener('message', ({ data }) => {
        const text = typeof data === 'string' ? data : Buffer.from(data).toString();
        const status = /^SIP\/2\.0 (\d{3}) /.exec(text);
        if (status && Number(status[1]) >= 200 && /^CSeq:\s*\d+\s+BYE\s*$/im.test(text)) byeAnswered(Number(status[1]));
      });
    }
  };
}

// The final status code of a request; a failure without a response rejects.
function settle(resolve, reject, label) {
  return {
    succeeded: ({ response }) => resolve(response.status_code),
    failed: ({ response, cause }) => (response ? resolve(response.status_code)
      : reject(new Error(`${label} failed: ${cause}`))),
  };
}

function waitConnected(wsUrl) {
  return new Promise((resolve, reject) => {
    ua.once('connected', resolve);
    ua.once('disconnected', ({ code, reason }) => reject(new Error(
      `WebSocket ${wsUrl} not connected (${code ?? 'no code'}${reason ? ` ${reason}` : ''}${socketError ? `: ${socketError}` : ''})`)));
    ua.start();
  });
}

function waitConfirmed(session) {
  return new Promise((resolve, reject) => {
    session.on('confirmed', resolve);
    session.on('failed', ({ originator, message, cause }) => reject(new Error(`call not established (${originator}: ${cause}`
      + `${message?.status_code ? `, INVITE answered ${message.status_code}` : ''}${answerProblem ? `; ${answerProblem}` : ''})`)));
  });
}

function sendInfo(session, contentType, body) {
  return new Promise((resolve, reject) => {
    session.once('newInfo', ({ info }) => {
      const handlers = settle(resolve, reject, 'INFO');
      info.on('succeeded', handlers.succeeded).on('failed', handlers.failed);
    });
    session.sendInfo(contentType, body);
  });
}

// Registers `aor`, is called at it, answers, and awaits the caller's BYE;
// or, `ringOnly`, rings and awaits the caller's CANCEL.
async function registerThenBeCalled(JsSIP, wsUrl, aor, ringOnly) {
  ua = new JsSIP.UA({ uri: aor, sockets: [new JsSIP.WebSocketInterface(wsUrl)], register: true, register_expires: 300,
    password: process.env.SIP_PASSWORD });
  const registered = new Promise((resolve, reject) => {
    ua.once('registered', ({ response }) => resolve(response.status_code));
    ua.once('registrationFailed', ({ response, cause }) => reject(new Error(
      `REGISTER failed: ${response ? response.status_code : cause}`)));
  });
  const incoming = new Promise((resolve) => ua.on('newRTCSession', ({ originator, session, request }) => {
    if (originator === 'remote') resolve({ session, request });
  }));
  await waitConnected(wsUrl);
  await expect2xx('REGISTER', registered);
  const { session, request } = await incoming;
  console.log(`INVITE to ${request.ruri} for ${request.to.uri}`);
  if (request.to.uri.toAor() !== JsSIP.URI.parse(aor).toAor()) throw new Error(`INVITE To is ${request.to.uri}, not ${aor}`);
  if (ringOnly) {  // JsSIP has sent 180 by itself; the caller cancels (RFC 3261 §9.2: we answer 487)
    const { originator, cause, message } = await new Promise((resolve) => session.on('failed', resolve));
    if (originator !== 'remote' || cause !== JsSIP.C.causes.CANCELED) throw new Error(`call failed: ${originator} ${cause}`);
    console.log(`CANCEL received (Reason: ${message.getHeader('Reason') ?? 'none'})`);
  } else {
    const ended = new Promise((resolve) => session.on('ended', resolve));
    const confirmed = waitConfirmed(session);
    session.answer({ mediaConstraints: { audio: false, video: false } });
    await confirmed;
    console.log('CALL established');
    const { originator, cause } = await ended;
    if (originator !== 'remote' || cause !== JsSIP.C.causes.BYE) throw new Error(`session ended: ${originator} ${cause}`);
    console.log('BYE received');
  }
  const unregistered = new Promise((resolve) => ua.once('unregistered', ({ response }) => resolve(response ? response.status_code : 0)));
  ua.unregister();
  await expect2xx('unREGISTER', unregistered);
}

async function run() {
  const { wsUrl, targetArg, waitForBye, holdMs, registered, ringOnly } = parseArguments('jssip_peer.mjs');
  const JsSIP = loadLibraries();
  if (registered) return registerThenBeCalled(JsSIP, wsUrl, targetArg, ringOnly);
  if (!JsSIP.URI.parse(targetArg)) throw new Error(`bad target URI ${targetArg}`);

  ua = new JsSIP.UA({
    uri: 'sip:alice@jssip.invalid',
    sockets: [new JsSIP.WebSocketInterface(wsUrl)],
    register: false,
  });
  await waitConnected(wsUrl);

  await expect2xx('MESSAGE', new Promise((resolve, reject) => ua.sendMessage(targetArg, 'hello from JsSIP',
    { contentType: 'text/plain', eventHandlers: settle(resolve, reject, 'MESSAGE') })));

  const session = ua.call(targetArg, { mediaConstraints: { audio: false, video: false } });
  const ended = new Promise((resolve) => session.on('ended', resolve));
  await waitConfirmed(session);
  console.log('CALL established');

  await expect2xx('INFO', sendInfo(session, 'application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n'));

  if (waitForBye) {
    const { originator, cause } = await ended;
    if (originator !== 'remote' || cause !== JsSIP.C.causes.BYE) throw new Error(`session ended: ${originator} ${cause}`);
    console.log('BYE received');
    return;
  }
  await new Promise((r) => setTimeout(r, holdMs));
  if (session.isEnded()) {
    const { originator, cause } = await ended;
    throw new Error(`session ended before our BYE: ${originator} ${cause}`);
  }
  session.terminate();
  const { originator, cause } = await ended; // at once, before any response
  if (originator !== 'local' || cause !== JsSIP.C.causes.BYE) throw new Error(`session ended: ${originator} ${cause}`);
  await expect2xx('BYE', byeStatus);
}

runPeer(run, stopUserAgent);
