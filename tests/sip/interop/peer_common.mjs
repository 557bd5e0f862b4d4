// What the node SIP-over-WebSocket peers (sipjs_peer.mjs, jssip_peer.mjs)
// share: their command line, the plain audio SDP they offer, the npm prefix
// their libraries come from, the 2xx check, and the run-then-exit frame
// (one "RESULT ok" or "RESULT fail: <why>" line, exit 0 or 1, and a bound
// on the whole run).
import { createRequire } from 'node:module';
import { join } from 'node:path';

const OVERALL_TIMEOUT_MS = 10000;

// node PEER.mjs WS_URL TARGET_URI [HOLD_MS|wait-bye|registered|registered-ring]
// registered-ring: registered, rings (180) when called and never answers:
// the caller must CANCEL (the losing branch of a forked call).
export function parseArguments(peerName) {
  const [wsUrl, targetArg, holdArg] = process.argv.slice(2);
  const waitForBye = holdArg === 'wait-bye';
  const ringOnly = holdArg === 'registered-ring';
  const registered = holdArg === 'registered' || ringOnly;
  const holdMs = waitForBye || registered ? 0 : Number(holdArg ?? 300);
  if (!wsUrl || !targetArg || !Number.isFinite(holdMs)) {
    throw new Error(`usage: node ${peerName} WS_URL TARGET_URI [HOLD_MS|wait-bye|registered|registered-ring]`);
  }
  return { wsUrl, targetArg, waitForBye, holdMs, registered, ringOnly };
}

// require() resolving from $NPM_PREFIX/node_modules, where the calling script
// installed the peer's library and ws.
export function requireFromNpmPrefix() {
  const prefix = process.env.NPM_PREFIX;
  if (!prefix) throw new Error('NPM_PREFIX is not set');
  const require = createRequire(join(prefix, 'node_modules', 'noop.js'));
  return { require, modules: join(prefix, 'node_modules') };
}

// An SDP of RFC 8866 form: audio only, PCMU, PCMA and telephone-event.
export function audioSdp(origin) {
  const id = Date.now();
  return ['v=0', `o=${origin} ${id} ${id} IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    'm=audio 40000 RTP/AVP 0 8 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=sendrecv', ''].join('\r\n');
}

// The m=audio port of an SDP body, or why the body has no usable one.
export function audioPortProblem(sdp, what) {
  const port = /^m=audio (\d+) /m.exec(sdp);
  return !port || Number(port[1]) === 0 ? `${what} has no m=audio line with a non-zero port` : '';
}

export async function expect2xx(label, status) {
  const code = await status;
  if (code < 200 || code > 299) throw new Error(`${label} answered ${code}`);
  console.log(`${label} ${code}`);
}

// Runs steps(), prints the result line, awaits stop() (bounded to 1 s) and
// exits; a run longer than OVERALL_TIMEOUT_MS fails.
export function runPeer(steps, stop) {
  let finished = false;
  const finish = async (ok, why) => {
    if (finished) return;
    finished = true;
    console.log(ok ? 'RESULT ok' : `RESULT fail: ${why}`);
    await Promise.race([Promise.resolve().then(stop).catch(() => {}), new Promise((r) => setTimeout(r, 1000))]);
    process.exit(ok ? 0 : 1);
  };
  setTimeout(() => finish(false, `timed out after ${OVERALL_TIMEOUT_MS} ms`), OVERALL_TIMEOUT_MS);
  Promise.resolve().then(steps).then(() => finish(true), (error) => finish(false, error.message ?? String(error)));
}
