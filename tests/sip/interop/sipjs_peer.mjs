// A real SIP.js (npm sip.js@0.21.2) user agent as a SIP-over-WebSocket peer
// (RFC 7118), with no WebRTC: a plain-SDP session description handler stands
// in for the media stack. It proves that a server such as examples/uas,
// spoken to over WS with the "sip" subprotocol, interoperates with SIP.js:
//   1. an out-of-dialog MESSAGE is answered 2xx,
//   2. an INVITE with a plain audio SDP offer is answered 200 with an SDP
//      answer (m=audio, non-zero port), SIP.js ACKs it: the call is established,
//   3. an in-dialog INFO and a re-INVITE (the same offer again) are answered 2xx,
//   4. after HOLD_MS the BYE is answered 2xx and the session is terminated;
//      with HOLD_MS "wait-bye" the server's BYE is awaited instead (sent to the
//      .invalid Contact, so it must come over this WebSocket: RFC 7118 §5.2).
// With "registered" as HOLD_MS, TARGET_URI is SIP.js's own address-of-record
// instead: SIP.js registers it over the WebSocket (its Contact in .invalid),
// the server (examples/uas --call-registered) calls that address, SIP.js
// accepts, the server's BYE ends the call, and SIP.js unregisters. With
// SIP_PASSWORD set, SIP.js answers the registrar's digest challenge with it.
// It prints one line per step, then "RESULT ok" (exit 0) or
// "RESULT fail: <why>" (exit 1; also after 10 s in all).
//
// Run (sip.js and ws installed by the calling script):
//   npm install --no-audit --no-fund --prefix "$NPM_PREFIX" sip.js@0.21.2 ws@8
//   NPM_PREFIX=... node sipjs_peer.mjs WS_URL TARGET_URI [HOLD_MS|wait-bye|registered]
//   e.g. node sipjs_peer.mjs ws://127.0.0.1:5080 'sip:bob@127.0.0.1:5080;transport=ws' 500
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { audioPortProblem, audioSdp, expect2xx, parseArguments, requireFromNpmPrefix, runPeer } from './peer_common.mjs';

let userAgent;
let answerProblem = ''; // why the SDP answer was refused, if it was

// sip.js is ESM (imported by file URL); ws is CommonJS (required from the prefix).
async function loadLibraries() {
  const { require, modules } = requireFromNpmPrefix();
  globalThis.WebSocket = require('ws').WebSocket; // SIP.js calls new WebSocket(url, "sip")
  return import(pathToFileURL(join(modules, 'sip.js', 'lib', 'index.js')).href);
}

// SessionDescriptionHandler (SIP.js 0.21 api/session-description-handler.d.ts)
// without media: a fixed offer out, the answer checked and kept.
function plainSdpHandlerFactory() {
  const offer = audioSdp('sipjs');
  return {
    remoteSdp: undefined,
    close() {},
    getDescription() { return Promise.resolve({ body: offer, contentType: 'application/sdp' }); },
    hasDescription(contentType) { return contentType === 'application/sdp'; },
    rollbackDescription() { return Promise.resolve(); },
    setDescription(sdp) {
      answerProblem = audioPortProblem(sdp, 'SDP answer');
      if (answerProblem) return Promise.reject(new Error(`${answerProblem}:\n${sdp}`));
      this.remoteSdp = sdp;
      return Promise.resolve();
    },
    sendDtmf() { return false; },
  };
}

// A request delegate and a promise of the final status code of the request.
function finalStatus() {
  let resolve;
  const status = new Promise((r) => { resolve = r; });
  const settle = (response) => resolve(response.message.statusCode);
  return { status, requestDelegate: { onAccept: settle, onReject: settle } };
}

function waitEstablished(session, SessionState, inviteStatus) {
  return new Promise((resolve, reject) => {
    session.stateChange.addListener((state) => {
      if (state === SessionState.Established) resolve();
      if (state === SessionState.Terminated) {
        inviteStatus.then((code) => reject(new Error(
          `call not established (INVITE answered ${code}${answerProblem ? `; ${answerProblem}` : ''})`)));
      }
    });
  });
}

function waitTerminated(session, SessionState) {
  return new Promise((resolve) => {
    if (session.state === SessionState.Terminated) return resolve();
    session.stateChange.addListener((state) => { if (state === SessionState.Terminated) resolve(); });
  });
}

