import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { ENV_SCHEMA } from '../src/config';

const root = path.join(__dirname, '..');
const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, { image?: string; build?: string; ports?: string[]; environment?: Record<string, string>; depends_on?: Record<string, unknown> }>;
};
/** Connection variables @temporalio/envconfig reads, besides our own schema's. */
const ENVCONFIG_VARS = ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_API_KEY', 'TEMPORAL_PROFILE', 'TEMPORAL_CONFIG_FILE', 'TEMPORAL_TLS'];

describe('docker-compose.yml (checked without a Docker engine)', () => {
  test('has the production services', () => {
    for (const name of ['postgresql', 'temporal', 'temporal-ui', 'worker']) assert.ok(compose.services[name], `service ${name}`);
    assert.match(compose.services.temporal!.image!, /^temporalio\/server:1\.29\./);
    assert.match(compose.services['temporal-ui']!.image!, /^temporalio\/ui:/);
  });

  test('publishes Temporal gRPC 7233 and the Web UI 8080 on loopback only (neither has authentication)', () => {
    assert.deepEqual(compose.services.temporal!.ports, ['127.0.0.1:7233:7233']);
    assert.deepEqual(compose.services['temporal-ui']!.ports, ['127.0.0.1:8080:8080']);
  });

  test('the worker is built from the repository Dockerfile, which runs the same entry as npm start', () => {
    assert.equal(compose.services.worker!.build, '.');
    const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
    const cmd = /CMD \[(.*)\]/.exec(dockerfile)?.[1];
    assert.ok(cmd, 'Dockerfile has a CMD');
    const entry = JSON.parse(`[${cmd}]`).at(-1) as string;
    assert.ok(existsSync(path.join(root, entry)), `${entry} exists`);
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: { start: string } };
    assert.ok(pkg.scripts.start.endsWith(entry), 'npm start runs the same entry');
  });

  test('every worker variable is one the configuration reads, and every provider setting is passed', () => {
    const env = compose.services.worker!.environment!;
    const known = new Set([...Object.keys(ENV_SCHEMA.shape), ...ENVCONFIG_VARS]);
    for (const name of Object.keys(env)) assert.ok(known.has(name), `${name} is read by src/config.ts or envconfig`);
    const providerVars = Object.keys(ENV_SCHEMA.shape).filter((k) => k.startsWith('PIPECAT_') || k.startsWith('VIDEOSDK_'));
    assert.ok(providerVars.length >= 6);
    for (const name of providerVars) assert.match(env[name] ?? '', new RegExp(`\\$\\{${name}:-`), `${name} passed through from the host`);
    assert.equal(env.TEMPORAL_ADDRESS, 'temporal:7233');
  });

  test('depends_on names existing services', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const dep of Object.keys(service.depends_on ?? {})) assert.ok(compose.services[dep], `${name} depends on unknown ${dep}`);
    }
  });

  test('the file validates against the Compose specification schema (dclint)', () => {
    const res = spawnSync(process.execPath, [path.join(root, 'node_modules', 'dclint', 'bin', 'dclint.cjs'), path.join(root, 'docker-compose.yml')], {
      encoding: 'utf8',
      cwd: root,
    });
    assert.equal(res.status, 0, `${res.stdout}${res.stderr}`);
    assert.doesNotMatch(res.stdout, /\berror\b/);
  });

  test('docker compose config accepts the file', (t) => {
    const probe = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      t.skip('docker compose client not installed');
      return;
    }
    const res = spawnSync('docker', ['compose', '-f', path.join(root, 'docker-compose.yml'), 'config', '-q'], { encoding: 'utf8', cwd: root });
    assert.equal(res.status, 0, res.stderr);
  });
});
