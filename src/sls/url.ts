/** An SLS endpoint as a URL: one given without a scheme means HTTPS (every SLS endpoint serves it). */
export function endpointUrl(endpoint: string): URL {
  return new URL(/^https?:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`);
}
