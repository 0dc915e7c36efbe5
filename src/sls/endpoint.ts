/**
 * Which URL the function talks to SLS on. The trigger event names an `http://` intranet endpoint,
 * which would carry the STS token in clear; every SLS endpoint also serves HTTPS (SLS's SDK
 * guide), so Alibaba's own endpoints (`*.log.aliyuncs.com`) are upgraded to HTTPS unless
 * `SLS_HTTPS=off` (for a proxy that needs plain HTTP). Any other endpoint is used as given.
 */

const ALIBABA_SLS = /(^|\.)log\.aliyuncs\.com$/i;

export interface SlsEndpoint {
  url: string;
  /** What the summary reports: the scheme actually used. */
  scheme: 'https' | 'http';
}

export function slsEndpoint(endpoint: string, https: boolean): SlsEndpoint {
  const withScheme = /^https?:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`;
  const url = new URL(withScheme);
  // An explicit port stays (a test or a tunnel serves TLS there); otherwise https's default.
  if (https && url.protocol === 'http:' && ALIBABA_SLS.test(url.hostname)) url.protocol = 'https:';
  return { url: url.toString().replace(/\/$/, ''), scheme: url.protocol === 'https:' ? 'https' : 'http' };
}
