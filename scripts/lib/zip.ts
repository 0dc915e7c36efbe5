/**
 * A deterministic zip writer for FC code and layer packages: entries sorted by path, every
 * timestamp 1980-01-01 00:00, fixed permissions, deflate level 9. The same input tree always
 * yields the same bytes, so a package's checksum changes only when its content does.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';

export interface ZipEntry {
  /** Path inside the zip, `/`-separated; directories end with `/`. */
  name: string;
  data: Buffer;
}

const DOS_DATE_1980_01_01 = (0 << 9) | (1 << 5) | 1;
const DOS_TIME_MIDNIGHT = 0;
const FLAG_UTF8 = 0x0800;

/** Every file and directory under `root`, named relative to it, with `prefix` prepended. */
export function treeEntries(root: string, prefix = ''): ZipEntry[] {
  const out: ZipEntry[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const rel = prefix + relative(root, path).split(sep).join('/');
      if (statSync(path).isDirectory()) {
        out.push({ name: `${rel}/`, data: Buffer.alloc(0) });
        walk(path);
      } else out.push({ name: rel, data: readFileSync(path) });
    }
  };
  walk(root);
  return out;
}

export function createZip(entries: ZipEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of sorted) {
    const name = Buffer.from(entry.name, 'utf8');
    const isDir = entry.name.endsWith('/');
    const compressed = isDir ? Buffer.alloc(0) : deflateRawSync(entry.data, { level: 9 });
    const method = isDir ? 0 : 8;
    const crc = isDir ? 0 : crc32(entry.data);
    // The fields from "version needed" to "extra length" are the same in both headers.
    const fields = Buffer.alloc(26);
    fields.writeUInt16LE(20, 0);
    fields.writeUInt16LE(FLAG_UTF8, 2);
    fields.writeUInt16LE(method, 4);
    fields.writeUInt16LE(DOS_TIME_MIDNIGHT, 6);
    fields.writeUInt16LE(DOS_DATE_1980_01_01, 8);
    fields.writeUInt32LE(crc, 10);
    fields.writeUInt32LE(compressed.length, 14);
    fields.writeUInt32LE(entry.data.length, 18);
    fields.writeUInt16LE(name.length, 22);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    fields.copy(local, 4);
    locals.push(local, name, compressed);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, spec 2.0
    fields.copy(central, 6);
    central.writeUInt32LE(((isDir ? 0o40755 : 0o100644) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + compressed.length;
  }
  const centralDir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(sorted.length, 8);
  end.writeUInt16LE(sorted.length, 10);
  end.writeUInt32LE(centralDir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, centralDir, end]);
}
