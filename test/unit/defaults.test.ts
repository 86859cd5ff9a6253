// One table of defaults (src/defaults.ts): a configuration that sets nothing gets exactly the values the
// library applies when it is used without a configuration.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/parse.js';
import { DEFAULTS } from '../../src/defaults.js';
import { DEFAULT_HTTP_LIMITS, limitsFromConfig } from '../../src/http/index.js';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../../src/cdc/index.js';

describe('defaults', () => {
  const config = parseConfig({ local_node_id: 'paris-1', local: { redis_url: 'redis://127.0.0.1:6390' } });

  it('the configuration schema fills in the table', () => {
    expect(config.store).toMatchObject({
      max_payload_bytes: DEFAULTS.maxPayloadBytes,
      cdc_maxlen: DEFAULTS.cdcMaxlen,
      tombstone_ttl: DEFAULTS.tombstoneTtlMs,
      memory_threshold: DEFAULTS.memoryThreshold,
      max_future_skew: DEFAULTS.maxFutureSkewMs,
      max_apply_bytes: DEFAULTS.maxApplyBytes,
    });
    expect(config.settings.hot_path).toMatchObject({ max_read_bytes: DEFAULTS.maxReadBytes, max_batch_bytes: DEFAULTS.maxBatchBytes });
    expect(config.settings.cold_path.max_fetch_bytes).toBe(DEFAULTS.maxFetchBytes);
    expect(limitsFromConfig(config.http)).toEqual(DEFAULTS.http);
  });

  it('the library constants are the table', () => {
    expect(DEFAULT_HTTP_LIMITS).toEqual(DEFAULTS.http);
    expect(DEFAULT_MAX_PAYLOAD_BYTES).toBe(DEFAULTS.maxPayloadBytes);
  });
});
