// Runs Debian's nginx with the repository's deploy/nginx-hushcast.conf in front
// of test nodes: the upstream list becomes the given node addresses and the
// listen address a free 127.0.0.1 port; everything else is the deployed file.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.js';
import { freePort } from './redis-server.js';

export interface RunningNginx {
  base: string;
  stop(): Promise<void>;
}

const INSTALL = 'nginx not found: install it with `sudo apt-get install nginx` (test/system-deps.sh does this as root)';

export async function startNginx(upstreams: string[]): Promise<RunningNginx> {
  const bin = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((b) => existsSync(b));
  if (!bin) throw new Error(INSTALL);
  const deployed = readFileSync(path.join(PROJECT_ROOT, 'deploy', 'nginx-hushcast.conf'), 'utf8');
  const port = await freePort();
  const servers = upstreams.map((u) => `    server ${u} max_fails=1 fail_timeout=5s;`).join('\n');
  const site = deployed
    .replace(/^\s*server \d+\.\d+\.\d+\.\d+:\d+[^\n]*\n/gm, '')
    .replace('upstream hushcast_nodes {\n', `upstream hushcast_nodes {\n${servers}\n`)
    .replace(/^\s*listen 80;/m, `    listen 127.0.0.1:${port};`);
  if (!site.includes(`listen 127.0.0.1:${port}`) || !site.includes(servers)) throw new Error('deploy/nginx-hushcast.conf changed shape: update test/support/nginx.ts');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hc-nginx-'));
  for (const d of ['body', 'proxy']) mkdirSync(path.join(dir, d));
  writeFileSync(path.join(dir, 'site.conf'), site);
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `${process.getuid?.() === 0 ? 'user root root;\n' : ''}daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/proxy;
  uwsgi_temp_path ${dir}/proxy;
  scgi_temp_path ${dir}/proxy;
  include ${dir}/site.conf;
}
`,
  );
  const child: ChildProcess = spawn(bin, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let dead = false;
  void exited.then(() => (dead = true));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (dead || Date.now() > deadline) {
      child.kill('SIGKILL');
      const log = existsSync(path.join(dir, 'error.log')) ? readFileSync(path.join(dir, 'error.log'), 'utf8') : '';
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`nginx did not start on port ${port}:\n${out}\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    base: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGQUIT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
