// Test-only resolver override, loaded with `node --require`: Alibaba's SLS host names
// (*.log.aliyuncs.com) resolve to 127.0.0.1, where the test's HTTPS emulator listens. Nothing else changes.
const dns = require('node:dns');
const original = dns.lookup;
dns.lookup = function lookup(host, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  }
  if (/(^|\.)log\.aliyuncs\.com$/i.test(host)) {
    if (options && options.all) return process.nextTick(callback, null, [{ address: '127.0.0.1', family: 4 }]);
    return process.nextTick(callback, null, '127.0.0.1', 4);
  }
  return original.call(this, host, options, callback);
};
