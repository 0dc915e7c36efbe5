/**
 * Podman for the container test, in a storage of its own (a temporary root: nothing of the
 * machine's images or containers is touched) and with settings that work inside a sandbox as well
 * as on a normal host: runc with cgroupfs (crun refuses hybrid cgroup hierarchies), vfs storage (no
 * overlay mount needed), chroot isolation for builds, the host's network (127.0.0.1 reaches the
 * test's servers), and limits no higher than the test's own (raising them is not permitted here).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export class Podman {
  readonly dir = mkdtempSync(join(tmpdir(), 'sls-fwd-podman-'));
  private readonly global = ['--root', join(this.dir, 'root'), '--runroot', join(this.dir, 'run'), '--storage-driver', 'vfs', '--runtime', 'runc', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];

  /** Why podman cannot be used here, or undefined when it can. */
  static unavailable(): string | undefined {
    for (const tool of ['podman', 'runc', 'ldd']) {
      if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).error) return `${tool} is not installed`;
    }
    return undefined;
  }

  run(args: string[], timeoutMs = 120_000): string {
    return execFileSync('podman', [...this.global, ...args], { timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  }

  /** A Node base image made of this machine's own node binary and the libraries it links: no registry needed. */
  buildNodeBase(tag: string): void {
    const context = join(this.dir, 'base');
    const files = [process.execPath, ...execFileSync('ldd', [process.execPath]).toString().match(/\/\S+/g)!];
    for (const file of files) {
      mkdirSync(join(context, 'rootfs', dirname(file)), { recursive: true });
      cpSync(file, join(context, 'rootfs', file), { dereference: true });
    }
    mkdirSync(join(context, 'rootfs/tmp'), { recursive: true });
    writeFileSync(join(context, 'Containerfile'), `FROM scratch\nCOPY rootfs/ /\nENV PATH=${dirname(process.execPath)}:/usr/bin:/bin\n`);
    this.run(['build', '--isolation', 'chroot', '-t', tag, context]);
  }

  /** Limits for `podman run`: the test's own soft limits (a container may lower them, not raise them). */
  ulimits(): string[] {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const soft = (name: string) => {
      const value = new RegExp(`^${name}\\s+(\\S+)`, 'm').exec(limits)?.[1];
      // Lower than ours by a margin: a sandbox may refuse even a limit equal to the current one.
      return String(Math.min(4096, value === undefined || value === 'unlimited' ? 4096 : Number(value)));
    };
    return ['--ulimit', `nofile=${soft('Max open files')}:${soft('Max open files')}`, '--ulimit', `nproc=${soft('Max processes')}:${soft('Max processes')}`];
  }

  /** Removes what the test made: its containers, images and the storage itself. */
  cleanup(): void {
    spawnSync('podman', [...this.global, 'rm', '--all', '--force', '--time', '0'], { stdio: 'ignore', timeout: 60_000 });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
