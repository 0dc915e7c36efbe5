/**
 * `npm run bench:chart`: draws benchmarks/results/latest.json as docs/benchmarks.svg: throughput
 * (MB/s) and peak RSS (MB) of TCP shipping against the size of the range (1x, 10x, 100x).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Row { scenario: string; MBps: number; peakRssMB: number; rawMB: number }
const data = JSON.parse(readFileSync(join(__dirname, 'results/latest.json'), 'utf8')) as { date: string; machine: { cpu: string }; rows: Row[] };
const points = ['1x', '10x', '100x'].map((size) => data.rows.find((r) => r.scenario === `tcp waf ${size}`)!).filter(Boolean);
const naive = ['1x', '10x'].map((size) => data.rows.find((r) => r.scenario === `naive tcp waf ${size}`));

const W = 720;
const H = 360;
const pad = { l: 60, r: 60, t: 40, b: 60 };
const maxMBps = Math.max(...points.map((p) => p.MBps), 10) * 1.2;
const maxRss = Math.max(...points.map((p) => p.peakRssMB), 128) * 1.2;
const x = (i: number) => pad.l + ((W - pad.l - pad.r) * (i + 0.5)) / points.length;
const yL = (v: number) => H - pad.b - ((H - pad.t - pad.b) * v) / maxMBps;
const yR = (v: number) => H - pad.b - ((H - pad.t - pad.b) * v) / maxRss;
const bw = 50;

const parts: string[] = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
  `<rect width="${W}" height="${H}" fill="white"/>`,
  `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">sls-syslog-forwarder, TCP, WAF records: throughput and peak RSS by range size (${data.date.slice(0, 10)})</text>`,
  `<line x1="${pad.l}" y1="${H - pad.b}" x2="${W - pad.r}" y2="${H - pad.b}" stroke="black"/>`,
  `<line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${H - pad.b}" stroke="#1f77b4"/>`,
  `<line x1="${W - pad.r}" y1="${pad.t}" x2="${W - pad.r}" y2="${H - pad.b}" stroke="#d62728"/>`,
  `<text x="15" y="${H / 2}" transform="rotate(-90 15 ${H / 2})" text-anchor="middle" fill="#1f77b4">MB/s of raw log content</text>`,
  `<text x="${W - 15}" y="${H / 2}" transform="rotate(90 ${W - 15} ${H / 2})" text-anchor="middle" fill="#d62728">peak RSS (MB)</text>`,
  // 128 MB target line
  `<line x1="${pad.l}" y1="${yR(128)}" x2="${W - pad.r}" y2="${yR(128)}" stroke="#d62728" stroke-dasharray="4 4"/>`,
  `<text x="${W - pad.r - 4}" y="${yR(128) - 4}" text-anchor="end" fill="#d62728">128 MB target</text>`,
];
for (let t = 0; t <= 4; t++) {
  const v = (maxMBps * t) / 4;
  parts.push(`<text x="${pad.l - 6}" y="${yL(v) + 4}" text-anchor="end" fill="#1f77b4">${v.toFixed(0)}</text>`);
  const r = (maxRss * t) / 4;
  parts.push(`<text x="${W - pad.r + 6}" y="${yR(r) + 4}" fill="#d62728">${r.toFixed(0)}</text>`);
}
points.forEach((p, i) => {
  parts.push(`<rect x="${x(i) - bw / 2}" y="${yL(p.MBps)}" width="${bw}" height="${H - pad.b - yL(p.MBps)}" fill="#1f77b4"/>`);
  parts.push(`<text x="${x(i)}" y="${yL(p.MBps) - 6}" text-anchor="middle">${p.MBps} MB/s</text>`);
  parts.push(`<text x="${x(i)}" y="${H - pad.b + 18}" text-anchor="middle">${p.scenario.split(' ').pop()} (${p.rawMB} MB)</text>`);
  const n = naive[i];
  if (n) parts.push(`<text x="${x(i)}" y="${H - pad.b + 34}" text-anchor="middle" fill="#777">naive: ${n.MBps} MB/s</text>`);
});
parts.push(`<polyline fill="none" stroke="#d62728" stroke-width="2" points="${points.map((p, i) => `${x(i)},${yR(p.peakRssMB)}`).join(' ')}"/>`);
points.forEach((p, i) => parts.push(`<circle cx="${x(i)}" cy="${yR(p.peakRssMB)}" r="4" fill="#d62728"/><text x="${x(i) + 8}" y="${yR(p.peakRssMB) - 6}" fill="#d62728">${p.peakRssMB} MB</text>`));
parts.push(`<text x="${W / 2}" y="${H - 8}" text-anchor="middle" fill="#555">${data.machine.cpu}</text>`, '</svg>');
writeFileSync(join(__dirname, '../docs/benchmarks.svg'), parts.join('\n') + '\n');
console.log('wrote docs/benchmarks.svg');
