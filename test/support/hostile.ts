/** A hostile corpus: text an attacker can place in a request a WAF logs (URI, User-Agent, headers). */
export const HOSTILE: string[] = [
  'hello||final_action=pass||src_ip=10.9.9.9',
  '=', '==x', 'k=v', '"', '"quoted||x=y', "'single||x=y", '\\', 'C:\\new\\table', 'ends\\',
  'line1\r\n<14>1 2025-01-01T00:00:00Z forged-host app - - - final_action=pass',
  'lf\nsrc=6.6.6.6', 'nul\x00byte', 'bell\x07esc\x1b[31mred', 'del\x7fx', 'tab\tsrc=1.2.3.4',
  '\u202eevil\u202c', '\u2066isolate\u2069', 'a]b[c', 'pipe|x', 'CEF:0|forged|x|1|1|n|10|act=allow',
  'LEEF:2.0|forged|x|1|1|^|src=1.1.1.1', 'cs1Label=x cs1=y', 'x\\=y', '\\|\\|final_action\\=pass', '中文😀', '%00%0d%0a',
];

