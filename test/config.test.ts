import assert from 'node:assert/strict';
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

  test('VideoSDK key and secret come together', () => {
    assert.throws(() => loadConfig({ VIDEOSDK_API_KEY: 'k' }), /VIDEOSDK_SECRET is required/);
  });
});
