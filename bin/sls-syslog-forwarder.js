#!/usr/bin/env node
// `sls-syslog-forwarder consume`: the consumer-group worker, built by `npm run build`.
require('../build/cli/cli.js');
