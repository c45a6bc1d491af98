import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config';

describe('configuration', () => {
  test('defaults: embedded server, sandbox without keys, documented API URLs', () => {
    const config = loadConfig({});
    assert.equal(config.temporal.address, undefined);
    assert.equal(config.temporal.taskQueue, 'voice-agents');
    assert.equal(config.sandbox, true);
    assert.equal(config.pipecat.apiUrl, 'https://api.pipecat.daily.co/v1');
    assert.equal(config.pipecat.publicApiUrl, 'https://api.pipecat.daily.co/v1/public');
    assert.equal(config.videosdk.apiUrl, 'https://api.videosdk.live');
  });

  test('provider keys switch sandbox mode off; trailing slashes are dropped', () => {
    const config = loadConfig({ PIPECAT_PRIVATE_API_KEY: 'sk', PIPECAT_API_URL: 'http://localhost:9000/v1/' });
    assert.equal(config.sandbox, false);
    assert.equal(config.pipecat.apiUrl, 'http://localhost:9000/v1');
  });

  test('empty strings count as unset', () => {
    const config = loadConfig({ TEMPORAL_ADDRESS: '', PIPECAT_PRIVATE_API_KEY: '' });
    assert.equal(config.temporal.address, undefined);
    assert.equal(config.sandbox, true);
  });

  test('every bad setting is reported, one line each', () => {
    const err = (() => {
      try {
        loadConfig({ PIPECAT_API_URL: 'ftp://x', VAO_HTTP_TIMEOUT_MS: 'soon', VAO_SANDBOX: 'maybe', VAO_DEV_SERVER_PORT: '70000' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(err instanceof ConfigError);
    assert.equal(err.problems.length, 4);
    assert.match(err.problems.join('\n'), /PIPECAT_API_URL must be an http\(s\) URL/);
    assert.match(err.problems.join('\n'), /VAO_HTTP_TIMEOUT_MS must be a whole number/);
    assert.match(err.problems.join('\n'), /VAO_SANDBOX/);
    assert.match(err.problems.join('\n'), /VAO_DEV_SERVER_PORT must be <= 65535/);
  });

  test('operations settings: origins without paths, an existing bundle file, numeric ports', () => {
    assert.throws(
      () => loadConfig({ VAO_CODEC_CORS_ORIGINS: 'http://localhost:8080/ui', VAO_METRICS_PORT: 'x' }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.problems.length === 2 &&
        /VAO_CODEC_CORS_ORIGINS/.test(e.problems.join()) &&
        /VAO_METRICS_PORT must be a whole number/.test(e.problems.join()),
    );
    assert.throws(() => loadConfig({ VAO_WORKFLOW_BUNDLE: '/nonexistent/bundle.js' }), /VAO_WORKFLOW_BUNDLE: no file at \/nonexistent\/bundle.js/);
    const ok = loadConfig({ VAO_CODEC_CORS_ORIGINS: 'https://ui.example.com, http://localhost:8233', VAO_METRICS_PORT: '0' });
    assert.deepEqual(ok.ops.codecCorsOrigins, ['https://ui.example.com', 'http://localhost:8233']);
    assert.equal(ok.ops.metricsPort, 0);
  });

  test('npm start with a bad setting exits 1 with one line per problem and starts nothing', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'src', 'main.ts')], {
      env: { ...process.env, PIPECAT_API_URL: 'ftp://x', VAO_HTTP_TIMEOUT_MS: 'soon', TEMPORAL_ADDRESS: '127.0.0.1:1' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.status, 1);
    assert.deepEqual(
      run.stderr.trim().split('\n').filter((l) => l.startsWith('config error:')).sort(),
      ['config error: PIPECAT_API_URL must be an http(s) URL', 'config error: VAO_HTTP_TIMEOUT_MS must be a whole number'],
    );
  });

  test('VideoSDK key and secret come together', () => {
    assert.throws(() => loadConfig({ VIDEOSDK_API_KEY: 'k' }), /VIDEOSDK_SECRET is required/);
  });
});
