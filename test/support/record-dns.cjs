// Test-only, loaded with `node --require`: every DNS lookup the process makes is written to stderr
// as "DNS-LOOKUP <host>" and answered with 127.0.0.1, so a test can prove none was made.
const dns = require('node:dns');
dns.lookup = function lookup(host, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  }
  process.stderr.write(`DNS-LOOKUP ${host}\n`);
  if (options && options.all) return process.nextTick(callback, null, [{ address: '127.0.0.1', family: 4 }]);
  return process.nextTick(callback, null, '127.0.0.1', 4);
};