// Registers `aor`, is called at it, accepts, and awaits the caller's BYE.
async function registerThenBeCalled(SIP, wsUrl, aor, ringOnly) {
  const { UserAgent, Registerer, SessionState } = SIP;
  let invited;
  const incoming = new Promise((resolve) => { invited = resolve; });
  userAgent = new UserAgent({
    uri: UserAgent.makeURI(aor),
    authorizationUsername: UserAgent.makeURI(aor).user,
    authorizationPassword: process.env.SIP_PASSWORD,
    transportOptions: { server: wsUrl },
    logLevel: 'warn',
    logConfiguration: false,
    sessionDescriptionHandlerFactory: plainSdpHandlerFactory,
    delegate: { onInvite: invited },
  });
  await userAgent.start();
  const registerer = new Registerer(userAgent, { expires: 300 });
  const registered = finalStatus();
  await registerer.register({ requestDelegate: registered.requestDelegate });
  await expect2xx('REGISTER', registered.status);
  const invitation = await incoming;
  console.log(`INVITE to ${invitation.request.ruri} for ${invitation.request.to.uri}`);
  if (invitation.request.to.uri.aor !== UserAgent.makeURI(aor).aor) throw new Error(`INVITE To is ${invitation.request.to.uri}`);
  const ended = waitTerminated(invitation, SessionState);
  if (ringOnly) {  // ring, never answer: the caller cancels (RFC 3261 §9.2: SIP.js answers 487)
    let cancel;
    invitation.delegate = { onCancel: (message) => { cancel = message; } };
    await invitation.progress();
    await ended;
    if (!cancel) throw new Error('the call ended without a CANCEL');
    console.log(`CANCEL received (Reason: ${cancel.request.getHeader('Reason') ?? 'none'})`);
  } else {
    const established = new Promise((resolve) => invitation.stateChange.addListener((state) => {
      if (state === SessionState.Established) resolve();
    }));
    await invitation.accept();
    await established;
    console.log('CALL established');
    await ended;
    console.log('BYE received');
  }
  const unregistered = finalStatus();
  await registerer.unregister({ requestDelegate: unregistered.requestDelegate });
  await expect2xx('unREGISTER', unregistered.status);
}

async function run() {
  const { wsUrl, targetArg, waitForBye, holdMs, registered, ringOnly } = parseArguments('sipjs_peer.mjs');
  const SIP = await loadLibraries();
  if (registered) return registerThenBeCalled(SIP, wsUrl, targetArg, ringOnly);
  const { UserAgent, Messager, Inviter, SessionState } = SIP;
  const target = UserAgent.makeURI(targetArg);
  if (!target) throw new Error(`bad target URI ${targetArg}`);

  userAgent = new UserAgent({
    uri: UserAgent.makeURI('sip:alice@sipjs.invalid'),
    transportOptions: { server: wsUrl },
    logLevel: 'warn',
    logConfiguration: false,
    sessionDescriptionHandlerFactory: plainSdpHandlerFactory,
  });
  await userAgent.start();

  const message = finalStatus();
  await new Messager(userAgent, target, 'hello from SIP.js', 'text/plain')
    .message({ requestDelegate: message.requestDelegate });
  await expect2xx('MESSAGE', message.status);

  const inviter = new Inviter(userAgent, target);
  const invite = finalStatus();
  const established = waitEstablished(inviter, SessionState, invite.status);
  await inviter.invite({ requestDelegate: invite.requestDelegate });
  await established;
  console.log('CALL established');

  const info = finalStatus();
  const infoBody = { contentDisposition: 'render', contentType: 'application/dtmf-relay',
    content: 'Signal=5\r\nDuration=160\r\n' };
  await inviter.info({ requestDelegate: info.requestDelegate, requestOptions: { body: infoBody } });
  await expect2xx('INFO', info.status);

  const reinvite = finalStatus();
  await inviter.invite({ requestDelegate: reinvite.requestDelegate });
  await expect2xx('re-INVITE', reinvite.status);

  if (waitForBye) {
    await waitTerminated(inviter, SessionState);
    console.log('BYE received');
    return;
  }
  await new Promise((r) => setTimeout(r, holdMs));
  const bye = finalStatus();
  await inviter.bye({ requestDelegate: bye.requestDelegate });
  await expect2xx('BYE', bye.status);
  if (inviter.state !== SessionState.Terminated) throw new Error(`session ${inviter.state} after BYE`);
}

runPeer(run, () => userAgent?.stop());
