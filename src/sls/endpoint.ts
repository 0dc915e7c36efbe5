/**
 * Which URL the forwarder talks to SLS on, and whether it may at all.
 *
 * The trigger event is not trusted (anyone with fc:InvokeFunction can write one), yet every
 * request to its endpoint carries the STS token and a v1 signature that covers neither the host
 * nor the project. So an event's endpoint is decided here, on the string alone, before any DNS
 * lookup or request: only Alibaba's SLS endpoints (pinned to the function's region when FC says
 * which) or hosts the operator names in SLS_ALLOWED_ENDPOINTS. Alibaba's endpoints are always
 * used over verified HTTPS; only a named host may use plain `http://`.
 *
 * The worker's and `check`'s endpoint is the operator's own setting: `operatorEndpoint`.
 */
import { ALIBABA_GLOBAL, alibabaSlsHost, type SourcePolicy } from './settings';
import { isIP } from 'node:net';
import { EventError } from '../errors';
import { endpointUrl as parse } from './url';


export interface SlsEndpoint {
  url: string;
  /** What the summary reports: the scheme actually used. */
  scheme: 'https' | 'http';
}

/** The part of the source settings that decides an endpoint. */
export type EndpointPolicy = Pick<SourcePolicy, 'https' | 'allowed' | 'region'> & Partial<Pick<SourcePolicy, 'project'>>;

function named(host: string, allowed: readonly string[]): boolean {
  return allowed.some((p) => (p.startsWith('*.') ? host.endsWith(p.slice(1)) && host.length > p.length - 1 : host === p));
}

function toEndpoint(url: URL): SlsEndpoint {
  return { url: url.toString().replace(/\/$/, ''), scheme: url.protocol === 'https:' ? 'https' : 'http' };
}

/** The operator's endpoint (worker, check): Alibaba's are upgraded to HTTPS unless `https` is off; others as given. */
export function operatorEndpoint(endpoint: string, https: boolean): SlsEndpoint {
  const url = parse(endpoint);
  const host = url.hostname.toLowerCase();
  // Any host under Alibaba's SLS domain (a project's own name included) serves HTTPS.
  if (https && url.protocol === 'http:' && (/(^|\.)log\.aliyuncs\.com$/.test(host) || host === ALIBABA_GLOBAL)) url.protocol = 'https:';
  return toEndpoint(url);
}

/**
 * The event's endpoint, if the settings allow it; otherwise an EventError that names the setting.
 * Decided on the text alone: nothing is looked up or contacted for a refused endpoint.
 */
export function triggerEndpoint(endpoint: string, policy: EndpointPolicy): SlsEndpoint {
  let url: URL;
  try {
    url = parse(endpoint);
  } catch {
    throw refused(endpoint, 'it is not a URL');
  }
  if (url.username || url.password || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw refused(endpoint, 'an SLS endpoint is a scheme and a host, nothing more');
  }
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (named(host, policy.allowed)) {
    // SLS is reached as <project>.<host>: with the project the event's choice, so would the host be.
    if (!isIP(host) && host !== 'localhost' && !alibabaSlsHost(host) && policy.project === undefined) {
      throw refused(endpoint, `"${host}" is reached as <project>.${host}, and the event names the project; set SLS_PROJECT to pin it`);
    }
    return operatorEndpoint(url.toString(), policy.https);
  }
  const regional = alibabaSlsHost(host);
  if (!regional && host !== ALIBABA_GLOBAL) {
    throw refused(endpoint, `"${host}" is not an Alibaba Cloud SLS endpoint (<region>.log.aliyuncs.com, <region>-intranet.log.aliyuncs.com, <region>-share.log.aliyuncs.com, log-global.aliyuncs.com)`);
  }
  if (regional && policy.region && regional.region !== policy.region.toLowerCase()) {
    throw refused(endpoint, `it is in region "${regional.region}", and this function runs in "${policy.region}" (FC_REGION); an SLS trigger names its own region's endpoint`);
  }
  // Alibaba's endpoints serve HTTPS; the token never crosses the network in clear from an event.
  url.protocol = 'https:';
  return toEndpoint(url);
}

function refused(endpoint: string, why: string): EventError {
  const shown = endpoint.length > 120 ? `${endpoint.slice(0, 117)}...` : endpoint;
  return new EventError(
    `Refused source.endpoint "${shown}": ${why}. No request was made, so the STS credentials went nowhere. ` +
      'If this endpoint is yours (a proxy, a private endpoint, a test emulator), name its host in the function\'s setting ' +
      'SLS_ALLOWED_ENDPOINTS (comma-separated host names or *.suffix patterns, e.g. SLS_ALLOWED_ENDPOINTS=sls-proxy.corp.example); ' +
      'otherwise the event did not come from your SLS trigger.',
  );
}
