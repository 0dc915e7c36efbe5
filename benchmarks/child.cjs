// One FC-like instance for the benchmark: loads a function bundle, runs initializer, one
// invocation and PreStop, and reports the invocation's wall time, CPU time and the process's
// peak RSS. Usage: node child.cjs <bundle> <event-json-file>
const { readFileSync } = require('node:fs');
const [bundle, eventFile] = process.argv.slice(2);
const fn = require(bundle);
const event = readFileSync(eventFile);
const context = {
  requestId: 'bench',
  credentials: JSON.parse(process.env.BENCH_CREDENTIALS),
  function: { timeout: 600 },
};
// Peak RSS of this process image: VmHWM. getrusage's maxRSS is no use here: Linux carries the
// parent's resident size at fork into the child's maxRSS across exec (measured: 128 MB reported
// by a child whose own peak was 81 MB, because the benchmark runner itself held 128 MB).
const peakRssMB = () => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
};
const call = (f, ...args) => new Promise((resolve, reject) => f(...args, (err, res) => (err ? reject(err) : resolve(res))));
(async () => {
  const rssBefore = process.memoryUsage().rss;
  if (fn.initializer) await call(fn.initializer, context);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const result = await call(fn.handler, event, context);
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  // On the epoch clock the runner shares: it compares this with when its receiver read the last byte.
  const returnedAt = Date.now();
  const cpu = process.cpuUsage(cpu0);
  if (fn.preStop) await call(fn.preStop, context);
  process.stdout.write('@@' + JSON.stringify({
    result, wallMs, returnedAt, cpuMs: (cpu.user + cpu.system) / 1000, maxRssMB: peakRssMB(), startRssMB: rssBefore / 1048576, mem: process.memoryUsage(),
  }) + '\n');
  process.exit(0);
})().catch((err) => {
  process.stdout.write('@@' + JSON.stringify({ error: String(err && err.message) }) + '\n');
  process.exit(1);
});
